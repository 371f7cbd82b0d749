package rollout

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampler checks every healthy count Run reports against the floor: it may
// only be lower when the pool started lower.
type sampler struct {
	t       *testing.T
	floor   int
	samples []int
}

func (s *sampler) sample(healthy, desired int) {
	s.samples = append(s.samples, healthy)
	if healthy < min(s.floor, s.samples[0]) {
		s.t.Errorf("healthy capacity %d of %d desired is below the floor %d (sample %d)", healthy, desired, s.floor, len(s.samples))
	}
}

func (s *sampler) min() int {
	if len(s.samples) == 0 {
		return -1
	}
	return minOf(s.samples)
}

func minOf(xs []int) int {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func options(batch, percent int, s *sampler, progress *[]string) Options {
	return Options{
		BatchSize:         batch,
		MinHealthyPercent: percent,
		HealthTimeout:     2 * time.Second,
		Rollback:          true,
		PollInterval:      time.Millisecond,
		Progress:          func(msg string) { *progress = append(*progress, msg) },
		Sample:            s.sample,
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name                  string
		desired, max          int
		batch, percent, delay int
		noLB                  bool
		// setup changes the fleet before the run: a mixed pool left by an
		// interrupted rollout, a sick old instance, ...
		setup       func(f *fakeFleet)
		wantBatches int
		wantMin     int
	}{
		{name: "batch 1, surge first", desired: 3, max: 4, batch: 1, percent: 100, wantBatches: 3, wantMin: 3},
		{name: "batch 2, last batch smaller", desired: 3, max: 5, batch: 2, percent: 100, wantBatches: 2, wantMin: 3},
		{name: "batch 5 covers the pool", desired: 3, max: 8, batch: 5, percent: 100, wantBatches: 1, wantMin: 3},
		{name: "batch 5 capped by max_size", desired: 3, max: 4, batch: 5, percent: 100, wantBatches: 3, wantMin: 3},
		{name: "50% with surge room still surges", desired: 4, max: 6, batch: 2, percent: 50, wantBatches: 2, wantMin: 4},
		{name: "50% without surge room retires first", desired: 4, max: 4, batch: 2, percent: 50, wantBatches: 3, wantMin: 2},
		{name: "0% without surge room replaces at once", desired: 3, max: 3, batch: 5, percent: 0, wantBatches: 2, wantMin: 0},
		{name: "0% with one spare retires below desired to fit a full batch", desired: 3, max: 4, batch: 2, percent: 0, wantBatches: 2, wantMin: 2},
		{name: "desired 0", desired: 0, max: 0, batch: 1, percent: 100, wantBatches: 0, wantMin: 0},
		{name: "health takes 3 polls", desired: 4, max: 6, batch: 2, percent: 100, delay: 3, wantBatches: 2, wantMin: 4},
		{name: "no load balancer", desired: 2, max: 3, batch: 1, percent: 100, noLB: true, wantBatches: 2, wantMin: 2},
		{name: "already rolled", desired: 3, max: 4, batch: 1, percent: 100, setup: func(f *fakeFleet) {
			f.members = nil
			f.add(3, newVersion, -1000)
		}, wantBatches: 0, wantMin: 3},
		{name: "interrupted after two batches", desired: 4, max: 5, batch: 1, percent: 100, setup: func(f *fakeFleet) {
			f.members = f.members[2:]
			f.add(2, newVersion, -1000)
		}, wantBatches: 2, wantMin: 4},
		{name: "interrupted after a surge", desired: 4, max: 6, batch: 2, percent: 100, setup: func(f *fakeFleet) {
			f.add(2, newVersion, -1000)
		}, wantBatches: 1, wantMin: 4},
		{name: "interrupted while new clones come up", desired: 4, max: 6, batch: 2, percent: 100, delay: 2, setup: func(f *fakeFleet) {
			f.add(2, newVersion, 0)
		}, wantMin: 4},
		{name: "interrupted with a retire-first pool below desired", desired: 4, max: 4, batch: 2, percent: 50, setup: func(f *fakeFleet) {
			f.members = f.members[2:]
			f.desired = 2
		}, wantMin: 2},
		{name: "unhealthy old clone retired first", desired: 3, max: 4, batch: 1, percent: 100, setup: func(f *fakeFleet) {
			sick := f.members[2].ID
			f.sick = func(m *member) bool { return m.ID == sick }
		}, wantBatches: 3, wantMin: 2},
		{name: "desired grows during the rollout", desired: 5, max: 6, batch: 2, percent: 100, setup: func(f *fakeFleet) {
			f.members = f.members[:3]
			f.desired = 3
		}, wantMin: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			floor := Floor(Params{Desired: tt.desired, MinHealthyPercent: tt.percent})
			f := newFakeFleet(t, tt.desired, tt.max, floor)
			f.delay, f.noLB = tt.delay, tt.noLB
			if tt.setup != nil {
				tt.setup(f)
			}
			s := &sampler{t: t, floor: floor}
			var progress []string
			res, err := Run(context.Background(), f, oldTarget, newTarget, tt.desired, tt.max, options(tt.batch, tt.percent, s, &progress))
			if err != nil {
				t.Fatalf("Run: %v\nprogress:\n%s", err, strings.Join(progress, "\n"))
			}
			checkRolled(t, f, res, newTarget, tt.desired)
			if tt.wantBatches != 0 || tt.setup == nil {
				if res.Batches != tt.wantBatches {
					t.Errorf("batches = %d, want %d\nprogress:\n%s", res.Batches, tt.wantBatches, strings.Join(progress, "\n"))
				}
			}
			if got := s.min(); got != tt.wantMin {
				t.Errorf("lowest healthy capacity seen = %d, want %d", got, tt.wantMin)
			}
			if f.maxGroup > tt.max {
				t.Errorf("group grew to %d, above max_size %d", f.maxGroup, tt.max)
			}
			polls := max(1, tt.delay)
			if bound := 5 + (res.Batches+1)*(2+2*polls); f.total() > bound {
				t.Errorf("%d Fleet calls %v for %d batches, want at most %d", f.total(), f.calls, res.Batches, bound)
			}
		})
	}
}

