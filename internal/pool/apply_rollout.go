package pool

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cloneserver/terraform-provider-clone/internal/rollout"
)

// rollOut moves the group onto the launch template version Apply made and,
// when clones in service run anything else, replaces them batch by batch
// (rollout.Run). A rollout that fails or is interrupted returns a
// *RolloutError.
func (a *applier) rollOut(ctx context.Context, g Group) error {
	d, prior := a.d, a.prior
	to := rollout.Target{ImageID: d.Template.ImageID, TemplateVersion: version(a.obs.LaunchTemplateVersion)}
	spec := FleetSpec{Group: g.Name, TemplateID: a.obs.LaunchTemplateID, Targets: a.targets(), Progress: a.log}
	if d.SyncPolicyID != "" || (prior != nil && prior.SyncPolicyID != "") {
		// The pool has or had the first-sync hook: the fleet puts or deletes
		// it before the group launches a version that needs it or not,
		// rollback included.
		hook := FirstSyncHook(g.Name)
		spec.SyncHook = &hook
		if prior == nil || prior.LaunchTemplateVersion != a.obs.LaunchTemplateVersion {
			// This apply made the version, with the agent when d has a sync
			// policy; other versions are read from EC2.
			spec.AgentVersions = map[string]bool{to.TemplateVersion: d.SyncPolicyID != ""}
		}
	}
	fleet := a.c.Fleet(spec)
	instances, err := fleet.InstancesOf(ctx, g)
	if err != nil {
		return err
	}
	if !rollout.NeedsRollout(instances, to) {
		a.log(fmt.Sprintf("no clone in service runs an older launch template: pointing the group at version %s", to.TemplateVersion))
		return fleet.SetTemplateVersion(ctx, to.TemplateVersion)
	}
	from := rollbackTarget(prior, instances, to)
	opts := a.rolloutOptions(from)
	desired := int(a.obs.DesiredCapacity)
	if floor := rollout.Floor(rollout.Params{Desired: desired, MinHealthyPercent: opts.MinHealthyPercent}); int64(floor) < d.MinSize {
		// Retiring before launching may take the group below min_size for a
		// while; the update that follows restores it.
		if err := a.c.UpdateGroup(ctx, GroupUpdate{Name: g.Name, MinSize: aws.Int64(int64(floor))}); err != nil {
			return fmt.Errorf("lowering min_size of Auto Scaling group %s to %d for the rollout: %w", g.Name, floor, err)
		}
	}
	a.log(fmt.Sprintf("rolling Clone Pool (%s) onto %s: batch_size %d, min_healthy_percent %d, health_timeout %s, rollback to %s",
		g.Name, to, opts.BatchSize, opts.MinHealthyPercent, opts.HealthTimeout, from))
	res, err := rollout.Run(ctx, fleet, from, to, desired, int(d.MaxSize), opts)
	if err != nil {
		return &RolloutError{Err: err, To: to}
	}
	a.log(fmt.Sprintf("rollout complete: %d %s, %d %s launched, %d retired, %d/%d healthy; launched %v, retired %v",
		res.Batches, plural(res.Batches, "batch", "batches"), len(res.Launched), plural(len(res.Launched), "clone", "clones"),
		len(res.Retired), res.Healthy, desired, res.Launched, res.Retired))
	return nil
}

func (a *applier) rolloutOptions(from rollout.Target) rollout.Options {
	ru := a.d.Rolling
	opts := rollout.Options{
		BatchSize:         ru.BatchSize,
		MinHealthyPercent: ru.MinHealthyPercent,
		HealthTimeout:     ru.HealthTimeout,
		Rollback:          ru.Rollback,
		PollInterval:      cmp.Or(ru.PollInterval, DefaultRolloutPollInterval),
		Progress:          a.log,
	}
	if opts.Rollback && from.TemplateVersion == "" {
		a.log("the launch template version to roll back to is unknown: this rollout cannot roll back")
		opts.Rollback = false
	}
	return opts
}

// rollbackTarget is what a failed rollout rolls back to: the version state
// held, or, when the group already launches to (an interrupted rollout),
// the version most old clones were launched from.
func rollbackTarget(prior *Prior, instances []rollout.Instance, to rollout.Target) rollout.Target {
	if prior != nil && prior.LaunchTemplateVersion != 0 {
		if v := version(prior.LaunchTemplateVersion); v != to.TemplateVersion {
			return rollout.Target{ImageID: prior.Template.ImageID, TemplateVersion: v}
		}
	}
	old, _ := rollout.Classify(instances, to)
	counts := map[rollout.Target]int{}
	var best rollout.Target
	for _, inst := range old {
		if inst.TemplateVersion == "" || inst.TemplateVersion == to.TemplateVersion {
			continue
		}
		t := rollout.Target{ImageID: inst.ImageID, TemplateVersion: inst.TemplateVersion}
		counts[t]++
		if counts[t] > counts[best] {
			best = t
		}
	}
	return best
}

// RolloutError is a rollout that did not complete: rolled back, left
// mixed, or interrupted. The caller saves what the pool is now.
type RolloutError struct {
	Err error
	To  rollout.Target
}

func (e *RolloutError) Error() string { return e.Err.Error() }
func (e *RolloutError) Unwrap() error { return e.Err }

// Explain says what happened and what state keeps; priorImageID is the
// image state held before the apply.
func (e *RolloutError) Explain(priorImageID string) string {
	var rb *rollout.RollbackError
	var ht *rollout.HealthTimeoutError
	switch {
	case errors.As(e.Err, &rb) && rb.Err == nil:
		return fmt.Sprintf("%s\n\nFailed clones: %s. State keeps launch template version %s (image %s), so the next plan shows the change again.",
			rb.Error(), strings.Join(rb.FailedIDs(), ", "), rb.From.TemplateVersion, cmp.Or(rb.From.ImageID, priorImageID))
	case errors.As(e.Err, &rb):
		return fmt.Sprintf("%s\n\nFailed clones: %s. The rollback did not complete: state records the launch template version the group launches now and, in outdated_instance_ids, the clones that do not run it; the next apply rolls them.",
			rb.Error(), strings.Join(rb.FailedIDs(), ", "))
	case errors.As(e.Err, &ht):
		return fmt.Sprintf("%s\n\nFailed clones: %s. rollback_on_failure is false: state records %s and, in outdated_instance_ids, the old clones; the next apply continues the rollout.",
			ht.Error(), strings.Join(ht.FailedIDs(), ", "), e.To)
	}
	return e.Err.Error() + "\n\nState records the launch template version the group launches now and, in outdated_instance_ids, the clones that do not run it; the next apply continues the rollout."
}
