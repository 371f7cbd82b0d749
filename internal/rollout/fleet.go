package rollout

import (
	"context"
	"strings"
	"time"

	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
)

// Auto Scaling lifecycle states the orchestrator tells apart.
const (
	LifecycleInService = "InService"
	LifecyclePending   = "Pending"
	// LifecyclePendingWait is a launch held by a lifecycle hook; the
	// pool's first-sync hook holds a clone there until its first sync.
	LifecyclePendingWait = "Pending:Wait"
)

// Instance is one member of the Auto Scaling group.
type Instance struct {
	ID      string
	ImageID string
	// TemplateVersion is the launch template version the instance was
	// launched from, as a number string; empty when the Fleet cannot tell.
	TemplateVersion string
	// Lifecycle is the group's lifecycle state: InService, Pending,
	// Terminating, Standby, ...
	Lifecycle string
	// LaunchTime orders old instances for retirement, oldest first; the zero
	// time sorts first.
	LaunchTime time.Time
	// FirstSync is what the clone reported about a failed first sync (its
	// clone:first-sync tag); empty when it reported nothing.
	FirstSync string
}

// Fleet is everything the orchestrator needs from AWS; the clone_pool
// resource implements it with the SDK.
type Fleet interface {
	// Instances lists the group's members: one DescribeAutoScalingGroups
	// plus one batched DescribeInstances for image ids and launch times.
	Instances(ctx context.Context) ([]Instance, error)
	// SetTemplateVersion points the group's launch template at version.
	SetTemplateVersion(ctx context.Context, version string) error
	// SetCapacity sets the group's desired and max size in one
	// UpdateAutoScalingGroup.
	SetCapacity(ctx context.Context, desired, maxSize int) error
	// Health reads the health of ids in every attached load balancer,
	// batched per load balancer (poolhealth.Collect).
	Health(ctx context.Context, ids []string) (poolhealth.Report, error)
	// Retire deregisters ids from every attached load balancer, waits for
	// the connections to drain, then terminates each with
	// TerminateInstanceInAutoScalingGroup, decrementing desired capacity.
	Retire(ctx context.Context, ids []string) error
}

// Target is what "new" means: the image and launch template version a
// rollout moves the pool onto. An empty field matches anything, for a Fleet
// that cannot trust what the group reports (the emulator reports the
// template's default version, not the one an instance was launched from).
type Target struct {
	ImageID         string
	TemplateVersion string
}

// Matches tells whether inst runs t.
func (t Target) Matches(inst Instance) bool {
	if t.ImageID != "" && inst.ImageID != t.ImageID {
		return false
	}
	if t.TemplateVersion != "" && inst.TemplateVersion != "" && inst.TemplateVersion != t.TemplateVersion {
		return false
	}
	return true
}

func (t Target) String() string {
	switch {
	case t.ImageID == "" && t.TemplateVersion == "":
		return "the current launch template"
	case t.TemplateVersion == "":
		return "image " + t.ImageID
	case t.ImageID == "":
		return "launch template version " + t.TemplateVersion
	}
	return "image " + t.ImageID + " (launch template version " + t.TemplateVersion + ")"
}

// Leaving tells whether an instance in this Auto Scaling lifecycle state is
// on its way out of the group (Terminating*, Detaching, Detached) and no
// longer counts as capacity. An instance in standby or a warm pool is not
// leaving: it belongs to the group and a rollout must replace it if old.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-lifecycle.html
func Leaving(lifecycle string) bool {
	return strings.HasPrefix(lifecycle, "Terminat") || strings.HasPrefix(lifecycle, "Detach")
}

// Serving tells whether an instance in this lifecycle state is or will be
// in service: not Leaving, not in standby (EnteringStandby, Standby) and
// not in a warm pool (Warmed:*). With Leaving it is the project's one
// "in service" rule.
func Serving(lifecycle string) bool {
	return !Leaving(lifecycle) && !strings.HasPrefix(lifecycle, "EnteringStandby") &&
		lifecycle != "Standby" && !strings.HasPrefix(lifecycle, "Warmed")
}

// Classify splits the group's members into old ones and new ones (those
// running to). Members that are leaving the group are in neither.
func Classify(instances []Instance, to Target) (stale, current []Instance) {
	for _, inst := range instances {
		switch {
		case Leaving(inst.Lifecycle):
		case to.Matches(inst):
			current = append(current, inst)
		default:
			stale = append(stale, inst)
		}
	}
	return stale, current
}

// Outdated returns the in-service members that do not run to, as after an
// interrupted or failed rollout.
func Outdated(instances []Instance, to Target) []Instance {
	var out []Instance
	for _, inst := range instances {
		if inst.Lifecycle == LifecycleInService && !to.Matches(inst) {
			out = append(out, inst)
		}
	}
	return out
}

// NeedsRollout tells whether an in-service member does not run to.
func NeedsRollout(instances []Instance, to Target) bool {
	return len(Outdated(instances, to)) > 0
}
