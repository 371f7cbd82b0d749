package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

// converge makes AWS match plan; prior is nil on create. It fills the
// plan's unknown computed values and reports whether the group exists.
func (r *ClonePoolResource) converge(ctx context.Context, plan, prior *clonePoolResourceModel, regs []masterRegistration) ([]masterRegistration, bool, error) {
	name := plan.Name.ValueString()
	names := pool.NamesFor(name)
	in, err := plan.expand(ctx)
	if err != nil {
		return regs, false, err
	}
	tags := r.ownTags(name, in.tagsAll)

	var master *pool.Master
	if pm := plan.master(); pm != nil {
		m, err := pool.FindMaster(ctx, r.client.EC2, pm.InstanceID.ValueString())
		if err != nil {
			return regs, false, err
		}
		master = &m
	}

	if prior == nil || plan.LaunchTemplateVersion.IsUnknown() {
		if err := r.putTemplate(ctx, plan, prior, in, master, tags); err != nil {
			return regs, false, err
		}
	}

	g, err := pool.FindGroup(ctx, r.client.AutoScaling, names.Group)
	switch {
	case errors.Is(err, pool.ErrNotFound):
		tflog.Info(ctx, "creating Auto Scaling group", map[string]any{"desired_capacity": in.desired})
		err = r.createGroup(ctx, plan, in, tags)
	case err == nil:
		if prior != nil && len(plan.Scaling) > 0 && plan.DesiredCapacity.Equal(prior.DesiredCapacity) {
			in.desired = min(max(g.DesiredCapacity, in.minSize), in.maxSize)
			tflog.Info(ctx, "scaling owns desired capacity: keeping the group's", map[string]any{"desired_capacity": in.desired})
		}
		err = r.updateGroup(ctx, g, plan, prior, in, tags)
	}
	if err != nil {
		return regs, false, err
	}
	if err := r.applyScaling(ctx, plan, prior); err != nil {
		return regs, true, err
	}
	plan.OutdatedInstanceIDs = listValue(nil)

	regs, err = r.applyMaster(ctx, plan, prior, master, in, regs, tags)
	if err != nil {
		return regs, true, err
	}

	targets := pool.Targets(in.targetGroups, in.classicELBs)
	if plan.WaitForHealthy.ValueBool() && plan.InstanceIDs.IsUnknown() {
		ids, healthy, err := r.clients().WaitHealthy(ctx, names.Group, targets, int(in.desired), progress(ctx, "clones healthy"))
		if err != nil {
			return regs, true, fmt.Errorf("waiting for Clone Pool (%s) healthy: %w", name, err)
		}
		// The wait's last look is the pool as it is now.
		plan.InstanceIDs = listValue(ids)
		plan.HealthyCount = types.Int64Value(int64(len(healthy)))
	}
	if plan.InstanceIDs.IsUnknown() || plan.HealthyCount.IsUnknown() {
		g, err := pool.FindGroup(ctx, r.client.AutoScaling, names.Group)
		if err != nil {
			return regs, true, err
		}
		report, err := r.clients().Health(ctx, targets)
		if err != nil {
			return regs, true, err
		}
		ids := g.ServingIDs()
		plan.InstanceIDs = listValue(ids)
		plan.HealthyCount = types.Int64Value(int64(len(report.Healthy(ids))))
	}
	return regs, true, nil
}

// poolInput is the plan in plain Go values.
type poolInput struct {
	subnets        []string
	securityGroups []string
	targetGroups   []string
	classicELBs    []string
	minSize        int64
	maxSize        int64
	desired        int64
	tagsAll        map[string]string
}

func (m *clonePoolResourceModel) expand(ctx context.Context) (poolInput, error) {
	var in poolInput
	var diags diag.Diagnostics
	diags.Append(m.SubnetIDs.ElementsAs(ctx, &in.subnets, false)...)
	if !m.SecurityGroupIDs.IsNull() {
		diags.Append(m.SecurityGroupIDs.ElementsAs(ctx, &in.securityGroups, false)...)
	}
	if !m.TargetGroupARNs.IsNull() {
		diags.Append(m.TargetGroupARNs.ElementsAs(ctx, &in.targetGroups, false)...)
	}
	if !m.ClassicELBNames.IsNull() {
		diags.Append(m.ClassicELBNames.ElementsAs(ctx, &in.classicELBs, false)...)
	}
	tags, d := stringMap(ctx, m.TagsAll)
	diags.Append(d...)
	if diags.HasError() {
		return in, fmt.Errorf("reading the plan: %v", diags)
	}
	slices.Sort(in.securityGroups)
	slices.Sort(in.targetGroups)
	slices.Sort(in.classicELBs)
	in.tagsAll = tags
	in.minSize, in.maxSize = m.MinSize.ValueInt64(), m.MaxSize.ValueInt64()
	in.desired = in.minSize
	if !m.DesiredCapacity.IsNull() && !m.DesiredCapacity.IsUnknown() {
		in.desired = m.DesiredCapacity.ValueInt64()
	}
	return in, nil
}

func (r *ClonePoolResource) clients() pool.Clients { return poolClients(r.client) }

// poolClients are the clients the pool's waits and registrations use.
func poolClients(c *conns.AWSClient) pool.Clients {
	return pool.Clients{AutoScaling: c.AutoScaling, ELBV2: c.ELBV2, ELB: c.ELB}
}

func progress(ctx context.Context, what string) func(string) {
	return func(status string) {
		tflog.Info(ctx, status, map[string]any{"waiting_for": what})
	}
}

// ownTags are tags_all plus the pool's own marker.
func (r *ClonePoolResource) ownTags(name string, tagsAll map[string]string) map[string]string {
	out := maps.Clone(tagsAll)
	out[pool.TagPool] = name
	return out
}

func mustStringMap(ctx context.Context, m types.Map) map[string]string {
	out, _ := stringMap(ctx, m)
	return out
}
