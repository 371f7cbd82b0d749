package provider

import (
	"context"
	"errors"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

func (r *ClonePoolResource) delete(ctx context.Context, m *clonePoolResourceModel, regs []masterRegistration) error {
	name := m.ID.ValueString()
	names := pool.NamesFor(name)
	c := r.clients()
	for _, reg := range regs {
		if err := r.deregisterMaster(ctx, reg); err != nil {
			return err
		}
	}
	if err := r.deleteWriteRule(ctx, m.WriteRuleARN.ValueString(), m.MasterTargetGroupARN.ValueString()); err != nil {
		return err
	}
	if pm := m.master(); pm != nil && pm.RecoveryAlarm.ValueBool() {
		tflog.Info(ctx, "deleting the recovery alarm", map[string]any{"alarm": names.RecoveryAlarm})
		if err := pool.DeleteAlarm(ctx, r.client.CloudWatch, names.RecoveryAlarm); err != nil {
			return err
		}
	}

	if err := r.deleteScaling(ctx, name, nil); err != nil {
		return err
	}

	g, err := pool.FindGroup(ctx, r.client.AutoScaling, names.Group)
	switch {
	case errors.Is(err, pool.ErrNotFound):
	case err != nil:
		return err
	default:
		// Force deletion terminates the clones at once: drain them from
		// the pool's load balancers first.
		if err := c.Drain(ctx, pool.Targets(g.TargetGroupARNs, g.ClassicELBNames), g.ServingIDs(), progress(ctx, "clones drained")); err != nil {
			return err
		}
		tflog.Info(ctx, "deleting Auto Scaling group and terminating its clones")
		if err := pool.DeleteFoundGroup(ctx, r.client.AutoScaling, r.client.EC2, g, progress(ctx, "Auto Scaling group deleted")); err != nil {
			return err
		}
	}
	tflog.Info(ctx, "deleting launch template")
	return pool.DeleteTemplate(ctx, r.client.EC2, names.LaunchTemplate)
}
