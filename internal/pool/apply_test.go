package pool

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

const (
	testTG       = "arn:tg/web"
	testListener = "arn:listener/web"
)

func testDesired() Desired {
	cpu := 50.0
	return Desired{
		Name:     "web",
		Template: TemplateInput{ImageID: "ami-1", InstanceType: "t3.micro", UserData: "#!/bin/sh\necho hi\n"},
		MinSize:  1, MaxSize: 4, DesiredCapacity: 2,
		SubnetIDs:       []string{"subnet-1"},
		TargetGroupARNs: []string{testTG},
		Master: &MasterSettings{
			InstanceID: "i-0aaaa00000000000f", AttachToLoadBalancers: true, WritePaths: []string{"/admin/*"},
			ListenerARN: testListener, RulePriority: 10, EnvFile: "/etc/clone/master.env", RecoveryAlarm: true,
		},
		SyncPolicyID:   "web-sync",
		SyncAgent:      &userdata.Part{Filename: userdata.SyncAgentFilename, ContentType: userdata.ContentTypeCloudConfig, Content: "#cloud-config\n"},
		Scaling:        &ScalingSettings{TargetCPUPercent: &cpu, Schedules: []Schedule{{Name: "web-schedule-night", Recurrence: "0 22 * * *", MinSize: -1, MaxSize: -1, Desired: 1}}},
		Rolling:        RollingSettings{BatchSize: 1, MinHealthyPercent: 100, HealthTimeout: time.Minute, Rollback: true, PollInterval: time.Millisecond},
		Tags:           map[string]string{"team": "web"},
		WaitForHealthy: true,
		RefreshFleet:   true,
	}
}

// index is the position of the first call starting with op, failing the
// test when there is none.
func index(t *testing.T, calls []string, op string) int {
	t.Helper()
	i := slices.IndexFunc(calls, func(c string) bool { return strings.HasPrefix(c, op) })
	if i < 0 {
		t.Fatalf("no %q call in:\n%s", op, strings.Join(calls, "\n"))
	}
	return i
}

// inOrder fails unless the first call of each op comes after the one of the
// op before it.
func inOrder(t *testing.T, calls []string, ops ...string) {
	t.Helper()
	last := -1
	for _, op := range ops {
		i := index(t, calls, op)
		if i < last {
			t.Fatalf("%q came before %q; calls:\n%s", op, ops[slices.Index(ops, op)-1], strings.Join(calls, "\n"))
		}
		last = i
	}
}

func mutating(calls []string) []string {
	var out []string
	for _, c := range calls {
		if !strings.HasPrefix(c, "Find") && !strings.HasPrefix(c, "List") && !strings.HasPrefix(c, "Health") &&
			!strings.HasPrefix(c, "RootDevice") && !strings.HasPrefix(c, "InstanceImages") && !strings.HasPrefix(c, "WaitHealthy") &&
			!strings.HasPrefix(c, "OutdatedIDs") && !strings.HasPrefix(c, "TargetGroupTags") && !strings.HasPrefix(c, "AlarmTags") {
			out = append(out, c)
		}
	}
	return out
}

func apply(t *testing.T, f *fakeCloud, d Desired, prior *Prior) Observed {
	t.Helper()
	obs, err := Apply(context.Background(), f, d, prior, func(s string) { t.Log(s) })
	if err != nil {
		t.Fatalf("Apply: %v\ncalls:\n%s", err, strings.Join(f.calls, "\n"))
	}
	return obs
}

// TestApplyCreateOrder holds the order of a create: the template before the
// group that launches it; the first-sync hook in the group's creation call,
// so it holds the very first clones; scaling once the group exists; the
// master's target group before the rule forwarding to it; the wait last.
func TestApplyCreateOrder(t *testing.T) {
	f := newFakeCloud()
	obs := apply(t, f, testDesired(), nil)
	inOrder(t, f.calls, "FindMaster", "CreateTemplate", "CreateGroup web hook=true", "PutCPUPolicy", "PutSchedule",
		"Register [arn:tg/web]", "CreateMasterTargetGroup", "Register [arn:tg/web-master", "CreateRule", "PutAlarm", "WaitHealthy")
	if last := f.calls[len(f.calls)-1]; !strings.HasPrefix(last, "WaitHealthy") {
		t.Errorf("last call %q, want the wait for healthy clones", last)
	}
	if !obs.GroupExists || obs.LaunchTemplateVersion != 1 || obs.WriteRuleARN == "" || obs.MasterTargetGroupARN == "" || len(obs.InstanceIDs) != 2 {
		t.Errorf("observed %+v", obs)
	}
	if want := []Registration{{Kind: "target_group", Target: testTG, InstanceID: "i-0aaaa00000000000f"}}; !slices.Equal(obs.Registrations, want) {
		t.Errorf("registrations %+v, want %+v", obs.Registrations, want)
	}
}

