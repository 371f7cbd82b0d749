package pool

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
	"github.com/cloneserver/terraform-provider-clone/internal/rollout"
)

// Cloud is everything Apply, Destroy and Read need of AWS, one method per
// operation on one kind of object. AWS implements it with the SDK; the
// tests of the convergence order use a fake.
type Cloud interface {
	Templates
	Groups
	Balancers
	Routing
	Alarms
	Policies
}

// Templates are the master instance and the pool's launch template.
type Templates interface {
	FindMaster(ctx context.Context, id string) (Master, error)
	RootDevice(ctx context.Context, imageID string) (name string, sizeGiB int32, err error)
	// FindTemplateByName finds a launch template by name, with its tags.
	FindTemplateByName(ctx context.Context, name string) (id string, tags map[string]string, err error)
	FindTemplateVersion(ctx context.Context, id, version string) (Template, error)
	CreateTemplate(ctx context.Context, name string, spec TemplateSpec, tags map[string]string) (Template, error)
	CreateTemplateVersion(ctx context.Context, id string, spec TemplateSpec) (Template, error)
	RetagTemplate(ctx context.Context, id string, had, want map[string]string) error
	// DeleteTemplate deletes the launch template with id; a missing one is fine.
	DeleteTemplate(ctx context.Context, id string) error
}

// Groups are the pool's Auto Scaling group, its clones and its rollouts.
type Groups interface {
	FindGroup(ctx context.Context, name string) (Group, error)
	CreateGroup(ctx context.Context, spec GroupSpec) error
	UpdateGroup(ctx context.Context, u GroupUpdate) error
	UpdateGroupTags(ctx context.Context, name string, had map[string]string, want []astypes.Tag) error
	AttachTargets(ctx context.Context, group string, targets []poolhealth.Target) error
	DetachTargets(ctx context.Context, group string, targets []poolhealth.Target) error
	InstanceImages(ctx context.Context, ids []string) (map[string]string, error)
	OutdatedIDs(ctx context.Context, g Group, tmpl Template) ([]string, error)
	DeleteGroup(ctx context.Context, g Group, progress func(string)) error
	// HasLifecycleHook tells whether the group has the lifecycle hook name.
	HasLifecycleHook(ctx context.Context, group, name string) (bool, error)
	PutLifecycleHook(ctx context.Context, group string, h astypes.LifecycleHookSpecification) error
	// Fleet is the group as a rollout sees it.
	Fleet(spec FleetSpec) RolloutFleet
}

// Balancers are the pool's load balancers: health, registration, draining.
type Balancers interface {
	Health(ctx context.Context, targets []poolhealth.Target) (poolhealth.Report, error)
	WaitHealthy(ctx context.Context, group string, targets []poolhealth.Target, want int, progress func(string)) (ids, healthy []string, err error)
	Register(ctx context.Context, targets []poolhealth.Target, ids []string) error
	Deregister(ctx context.Context, targets []poolhealth.Target, ids []string) error
	Drain(ctx context.Context, targets []poolhealth.Target, ids []string, progress func(string)) error
	// Retire drains ids from targets, then takes them out of group and
	// terminates them, without replacement.
	Retire(ctx context.Context, group string, targets []poolhealth.Target, ids []string, progress func(string)) error
}

// Routing is the master-only target group and the write rule.
type Routing interface {
	FindTargetGroup(ctx context.Context, arn string) (elbv2types.TargetGroup, error)
	FindTargetGroupByName(ctx context.Context, name string) (elbv2types.TargetGroup, error)
	TargetGroupTags(ctx context.Context, arn string) (map[string]string, error)
	CreateMasterTargetGroup(ctx context.Context, in MasterTargetGroupInput) (arn string, err error)
	DeleteTargetGroup(ctx context.Context, arn string) error
	RetagELBV2(ctx context.Context, arns []string, had, want map[string]string) error
	FindRule(ctx context.Context, arn, listenerARN string) (Rule, error)
	FindRuleForwardingTo(ctx context.Context, listenerARN, tgARN string) (Rule, error)
	ListenersOf(ctx context.Context, lbARNs []string) ([]string, error)
	// RulePriorities lists the priorities of a listener's rules, the
	// default rule left out.
	RulePriorities(ctx context.Context, listenerARN string) ([]int64, error)
	CreateRule(ctx context.Context, r Rule, tags map[string]string) (arn string, err error)
	ModifyRule(ctx context.Context, r Rule, priorityChanged bool) error
	DeleteRule(ctx context.Context, arn string) error
}

// Alarms is the master's recovery alarm.
type Alarms interface {
	FindAlarm(ctx context.Context, name string) (RecoveryAlarm, error)
	// AlarmTags finds an alarm by name and returns its ARN and tags.
	AlarmTags(ctx context.Context, name string) (arn string, tags map[string]string, err error)
	PutAlarm(ctx context.Context, a RecoveryAlarm, tags map[string]string) error
	DeleteAlarm(ctx context.Context, name string) error
}

