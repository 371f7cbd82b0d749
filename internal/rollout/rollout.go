// Package rollout plans the batches of a rolling update of a clone pool:
// how many new instances to launch and old ones to retire at each step so
// that healthy capacity never falls below a floor.
package rollout

import (
	"errors"
	"fmt"
)

// Params describes the pool being rolled.
type Params struct {
	// Desired is the number of old instances to replace by new ones.
	Desired int
	// BatchSize bounds how many instances one step launches and retires.
	BatchSize int
	// MinHealthyPercent of Desired must stay healthy throughout, rounded up.
	MinHealthyPercent int
	// MaxSize caps the group's size during the roll; 0 means no cap.
	MaxSize int
}

// Step launches Launch new instances, waits until they are healthy, then
// retires Retire old ones. A step with Launch 0 only retires: it makes room
// when MaxSize leaves too little surge.
type Step struct {
	Launch int
	Retire int
	// MinHealthyDuring is the lowest healthy count during the step.
	MinHealthyDuring int
	// DesiredDuring is the group's size while the new instances come up.
	DesiredDuring int
}

// Floor is the healthy capacity a roll of p keeps at every moment.
func Floor(p Params) int {
	return (p.Desired*p.MinHealthyPercent + 99) / 100
}

// Plan returns the steps that replace p.Desired old instances by new ones.
//
// The rule: the group may grow to Desired+BatchSize, or MaxSize when that is
// lower. Each step launches as many new instances as the batch and that cap
// allow, then retires old ones to bring the group back to Desired, and
// further, down to the floor at most, when that makes room for a full next
// batch under the cap. When the cap leaves no room to launch at all, the step
// retires first (down to the floor). So with enough headroom a roll is surge
// first and healthy capacity never drops below Desired; below 100% it trades
// capacity for speed only as far as MaxSize forces it to.
func Plan(p Params) ([]Step, error) {
	if err := validate(p); err != nil {
		return nil, err
	}
	if p.Desired == 0 {
		return nil, nil
	}
	desired, batch, floor := p.Desired, p.BatchSize, Floor(p)
	limit := desired + batch
	if p.MaxSize > 0 && p.MaxSize < limit {
		limit = p.MaxSize
	}
	surge := limit - desired
	if surge == 0 && floor == desired {
		return nil, fmt.Errorf("rolling update cannot start: max_size (%d) leaves no room to launch above desired capacity (%d) while min_healthy_percent (%d) keeps all %d healthy; raise max_size to at least %d or lower min_healthy_percent",
			p.MaxSize, desired, p.MinHealthyPercent, desired, desired+1)
	}

	var steps []Step
	old, fresh := desired, 0
	for old > 0 || fresh < desired {
		if len(steps) > 2*desired {
			return nil, errors.New("rolling update plan does not converge")
		}
		total := old + fresh
		launch := min(batch, desired-fresh, limit-total)
		var retire int
		if launch <= 0 {
			launch = 0
			retire = min(old, batch, total-floor)
		} else {
			after := total + launch
			next := min(batch, desired-fresh-launch)
			want := after - desired
			if next > surge {
				want += next - surge
			}
			retire = max(0, min(want, old, batch, after-floor))
		}
		if launch == 0 && retire <= 0 {
			return nil, errors.New("rolling update plan is stuck: no room to launch and the healthy floor forbids retiring")
		}
		steps = append(steps, Step{
			Launch:           launch,
			Retire:           retire,
			MinHealthyDuring: min(total, total+launch-retire),
			DesiredDuring:    total + launch,
		})
		old -= retire
		fresh += launch
	}
	return steps, nil
}

func validate(p Params) error {
	switch {
	case p.Desired < 0:
		return fmt.Errorf("desired capacity must not be negative, got %d", p.Desired)
	case p.BatchSize <= 0:
		return fmt.Errorf("batch_size must be at least 1, got %d", p.BatchSize)
	case p.MinHealthyPercent < 0 || p.MinHealthyPercent > 100:
		return fmt.Errorf("min_healthy_percent must be between 0 and 100, got %d", p.MinHealthyPercent)
	case p.MaxSize < 0:
		return fmt.Errorf("max_size must not be negative, got %d", p.MaxSize)
	case p.MaxSize > 0 && p.MaxSize < p.Desired:
		return fmt.Errorf("max_size (%d) is below desired capacity (%d)", p.MaxSize, p.Desired)
	}
	return nil
}

// Simulate runs steps on a group of desired healthy instances, new instances
// turning healthy before the step retires old ones, and returns the lowest
// healthy count seen.
func Simulate(steps []Step, desired int) (minHealthySeen int) {
	healthy := desired
	minHealthySeen = healthy
	for _, s := range steps {
		healthy += s.Launch
		healthy -= s.Retire
		minHealthySeen = min(minHealthySeen, healthy)
	}
	return minHealthySeen
}