// TestApplyIdempotent re-runs an apply on its own result: nothing is
// created, deleted or registered again.
func TestApplyIdempotent(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	obs := apply(t, f, d, nil)
	f.calls = nil
	d.RefreshFleet = false
	again := apply(t, f, d, &Prior{Desired: d, Observed: obs})
	for _, c := range mutating(f.calls) {
		// The sizes are set, and the master registered in its own target
		// group, on every apply: both are idempotent on AWS.
		if !strings.HasPrefix(c, "UpdateGroup") && !strings.HasPrefix(c, "Register [arn:tg/web-master]") {
			t.Errorf("re-run made %q; calls:\n%s", c, strings.Join(f.calls, "\n"))
		}
	}
	if again.WriteRuleARN != obs.WriteRuleARN || again.MasterTargetGroupARN != obs.MasterTargetGroupARN || !slices.Equal(again.Registrations, obs.Registrations) {
		t.Errorf("re-run observed %+v, first run %+v", again, obs)
	}
}

// TestApplyPartialFailure fails the write rule's creation: the result still
// says the group exists and where the master was registered, so state can
// be saved and destroyed; the next apply creates only what is missing.
func TestApplyPartialFailure(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	f.fail["CreateRule"] = errors.New("TooManyRules")
	obs, err := Apply(context.Background(), f, d, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "TooManyRules") {
		t.Fatalf("Apply = %v, want AWS's reason", err)
	}
	if !obs.GroupExists || len(obs.Registrations) != 1 || obs.MasterTargetGroupARN == "" {
		t.Fatalf("partial result %+v lacks what was made", obs)
	}
	f.calls = nil
	obs = apply(t, f, d, &Prior{Desired: d, Observed: obs})
	for _, c := range mutating(f.calls) {
		if strings.HasPrefix(c, "Create") && !strings.HasPrefix(c, "CreateRule") {
			t.Errorf("the next apply made %q again", c)
		}
	}
	index(t, f.calls, "CreateRule")
	if obs.WriteRuleARN == "" {
		t.Error("the next apply did not record the rule")
	}
}

// TestApplyRolloutTellsTheFleetWhichVersionsRunTheAgent: a new launch template version of a pool with a sync
// policy is launched through the fleet, which is told the version runs the
// agent (so it puts the hook first); the group's sizes are set after.
func TestApplyRolloutTellsTheFleetWhichVersionsRunTheAgent(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	obs := apply(t, f, d, nil)
	prior := &Prior{Desired: d, Observed: obs}
	d.Template.ImageID, d.NewVersion = "ami-2", true
	f.calls = nil
	obs = apply(t, f, d, prior)
	if f.fleetSpec == nil || f.fleetSpec.SyncHook == nil || !f.fleetSpec.AgentVersions["2"] {
		t.Fatalf("fleet spec %+v: the hook and the agent of version 2 are not given", f.fleetSpec)
	}
	inOrder(t, f.calls, "CreateTemplateVersion", "SetTemplateVersion 2 hook:agent=true", "Retire", "UpdateGroup min=1 max=4 desired=2")
	for _, id := range obs.InstanceIDs {
		if f.images[id] != "ami-2" {
			t.Errorf("clone %s runs %s after the rollout", id, f.images[id])
		}
	}
	// Dropping the sync policy: the version runs no agent, and the fleet
	// is told so, to delete the hook before the group launches it.
	prior = &Prior{Desired: d, Observed: obs}
	d.SyncPolicyID, d.SyncAgent, d.Template.ImageID = "", nil, "ami-3"
	apply(t, f, d, prior)
	if f.fleetSpec.SyncHook == nil || f.fleetSpec.AgentVersions["3"] {
		t.Fatalf("fleet spec %+v after dropping the sync policy", f.fleetSpec)
	}
}

