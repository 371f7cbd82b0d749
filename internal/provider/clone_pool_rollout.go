package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/rollout"
)

const rolloutPollInterval = 2 * time.Second

// rollOut moves the group onto the plan's launch template version and,
// when clones in service run anything else, replaces them batch by batch
// (rollout.Run). A failed or interrupted rollout returns a
// *rolloutFailure.
func (r *ClonePoolResource) rollOut(ctx context.Context, g pool.Group, plan, prior *clonePoolResourceModel, in poolInput) error {
	templateID := plan.LaunchTemplateID.ValueString()
	version := strconv.FormatInt(plan.LaunchTemplateVersion.ValueInt64(), 10)
	fleet := &pool.Fleet{
		Clients: r.clients(), EC2: r.client.EC2, Group: g.Name, TemplateID: templateID,
		Targets: pool.Targets(in.targetGroups, in.classicELBs), Progress: progress(ctx, "rollout"),
	}
	if !plan.SyncPolicyID.IsNull() || (prior != nil && !prior.SyncPolicyID.IsNull()) {
		// The pool has or had the first-sync hook: the fleet puts or deletes
		// it before the group launches a version that needs it or not,
		// rollback included.
		hook := firstSyncHook(g.Name)
		fleet.SyncHook = &hook
		if prior == nil || !prior.LaunchTemplateVersion.Equal(plan.LaunchTemplateVersion) {
			// This apply made the version, with the agent when the plan has
			// a sync policy; other versions are read from EC2.
			fleet.AgentVersions = map[string]bool{version: !plan.SyncPolicyID.IsNull()}
		}
	}
	to := rollout.Target{ImageID: plan.ImageID.ValueString(), TemplateVersion: version}
	instances, err := fleet.InstancesOf(ctx, g)
	if err != nil {
		return err
	}
	if !rollout.NeedsRollout(instances, to) {
		tflog.Info(ctx, "no clone in service runs an older launch template: pointing the group at the new version", map[string]any{"launch_template_id": templateID, "version": version})
		return fleet.SetTemplateVersion(ctx, version)
	}

	ru := plan.rolling()
	from := rollbackTarget(prior, instances, to)
	opts := rollout.Options{
		BatchSize:         ru.batchSize,
		MinHealthyPercent: ru.minHealthyPercent,
		HealthTimeout:     ru.healthTimeout,
		Rollback:          ru.rollback,
		PollInterval:      rolloutPollInterval,
		Progress:          fleet.Progress,
	}
	if opts.Rollback && from.TemplateVersion == "" {
		tflog.Warn(ctx, "the launch template version to roll back to is unknown: this rollout cannot roll back")
		opts.Rollback = false
	}
	desired := int(in.desired)
	if floor := rollout.Floor(rollout.Params{Desired: desired, MinHealthyPercent: ru.minHealthyPercent}); int64(floor) < in.minSize {
		// Retiring before launching may take the group below min_size for a
		// while; the update that follows restores it.
		if _, err := r.client.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(g.Name), MinSize: aws.Int32(int32(floor)),
		}); err != nil {
			return fmt.Errorf("lowering min_size of Auto Scaling group %s to %d for the rollout: %w", g.Name, floor, err)
		}
	}
	tflog.Info(ctx, fmt.Sprintf("rolling Clone Pool (%s) onto %s", g.Name, to), map[string]any{
		"batch_size": ru.batchSize, "min_healthy_percent": ru.minHealthyPercent, "health_timeout": ru.healthTimeout.String(), "rollback_to": from.String(),
	})
	res, err := rollout.Run(ctx, fleet, from, to, desired, int(in.maxSize), opts)
	if err != nil {
		return &rolloutFailure{err: err, to: to}
	}
	tflog.Info(ctx, fmt.Sprintf("rollout complete: %d batches, %d clones launched, %d retired, %d/%d healthy", res.Batches, len(res.Launched), len(res.Retired), res.Healthy, desired),
		map[string]any{"launched": res.Launched, "retired": res.Retired})
	return nil
}

// rollbackTarget is what a failed rollout rolls back to: the version state
// held, or, when the group already launches to (an interrupted rollout),
// the version most old clones were launched from.
func rollbackTarget(prior *clonePoolResourceModel, instances []rollout.Instance, to rollout.Target) rollout.Target {
	if prior != nil && !prior.LaunchTemplateVersion.IsNull() && !prior.LaunchTemplateVersion.IsUnknown() {
		if v := strconv.FormatInt(prior.LaunchTemplateVersion.ValueInt64(), 10); v != to.TemplateVersion {
			return rollout.Target{ImageID: prior.ImageID.ValueString(), TemplateVersion: v}
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

// rolloutFailure is a rollout that did not complete: rolled back, left
// mixed, or interrupted. Update saves what the pool is now.
type rolloutFailure struct {
	err error
	to  rollout.Target
}

func (e *rolloutFailure) Error() string { return e.err.Error() }
func (e *rolloutFailure) Unwrap() error { return e.err }

func (e *rolloutFailure) describe(prior *clonePoolResourceModel) string {
	var rb *rollout.RollbackError
	var ht *rollout.HealthTimeoutError
	switch {
	case errors.As(e.err, &rb) && rb.Err == nil:
		return fmt.Sprintf("%s\n\nFailed clones: %s. State keeps launch template version %s (image %s), so the next plan shows the change again.",
			rb.Error(), strings.Join(rb.FailedIDs(), ", "), rb.From.TemplateVersion, cmp.Or(rb.From.ImageID, prior.ImageID.ValueString()))
	case errors.As(e.err, &rb):
		return fmt.Sprintf("%s\n\nFailed clones: %s. The rollback did not complete: state records the launch template version the group launches now and, in outdated_instance_ids, the clones that do not run it; the next apply rolls them.",
			rb.Error(), strings.Join(rb.FailedIDs(), ", "))
	case errors.As(e.err, &ht):
		return fmt.Sprintf("%s\n\nFailed clones: %s. rollback_on_failure is false: state records %s and, in outdated_instance_ids, the old clones; the next apply continues the rollout.",
			ht.Error(), strings.Join(ht.FailedIDs(), ", "), e.to)
	}
	return e.err.Error() + "\n\nState records the launch template version the group launches now and, in outdated_instance_ids, the clones that do not run it; the next apply continues the rollout."
}

// rollingSettings are rolling_update with its defaults.
type rollingSettings struct {
	batchSize, minHealthyPercent int
	healthTimeout                time.Duration
	rollback                     bool
}

func (m *clonePoolResourceModel) rolling() rollingSettings {
	out := rollingSettings{batchSize: defaultBatchSize, minHealthyPercent: defaultMinHealthyPercent, rollback: true}
	out.healthTimeout, _ = time.ParseDuration(defaultHealthTimeout)
	if len(m.RollingUpdate) == 0 {
		return out
	}
	ru := m.RollingUpdate[0]
	if v := ru.BatchSize; !v.IsNull() && !v.IsUnknown() {
		out.batchSize = int(v.ValueInt64())
	}
	if v := ru.MinHealthyPercent; !v.IsNull() && !v.IsUnknown() {
		out.minHealthyPercent = int(v.ValueInt64())
	}
	if d, err := time.ParseDuration(ru.HealthTimeout.ValueString()); err == nil && d > 0 {
		out.healthTimeout = d
	}
	if v := ru.RollbackOnFailure; !v.IsNull() && !v.IsUnknown() {
		out.rollback = v.ValueBool()
	}
	return out
}
