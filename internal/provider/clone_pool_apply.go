package provider

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

// converge makes AWS match plan (pool.Apply); prior is nil on create, and
// hookMissing says the last read found no first-sync hook. It fills the
// plan's unknown computed values and returns what Apply observed, which on
// failure is what was done so far.
func (r *ClonePoolResource) converge(ctx context.Context, plan, prior *clonePoolResourceModel, regs []pool.Registration, hookMissing bool) (pool.Observed, error) {
	obs := pool.Observed{Registrations: regs}
	d, err := r.expand(ctx, plan)
	if err != nil {
		return obs, err
	}
	var p *pool.Prior
	if prior != nil {
		if p, err = r.expandPrior(ctx, prior, regs); err != nil {
			return obs, err
		}
		obs.GroupExists = p.GroupExists
		p.SyncHookMissing = hookMissing
	}
	if d.SyncPolicyID != "" && (prior == nil || d.NewVersion) {
		part, err := r.syncAgentPart(ctx, d.Name, d.SyncPolicyID)
		if err != nil {
			return obs, err
		}
		d.SyncAgent = &part
	}
	obs, err = pool.Apply(ctx, r.cloud, d, p, logProgress(ctx))
	plan.flattenObserved(obs)
	return obs, err
}

// keepCreated records in m, state before a failed update, the objects the
// update created, so that the next apply or destroy finds them.
func (m *clonePoolResourceModel) keepCreated(obs pool.Observed) {
	if obs.LaunchTemplateID != "" && m.LaunchTemplateID.ValueString() != obs.LaunchTemplateID {
		m.LaunchTemplateID, m.LaunchTemplateVersion = types.StringValue(obs.LaunchTemplateID), types.Int64Value(obs.LaunchTemplateVersion)
	}
	if obs.MasterTargetGroupARN != "" {
		m.MasterTargetGroupARN = types.StringValue(obs.MasterTargetGroupARN)
	}
	if obs.WriteRuleARN != "" {
		m.WriteRuleARN = types.StringValue(obs.WriteRuleARN)
	}
}

// flattenObserved sets the plan's computed values from what Apply returned.
func (m *clonePoolResourceModel) flattenObserved(obs pool.Observed) {
	if obs.LaunchTemplateID != "" {
		m.LaunchTemplateID = types.StringValue(obs.LaunchTemplateID)
		m.LaunchTemplateVersion = types.Int64Value(obs.LaunchTemplateVersion)
	}
	if m.DesiredCapacity.IsUnknown() && obs.GroupExists {
		m.DesiredCapacity = types.Int64Value(obs.DesiredCapacity)
	}
	if obs.GroupExists {
		m.OutdatedInstanceIDs = listValue(nil)
	}
	m.MasterTargetGroupARN, m.WriteRuleARN = stringOrNull(obs.MasterTargetGroupARN), stringOrNull(obs.WriteRuleARN)
	if pm := m.master(); pm != nil && pm.RulePriority.IsUnknown() && obs.WriteRulePriority > 0 {
		pm.RulePriority = types.Int64Value(obs.WriteRulePriority)
	}
	if obs.FleetRead {
		m.InstanceIDs = listValue(obs.InstanceIDs)
		m.HealthyCount = types.Int64Value(obs.HealthyCount)
	}
}

// expand is the plan in plain values.
func (r *ClonePoolResource) expand(ctx context.Context, m *clonePoolResourceModel) (pool.Desired, error) {
	d := pool.Desired{
		Name: m.Name.ValueString(),
		Template: pool.TemplateInput{
			ImageID: m.ImageID.ValueString(), InstanceType: m.InstanceType.ValueString(),
			KeyName: m.KeyName.ValueString(), IAMInstanceProfile: m.IAMInstanceProfile.ValueString(),
			UserData: m.UserData.ValueString(),
		},
		NewVersion:     m.LaunchTemplateVersion.IsUnknown(),
		MinSize:        m.MinSize.ValueInt64(),
		MaxSize:        m.MaxSize.ValueInt64(),
		SyncPolicyID:   m.SyncPolicyID.ValueString(),
		Rolling:        m.rolling(),
		WaitForHealthy: m.WaitForHealthy.ValueBool(),
		RefreshFleet:   m.InstanceIDs.IsUnknown() || m.HealthyCount.IsUnknown(),
		RecoverAction:  pool.RecoverAction(r.partition(), r.client.Region),
		Master:         m.master().expand(ctx),
		Scaling:        expandScaling(m.Name.ValueString(), m.Scaling),
	}
	d.DesiredCapacity = d.MinSize
	if !m.DesiredCapacity.IsNull() && !m.DesiredCapacity.IsUnknown() {
		d.DesiredCapacity = m.DesiredCapacity.ValueInt64()
	}
	var diags diag.Diagnostics
	diags.Append(m.SubnetIDs.ElementsAs(ctx, &d.SubnetIDs, false)...)
	diags.Append(elementsOf(ctx, m.SecurityGroupIDs, &d.Template.SecurityGroupIDs)...)
	diags.Append(elementsOf(ctx, m.TargetGroupARNs, &d.TargetGroupARNs)...)
	diags.Append(elementsOf(ctx, m.ClassicELBNames, &d.ClassicELBNames)...)
	tags, moreDiags := stringMap(ctx, m.TagsAll)
	diags.Append(moreDiags...)
	if diags.HasError() {
		return d, fmt.Errorf("reading the plan: %v", diags)
	}
	d.Tags = tags
	return d, nil
}