// TestApplyScaleInRetiresOutdatedFirst: scale-in retires clones on another image
// first, after raising max size so the group terminates none on its own,
// and sets the new sizes after.
func TestApplyScaleInRetiresOutdatedFirst(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	d.DesiredCapacity = 4
	obs := apply(t, f, d, nil)
	ids := f.group.ServingIDs()
	f.images[ids[1]], f.images[ids[3]] = "ami-old", "ami-old"
	prior := &Prior{Desired: d, Observed: obs}
	d.DesiredCapacity = 2
	f.calls = nil
	apply(t, f, d, prior)
	inOrder(t, f.calls, "UpdateGroup min=1 max=4", "Retire", "UpdateGroup min=1 max=4 desired=2")
	retire := f.calls[index(t, f.calls, "Retire")]
	if !strings.Contains(retire, ids[1]) || !strings.Contains(retire, ids[3]) {
		t.Errorf("%s, want the clones on the old image, %s and %s", retire, ids[1], ids[3])
	}
}

// TestApplyAttachesBeforeDetachingThenDrains: new load balancers are attached before old ones are
// detached, and the clones drain from the detached ones before the apply
// goes on.
func TestApplyAttachesBeforeDetachingThenDrains(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	d.Master = nil
	obs := apply(t, f, d, nil)
	prior := &Prior{Desired: d, Observed: obs}
	d.TargetGroupARNs, d.ClassicELBNames = []string{"arn:tg/web2"}, []string{"clb"}
	f.calls = nil
	apply(t, f, d, prior)
	inOrder(t, f.calls, "AttachTargets [arn:tg/web2 clb]", "DetachTargets [arn:tg/web]", "Drain [arn:tg/web]", "UpdateGroup min=1")
}

// TestApplyWriteRuleMovesWithItsListener: a rule on another listener is deleted
// before the new one is created; a changed path list modifies the rule in
// place.
func TestApplyWriteRuleMovesWithItsListener(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	obs := apply(t, f, d, nil)
	old := obs.WriteRuleARN

	prior := &Prior{Desired: d, Observed: obs}
	d.Master = ptr(*d.Master)
	d.Master.WritePaths = []string{"/admin/*", "/upload/*"}
	f.calls = nil
	obs = apply(t, f, d, prior)
	index(t, f.calls, "ModifyRule")
	if obs.WriteRuleARN != old {
		t.Fatalf("paths change: rule %s -> %s", old, obs.WriteRuleARN)
	}

	prior = &Prior{Desired: d, Observed: obs}
	d.Master = ptr(*d.Master)
	d.Master.ListenerARN = "arn:listener/other"
	f.calls = nil
	obs = apply(t, f, d, prior)
	inOrder(t, f.calls, "DeleteRule "+old, "CreateRule arn:listener/other")
	if obs.WriteRuleARN == old {
		t.Error("the rule on the old listener is still recorded")
	}
}

// TestApplyAlarmIsPutAgainWhenTagsChange: the alarm is deleted, then put again, when
// tags change (CloudWatch does not retag on PutMetricAlarm); dropped when
// recovery_alarm is turned off.
func TestApplyAlarmIsPutAgainWhenTagsChange(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	obs := apply(t, f, d, nil)
	prior := &Prior{Desired: d, Observed: obs}
	d.Tags = map[string]string{"team": "platform"}
	f.calls = nil
	obs = apply(t, f, d, prior)
	inOrder(t, f.calls, "DeleteAlarm", "PutAlarm")
	// The group's sizes, then its tags, then the template's tags.
	inOrder(t, f.calls, "UpdateGroup min=1", "UpdateGroupTags", "RetagTemplate")
	index(t, f.calls, "RetagELBV2")

	prior = &Prior{Desired: d, Observed: obs}
	d.Master = ptr(*d.Master)
	d.Master.RecoveryAlarm = false
	f.calls = nil
	apply(t, f, d, prior)
	if len(f.alarms) != 0 || slices.ContainsFunc(f.calls, func(c string) bool { return strings.HasPrefix(c, "PutAlarm") }) {
		t.Errorf("alarm kept: %v; calls %v", f.alarms, f.calls)
	}
}