func checkRolled(t *testing.T, f *fakeFleet, res Result, to Target, desired int) {
	t.Helper()
	onTarget, other := f.count(to)
	if onTarget != desired || other != 0 {
		t.Errorf("pool has %d clones on %s and %d others, want %d and 0", onTarget, to, other, desired)
	}
	if f.desired != desired {
		t.Errorf("group desired capacity = %d, want %d", f.desired, desired)
	}
	if f.version != to.TemplateVersion {
		t.Errorf("group launches template version %s, want %s", f.version, to.TemplateVersion)
	}
	if n := f.healthyCount(); n != desired {
		t.Errorf("%d healthy clones, want %d", n, desired)
	}
	if ids := f.ids(); !reflect.DeepEqual(res.InstanceIDs, ids) && (len(ids) != 0 || len(res.InstanceIDs) != 0) {
		t.Errorf("Result.InstanceIDs = %v, group has %v", res.InstanceIDs, ids)
	}
	if NeedsRollout(f.instances(), to) {
		t.Errorf("NeedsRollout after a complete rollout")
	}
}

func TestRunHealthFailure(t *testing.T) {
	sickNew := func(after int) func(m *member) bool {
		return func(m *member) bool { return m.ImageID == newImage && m.seq > after }
	}
	tests := []struct {
		name                string
		desired, max, batch int
		rollback            bool
		sick                func(m *member) bool
		wantFailed          []string
		wantRetired         []string
		wantOld, wantNew    int
		wantMsg             []string
	}{
		{
			name: "first batch fails, rollback", desired: 3, max: 4, batch: 1, rollback: true, sick: sickNew(0),
			wantFailed: []string{"i-0004"}, wantRetired: []string{"i-0004"}, wantOld: 3,
			wantMsg: []string{"batch 1/3: 1 new clone not healthy in every load balancer after 30ms: i-0004 (tg-web: unhealthy (Target.FailedHealthChecks); clb-web: not registered)",
				"rolled back: the group launches image ami-old (launch template version 1) again, 1 new clone retired, 3 old clones healthy"},
		},
		{
			name: "second batch fails, healthy first batch rolled back too", desired: 5, max: 7, batch: 2, rollback: true, sick: sickNew(7),
			wantFailed: []string{"i-0008", "i-0009"}, wantRetired: []string{"i-0008", "i-0009", "i-0006", "i-0007"}, wantOld: 5,
			wantMsg: []string{"batch 2/3: 2 new clones not healthy", "i-0008 (tg-web: unhealthy", "i-0009 (tg-web", "rolled back", "4 new clones retired, 5 old clones healthy"},
		},
		{
			name: "first batch fails, rollback off", desired: 3, max: 4, batch: 1, sick: sickNew(0),
			wantFailed: []string{"i-0004"}, wantOld: 3, wantNew: 1,
			wantMsg: []string{"batch 1/3: 1 new clone not healthy", "i-0004 (tg-web: unhealthy (Target.FailedHealthChecks); clb-web: not registered)",
				"rollback_on_failure is off, so the pool is left mixed: 3 old and 1 new clone on image ami-new (launch template version 2)"},
		},
		{
			name: "second batch fails, rollback off", desired: 4, max: 5, batch: 1, sick: sickNew(5),
			wantFailed: []string{"i-0006"}, wantOld: 3, wantNew: 2,
			wantMsg: []string{"batch 2/4", "left mixed: 3 old and 2 new clones"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			floor := Floor(Params{Desired: tt.desired, MinHealthyPercent: 100})
			f := newFakeFleet(t, tt.desired, tt.max, floor)
			f.sick = tt.sick
			s := &sampler{t: t, floor: floor}
			var progress []string
			o := options(tt.batch, 100, s, &progress)
			o.HealthTimeout, o.Rollback = 30*time.Millisecond, tt.rollback
			start := time.Now()
			res, err := Run(context.Background(), f, oldTarget, newTarget, tt.desired, tt.max, o)
			t.Logf("failed in %s with %d Fleet calls %v", time.Since(start).Round(time.Millisecond), f.total(), f.calls)
			if err == nil {
				t.Fatalf("Run succeeded, want a health failure")
			}
			for _, want := range tt.wantMsg {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not say %q", err, want)
				}
			}
			var failure BatchFailure
			if tt.rollback {
				var re *RollbackError
				if !errors.As(err, &re) {
					t.Fatalf("error %T %v, want *RollbackError", err, err)
				}
				if re.Err != nil {
					t.Fatalf("rollback did not complete: %v", re.Err)
				}
				if !reflect.DeepEqual(re.Retired, tt.wantRetired) {
					t.Errorf("rollback retired %v, want %v", re.Retired, tt.wantRetired)
				}
				failure = re.BatchFailure
				checkRolled(t, f, res, oldTarget, tt.desired)
			} else {
				var he *HealthTimeoutError
				if !errors.As(err, &he) {
					t.Fatalf("error %T %v, want *HealthTimeoutError", err, err)
				}
				if he.Old != tt.wantOld || he.New != tt.wantNew {
					t.Errorf("error counts %d old and %d new, want %d and %d", he.Old, he.New, tt.wantOld, tt.wantNew)
				}
				failure = he.BatchFailure
				if f.version != newVersion {
					t.Errorf("group launches version %s, want %s left in place", f.version, newVersion)
				}
				if !NeedsRollout(f.instances(), newTarget) {
					t.Errorf("NeedsRollout = false for a mixed pool")
				}
			}
			if got := failure.FailedIDs(); !reflect.DeepEqual(got, tt.wantFailed) {
				t.Errorf("failed instances %v, want %v", got, tt.wantFailed)
			}
			gotNew, gotOld := f.count(newTarget)
			if gotOld != tt.wantOld || gotNew != tt.wantNew {
				t.Errorf("pool has %d old and %d new clones, want %d and %d", gotOld, gotNew, tt.wantOld, tt.wantNew)
			}
		})
	}
}