// Policies are the group's target tracking policy and scheduled actions.
type Policies interface {
	FindCPUPolicy(ctx context.Context, group, name string) (CPUPolicy, error)
	ListPolicyNames(ctx context.Context, group string) ([]string, error)
	PutCPUPolicy(ctx context.Context, group string, p CPUPolicy) error
	DeletePolicy(ctx context.Context, group, name string) error
	FindSchedules(ctx context.Context, group string, names []string) (map[string]Schedule, error)
	ListSchedules(ctx context.Context, group, prefix string) ([]Schedule, error)
	PutSchedule(ctx context.Context, group string, s Schedule) error
	DeleteSchedule(ctx context.Context, group, name string) error
}

// RolloutFleet is the group as rollout.Run drives it, plus what Apply asks
// before deciding whether a rollout is needed.
type RolloutFleet interface {
	rollout.Fleet
	InstancesOf(ctx context.Context, g Group) ([]rollout.Instance, error)
}

// FleetSpec configures a RolloutFleet.
type FleetSpec struct {
	Group      string
	TemplateID string
	// Targets are the load balancers the group is attached to.
	Targets []poolhealth.Target
	// SyncHook, when set, is the group's first-sync launch lifecycle hook.
	// SetTemplateVersion puts it before pointing the group at a launch
	// template version whose clones run the sync agent, and deletes it
	// before pointing the group at one whose clones do not: a clone that
	// needs the hook never launches without it, and a clone without the
	// agent, whose hook nothing would complete, never launches under it.
	SyncHook *astypes.LifecycleHookSpecification
	// AgentVersions tells which launch template versions run the sync
	// agent; SetTemplateVersion reads a version it does not list from EC2.
	AgentVersions map[string]bool
	Progress      func(string)
}

// AWS is Cloud on the AWS SDK.
type AWS struct {
	Clients
	CloudWatch *cloudwatch.Client
}

var _ Cloud = AWS{}

// NewAWS builds the pool's Cloud from the provider's clients.
func NewAWS(as *autoscaling.Client, ec2c *ec2.Client, elbv2 *elasticloadbalancingv2.Client, elb *elasticloadbalancing.Client, cw *cloudwatch.Client) AWS {
	return AWS{Clients: Clients{AutoScaling: as, EC2: ec2c, ELBV2: elbv2, ELB: elb}, CloudWatch: cw}
}

func (a AWS) FindMaster(ctx context.Context, id string) (Master, error) {
	return FindMaster(ctx, a.EC2, id)
}

func (a AWS) RootDevice(ctx context.Context, imageID string) (string, int32, error) {
	return RootDevice(ctx, a.EC2, imageID)
}

func (a AWS) FindTemplateByName(ctx context.Context, name string) (string, map[string]string, error) {
	return FindTemplateByName(ctx, a.EC2, name)
}

func (a AWS) FindTemplateVersion(ctx context.Context, id, version string) (Template, error) {
	return FindTemplateVersion(ctx, a.EC2, id, version)
}

func (a AWS) CreateTemplate(ctx context.Context, name string, spec TemplateSpec, tags map[string]string) (Template, error) {
	return CreateTemplate(ctx, a.EC2, name, spec, tags)
}

func (a AWS) CreateTemplateVersion(ctx context.Context, id string, spec TemplateSpec) (Template, error) {
	return CreateTemplateVersion(ctx, a.EC2, id, spec)
}

func (a AWS) RetagTemplate(ctx context.Context, id string, had, want map[string]string) error {
	return RetagTemplate(ctx, a.EC2, id, had, want)
}

func (a AWS) DeleteTemplate(ctx context.Context, id string) error {
	return DeleteTemplate(ctx, a.EC2, id)
}

func (a AWS) FindGroup(ctx context.Context, name string) (Group, error) {
	return FindGroup(ctx, a.AutoScaling, name)
}

func (a AWS) CreateGroup(ctx context.Context, spec GroupSpec) error {
	return CreateGroup(ctx, a.AutoScaling, spec)
}

func (a AWS) UpdateGroup(ctx context.Context, u GroupUpdate) error {
	return UpdateGroup(ctx, a.AutoScaling, u)
}

func (a AWS) HasLifecycleHook(ctx context.Context, group, name string) (bool, error) {
	return HasLifecycleHook(ctx, a.AutoScaling, group, name)
}

func (a AWS) PutLifecycleHook(ctx context.Context, group string, h astypes.LifecycleHookSpecification) error {
	return PutLifecycleHook(ctx, a.AutoScaling, group, h)
}

func (a AWS) UpdateGroupTags(ctx context.Context, name string, had map[string]string, want []astypes.Tag) error {
	return UpdateGroupTags(ctx, a.AutoScaling, name, had, want)
}

func (a AWS) AttachTargets(ctx context.Context, group string, targets []poolhealth.Target) error {
	return AttachTargets(ctx, a.AutoScaling, group, targets)
}

func (a AWS) DetachTargets(ctx context.Context, group string, targets []poolhealth.Target) error {
	return DetachTargets(ctx, a.AutoScaling, group, targets)
}

