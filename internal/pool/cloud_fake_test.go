package pool

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
	"github.com/cloneserver/terraform-provider-clone/internal/rollout"
)

// fakeCloud is the AWS a pool lives in, in memory. Every call is recorded
// in calls as "Operation detail", so the tests read the convergence order;
// fail makes the named operation fail once.
type fakeCloud struct {
	calls     []string
	fail      map[string]error
	master    Master
	images    map[string]string // instance id -> image id
	versionOf map[string]string // instance id -> launch template version
	templates map[string]*Template
	versions  map[string][]TemplateSpec // template id -> specs by version-1
	group     *Group
	tgs       map[string]elbv2types.TargetGroup
	rules     map[string]Rule
	alarms    map[string]RecoveryAlarm
	// tags holds each object's tags by template id, target group ARN or
	// alarm name.
	tags      map[string]map[string]string
	policies  map[string]CPUPolicy
	schedules map[string]Schedule
	// registered holds, per load balancer, the instances in it.
	registered map[string][]string
	seq        int
	fleetSpec  *FleetSpec
	// syncHook says the group has its first-sync lifecycle hook.
	syncHook bool
}

func newFakeCloud() *fakeCloud {
	return &fakeCloud{
		fail: map[string]error{}, master: Master{ID: "i-0aaaa00000000000f", PrivateIP: "10.0.0.5", VpcID: "vpc-1"},
		images: map[string]string{}, versionOf: map[string]string{}, templates: map[string]*Template{},
		versions: map[string][]TemplateSpec{}, tgs: map[string]elbv2types.TargetGroup{}, rules: map[string]Rule{},
		alarms: map[string]RecoveryAlarm{}, policies: map[string]CPUPolicy{}, schedules: map[string]Schedule{},
		registered: map[string][]string{}, tags: map[string]map[string]string{},
	}
}

var _ Cloud = (*fakeCloud)(nil)

func (f *fakeCloud) call(op string, detail ...any) error {
	f.calls = append(f.calls, strings.TrimSpace(op+" "+fmt.Sprint(detail...)))
	if err, ok := f.fail[op]; ok {
		delete(f.fail, op)
		return err
	}
	return nil
}

func (f *fakeCloud) id(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s-%04d", prefix, f.seq)
}

// launch adds n clones of the group's launch template version.
func (f *fakeCloud) launch(n int) {
	spec := f.versions[f.group.LaunchTemplateID]
	v := f.group.LaunchTemplateVersion
	var image string
	if i := atoi(v) - 1; i >= 0 && i < len(spec) {
		image = spec[i].ImageID
	}
	for range n {
		id := f.id("i")
		f.group.Instances = append(f.group.Instances, Instance{ID: id, LifecycleState: rollout.LifecycleInService})
		f.images[id], f.versionOf[id] = image, v
		for _, t := range Targets(f.group.TargetGroupARNs, f.group.ClassicELBNames) {
			f.registered[t.ID] = append(f.registered[t.ID], id)
		}
	}
}

func atoi(s string) int {
	var n int
	_, _ = fmt.Sscan(s, &n)
	return n
}

func (f *fakeCloud) FindMaster(_ context.Context, id string) (Master, error) {
	if err := f.call("FindMaster", id); err != nil {
		return Master{}, err
	}
	return f.master, nil
}

func (f *fakeCloud) RootDevice(_ context.Context, imageID string) (string, int32, error) {
	return "/dev/xvda", 8, f.call("RootDevice", imageID)
}

func (f *fakeCloud) FindTemplateByName(_ context.Context, name string) (string, map[string]string, error) {
	if err := f.call("FindTemplateByName", name); err != nil {
		return "", nil, err
	}
	if t, ok := f.templates[name]; ok {
		return t.ID, f.tags[t.ID], nil
	}
	return "", nil, notfound.New("launch template", name)
}

func (f *fakeCloud) FindTemplateVersion(_ context.Context, id, version string) (Template, error) {
	if err := f.call("FindTemplateVersion", id, " ", version); err != nil {
		return Template{}, err
	}
	specs := f.versions[id]
	i := atoi(version) - 1
	if version == "$Default" || version == "$Latest" {
		i = len(specs) - 1 // CreateTemplateVersion makes each version the default
	}
	if i >= 0 && i < len(specs) {
		return Template{ID: id, Version: int64(i + 1), Spec: specs[i]}, nil
	}
	return Template{}, notfound.New("launch template", id)
}