func TestRunRollbackFails(t *testing.T) {
	const desired, maxSize, batch = 5, 7, 2
	f := newFakeFleet(t, desired, maxSize, desired)
	f.sick = func(m *member) bool { return m.seq > 7 }
	s := &sampler{t: t, floor: desired}
	var progress []string
	o := options(batch, 100, s, &progress)
	o.HealthTimeout = 20 * time.Millisecond
	_, err := Run(context.Background(), f, oldTarget, newTarget, desired, maxSize, o)
	var re *RollbackError
	if !errors.As(err, &re) || re.Err == nil {
		t.Fatalf("Run: %v, want a *RollbackError whose rollback did not complete", err)
	}
	for _, want := range []string{
		"batch 2/3: 2 new clones not healthy in every load balancer after 20ms: i-0008 (tg-web: unhealthy (Target.FailedHealthChecks); clb-web: not registered), i-0009",
		"rolling back to image ami-old (launch template version 1) did not complete, the pool may be mixed: rollback batch 1/1: 2 replacement clones not healthy",
		"i-0010 (tg-web: unhealthy",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\ndoes not say %q", err, want)
		}
	}
	if f.version != oldVersion {
		t.Errorf("group launches version %s, want %s", f.version, oldVersion)
	}
	if !NeedsRollout(f.instances(), newTarget) {
		t.Errorf("NeedsRollout = false for a mixed pool")
	}
}