// expandPrior is state in plain values: what the last apply asked and
// observed, and where the pool registered the master.
func (r *ClonePoolResource) expandPrior(ctx context.Context, s *clonePoolResourceModel, regs []pool.Registration) (*pool.Prior, error) {
	d, err := r.expand(ctx, s)
	if err != nil {
		return nil, err
	}
	var outdated []string
	_ = s.OutdatedInstanceIDs.ElementsAs(ctx, &outdated, false)
	return &pool.Prior{Desired: d, Observed: pool.Observed{
		LaunchTemplateID:      s.LaunchTemplateID.ValueString(),
		LaunchTemplateVersion: s.LaunchTemplateVersion.ValueInt64(),
		OutdatedInstanceIDs:   outdated,
		MasterTargetGroupARN:  s.MasterTargetGroupARN.ValueString(),
		WriteRuleARN:          s.WriteRuleARN.ValueString(),
		Registrations:         regs,
		// Read clears the sizes when the group is gone.
		GroupExists: !s.MinSize.IsNull(),
	}}, nil
}

// elementsOf reads a set of strings, sorted; null is none.
func elementsOf(ctx context.Context, set types.Set, out *[]string) diag.Diagnostics {
	if set.IsNull() || set.IsUnknown() {
		return nil
	}
	diags := set.ElementsAs(ctx, out, false)
	slices.Sort(*out)
	return diags
}

func (pm *clonePoolMasterModel) expand(ctx context.Context) *pool.MasterSettings {
	if pm == nil {
		return nil
	}
	m := &pool.MasterSettings{
		InstanceID:            pm.InstanceID.ValueString(),
		AttachToLoadBalancers: pm.AttachToLoadBalancers.ValueBool(),
		ListenerARN:           pm.ListenerARN.ValueString(),
		RulePriority:          pm.RulePriority.ValueInt64(),
		EnvFile:               pm.EnvFile.ValueString(),
		RecoveryAlarm:         pm.RecoveryAlarm.ValueBool(),
	}
	if !pm.WritePaths.IsNull() {
		_ = pm.WritePaths.ElementsAs(ctx, &m.WritePaths, false)
	}
	for _, v := range pm.DisableServices.Elements() {
		if s, ok := v.(types.String); ok && !s.IsUnknown() {
			m.DisableServices = append(m.DisableServices, s.ValueString())
		}
	}
	return m
}

func expandScaling(poolName string, sc *clonePoolScalingModel) *pool.ScalingSettings {
	if sc == nil {
		return nil
	}
	out := &pool.ScalingSettings{}
	if !sc.TargetCPUPercent.IsNull() && !sc.TargetCPUPercent.IsUnknown() {
		v := sc.TargetCPUPercent.ValueFloat64()
		out.TargetCPUPercent = &v
	}
	for i, s := range sc.Schedule {
		out.Schedules = append(out.Schedules, expandSchedule(poolName, i, s))
	}
	return out
}

func expandSchedule(poolName string, index int, s clonePoolScheduleModel) pool.Schedule {
	size := func(v types.Int64) int64 {
		if v.IsNull() || v.IsUnknown() {
			return -1
		}
		return v.ValueInt64()
	}
	return pool.Schedule{
		Name:       pool.ScheduleName(poolName, pool.ScheduleKey(s.Name.ValueString(), index)),
		Recurrence: s.Recurrence.ValueString(),
		MinSize:    size(s.MinSize), MaxSize: size(s.MaxSize), Desired: size(s.DesiredCapacity),
	}
}

// rolling is rolling_update with its defaults.
func (m *clonePoolResourceModel) rolling() pool.RollingSettings {
	out := pool.RollingSettings{BatchSize: defaultBatchSize, MinHealthyPercent: defaultMinHealthyPercent, Rollback: true}
	out.HealthTimeout, _ = time.ParseDuration(defaultHealthTimeout)
	ru := m.RollingUpdate
	if ru == nil {
		return out
	}
	if v := ru.BatchSize; !v.IsNull() && !v.IsUnknown() {
		out.BatchSize = int(v.ValueInt64())
	}
	if v := ru.MinHealthyPercent; !v.IsNull() && !v.IsUnknown() {
		out.MinHealthyPercent = int(v.ValueInt64())
	}
	if d, err := time.ParseDuration(ru.HealthTimeout.ValueString()); err == nil && d > 0 {
		out.HealthTimeout = d
	}
	if v := ru.RollbackOnFailure; !v.IsNull() && !v.IsUnknown() {
		out.Rollback = v.ValueBool()
	}
	return out
}

func (r *ClonePoolResource) partition() string {
	if r.client.Partition != "" {
		return r.client.Partition
	}
	return "aws"
}