// TestDestroyOrder holds destroy's order, the reverse of create: the
// master out of where the pool put it, the rule before its target group,
// the alarm, scaling, the clones drained before the group is force-deleted,
// the template last. A second Destroy, with everything gone, succeeds.
func TestDestroyOrder(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	obs := apply(t, f, d, nil)
	f.calls = nil
	prior := Prior{Desired: d, Observed: obs}
	if err := Destroy(context.Background(), f, prior, func(s string) { t.Log(s) }); err != nil {
		t.Fatal(err)
	}
	inOrder(t, f.calls, "Deregister [arn:tg/web]", "DeleteRule", "DeleteTargetGroup", "DeleteAlarm", "DeletePolicy",
		"DeleteSchedule", "Drain [arn:tg/web]", "DeleteGroup", "DeleteTemplate")
	if f.group != nil || len(f.rules)+len(f.tgs)+len(f.alarms)+len(f.policies)+len(f.schedules) != 0 || len(f.templates) != 0 {
		t.Errorf("left behind: group %v rules %v tgs %v alarms %v policies %v schedules %v templates %v",
			f.group, f.rules, f.tgs, f.alarms, f.policies, f.schedules, f.templates)
	}
	if err := Destroy(context.Background(), f, Prior{Desired: d}, nil); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestReadFindsWhatIsLeft reads what Apply made, then what is left once the group is gone
// (the template state recorded), then nothing.
func TestReadFindsWhatIsLeft(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	obs := apply(t, f, d, nil)
	ctx := context.Background()
	s, err := Read(ctx, f, "web", "", "")
	if err != nil || s.Group == nil || s.Template == nil || len(s.InstanceIDs) != 2 || s.Healthy != 2 {
		t.Fatalf("Read = %+v, %v", s, err)
	}
	if s.UserData.User != d.Template.UserData {
		t.Errorf("user part read back as %q", s.UserData.User)
	}
	f.group = nil
	s, err = Read(ctx, f, "web", obs.LaunchTemplateID, "1")
	if err != nil || s.Group != nil || s.Template == nil || s.Gone() {
		t.Fatalf("group gone: Read = %+v, %v", s, err)
	}
	f.versions = map[string][]TemplateSpec{}
	if s, err = Read(ctx, f, "web", obs.LaunchTemplateID, "1"); err != nil || !s.Gone() {
		t.Fatalf("all gone: Read = %+v, %v", s, err)
	}
}

// TestFirstSyncHookDeletedOutOfBand: Read finds a pool whose clones run the
// agent without its first-sync hook, and the next update puts the hook back
// before it changes the group's sizes, so no clone launches without it.
func TestFirstSyncHookDeletedOutOfBand(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	obs := apply(t, f, d, nil)
	ctx := context.Background()
	if s, err := Read(ctx, f, "web", "", ""); err != nil || s.SyncHookMissing {
		t.Fatalf("the hook Apply made: Read = SyncHookMissing %v, %v", s.SyncHookMissing, err)
	}
	f.syncHook = false
	s, err := Read(ctx, f, "web", "", "")
	if err != nil || !s.SyncHookMissing {
		t.Fatalf("the hook deleted: Read = SyncHookMissing %v, %v", s.SyncHookMissing, err)
	}
	f.calls = nil
	d.DesiredCapacity = 3
	apply(t, f, d, &Prior{Desired: d, Observed: obs, SyncHookMissing: s.SyncHookMissing})
	inOrder(t, f.calls, "PutLifecycleHook web-first-sync", "UpdateGroup")
	if !f.syncHook {
		t.Error("the hook is still missing after the update")
	}
	// A pool without the agent has no hook to miss, and Read asks nothing.
	d.SyncPolicyID, d.SyncAgent = "", nil
	f2 := newFakeCloud()
	apply(t, f2, d, nil)
	f2.calls = nil
	if s, err := Read(ctx, f2, "web", "", ""); err != nil || s.SyncHookMissing || slices.ContainsFunc(f2.calls, func(c string) bool { return strings.HasPrefix(c, "HasLifecycleHook") }) {
		t.Fatalf("no agent: Read = SyncHookMissing %v, %v, calls %v", s.SyncHookMissing, err, f2.calls)
	}
}