func (f *fakeCloud) CreateTemplate(_ context.Context, name string, spec TemplateSpec, tags map[string]string) (Template, error) {
	if err := f.call("CreateTemplate", name); err != nil {
		return Template{}, err
	}
	t := &Template{ID: f.id("lt"), Version: 1, Spec: spec}
	f.tags[t.ID] = maps.Clone(tags)
	f.templates[name], f.versions[t.ID] = t, []TemplateSpec{spec}
	return *t, nil
}

func (f *fakeCloud) CreateTemplateVersion(_ context.Context, id string, spec TemplateSpec) (Template, error) {
	if err := f.call("CreateTemplateVersion", id); err != nil {
		return Template{}, err
	}
	if _, ok := f.versions[id]; !ok {
		return Template{}, notfound.New("launch template", id)
	}
	f.versions[id] = append(f.versions[id], spec)
	return Template{ID: id, Version: int64(len(f.versions[id])), Spec: spec}, nil
}

func (f *fakeCloud) RetagTemplate(_ context.Context, id string, _, _ map[string]string) error {
	return f.call("RetagTemplate", id)
}

func (f *fakeCloud) DeleteTemplate(_ context.Context, id string) error {
	if err := f.call("DeleteTemplate", id); err != nil {
		return err
	}
	for name, t := range f.templates {
		if t.ID == id {
			delete(f.templates, name)
		}
	}
	return nil
}

func (f *fakeCloud) FindGroup(_ context.Context, name string) (Group, error) {
	if err := f.call("FindGroup", name); err != nil {
		return Group{}, err
	}
	if f.group == nil {
		return Group{}, notfound.New("Auto Scaling group", name)
	}
	g := *f.group
	g.Instances = slices.Clone(g.Instances)
	return g, nil
}

func (f *fakeCloud) CreateGroup(_ context.Context, s GroupSpec) error {
	if err := f.call("CreateGroup", s.Name, fmt.Sprintf(" hook=%v", s.FirstSyncHook)); err != nil {
		return err
	}
	tags := map[string]string{}
	for _, t := range s.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	f.syncHook = s.FirstSyncHook
	f.group = &Group{
		Name: s.Name, LaunchTemplateID: s.TemplateID, LaunchTemplateVersion: version(s.TemplateVersion),
		MinSize: s.MinSize, MaxSize: s.MaxSize, DesiredCapacity: s.DesiredCapacity, SubnetIDs: s.SubnetIDs,
		TargetGroupARNs: s.TargetGroupARNs, ClassicELBNames: s.ClassicELBNames, Tags: tags,
	}
	f.launch(int(s.DesiredCapacity))
	return nil
}

func (f *fakeCloud) HasLifecycleHook(_ context.Context, group, name string) (bool, error) {
	return f.syncHook && name == FirstSyncHookName(group), f.call("HasLifecycleHook", name)
}

func (f *fakeCloud) PutLifecycleHook(_ context.Context, _ string, h astypes.LifecycleHookSpecification) error {
	if err := f.call("PutLifecycleHook", aws.ToString(h.LifecycleHookName)); err != nil {
		return err
	}
	f.syncHook = true
	return nil
}

func (f *fakeCloud) UpdateGroup(_ context.Context, u GroupUpdate) error {
	detail := ""
	for _, s := range []struct {
		k string
		v *int64
	}{{"min", u.MinSize}, {"max", u.MaxSize}, {"desired", u.DesiredCapacity}} {
		if s.v != nil {
			detail += fmt.Sprintf(" %s=%d", s.k, *s.v)
		}
	}
	if err := f.call("UpdateGroup", strings.TrimSpace(detail)); err != nil {
		return err
	}
	if u.DesiredCapacity != nil {
		f.group.DesiredCapacity = *u.DesiredCapacity
		if n := int(*u.DesiredCapacity) - len(f.group.ServingIDs()); n > 0 {
			f.launch(n)
		}
	}
	return nil
}

