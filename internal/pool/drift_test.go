package pool

import "testing"

// Unit tests of what the drift table (internal/provider/drift_*_test.go)
// found the pool's convergence doing wrong after a change out of band.

// TestApplyScalingOwnsDesiredCapacity: with a scaling block, an update
// keeps the desired capacity Auto Scaling moved (within the sizes) unless
// the configuration changed desired_capacity.
func TestApplyScalingOwnsDesiredCapacity(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	obs := apply(t, f, d, nil)
	prior := &Prior{Desired: d, Observed: obs}
	f.group.DesiredCapacity = 3
	f.calls = nil
	apply(t, f, d, prior)
	index(t, f.calls, "UpdateGroup min=1 max=4 desired=3")

	d.DesiredCapacity = 1
	f.calls = nil
	apply(t, f, d, prior)
	index(t, f.calls, "UpdateGroup min=1 max=4 desired=1")

	d.DesiredCapacity, d.Scaling = 2, nil
	prior = &Prior{Desired: d, Observed: obs}
	f.group.DesiredCapacity = 3
	f.calls = nil
	apply(t, f, d, prior)
	index(t, f.calls, "UpdateGroup min=1 max=4 desired=2")
}