// TestRunInterrupted kills a rollout at different moments, then runs the
// next apply: forward, it finishes the rollout; back, it undoes it.
func TestRunInterrupted(t *testing.T) {
	const desired, maxSize, batch = 4, 5, 1
	points := []struct {
		call string
		n    int
	}{
		{"SetCapacity", 1}, {"SetCapacity", 2}, {"Health", 3}, {"Retire", 2}, {"Instances", 6},
	}
	for _, p := range points {
		for _, undo := range []bool{false, true} {
			name := fmt.Sprintf("after %s %d", p.call, p.n)
			if undo {
				name += ", then reverted"
			}
			t.Run(name, func(t *testing.T) {
				floor := Floor(Params{Desired: desired, MinHealthyPercent: 100})
				f := newFakeFleet(t, desired, maxSize, floor)
				f.delay = 2
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				f.interrupt = func(name string, n int) {
					if name == p.call && n == p.n {
						cancel()
					}
				}
				s := &sampler{t: t, floor: floor}
				var progress []string
				_, err := Run(ctx, f, oldTarget, newTarget, desired, maxSize, options(batch, 100, s, &progress))
				if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
					t.Fatalf("interrupted Run: %v, want a context.Canceled error saying interrupted", err)
				}
				if !NeedsRollout(f.instances(), newTarget) {
					t.Fatalf("NeedsRollout = false after an interrupted rollout: %+v", f.instances())
				}
				f.interrupt = nil
				from, to := oldTarget, newTarget
				if undo {
					from, to = newTarget, oldTarget
				}
				res, err := Run(context.Background(), f, from, to, desired, maxSize, options(batch, 100, s, &progress))
				if err != nil {
					t.Fatalf("next apply: %v\nprogress:\n%s", err, strings.Join(progress, "\n"))
				}
				checkRolled(t, f, res, to, desired)
				if f.maxGroup > maxSize {
					t.Errorf("group grew to %d, above max_size %d", f.maxGroup, maxSize)
				}
			})
		}
	}
}

