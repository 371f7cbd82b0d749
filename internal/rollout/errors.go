package rollout

import (
	"fmt"
	"strings"
	"time"
)

// Failure is an instance that did not become healthy in time, and why.
type Failure struct {
	InstanceID string
	// Reasons, one per load balancer it is not healthy in ("tg-web:
	// unhealthy (Target.FailedHealthChecks)", "clb-web: not registered"),
	// or its lifecycle state when it never came into service.
	Reasons []string
	// Held says a launch lifecycle hook held it (Pending:Wait).
	Held bool
}

func (f Failure) String() string {
	if len(f.Reasons) == 0 {
		return f.InstanceID
	}
	return f.InstanceID + " (" + strings.Join(f.Reasons, "; ") + ")"
}

// FirstSyncHint explains a clone held in Pending:Wait: the likely causes
// of a first sync that never finished, and where the clone says why.
const FirstSyncHint = "A clone held in Pending:Wait never finished its first sync, so the first-sync lifecycle hook kept it out of service " +
	"(at the hook's heartbeat timeout Auto Scaling abandons and replaces it). Likely causes: the instance profile lacks " +
	"autoscaling:CompleteLifecycleAction, ssm:GetParameter or kms:Decrypt (see the clones' policy in the IAM guide); the master " +
	"is unreachable on its SSH port from the clones' security groups; the sync key is not authorized on the master " +
	"(install_on_master = false); the image lacks rsync, ssh, curl, python3 or the AWS CLI. On the clone, " +
	"/var/lib/clone-sync/status.json says why."

// HeldReasons describes an instance held in Pending:Wait: that its first
// sync never finished, and what it reported; nil for any other instance.
func HeldReasons(lifecycle, reported string) []string {
	if lifecycle != LifecyclePendingWait {
		return nil
	}
	out := []string{"lifecycle Pending:Wait: its first sync never finished"}
	if reported != "" {
		out = append(out, "it reports: "+reported)
	}
	return out
}

// BatchFailure tells which batch did not become healthy and which of its
// instances failed.
type BatchFailure struct {
	// Stage is "batch 2/3", "filling to desired capacity", "rollback batch 1/2"...
	Stage   string
	Timeout time.Duration
	Failed  []Failure
	// Missing counts instances the batch asked for that never appeared in
	// the group.
	Missing int
}

// FailedIDs returns the ids of the failed instances.
func (b BatchFailure) FailedIDs() []string {
	ids := make([]string, len(b.Failed))
	for i, f := range b.Failed {
		ids[i] = f.InstanceID
	}
	return ids
}

func (b BatchFailure) describe() string {
	kind := "new"
	if strings.HasPrefix(b.Stage, "rollback") {
		kind = "replacement"
	}
	var parts []string
	if len(b.Failed) > 0 {
		list := make([]string, len(b.Failed))
		for i, f := range b.Failed {
			list[i] = f.String()
		}
		parts = append(parts, fmt.Sprintf("%d %s %s not healthy in every load balancer after %s: %s",
			len(b.Failed), kind, clones(len(b.Failed)), b.Timeout, strings.Join(list, ", ")))
	}
	if b.Missing > 0 {
		parts = append(parts, fmt.Sprintf("%d %s %s never appeared in the group within %s", b.Missing, kind, clones(b.Missing), b.Timeout))
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%s clones not healthy after %s", kind, b.Timeout))
	}
	out := b.Stage + ": " + strings.Join(parts, "; ")
	for _, f := range b.Failed {
		if f.Held {
			return out + ". " + FirstSyncHint
		}
	}
	return out
}

// HealthTimeoutError is returned when a batch does not become healthy and
// rollback_on_failure is off: the pool is left as it is, mixed.
type HealthTimeoutError struct {
	BatchFailure
	To Target
	// Old and New count the instances left in the pool.
	Old, New int
}

func (e *HealthTimeoutError) Error() string {
	return fmt.Sprintf("%s; rollback_on_failure is off, so the pool is left mixed: %d old and %d new %s on %s; the next apply continues the rollout",
		e.describe(), e.Old, e.New, clones(e.New), e.To)
}

// RollbackError is returned when a batch did not become healthy and the
// rollout was rolled back: the group launches From again, the new
// instances are retired and capacity is restored with old ones.
type RollbackError struct {
	BatchFailure
	From Target
	// Retired lists the new instances the rollback retired.
	Retired []string
	// Healthy counts the healthy instances on From after the rollback.
	Healthy int
	// Err says why the rollback did not complete; nil when it did.
	Err error
}

func (e *RollbackError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s; rolling back to %s did not complete, the pool may be mixed: %v", e.describe(), e.From, e.Err)
	}
	return fmt.Sprintf("%s; rolled back: the group launches %s again, %d new %s retired, %d old %s healthy",
		e.describe(), e.From, len(e.Retired), clones(len(e.Retired)), e.Healthy, clones(e.Healthy))
}

func (e *RollbackError) Unwrap() error { return e.Err }

func clones(n int) string {
	if n == 1 {
		return "clone"
	}
	return "clones"
}