func (a AWS) InstanceImages(ctx context.Context, ids []string) (map[string]string, error) {
	return InstanceImages(ctx, a.EC2, ids)
}

func (a AWS) OutdatedIDs(ctx context.Context, g Group, tmpl Template) ([]string, error) {
	return OutdatedIDs(ctx, a.EC2, g, tmpl)
}

func (a AWS) DeleteGroup(ctx context.Context, g Group, progress func(string)) error {
	return DeleteFoundGroup(ctx, a.AutoScaling, a.EC2, g, progress)
}

func (a AWS) Fleet(spec FleetSpec) RolloutFleet {
	return &Fleet{Clients: a.Clients, FleetSpec: spec}
}

func (a AWS) FindTargetGroup(ctx context.Context, arn string) (elbv2types.TargetGroup, error) {
	return FindTargetGroup(ctx, a.ELBV2, arn)
}

func (a AWS) FindTargetGroupByName(ctx context.Context, name string) (elbv2types.TargetGroup, error) {
	return FindTargetGroupByName(ctx, a.ELBV2, name)
}

func (a AWS) TargetGroupTags(ctx context.Context, arn string) (map[string]string, error) {
	return TargetGroupTags(ctx, a.ELBV2, arn)
}

func (a AWS) CreateMasterTargetGroup(ctx context.Context, in MasterTargetGroupInput) (string, error) {
	return CreateMasterTargetGroup(ctx, a.ELBV2, in)
}

func (a AWS) DeleteTargetGroup(ctx context.Context, arn string) error {
	return DeleteTargetGroup(ctx, a.ELBV2, arn)
}

func (a AWS) RetagELBV2(ctx context.Context, arns []string, had, want map[string]string) error {
	return RetagELBV2(ctx, a.ELBV2, arns, had, want)
}

func (a AWS) FindRule(ctx context.Context, arn, listenerARN string) (Rule, error) {
	return FindRule(ctx, a.ELBV2, arn, listenerARN)
}

func (a AWS) FindRuleForwardingTo(ctx context.Context, listenerARN, tgARN string) (Rule, error) {
	return FindRuleForwardingTo(ctx, a.ELBV2, listenerARN, tgARN)
}

func (a AWS) ListenersOf(ctx context.Context, lbARNs []string) ([]string, error) {
	return ListenersOf(ctx, a.ELBV2, lbARNs)
}

func (a AWS) RulePriorities(ctx context.Context, listenerARN string) ([]int64, error) {
	return RulePriorities(ctx, a.ELBV2, listenerARN)
}

func (a AWS) CreateRule(ctx context.Context, r Rule, tags map[string]string) (string, error) {
	return CreateRule(ctx, a.ELBV2, r, tags)
}

func (a AWS) ModifyRule(ctx context.Context, r Rule, priorityChanged bool) error {
	return ModifyRule(ctx, a.ELBV2, r, priorityChanged)
}

func (a AWS) DeleteRule(ctx context.Context, arn string) error {
	return DeleteRule(ctx, a.ELBV2, arn)
}

func (a AWS) FindAlarm(ctx context.Context, name string) (RecoveryAlarm, error) {
	return FindAlarm(ctx, a.CloudWatch, name)
}

func (a AWS) AlarmTags(ctx context.Context, name string) (string, map[string]string, error) {
	return AlarmTags(ctx, a.CloudWatch, name)
}

func (a AWS) PutAlarm(ctx context.Context, al RecoveryAlarm, tags map[string]string) error {
	return PutAlarm(ctx, a.CloudWatch, al, tags)
}

func (a AWS) DeleteAlarm(ctx context.Context, name string) error {
	return DeleteAlarm(ctx, a.CloudWatch, name)
}

func (a AWS) FindCPUPolicy(ctx context.Context, group, name string) (CPUPolicy, error) {
	return FindCPUPolicy(ctx, a.AutoScaling, group, name)
}

func (a AWS) ListPolicyNames(ctx context.Context, group string) ([]string, error) {
	return ListPolicyNames(ctx, a.AutoScaling, group)
}

func (a AWS) PutCPUPolicy(ctx context.Context, group string, p CPUPolicy) error {
	return PutCPUPolicy(ctx, a.AutoScaling, group, p)
}

func (a AWS) DeletePolicy(ctx context.Context, group, name string) error {
	return DeletePolicy(ctx, a.AutoScaling, group, name)
}

func (a AWS) FindSchedules(ctx context.Context, group string, names []string) (map[string]Schedule, error) {
	return FindSchedules(ctx, a.AutoScaling, group, names)
}

func (a AWS) ListSchedules(ctx context.Context, group, prefix string) ([]Schedule, error) {
	return ListSchedules(ctx, a.AutoScaling, group, prefix)
}

func (a AWS) PutSchedule(ctx context.Context, group string, s Schedule) error {
	return PutSchedule(ctx, a.AutoScaling, group, s)
}

func (a AWS) DeleteSchedule(ctx context.Context, group, name string) error {
	return DeleteSchedule(ctx, a.AutoScaling, group, name)
}