// TestRunCallsPerBatch measures the Fleet calls of each batch: from its
// SetCapacity to its Retire.
func TestRunCallsPerBatch(t *testing.T) {
	for _, delay := range []int{1, 3} {
		t.Run(fmt.Sprintf("healthy after %d polls", delay), func(t *testing.T) {
			const desired, maxSize, batch = 6, 8, 2
			f := newFakeFleet(t, desired, maxSize, desired)
			f.delay = delay
			s := &sampler{t: t, floor: desired}
			var progress []string
			res, err := Run(context.Background(), f, oldTarget, newTarget, desired, maxSize, options(batch, 100, s, &progress))
			if err != nil {
				t.Fatal(err)
			}
			var perBatch []map[string]int
			overhead := map[string]int{}
			var cur map[string]int
			for _, call := range f.trace {
				switch {
				case call == "SetCapacity":
					cur = map[string]int{}
					perBatch = append(perBatch, cur)
					cur[call]++
				case cur != nil:
					cur[call]++
					if call == "Retire" {
						cur = nil
					}
				default:
					overhead[call]++
				}
			}
			if len(perBatch) != res.Batches || res.Batches != 3 {
				t.Fatalf("%d batches in the trace, %d in the result, want 3", len(perBatch), res.Batches)
			}
			want := map[string]int{"SetCapacity": 1, "Instances": delay, "Health": delay, "Retire": 1}
			for i, got := range perBatch {
				if !reflect.DeepEqual(got, want) {
					t.Errorf("batch %d made calls %v, want %v", i+1, got, want)
				}
			}
			wantOverhead := map[string]int{"SetTemplateVersion": 1, "Instances": 2, "Health": 2}
			if !reflect.DeepEqual(overhead, wantOverhead) {
				t.Errorf("calls outside batches %v, want %v", overhead, wantOverhead)
			}
			t.Logf("measured: desired %d, batch_size %d, health after %d poll(s): per batch %v = %d Fleet calls (2 + 2 per poll); per run %v = %d",
				desired, batch, delay, perBatch[0], 2+2*delay, overhead, 5)
		})
	}
}

