package rollout

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		name string
		in   Params
		want []Step
	}{
		{"nothing to roll", Params{Desired: 0, BatchSize: 1, MinHealthyPercent: 100}, nil},
		{"one instance, surge first", Params{Desired: 1, BatchSize: 1, MinHealthyPercent: 100}, []Step{
			{Launch: 1, Retire: 1, MinHealthyDuring: 1, DesiredDuring: 2},
		}},
		{"batch larger than desired: one step", Params{Desired: 3, BatchSize: 10, MinHealthyPercent: 100}, []Step{
			{Launch: 3, Retire: 3, MinHealthyDuring: 3, DesiredDuring: 6},
		}},
		{"surge first, last batch smaller", Params{Desired: 5, BatchSize: 2, MinHealthyPercent: 100}, []Step{
			{Launch: 2, Retire: 2, MinHealthyDuring: 5, DesiredDuring: 7},
			{Launch: 2, Retire: 2, MinHealthyDuring: 5, DesiredDuring: 7},
			{Launch: 1, Retire: 1, MinHealthyDuring: 5, DesiredDuring: 6},
		}},
		{"zero percent still surges when it can", Params{Desired: 4, BatchSize: 2, MinHealthyPercent: 0}, []Step{
			{Launch: 2, Retire: 2, MinHealthyDuring: 4, DesiredDuring: 6},
			{Launch: 2, Retire: 2, MinHealthyDuring: 4, DesiredDuring: 6},
		}},
		{"max size allows only one extra", Params{Desired: 4, BatchSize: 2, MinHealthyPercent: 100, MaxSize: 5}, []Step{
			{Launch: 1, Retire: 1, MinHealthyDuring: 4, DesiredDuring: 5},
			{Launch: 1, Retire: 1, MinHealthyDuring: 4, DesiredDuring: 5},
			{Launch: 1, Retire: 1, MinHealthyDuring: 4, DesiredDuring: 5},
			{Launch: 1, Retire: 1, MinHealthyDuring: 4, DesiredDuring: 5},
		}},
		{"no surge room: retire first down to the floor", Params{Desired: 4, BatchSize: 2, MinHealthyPercent: 50, MaxSize: 4}, []Step{
			{Launch: 0, Retire: 2, MinHealthyDuring: 2, DesiredDuring: 4},
			{Launch: 2, Retire: 2, MinHealthyDuring: 2, DesiredDuring: 4},
			{Launch: 2, Retire: 0, MinHealthyDuring: 2, DesiredDuring: 4},
		}},
		{"little surge room: retire below desired to fit the next batch", Params{Desired: 5, BatchSize: 3, MinHealthyPercent: 60, MaxSize: 6}, []Step{
			{Launch: 1, Retire: 3, MinHealthyDuring: 3, DesiredDuring: 6},
			{Launch: 3, Retire: 1, MinHealthyDuring: 3, DesiredDuring: 6},
			{Launch: 1, Retire: 1, MinHealthyDuring: 5, DesiredDuring: 6},
		}},
		{"zero percent without surge replaces everything at once", Params{Desired: 3, BatchSize: 5, MinHealthyPercent: 0, MaxSize: 3}, []Step{
			{Launch: 0, Retire: 3, MinHealthyDuring: 0, DesiredDuring: 3},
			{Launch: 3, Retire: 0, MinHealthyDuring: 0, DesiredDuring: 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan(tt.in)
			if err != nil {
				t.Fatalf("Plan(%+v): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Plan(%+v) =\n%+v\nwant\n%+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name string
		in   Params
		want string
	}{
		{"zero batch", Params{Desired: 3, BatchSize: 0, MinHealthyPercent: 100}, "batch_size must be at least 1"},
		{"negative batch", Params{Desired: 3, BatchSize: -1, MinHealthyPercent: 100}, "batch_size must be at least 1"},
		{"zero batch with nothing to roll", Params{Desired: 0, BatchSize: 0}, "batch_size must be at least 1"},
		{"negative desired", Params{Desired: -1, BatchSize: 1}, "must not be negative"},
		{"percent above 100", Params{Desired: 3, BatchSize: 1, MinHealthyPercent: 101}, "between 0 and 100"},
		{"negative percent", Params{Desired: 3, BatchSize: 1, MinHealthyPercent: -5}, "between 0 and 100"},
		{"negative max", Params{Desired: 3, BatchSize: 1, MaxSize: -1}, "max_size must not be negative"},
		{"max below desired", Params{Desired: 3, BatchSize: 1, MaxSize: 2}, "below desired capacity"},
		{"max prevents surge at 100%", Params{Desired: 3, BatchSize: 1, MinHealthyPercent: 100, MaxSize: 3}, "raise max_size to at least 4"},
		{"rounded-up floor is everything", Params{Desired: 1, BatchSize: 1, MinHealthyPercent: 50, MaxSize: 1}, "leaves no room to launch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps, err := Plan(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Plan(%+v) = %+v, %v; want error containing %q", tt.in, steps, err, tt.want)
			}
		})
	}
}

func TestFloor(t *testing.T) {
	tests := []struct {
		desired, percent, want int
	}{
		{0, 100, 0}, {5, 0, 0}, {5, 100, 5}, {5, 50, 3}, {3, 33, 1}, {3, 34, 2}, {10, 90, 9}, {1, 1, 1},
	}
	for _, tt := range tests {
		if got := Floor(Params{Desired: tt.desired, MinHealthyPercent: tt.percent}); got != tt.want {
			t.Errorf("Floor(%d, %d%%) = %d, want %d", tt.desired, tt.percent, got, tt.want)
		}
	}
}

func TestSimulate(t *testing.T) {
	tests := []struct {
		name    string
		steps   []Step
		desired int
		want    int
	}{
		{"no steps", nil, 4, 4},
		{"surge", []Step{{Launch: 2, Retire: 2}, {Launch: 2, Retire: 2}}, 4, 4},
		{"retire first", []Step{{Retire: 2}, {Launch: 2, Retire: 2}, {Launch: 2}}, 4, 2},
		{"retire more than launched", []Step{{Launch: 1, Retire: 3}, {Launch: 3, Retire: 1}}, 5, 3},
	}
	for _, tt := range tests {
		if got := Simulate(tt.steps, tt.desired); got != tt.want {
			t.Errorf("%s: Simulate = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestPlanInvariants(t *testing.T) {
	percents := []int{0, 1, 10, 25, 33, 50, 51, 66, 75, 90, 99, 100}
	plans, refusals := 0, 0
	for desired := 0; desired <= 40; desired++ {
		for batch := 1; batch <= desired+3; batch++ {
			for _, percent := range percents {
				for _, maxSize := range maxSizes(desired, batch) {
					p := Params{Desired: desired, BatchSize: batch, MinHealthyPercent: percent, MaxSize: maxSize}
					steps, err := Plan(p)
					if cannotSurge(p) {
						if err == nil {
							t.Fatalf("Plan(%+v) = %+v, want an error: no surge and a 100%% floor", p, steps)
						}
						refusals++
						continue
					}
					if err != nil {
						t.Fatalf("Plan(%+v): %v", p, err)
					}
					checkInvariants(t, p, steps)
					plans++
				}
			}
		}
	}
	t.Logf("checked %d plans and %d refusals", plans, refusals)
}

func maxSizes(desired, batch int) []int {
	sizes := []int{0, desired, desired + 1, desired + batch/2, desired + batch, desired + batch + 3}
	if desired > 0 {
		sizes = append(sizes, desired+batch-1)
	}
	return sizes
}

func cannotSurge(p Params) bool {
	return p.Desired > 0 && p.MaxSize == p.Desired && Floor(p) == p.Desired
}

func checkInvariants(t *testing.T, p Params, steps []Step) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("Plan(%+v) = %+v: %s", p, steps, fmt.Sprintf(format, args...))
	}
	floor := Floor(p)
	limit := p.Desired + p.BatchSize
	if p.MaxSize > 0 {
		limit = min(limit, p.MaxSize)
	}
	if p.Desired == 0 && len(steps) != 0 {
		fail("steps for an empty pool")
	}
	if p.BatchSize >= p.Desired && p.Desired > 0 && limit == p.Desired+p.BatchSize && len(steps) != 1 {
		fail("a batch covering the pool with room to surge must take one step")
	}
	if floor == p.Desired && len(steps) > 0 && (steps[0].Launch == 0) {
		fail("a 100%% floor must surge first")
	}
	old, fresh, launched, retired := p.Desired, 0, 0, 0
	for i, s := range steps {
		if s.Launch == 0 && s.Retire == 0 {
			fail("step %d is empty", i)
		}
		if s.Launch < 0 || s.Retire < 0 || s.Launch > p.BatchSize || s.Retire > p.BatchSize {
			fail("step %d exceeds the batch", i)
		}
		total := old + fresh
		if s.DesiredDuring != total+s.Launch {
			fail("step %d: DesiredDuring %d, group is %d", i, s.DesiredDuring, total+s.Launch)
		}
		if s.DesiredDuring > limit || s.DesiredDuring > p.Desired+p.BatchSize {
			fail("step %d: group grows to %d, above %d", i, s.DesiredDuring, limit)
		}
		if want := min(total, total+s.Launch-s.Retire); s.MinHealthyDuring != want {
			fail("step %d: MinHealthyDuring %d, want %d", i, s.MinHealthyDuring, want)
		}
		if limit-p.Desired >= min(p.BatchSize, p.Desired) && s.MinHealthyDuring < p.Desired {
			fail("step %d: healthy %d below desired although the cap leaves room for a full batch", i, s.MinHealthyDuring)
		}
		if s.MinHealthyDuring < floor {
			fail("step %d: healthy %d below floor %d", i, s.MinHealthyDuring, floor)
		}
		old -= s.Retire
		fresh += s.Launch
		launched += s.Launch
		retired += s.Retire
		if old < 0 {
			fail("step %d retires instances that are not there", i)
		}
		if fresh > p.Desired {
			fail("step %d launches more than desired", i)
		}
	}
	if launched != p.Desired || retired != p.Desired {
		fail("launched %d and retired %d, want %d each", launched, retired, p.Desired)
	}
	if seen := Simulate(steps, p.Desired); seen < floor {
		fail("simulated healthy count fell to %d, floor %d", seen, floor)
	}
	if len(steps) > 2*p.Desired {
		fail("%d steps for %d instances", len(steps), p.Desired)
	}
}