func (f *fakeCloud) UpdateGroupTags(_ context.Context, name string, _ map[string]string, want []astypes.Tag) error {
	if err := f.call("UpdateGroupTags", name); err != nil {
		return err
	}
	f.group.Tags = map[string]string{}
	for _, t := range want {
		f.group.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return nil
}

func (f *fakeCloud) AttachTargets(_ context.Context, _ string, targets []poolhealth.Target) error {
	if err := f.call("AttachTargets", targetIDs(targets)); err != nil {
		return err
	}
	for _, t := range targets {
		if t.Kind == poolhealth.KindClassicELB {
			f.group.ClassicELBNames = append(f.group.ClassicELBNames, t.ID)
		} else {
			f.group.TargetGroupARNs = append(f.group.TargetGroupARNs, t.ID)
		}
	}
	return nil
}

func (f *fakeCloud) DetachTargets(_ context.Context, _ string, targets []poolhealth.Target) error {
	if err := f.call("DetachTargets", targetIDs(targets)); err != nil {
		return err
	}
	for _, t := range targets {
		f.group.TargetGroupARNs = slices.DeleteFunc(f.group.TargetGroupARNs, func(s string) bool { return s == t.ID })
		f.group.ClassicELBNames = slices.DeleteFunc(f.group.ClassicELBNames, func(s string) bool { return s == t.ID })
	}
	return nil
}

func targetIDs(targets []poolhealth.Target) []string {
	var out []string
	for _, t := range targets {
		out = append(out, t.ID)
	}
	return out
}

func (f *fakeCloud) InstanceImages(_ context.Context, ids []string) (map[string]string, error) {
	if err := f.call("InstanceImages"); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, id := range ids {
		out[id] = f.images[id]
	}
	return out, nil
}

func (f *fakeCloud) OutdatedIDs(context.Context, Group, Template) ([]string, error) {
	return nil, f.call("OutdatedIDs")
}

func (f *fakeCloud) DeleteGroup(_ context.Context, g Group, _ func(string)) error {
	if err := f.call("DeleteGroup", g.Name); err != nil {
		return err
	}
	f.group = nil
	return nil
}

func (f *fakeCloud) Fleet(spec FleetSpec) RolloutFleet {
	f.fleetSpec = &spec
	return &fakeFleet{f: f, spec: spec}
}

func (f *fakeCloud) Health(_ context.Context, targets []poolhealth.Target) (poolhealth.Report, error) {
	if err := f.call("Health", targetIDs(targets)); err != nil {
		return poolhealth.Report{}, err
	}
	var r poolhealth.Report
	for _, t := range targets {
		th := poolhealth.TargetHealth{Target: t, Instances: map[string]poolhealth.State{}}
		for _, id := range f.registered[t.ID] {
			th.Instances[id] = poolhealth.State{State: "healthy", Healthy: true, Active: true}
		}
		r.Targets = append(r.Targets, th)
	}
	return r, nil
}

func (f *fakeCloud) WaitHealthy(_ context.Context, group string, _ []poolhealth.Target, want int, _ func(string)) ([]string, []string, error) {
	if err := f.call("WaitHealthy", group, " ", want); err != nil {
		return nil, nil, err
	}
	ids := f.group.ServingIDs()
	return ids, ids, nil
}

func (f *fakeCloud) Register(_ context.Context, targets []poolhealth.Target, ids []string) error {
	if err := f.call("Register", targetIDs(targets), " ", ids); err != nil {
		return err
	}
	for _, t := range targets {
		f.registered[t.ID] = append(f.registered[t.ID], ids...)
	}
	return nil
}

func (f *fakeCloud) deregister(targets []poolhealth.Target, ids []string) {
	for _, t := range targets {
		f.registered[t.ID] = slices.DeleteFunc(f.registered[t.ID], func(s string) bool { return slices.Contains(ids, s) })
	}
}

func (f *fakeCloud) Deregister(_ context.Context, targets []poolhealth.Target, ids []string) error {
	if err := f.call("Deregister", targetIDs(targets), " ", ids); err != nil {
		return err
	}
	f.deregister(targets, ids)
	return nil
}

func (f *fakeCloud) Drain(_ context.Context, targets []poolhealth.Target, ids []string, _ func(string)) error {
	if err := f.call("Drain", targetIDs(targets), " ", ids); err != nil {
		return err
	}
	f.deregister(targets, ids)
	return nil
}

func (f *fakeCloud) Retire(_ context.Context, _ string, targets []poolhealth.Target, ids []string, _ func(string)) error {
	if err := f.call("Retire", ids); err != nil {
		return err
	}
	f.deregister(targets, ids)
	f.group.Instances = slices.DeleteFunc(f.group.Instances, func(i Instance) bool { return slices.Contains(ids, i.ID) })
	f.group.DesiredCapacity -= int64(len(ids))
	return nil
}

func (f *fakeCloud) FindTargetGroup(_ context.Context, arn string) (elbv2types.TargetGroup, error) {
	if err := f.call("FindTargetGroup", arn); err != nil {
		return elbv2types.TargetGroup{}, err
	}
	if tg, ok := f.tgs[arn]; ok {
		return tg, nil
	}
	if strings.HasPrefix(arn, "arn:tg/web") {
		return elbv2types.TargetGroup{TargetGroupArn: aws.String(arn)}, nil
	}
	return elbv2types.TargetGroup{}, notfound.New("target group", arn)
}

func (f *fakeCloud) FindTargetGroupByName(_ context.Context, name string) (elbv2types.TargetGroup, error) {
	if err := f.call("FindTargetGroupByName", name); err != nil {
		return elbv2types.TargetGroup{}, err
	}
	for _, tg := range f.tgs {
		if aws.ToString(tg.TargetGroupName) == name {
			return tg, nil
		}
	}
	return elbv2types.TargetGroup{}, notfound.New("target group", name)
}

func (f *fakeCloud) TargetGroupTags(_ context.Context, arn string) (map[string]string, error) {
	return f.tags[arn], f.call("TargetGroupTags", arn)
}

func (f *fakeCloud) CreateMasterTargetGroup(_ context.Context, in MasterTargetGroupInput) (string, error) {
	if err := f.call("CreateMasterTargetGroup", in.Name); err != nil {
		return "", err
	}
	arn := "arn:tg/" + in.Name
	f.tags[arn] = maps.Clone(in.Tags)
	f.tgs[arn] = elbv2types.TargetGroup{TargetGroupArn: aws.String(arn), TargetGroupName: aws.String(in.Name)}
	return arn, nil
}

func (f *fakeCloud) DeleteTargetGroup(_ context.Context, arn string) error {
	if err := f.call("DeleteTargetGroup", arn); err != nil {
		return err
	}
	delete(f.tgs, arn)
	return nil
}

func (f *fakeCloud) RetagELBV2(_ context.Context, arns []string, _, _ map[string]string) error {
	return f.call("RetagELBV2", arns)
}

func (f *fakeCloud) FindRule(_ context.Context, arn, _ string) (Rule, error) {
	if err := f.call("FindRule", arn); err != nil {
		return Rule{}, err
	}
	if r, ok := f.rules[arn]; ok {
		return r, nil
	}
	return Rule{}, notfound.New("listener rule", arn)
}

func (f *fakeCloud) FindRuleForwardingTo(_ context.Context, listenerARN, tgARN string) (Rule, error) {
	if err := f.call("FindRuleForwardingTo", listenerARN, " ", tgARN); err != nil {
		return Rule{}, err
	}
	for _, r := range f.rules {
		if r.ListenerARN == listenerARN && r.TargetGroupARN == tgARN {
			return r, nil
		}
	}
	return Rule{}, notfound.New("listener rule forwarding to", tgARN)
}

func (f *fakeCloud) ListenersOf(context.Context, []string) ([]string, error) { return nil, nil }

func (f *fakeCloud) RulePriorities(_ context.Context, listenerARN string) ([]int64, error) {
	if err := f.call("RulePriorities", listenerARN); err != nil {
		return nil, err
	}
	var out []int64
	for _, r := range f.rules {
		if r.ListenerARN == listenerARN {
			out = append(out, r.Priority)
		}
	}
	return out, nil
}

func (f *fakeCloud) CreateRule(_ context.Context, r Rule, _ map[string]string) (string, error) {
	if err := f.call("CreateRule", r.ListenerARN, " ", r.TargetGroupARN, " ", r.Priority); err != nil {
		return "", err
	}
	for _, o := range f.rules {
		if o.ListenerARN == r.ListenerARN && o.Priority == r.Priority {
			return "", &smithy.GenericAPIError{Code: "PriorityInUse", Message: "Priority '" + fmt.Sprint(r.Priority) + "' is currently in use"}
		}
	}
	r.ARN = f.id("arn:rule")
	f.rules[r.ARN] = r
	return r.ARN, nil
}

func (f *fakeCloud) ModifyRule(_ context.Context, r Rule, _ bool) error {
	if err := f.call("ModifyRule", r.ARN); err != nil {
		return err
	}
	if _, ok := f.rules[r.ARN]; !ok {
		return &smithy.GenericAPIError{Code: "RuleNotFound", Message: "One or more rules not found"}
	}
	f.rules[r.ARN] = r
	return nil
}

func (f *fakeCloud) DeleteRule(_ context.Context, arn string) error {
	if err := f.call("DeleteRule", arn); err != nil {
		return err
	}
	delete(f.rules, arn)
	return nil
}

func (f *fakeCloud) FindAlarm(_ context.Context, name string) (RecoveryAlarm, error) {
	if a, ok := f.alarms[name]; ok {
		return a, f.call("FindAlarm", name)
	}
	return RecoveryAlarm{}, notfound.New("alarm", name)
}

func (f *fakeCloud) AlarmTags(_ context.Context, name string) (string, map[string]string, error) {
	if _, ok := f.alarms[name]; !ok {
		return "", nil, notfound.New("alarm", name)
	}
	return "arn:alarm:" + name, f.tags[name], f.call("AlarmTags", name)
}

func (f *fakeCloud) PutAlarm(_ context.Context, a RecoveryAlarm, tags map[string]string) error {
	if err := f.call("PutAlarm", a.Name, " ", a.InstanceID); err != nil {
		return err
	}
	if _, ok := f.alarms[a.Name]; !ok {
		f.tags[a.Name] = maps.Clone(tags)
	}
	f.alarms[a.Name] = a
	return nil
}

func (f *fakeCloud) DeleteAlarm(_ context.Context, name string) error {
	if err := f.call("DeleteAlarm", name); err != nil {
		return err
	}
	delete(f.alarms, name)
	return nil
}

func (f *fakeCloud) FindCPUPolicy(_ context.Context, _, name string) (CPUPolicy, error) {
	if p, ok := f.policies[name]; ok {
		return p, nil
	}
	return CPUPolicy{}, notfound.New("scaling policy", name)
}

func (f *fakeCloud) ListPolicyNames(context.Context, string) ([]string, error) {
	return slices.Sorted(maps.Keys(f.policies)), f.call("ListPolicyNames")
}

func (f *fakeCloud) PutCPUPolicy(_ context.Context, _ string, p CPUPolicy) error {
	if err := f.call("PutCPUPolicy", p.Name); err != nil {
		return err
	}
	f.policies[p.Name] = p
	return nil
}

func (f *fakeCloud) DeletePolicy(_ context.Context, _, name string) error {
	if err := f.call("DeletePolicy", name); err != nil {
		return err
	}
	delete(f.policies, name)
	return nil
}

func (f *fakeCloud) FindSchedules(_ context.Context, _ string, names []string) (map[string]Schedule, error) {
	out := map[string]Schedule{}
	for _, n := range names {
		if s, ok := f.schedules[n]; ok {
			out[n] = s
		}
	}
	return out, nil
}

func (f *fakeCloud) ListSchedules(_ context.Context, _, prefix string) ([]Schedule, error) {
	if err := f.call("ListSchedules"); err != nil {
		return nil, err
	}
	var out []Schedule
	for _, s := range f.schedules {
		if strings.HasPrefix(s.Name, prefix) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Schedule) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (f *fakeCloud) PutSchedule(_ context.Context, _ string, s Schedule) error {
	if err := f.call("PutSchedule", s.Name); err != nil {
		return err
	}
	f.schedules[s.Name] = s
	return nil
}

func (f *fakeCloud) DeleteSchedule(_ context.Context, _, name string) error {
	if err := f.call("DeleteSchedule", name); err != nil {
		return err
	}
	delete(f.schedules, name)
	return nil
}

// fakeFleet is the group as a rollout drives it, on the fake cloud.
type fakeFleet struct {
	f    *fakeCloud
	spec FleetSpec
}

func (ff *fakeFleet) Instances(ctx context.Context) ([]rollout.Instance, error) {
	g, err := ff.f.FindGroup(ctx, ff.spec.Group)
	if err != nil {
		return nil, err
	}
	return ff.InstancesOf(ctx, g)
}

func (ff *fakeFleet) InstancesOf(_ context.Context, g Group) ([]rollout.Instance, error) {
	var out []rollout.Instance
	for _, i := range g.Instances {
		out = append(out, rollout.Instance{ID: i.ID, ImageID: ff.f.images[i.ID], TemplateVersion: ff.f.versionOf[i.ID], Lifecycle: i.LifecycleState})
	}
	return out, nil
}

func (ff *fakeFleet) SetTemplateVersion(_ context.Context, v string) error {
	hook := "none"
	if ff.spec.SyncHook != nil {
		hook = fmt.Sprintf("agent=%v", ff.spec.AgentVersions[v])
	}
	if err := ff.f.call("SetTemplateVersion", v, " hook:", hook); err != nil {
		return err
	}
	if ff.spec.SyncHook != nil {
		ff.f.syncHook = ff.spec.AgentVersions[v]
	}
	ff.f.group.LaunchTemplateVersion = v
	return nil
}

func (ff *fakeFleet) SetCapacity(ctx context.Context, desired, maxSize int) error {
	return ff.f.UpdateGroup(ctx, GroupUpdate{Name: ff.spec.Group, DesiredCapacity: aws.Int64(int64(desired)), MaxSize: aws.Int64(int64(maxSize))})
}

func (ff *fakeFleet) Health(ctx context.Context, _ []string) (poolhealth.Report, error) {
	return ff.f.Health(ctx, ff.spec.Targets)
}

func (ff *fakeFleet) Retire(ctx context.Context, ids []string) error {
	return ff.f.Retire(ctx, ff.spec.Group, ff.spec.Targets, ids, nil)
}
