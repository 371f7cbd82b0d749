package acctest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/hashicorp/aws-sdk-go-base/v2/tfawserr"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

// The kinds of object the provider creates, in the order Audit reports them.
const (
	KindInstance           = "instance"
	KindImage              = "image"
	KindSnapshot           = "snapshot"
	KindLaunchTemplate     = "launch template"
	KindGroup              = "auto scaling group"
	KindScalingPolicy      = "scaling policy"
	KindScheduledAction    = "scheduled action"
	KindLifecycleHook      = "lifecycle hook"
	KindTargetGroup        = "target group"
	KindTargetRegistration = "target registration"
	KindListenerRule       = "listener rule"
	KindAlarm              = "alarm"
	KindSSMDocument        = "ssm document"
	KindSSMParameter       = "ssm parameter"
)

// Kinds lists every kind Audit knows, in report order.
var Kinds = []string{
	KindInstance, KindImage, KindSnapshot, KindLaunchTemplate, KindGroup, KindScalingPolicy,
	KindScheduledAction, KindLifecycleHook, KindTargetGroup, KindTargetRegistration,
	KindListenerRule, KindAlarm, KindSSMDocument, KindSSMParameter,
}

// groupNameTag is the tag Auto Scaling puts on every instance it launches.
const groupNameTag = "aws:autoscaling:groupName"

// Orphan is one object a run created that still exists.
type Orphan struct {
	Kind string // "instance", "image", "snapshot", "launch template", "auto scaling group", "scaling policy", "scheduled action", "lifecycle hook", "target group", "target registration", "listener rule", "alarm", "ssm document", "ssm parameter"
	ID   string // AWS id or ARN
	Name string // its name or Name tag, when it has one
}

func (o Orphan) String() string {
	if o.Name == "" || o.Name == o.ID {
		return o.Kind + " " + o.ID
	}
	return fmt.Sprintf("%s %s (%s)", o.Kind, o.ID, o.Name)
}

// Audit lists every object the provider can create that belongs to a run:
// named with prefix, or tagged by the provider with a value starting with prefix.
// prefix is a test's random name (e.g. "tf-acc-test-ab12") or acctest.NamePrefix for all runs.
//
// What counts, per kind:
//   - instance: a clone (tagged clone:pool or aws:autoscaling:groupName with
//     the prefix) that is pending, running, stopping or stopped. A
//     shutting-down instance is on its irreversible way to terminated and is
//     not billed, so it is gone. Seeded instances (clone:seed) never count.
//   - image, snapshot: tagged clone:managed-by by the provider, with the
//     prefix in clone:name-prefix or in the image name; and every snapshot of
//     such an image. The provider tags an image in CreateImage itself, so an
//     untagged image is never the provider's.
//   - launch template, auto scaling group: named with the prefix or tagged
//     clone:pool with it; a group whose deletion is in progress is gone.
//     Lifecycle hooks: every hook of such a group (hooks die with their group).
//   - scaling policy, scheduled action: named with the prefix, or on a group
//     named with it (they cannot carry tags).
//   - target group: not seeded, and tagged clone:pool with the prefix or named
//     with it and ending in -master (the pool's master-only target group).
//   - target registration, in any target group or classic ELB, draining
//     targets aside (a deregistered target leaves by itself): a clone of the
//     run in any state; a seeded master (clone:role=master) in a target group
//     or classic ELB of another seed than its own, when its world is named
//     with the prefix or the target group is the run's; anything in a
//     target group of the run (above, or any other not seeded one named with
//     the prefix, such as a test's extra target group).
//   - listener rule: tagged clone:pool with the prefix, or forwarding to a
//     target group the provider made for the run, on any load balancer a
//     scanned target group is attached to.
//   - alarm: named with the prefix. SSM parameters and documents: named after
//     a sync policy whose name starts with the prefix.
//
// Lifecycle hooks, scaling policies and scheduled actions have no id of
// their own: theirs is "group/name" (SplitGroupScoped). A registration's ID
// is the instance id, its Name says where it is registered.
//
// Target groups and classic ELBs are read only in the VPCs the run's
// instances (or, for a world named with the prefix, its master) are in,
// where alone they can be registered, plus the run's own target groups: so
// an audit after one test costs about 20 calls, however many worlds exist.
func Audit(ctx context.Context, cfg aws.Config, prefix string) ([]Orphan, error) {
	if prefix == "" {
		return nil, errors.New("audit: an empty prefix would claim every object in the account")
	}
	a := &auditor{
		c:       conns.New(cfg, conns.Endpoints{}, nil),
		prefix:  prefix,
		clones:  map[string]bool{},
		masters: map[string]string{},
		vpcs:    map[string]bool{},
	}
	for _, step := range []func(context.Context) error{
		a.instances, a.images, a.launchTemplates, a.groups, a.scaling,
		a.targetGroups, a.registrations, a.classicRegistrations, a.listenerRules,
		a.alarms, a.ssm,
	} {
		if err := step(ctx); err != nil {
			return nil, fmt.Errorf("auditing objects of %s: %w", prefix, err)
		}
	}
	sortOrphans(a.found)
	return a.found, nil
}

