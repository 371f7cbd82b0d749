package rollout

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
)

const (
	oldImage, newImage     = "ami-old", "ami-new"
	oldVersion, newVersion = "1", "2"
)

var (
	oldTarget = Target{ImageID: oldImage, TemplateVersion: oldVersion}
	newTarget = Target{ImageID: newImage, TemplateVersion: newVersion}
)

var fakeTargets = []poolhealth.Target{
	{Kind: poolhealth.KindTargetGroup, ID: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-web/1", Name: "tg-web"},
	{Kind: poolhealth.KindClassicELB, ID: "clb-web", Name: "clb-web"},
}

type member struct {
	Instance
	seq  int
	born int
}

// fakeFleet is an Auto Scaling group in memory. SetCapacity launches at once
// from the group's template version; an instance turns healthy delay health
// polls after its launch unless sick says it never will; every call is
// counted and recorded.
type fakeFleet struct {
	t        *testing.T
	images   map[string]string
	version  string
	desired  int
	maxSize  int
	floor    int
	members  []*member
	seq      int
	clock    int
	delay    int
	noLB     bool
	sick     func(m *member) bool
	calls    map[string]int
	trace    []string
	maxGroup int
	// interrupt, when set, is called after every call, with its name and
	// how many calls of that name there were.
	interrupt func(name string, n int)
}

func newFakeFleet(t *testing.T, desired, maxSize, floor int) *fakeFleet {
	f := &fakeFleet{
		t:       t,
		images:  map[string]string{oldVersion: oldImage, newVersion: newImage},
		version: oldVersion,
		maxSize: maxSize,
		floor:   floor,
		calls:   map[string]int{},
	}
	f.add(desired, oldVersion, -1000)
	return f
}

func (f *fakeFleet) add(n int, version string, born int) []string {
	var ids []string
	for range n {
		f.seq++
		m := &member{
			Instance: Instance{
				ID:              fmt.Sprintf("i-%04d", f.seq),
				ImageID:         f.images[version],
				TemplateVersion: version,
				Lifecycle:       LifecycleInService,
			},
			seq:  f.seq,
			born: born,
		}
		f.members = append(f.members, m)
		ids = append(ids, m.ID)
	}
	f.desired = len(f.members)
	f.maxGroup = max(f.maxGroup, len(f.members))
	return ids
}

func (f *fakeFleet) call(ctx context.Context, name string) error {
	f.calls[name]++
	f.trace = append(f.trace, name)
	return ctx.Err()
}

func (f *fakeFleet) after(name string) {
	if f.interrupt != nil {
		f.interrupt(name, f.calls[name])
	}
}

func (f *fakeFleet) healthy(m *member) bool {
	return (f.sick == nil || !f.sick(m)) && f.clock-m.born >= f.delay
}

func (f *fakeFleet) healthyCount() int {
	n := 0
	for _, m := range f.members {
		if f.healthy(m) {
			n++
		}
	}
	return n
}

func (f *fakeFleet) Instances(ctx context.Context) ([]Instance, error) {
	defer f.after("Instances")
	if err := f.call(ctx, "Instances"); err != nil {
		return nil, err
	}
	out := make([]Instance, len(f.members))
	for i, m := range f.members {
		out[i] = m.Instance
	}
	return out, nil
}

func (f *fakeFleet) SetTemplateVersion(ctx context.Context, version string) error {
	defer f.after("SetTemplateVersion")
	if err := f.call(ctx, "SetTemplateVersion"); err != nil {
		return err
	}
	if _, ok := f.images[version]; !ok {
		return fmt.Errorf("launch template version %s does not exist", version)
	}
	f.version = version
	return nil
}

func (f *fakeFleet) SetCapacity(ctx context.Context, desired, maxSize int) error {
	defer f.after("SetCapacity")
	if err := f.call(ctx, "SetCapacity"); err != nil {
		return err
	}
	if desired > maxSize || maxSize != f.maxSize {
		f.t.Errorf("SetCapacity(%d, %d) with max_size %d", desired, maxSize, f.maxSize)
	}
	if desired < len(f.members) {
		f.t.Errorf("SetCapacity(%d) below the %d members: the group would pick whom to terminate", desired, len(f.members))
	}
	f.add(desired-len(f.members), f.version, f.clock)
	return nil
}

func (f *fakeFleet) Health(ctx context.Context, ids []string) (poolhealth.Report, error) {
	defer f.after("Health")
	if err := f.call(ctx, "Health"); err != nil {
		return poolhealth.Report{}, err
	}
	f.clock++
	if f.noLB {
		return poolhealth.Report{}, nil
	}
	tg := poolhealth.TargetHealth{Target: fakeTargets[0], Instances: map[string]poolhealth.State{}}
	clb := poolhealth.TargetHealth{Target: fakeTargets[1], Instances: map[string]poolhealth.State{}}
	for _, m := range f.members {
		if !slices.Contains(ids, m.ID) {
			continue
		}
		switch {
		case f.healthy(m):
			tg.Instances[m.ID] = poolhealth.State{State: "healthy", Healthy: true, Active: true}
			clb.Instances[m.ID] = poolhealth.State{State: "InService", Healthy: true, Active: true}
		case f.sick != nil && f.sick(m):
			tg.Instances[m.ID] = poolhealth.State{State: "unhealthy", Reason: "Target.FailedHealthChecks", Active: true}
		default:
			tg.Instances[m.ID] = poolhealth.State{State: "initial", Reason: "Elb.RegistrationInProgress", Active: true}
			clb.Instances[m.ID] = poolhealth.State{State: "OutOfService", Reason: "ELB", Active: true}
		}
	}
	return poolhealth.Report{Targets: []poolhealth.TargetHealth{tg, clb}}, nil
}

func (f *fakeFleet) Retire(ctx context.Context, ids []string) error {
	defer f.after("Retire")
	if err := f.call(ctx, "Retire"); err != nil {
		return err
	}
	before := f.healthyCount()
	for _, id := range ids {
		i := slices.IndexFunc(f.members, func(m *member) bool { return m.ID == id })
		if i < 0 {
			return fmt.Errorf("instance %s is not in the group", id)
		}
		f.members = slices.Delete(f.members, i, i+1)
		f.desired--
	}
	if after := f.healthyCount(); after < f.floor && after < before {
		f.t.Errorf("retiring %v took healthy capacity from %d to %d, below the floor %d", ids, before, after, f.floor)
	}
	return nil
}

func (f *fakeFleet) instances() []Instance {
	out := make([]Instance, len(f.members))
	for i, m := range f.members {
		out[i] = m.Instance
	}
	return out
}

func (f *fakeFleet) ids() []string {
	var ids []string
	for _, m := range f.members {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	return ids
}

func (f *fakeFleet) count(t Target) (matching, other int) {
	for _, m := range f.members {
		if t.Matches(m.Instance) {
			matching++
		} else {
			other++
		}
	}
	return matching, other
}

func (f *fakeFleet) total() int {
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}