func TestRunProgress(t *testing.T) {
	f := newFakeFleet(t, 3, 4, 3)
	f.delay = 2
	s := &sampler{t: t, floor: 3}
	var progress []string
	if _, err := Run(context.Background(), f, oldTarget, newTarget, 3, 4, options(1, 100, s, &progress)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"rolling 3 clones onto image ami-new (launch template version 2) in 3 batches of up to 1, keeping at least 3 healthy",
		"batch 1/3: launching 1 new clone, group size 4",
		"batch 2/3: 0/1 new clones healthy in tg-web, 0/1 in clb-web",
		"batch 2/3: 1/1 new clones healthy in tg-web, 1/1 in clb-web",
		"batch 3/3: retiring 1 clone: i-0003",
		"rollout complete: 3/3 clones on image ami-new (launch template version 2) healthy",
	} {
		if !containsLine(progress, want) {
			t.Errorf("progress lacks %q:\n%s", want, strings.Join(progress, "\n"))
		}
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func TestRunRefuses(t *testing.T) {
	base := Options{BatchSize: 1, MinHealthyPercent: 100, HealthTimeout: time.Second, Rollback: true}
	tests := []struct {
		name         string
		from, to     Target
		desired, max int
		opts         func(o *Options)
		want         string
	}{
		{"no surge room at 100%", oldTarget, newTarget, 3, 3, nil, "raise max_size to at least 4"},
		{"max below desired", oldTarget, newTarget, 3, 2, nil, "max_size (2) is below desired capacity (3)"},
		{"no health timeout", oldTarget, newTarget, 3, 4, func(o *Options) { o.HealthTimeout = 0 }, "health_timeout must be positive"},
		{"no batch", oldTarget, newTarget, 3, 4, func(o *Options) { o.BatchSize = 0 }, "batch_size must be at least 1"},
		{"unknown target version", oldTarget, Target{ImageID: newImage}, 3, 4, nil, "version to roll onto is unknown"},
		{"rollback without a version", Target{ImageID: oldImage}, newTarget, 3, 4, nil, "needs the launch template version to roll back to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeFleet(t, 3, tt.max, 3)
			o := base
			if tt.opts != nil {
				tt.opts(&o)
			}
			_, err := Run(context.Background(), f, tt.from, tt.to, tt.desired, tt.max, o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run: %v, want an error containing %q", err, tt.want)
			}
			if f.total() != 0 {
				t.Errorf("refused rollout made Fleet calls %v", f.calls)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	inst := func(id, image, version, lifecycle string) Instance {
		return Instance{ID: id, ImageID: image, TemplateVersion: version, Lifecycle: lifecycle}
	}
	pool := []Instance{
		inst("i-1", oldImage, oldVersion, "InService"),
		inst("i-2", newImage, newVersion, "InService"),
		inst("i-3", newImage, newVersion, "Pending"),
		inst("i-4", newImage, oldVersion, "InService"),
		inst("i-5", oldImage, newVersion, "InService"),
		inst("i-6", oldImage, oldVersion, "Terminating:Wait"),
		inst("i-7", newImage, "", "InService"),
		inst("i-8", oldImage, oldVersion, "Detaching"),
		inst("i-9", oldImage, oldVersion, "Standby"),
	}
	ids := func(xs []Instance) []string {
		var out []string
		for _, x := range xs {
			out = append(out, x.ID)
		}
		return out
	}
	tests := []struct {
		name             string
		to               Target
		wantOld, wantNew []string
	}{
		{"image and version", newTarget, []string{"i-1", "i-4", "i-5", "i-9"}, []string{"i-2", "i-3", "i-7"}},
		{"image only", Target{ImageID: newImage}, []string{"i-1", "i-5", "i-9"}, []string{"i-2", "i-3", "i-4", "i-7"}},
		{"version only", Target{TemplateVersion: newVersion}, []string{"i-1", "i-4", "i-9"}, []string{"i-2", "i-3", "i-5", "i-7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, fresh := Classify(pool, tt.to)
			if !reflect.DeepEqual(ids(old), tt.wantOld) || !reflect.DeepEqual(ids(fresh), tt.wantNew) {
				t.Errorf("Classify = old %v new %v, want old %v new %v", ids(old), ids(fresh), tt.wantOld, tt.wantNew)
			}
		})
	}
}

func TestNeedsRollout(t *testing.T) {
	tests := []struct {
		name string
		pool []Instance
		want bool
	}{
		{"empty", nil, false},
		{"all new", []Instance{{ID: "i-1", ImageID: newImage, TemplateVersion: newVersion, Lifecycle: "InService"}}, false},
		{"old in service", []Instance{
			{ID: "i-1", ImageID: newImage, TemplateVersion: newVersion, Lifecycle: "InService"},
			{ID: "i-2", ImageID: oldImage, TemplateVersion: oldVersion, Lifecycle: "InService"},
		}, true},
		{"new image on the old version", []Instance{{ID: "i-1", ImageID: newImage, TemplateVersion: oldVersion, Lifecycle: "InService"}}, true},
		{"old one terminating", []Instance{
			{ID: "i-1", ImageID: newImage, TemplateVersion: newVersion, Lifecycle: "InService"},
			{ID: "i-2", ImageID: oldImage, TemplateVersion: oldVersion, Lifecycle: "Terminating"},
		}, false},
		{"old one pending", []Instance{{ID: "i-2", ImageID: oldImage, TemplateVersion: oldVersion, Lifecycle: "Pending"}}, false},
	}
	for _, tt := range tests {
		if got := NeedsRollout(tt.pool, newTarget); got != tt.want {
			t.Errorf("%s: NeedsRollout = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPercentFor(t *testing.T) {
	for n := 0; n <= 120; n++ {
		for floor := -2; floor <= n; floor++ {
			p := percentFor(n, floor)
			got := Floor(Params{Desired: n, MinHealthyPercent: p})
			if got < floor {
				t.Fatalf("percentFor(%d, %d) = %d: floor %d", n, floor, p, got)
			}
			if n <= 100 && got != max(floor, 0) {
				t.Fatalf("percentFor(%d, %d) = %d: floor %d, want exactly %d", n, floor, p, got, max(floor, 0))
			}
		}
	}
}