func sortOrphans(found []Orphan) {
	slices.SortStableFunc(found, func(x, y Orphan) int {
		if c := slices.Index(Kinds, x.Kind) - slices.Index(Kinds, y.Kind); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
}

type auditor struct {
	c      *conns.AWSClient
	prefix string
	found  []Orphan

	clones  map[string]bool   // every instance id of the run's clones, any state
	masters map[string]string // seeded master id -> its world, for worlds named with the prefix
	vpcs    map[string]bool   // VPCs of those instances
	allVPCs bool              // an instance without a VPC: scan every VPC
	tgs     []targetGroup
}

type targetGroup struct {
	arn, name, vpc string
	lbs            []string
	seedWorld      string
	owned          bool // the provider made it for the run
	run            bool // the run's: owned, or named with the prefix and not seeded
	scanned        bool // its targets are checked
}

func (a *auditor) has(s string) bool { return strings.HasPrefix(s, a.prefix) }

func (a *auditor) add(kind, id, name string) {
	a.found = append(a.found, Orphan{Kind: kind, ID: id, Name: name})
}

// ec2Wildcard escapes s for an EC2 filter value, where * and ? are wildcards.
func ec2Wildcard(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`).Replace(s)
}

// aliveStates are the instance states Audit counts as existing.
var aliveStates = []ec2types.InstanceStateName{
	ec2types.InstanceStateNamePending, ec2types.InstanceStateNameRunning,
	ec2types.InstanceStateNameStopping, ec2types.InstanceStateNameStopped,
}

func (a *auditor) instances(ctx context.Context) error {
	// One filtered listing in every state: terminated clones still tell
	// which targets are the run's and which VPCs to scan.
	pages := ec2.NewDescribeInstancesPaginator(a.c.EC2, &ec2.DescribeInstancesInput{
		Filters:    []ec2types.Filter{{Name: aws.String("tag-value"), Values: []string{ec2Wildcard(a.prefix) + "*"}}},
		MaxResults: aws.Int32(1000),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing instances: %w", err)
		}
		for _, r := range page.Reservations {
			for _, inst := range r.Instances {
				a.instance(inst)
			}
		}
	}
	return nil
}

func (a *auditor) instance(inst ec2types.Instance) {
	id, tags := aws.ToString(inst.InstanceId), ec2Tags(inst.Tags)
	if world := tags[seed.TagSeed]; world != "" {
		if tags[seed.TagRole] == "master" && a.has(world) {
			a.masters[id] = world
			a.vpc(aws.ToString(inst.VpcId))
		}
		return
	}
	poolName := tags[pool.TagPool]
	if !a.has(poolName) {
		poolName = tags[groupNameTag]
	}
	if !a.has(poolName) {
		return
	}
	a.clones[id] = true
	a.vpc(aws.ToString(inst.VpcId))
	if inst.State != nil && slices.Contains(aliveStates, inst.State.Name) {
		name := tags["Name"]
		if name == "" {
			name = poolName
		}
		a.add(KindInstance, id, name)
	}
}

func (a *auditor) vpc(id string) {
	if id == "" {
		a.allVPCs = true
		return
	}
	a.vpcs[id] = true
}

func ec2Tags(tags []ec2types.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

var managedByProvider = []ec2types.Filter{{Name: aws.String("tag:" + imageset.TagManagedBy), Values: []string{imageset.ManagedBy}}}

func (a *auditor) images(ctx context.Context) error {
	ofImages := map[string]bool{}
	images := ec2.NewDescribeImagesPaginator(a.c.EC2, &ec2.DescribeImagesInput{
		Owners: []string{"self"}, Filters: managedByProvider, MaxResults: aws.Int32(1000),
	})
	for images.HasMorePages() {
		page, err := images.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing images: %w", err)
		}
		for _, img := range page.Images {
			name := aws.ToString(img.Name)
			if !a.has(ec2Tags(img.Tags)[imageset.TagNamePrefix]) && !a.has(name) {
				continue
			}
			a.add(KindImage, aws.ToString(img.ImageId), name)
			for _, m := range img.BlockDeviceMappings {
				if m.Ebs != nil && aws.ToString(m.Ebs.SnapshotId) != "" {
					ofImages[aws.ToString(m.Ebs.SnapshotId)] = true
				}
			}
		}
	}
	snapshots := ec2.NewDescribeSnapshotsPaginator(a.c.EC2, &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"}, Filters: managedByProvider, MaxResults: aws.Int32(1000),
	})
	for snapshots.HasMorePages() {
		page, err := snapshots.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing snapshots: %w", err)
		}
		for _, s := range page.Snapshots {
			id, tags := aws.ToString(s.SnapshotId), ec2Tags(s.Tags)
			if a.has(tags[imageset.TagNamePrefix]) && !ofImages[id] {
				a.add(KindSnapshot, id, tags["Name"])
			}
		}
	}
	// Snapshots of the run's images, tagged or not (the provider tags them
	// only once the image is available).
	for _, id := range slices.Sorted(maps.Keys(ofImages)) {
		a.add(KindSnapshot, id, "")
	}
	return nil
}

func (a *auditor) launchTemplates(ctx context.Context) error {
	pages := ec2.NewDescribeLaunchTemplatesPaginator(a.c.EC2, &ec2.DescribeLaunchTemplatesInput{MaxResults: aws.Int32(200)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing launch templates: %w", err)
		}
		for _, lt := range page.LaunchTemplates {
			name := aws.ToString(lt.LaunchTemplateName)
			if a.has(name) || a.has(ec2Tags(lt.Tags)[pool.TagPool]) {
				a.add(KindLaunchTemplate, aws.ToString(lt.LaunchTemplateId), name)
			}
		}
	}
	return nil
}

// groupDeleting is the status of an Auto Scaling group being deleted.
const groupDeleting = "Delete in progress"

func (a *auditor) groups(ctx context.Context) error {
	pages := autoscaling.NewDescribeAutoScalingGroupsPaginator(a.c.AutoScaling, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(100)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing Auto Scaling groups: %w", err)
		}
		for _, g := range page.AutoScalingGroups {
			name := aws.ToString(g.AutoScalingGroupName)
			if !a.has(name) && !a.has(groupTag(g.Tags, pool.TagPool)) || aws.ToString(g.Status) == groupDeleting {
				continue
			}
			a.add(KindGroup, aws.ToString(g.AutoScalingGroupARN), name)
			if err := a.hooks(ctx, name); err != nil {
				return err
			}
		}
	}
	return nil
}

func groupTag(tags []astypes.TagDescription, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func (a *auditor) hooks(ctx context.Context, group string) error {
	out, err := a.c.AutoScaling.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String(group)})
	if err != nil {
		return fmt.Errorf("listing lifecycle hooks of Auto Scaling group %s: %w", group, err)
	}
	for _, h := range out.LifecycleHooks {
		a.add(KindLifecycleHook, groupScoped(group, aws.ToString(h.LifecycleHookName)), aws.ToString(h.LifecycleHookName))
	}
	return nil
}

// scaling lists policies and scheduled actions across every group: the
// emulator keeps them after their group is gone.
func (a *auditor) scaling(ctx context.Context) error {
	policies := autoscaling.NewDescribePoliciesPaginator(a.c.AutoScaling, &autoscaling.DescribePoliciesInput{MaxRecords: aws.Int32(50)})
	for policies.HasMorePages() {
		page, err := policies.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing scaling policies: %w", err)
		}
		for _, p := range page.ScalingPolicies {
			if name := aws.ToString(p.PolicyName); a.has(name) || a.has(aws.ToString(p.AutoScalingGroupName)) {
				a.add(KindScalingPolicy, groupScoped(aws.ToString(p.AutoScalingGroupName), name), name)
			}
		}
	}
	actions := autoscaling.NewDescribeScheduledActionsPaginator(a.c.AutoScaling, &autoscaling.DescribeScheduledActionsInput{MaxRecords: aws.Int32(100)})
	for actions.HasMorePages() {
		page, err := actions.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing scheduled actions: %w", err)
		}
		for _, s := range page.ScheduledUpdateGroupActions {
			if name := aws.ToString(s.ScheduledActionName); a.has(name) || a.has(aws.ToString(s.AutoScalingGroupName)) {
				a.add(KindScheduledAction, groupScoped(aws.ToString(s.AutoScalingGroupName), name), name)
			}
		}
	}
	return nil
}

// groupScoped is the id of a hook, policy or scheduled action: its group
// and its name, "group/name"; SplitGroupScoped takes it apart.
func groupScoped(group, name string) string { return group + "/" + name }

// SplitGroupScoped returns the group and the name of a lifecycle hook,
// scaling policy or scheduled action from its Orphan ID.
func SplitGroupScoped(id string) (group, name string) {
	group, name, _ = strings.Cut(id, "/")
	return group, name
}

func orName(arn, name string) string {
	if arn != "" {
		return arn
	}
	return name
}

// elbv2TagBatch is how many resources one ELBv2 DescribeTags call takes.
const elbv2TagBatch = 20

func (a *auditor) targetGroups(ctx context.Context) error {
	pages := elbv2.NewDescribeTargetGroupsPaginator(a.c.ELBV2, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(400)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing target groups: %w", err)
		}
		for _, tg := range page.TargetGroups {
			a.tgs = append(a.tgs, targetGroup{
				arn: aws.ToString(tg.TargetGroupArn), name: aws.ToString(tg.TargetGroupName),
				vpc: aws.ToString(tg.VpcId), lbs: tg.LoadBalancerArns,
			})
		}
	}
	arns := make([]string, len(a.tgs))
	for i, tg := range a.tgs {
		arns[i] = tg.arn
	}
	tags, err := a.elbv2Tags(ctx, arns)
	if err != nil {
		return fmt.Errorf("listing tags of target groups: %w", err)
	}
	for i := range a.tgs {
		tg := &a.tgs[i]
		t := tags[tg.arn]
		tg.seedWorld = t[seed.TagSeed]
		seeded := tg.seedWorld != ""
		tg.owned = !seeded && (a.has(t[pool.TagPool]) || a.has(tg.name) && strings.HasSuffix(tg.name, "-master"))
		tg.run = tg.owned || !seeded && a.has(tg.name)
		tg.scanned = tg.run || a.allVPCs || a.vpcs[tg.vpc]
		if tg.owned {
			a.add(KindTargetGroup, tg.arn, tg.name)
		}
	}
	return nil
}

// elbv2Gone are the codes of an ELBv2 object deleted since it was listed:
// another test's, deleted while this audit runs.
var elbv2Gone = []string{"TargetGroupNotFound", "RuleNotFound", "ListenerNotFound", "LoadBalancerNotFound"}

// elbv2Tags reads the tags of target groups or rules, 20 per call; one
// deleted since it was listed has none.
func (a *auditor) elbv2Tags(ctx context.Context, arns []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	read := func(batch []string) error {
		res, err := a.c.ELBV2.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: batch})
		if err != nil {
			return err
		}
		for _, d := range res.TagDescriptions {
			m := map[string]string{}
			for _, t := range d.Tags {
				m[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			out[aws.ToString(d.ResourceArn)] = m
		}
		return nil
	}
	gone := func(err error) bool { return tfawserr.ErrCodeEquals(err, elbv2Gone...) }
	for batch := range slices.Chunk(arns, elbv2TagBatch) {
		err := read(batch)
		if gone(err) && len(batch) > 1 {
			// Which one went is not said: read them one by one.
			for _, arn := range batch {
				if err := read([]string{arn}); err != nil && !gone(err) {
					return nil, err
				}
			}
			continue
		}
		if err != nil && !gone(err) {
			return nil, err
		}
	}
	return out, nil
}

// registrations checks the targets of every scanned target group.
func (a *auditor) registrations(ctx context.Context) error {
	for _, tg := range a.tgs {
		if !tg.scanned {
			continue
		}
		out, err := a.c.ELBV2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg.arn)})
		if tfawserr.ErrCodeEquals(err, elbv2Gone...) {
			continue
		}
		if err != nil {
			return fmt.Errorf("listing targets of target group %s: %w", tg.name, err)
		}
		for _, d := range out.TargetHealthDescriptions {
			if d.Target == nil || d.TargetHealth != nil && d.TargetHealth.State == elbv2types.TargetHealthStateEnumDraining {
				continue
			}
			id := aws.ToString(d.Target.Id)
			if a.orphanTarget(id, tg.seedWorld, tg.run) {
				a.add(KindTargetRegistration, id, "in target group "+tg.name)
			}
		}
	}
	return nil
}

// orphanTarget says whether instance id, registered with a load balancer
// of seed world lbWorld ("" when not seeded), belongs to the run: a clone
// of the run anywhere, a master outside its own world, anything in the run's
// own target group.
func (a *auditor) orphanTarget(id, lbWorld string, runTG bool) bool {
	if a.clones[id] {
		return true
	}
	if world, ok := a.masters[id]; ok {
		return world != lbWorld
	}
	return runTG
}

// classicRegistrations checks the instances of every classic ELB in the
// scanned VPCs. The provider creates no classic ELB; a master counts only
// outside its own world's.
func (a *auditor) classicRegistrations(ctx context.Context) error {
	if len(a.vpcs) == 0 && !a.allVPCs {
		return nil
	}
	type hit struct{ lb, id string }
	var masterHits []hit
	pages := elb.NewDescribeLoadBalancersPaginator(a.c.ELB, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(400)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing classic load balancers: %w", err)
		}
		for _, lb := range page.LoadBalancerDescriptions {
			if !a.allVPCs && !a.vpcs[aws.ToString(lb.VPCId)] {
				continue
			}
			name := aws.ToString(lb.LoadBalancerName)
			for _, inst := range lb.Instances {
				id := aws.ToString(inst.InstanceId)
				switch {
				case a.clones[id]:
					a.add(KindTargetRegistration, id, "in classic ELB "+name)
				case a.masters[id] != "":
					masterHits = append(masterHits, hit{name, id})
				}
			}
		}
	}
	if len(masterHits) == 0 {
		return nil
	}
	var names []string
	for _, h := range masterHits {
		if !slices.Contains(names, h.lb) {
			names = append(names, h.lb)
		}
	}
	worlds := map[string]string{}
	for batch := range slices.Chunk(names, elbv2TagBatch) {
		out, err := a.c.ELB.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: batch})
		if err != nil {
			return fmt.Errorf("listing tags of classic load balancers: %w", err)
		}
		for _, d := range out.TagDescriptions {
			for _, t := range d.Tags {
				if aws.ToString(t.Key) == seed.TagSeed {
					worlds[aws.ToString(d.LoadBalancerName)] = aws.ToString(t.Value)
				}
			}
		}
	}
	for _, h := range masterHits {
		if a.orphanTarget(h.id, worlds[h.lb], false) {
			a.add(KindTargetRegistration, h.id, "in classic ELB "+h.lb)
		}
	}
	return nil
}

// listenerRules checks the rules of every listener of a load balancer a
// scanned target group is attached to: the pool's write rule forwards to its
// master-only target group on the master's load balancer.
func (a *auditor) listenerRules(ctx context.Context) error {
	owned := map[string]bool{}
	var lbs []string
	for _, tg := range a.tgs {
		if tg.owned {
			owned[tg.arn] = true
		}
		if tg.scanned {
			for _, lb := range tg.lbs {
				if !slices.Contains(lbs, lb) {
					lbs = append(lbs, lb)
				}
			}
		}
	}
	var candidates []string
	for _, lb := range lbs {
		listeners := elbv2.NewDescribeListenersPaginator(a.c.ELBV2, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lb), PageSize: aws.Int32(400)})
		for listeners.HasMorePages() {
			page, err := listeners.NextPage(ctx)
			if tfawserr.ErrCodeEquals(err, elbv2Gone...) {
				break
			}
			if err != nil {
				return fmt.Errorf("listing listeners of %s: %w", lb, err)
			}
			for _, l := range page.Listeners {
				more, err := a.rules(ctx, aws.ToString(l.ListenerArn), owned)
				if err != nil {
					return err
				}
				candidates = append(candidates, more...)
			}
		}
	}
	tags, err := a.elbv2Tags(ctx, candidates)
	if err != nil {
		return fmt.Errorf("listing tags of listener rules: %w", err)
	}
	for _, arn := range candidates {
		if a.has(tags[arn][pool.TagPool]) {
			a.add(KindListenerRule, arn, "")
		}
	}
	return nil
}

// rules reports the listener's rules that forward to an owned target group
// and returns the other non-default rules, whose tags decide.
func (a *auditor) rules(ctx context.Context, listener string, owned map[string]bool) ([]string, error) {
	var candidates []string
	pages := elbv2.NewDescribeRulesPaginator(a.c.ELBV2, &elbv2.DescribeRulesInput{ListenerArn: aws.String(listener), PageSize: aws.Int32(400)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if tfawserr.ErrCodeEquals(err, elbv2Gone...) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("listing rules of listener %s: %w", listener, err)
		}
		for _, r := range page.Rules {
			if aws.ToBool(r.IsDefault) {
				continue
			}
			arn := aws.ToString(r.RuleArn)
			if slices.ContainsFunc(forwardTargets(r.Actions), func(tg string) bool { return owned[tg] }) {
				a.add(KindListenerRule, arn, "")
			} else {
				candidates = append(candidates, arn)
			}
		}
	}
	return candidates, nil
}

func forwardTargets(actions []elbv2types.Action) []string {
	var out []string
	for _, act := range actions {
		if arn := aws.ToString(act.TargetGroupArn); arn != "" {
			out = append(out, arn)
		}
		if act.ForwardConfig != nil {
			for _, t := range act.ForwardConfig.TargetGroups {
				out = append(out, aws.ToString(t.TargetGroupArn))
			}
		}
	}
	return out
}

func (a *auditor) alarms(ctx context.Context) error {
	pages := cloudwatch.NewDescribeAlarmsPaginator(a.c.CloudWatch, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(a.prefix), MaxRecords: aws.Int32(100)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing alarms: %w", err)
		}
		for _, al := range page.MetricAlarms {
			if name := aws.ToString(al.AlarmName); a.has(name) {
				a.add(KindAlarm, orName(aws.ToString(al.AlarmArn), name), name)
			}
		}
	}
	return nil
}

// ssm lists the parameters and Run Command documents of the sync policies
// named with the prefix.
func (a *auditor) ssm(ctx context.Context) error {
	names := syncstore.NamesOf(a.prefix)
	paramPrefix := path.Dir(names.PolicyParameter) // "/clone-sync/<prefix>"
	params := ssm.NewDescribeParametersPaginator(a.c.SSM, &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{paramPrefix}}},
		MaxResults:       aws.Int32(50),
	})
	for params.HasMorePages() {
		page, err := params.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing SSM parameters: %w", err)
		}
		for _, p := range page.Parameters {
			if name := aws.ToString(p.Name); strings.HasPrefix(name, paramPrefix) {
				a.add(KindSSMParameter, name, "")
			}
		}
	}
	docs := ssm.NewListDocumentsPaginator(a.c.SSM, &ssm.ListDocumentsInput{
		Filters:    []ssmtypes.DocumentKeyValuesFilter{{Key: aws.String("Owner"), Values: []string{"Self"}}},
		MaxResults: aws.Int32(50),
	})
	for docs.HasMorePages() {
		page, err := docs.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing SSM documents: %w", err)
		}
		for _, d := range page.DocumentIdentifiers {
			if name := aws.ToString(d.Name); strings.HasPrefix(name, names.Document) {
				a.add(KindSSMDocument, name, "")
			}
		}
	}
	return nil
}

// CheckDestroy is a resource.TestCase CheckDestroy: it audits the runs
// named in the state before destroy (each clone_pool's and
// clone_sync_policy's name, each clone_image's name_prefix) and fails
// listing every object still there.
func CheckDestroy(s *terraform.State) error {
	var names []string
	for _, rs := range s.RootModule().Resources {
		switch rs.Type {
		case "clone_pool", "clone_sync_policy":
			names = append(names, rs.Primary.ID)
		case "clone_image":
			names = append(names, rs.Primary.Attributes["name_prefix"])
		}
	}
	return checkNoOrphans(context.Background(), names)
}

// CheckNoOrphans fails t listing every object Audit finds for names: the
// end of a test that drives Terraform without resource.Test.
func CheckNoOrphans(t testing.TB, names ...string) {
	t.Helper()
	if err := checkNoOrphans(context.Background(), names); err != nil {
		t.Error(err)
	}
}

func checkNoOrphans(ctx context.Context, names []string) error {
	prefixes := runPrefixes(names)
	if len(prefixes) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region()))
	if err != nil {
		return fmt.Errorf("loading AWS config: %w", err)
	}
	var left []Orphan
	audit := func(ctx context.Context) (bool, string, error) {
		left = nil
		for _, p := range prefixes {
			found, err := Audit(ctx, cfg, p)
			if err != nil {
				return false, "", err
			}
			left = append(left, found...)
		}
		return len(left) == 0, fmt.Sprintf("%d objects left", len(left)), nil
	}
	if bundledEmulator() {
		// The emulator lists a deleted object no more: one audit decides.
		_, _, err = audit(ctx)
	} else {
		// AWS may list an object briefly after its deletion.
		waitCtx, stop := context.WithTimeout(ctx, time.Minute)
		defer stop()
		err = wait.For(waitCtx, wait.Options{Interval: 5 * time.Second, MaxInterval: 15 * time.Second}, audit)
		if wait.IsTimeout(err) {
			err = nil
		}
	}
	if err != nil {
		return err
	}
	if len(left) > 0 {
		lines := make([]string, len(left))
		for i, o := range left {
			lines[i] = "  " + o.String()
		}
		return fmt.Errorf("%d objects of %s left after destroy:\n%s", len(left), strings.Join(prefixes, ", "), strings.Join(lines, "\n"))
	}
	return nil
}

// runPrefixes drops empty names, duplicates and names another one starts.
func runPrefixes(names []string) []string {
	names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "" })
	slices.SortFunc(names, func(a, b string) int { return len(a) - len(b) })
	var out []string
	for _, n := range names {
		if !slices.ContainsFunc(out, func(p string) bool { return strings.HasPrefix(n, p) }) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
