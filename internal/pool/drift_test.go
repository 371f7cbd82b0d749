package pool

import (
	"slices"
	"strings"
	"testing"

	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
)

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

// TestApplyRegistersTheMasterAgainWhereItWasDeregistered: Read clears
// attach_to_load_balancers when the master is out of a load balancer; the
// next apply then checks the registrations the pool made instead of
// trusting them, registers the master again, and records it once.
func TestApplyRegistersTheMasterAgainWhereItWasDeregistered(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	obs := apply(t, f, d, nil)
	master := d.Master.InstanceID
	f.deregister([]poolhealth.Target{{ID: testTG}}, []string{master})
	read := d
	m := *d.Master
	m.AttachToLoadBalancers = false
	read.Master = &m
	f.calls = nil
	again := apply(t, f, d, &Prior{Desired: read, Observed: obs})
	index(t, f.calls, "Register ["+testTG+"] ["+master+"]")
	if !slices.Equal(again.Registrations, obs.Registrations) {
		t.Errorf("registrations %+v, want %+v", again.Registrations, obs.Registrations)
	}

	// Trusted again once state says the master is attached.
	f.calls = nil
	apply(t, f, d, &Prior{Desired: d, Observed: again})
	for _, c := range f.calls {
		if strings.HasPrefix(c, "Register ["+testTG+"]") {
			t.Errorf("the master was registered again: %q", c)
		}
	}
}

// TestApplyPutsScalingOnAGroupCreatedAgain: AWS deletes a group's scaling
// policies and scheduled actions with it, so when the group is created
// again after a deletion out of band (state holds no group) they are put
// again, though the scaling block did not change.
func TestApplyPutsScalingOnAGroupCreatedAgain(t *testing.T) {
	f := newFakeCloud()
	d := testDesired()
	obs := apply(t, f, d, nil)
	f.group = nil
	obs.GroupExists = false
	f.calls = nil
	apply(t, f, d, &Prior{Desired: d, Observed: obs})
	inOrder(t, f.calls, "CreateGroup", "PutCPUPolicy", "PutSchedule")
}
