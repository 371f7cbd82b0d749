package provider

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

// applyScaling puts the target tracking policy and the scheduled actions of
// plan and deletes those it no longer has.
func (r *ClonePoolResource) applyScaling(ctx context.Context, plan, prior *clonePoolResourceModel) error {
	if prior != nil && scalingEqual(plan.Scaling, prior.Scaling) {
		return nil
	}
	name := plan.Name.ValueString()
	group := pool.NamesFor(name).Group
	if len(plan.Scaling) == 0 {
		return r.deleteScaling(ctx, name, nil)
	}
	sc := plan.Scaling[0]
	policy := pool.CPUPolicyName(name)
	if sc.TargetCPUPercent.IsNull() {
		if err := pool.DeletePolicy(ctx, r.client.AutoScaling, group, policy); err != nil {
			return err
		}
	} else {
		tflog.Info(ctx, "putting the target tracking policy", map[string]any{"policy": policy, "target_cpu_percent": sc.TargetCPUPercent.ValueFloat64()})
		if err := pool.PutCPUPolicy(ctx, r.client.AutoScaling, group, pool.CPUPolicy{Name: policy, TargetPercent: sc.TargetCPUPercent.ValueFloat64()}); err != nil {
			return err
		}
	}
	keep := map[string]bool{}
	for i, s := range sc.Schedule {
		action := expandSchedule(name, i, s)
		keep[action.Name] = true
		tflog.Info(ctx, "putting a scheduled action", map[string]any{"scheduled_action": action.Name, "recurrence": action.Recurrence})
		if err := pool.PutSchedule(ctx, r.client.AutoScaling, group, action); err != nil {
			return err
		}
	}
	return r.deleteSchedules(ctx, name, keep)
}

// deleteScaling deletes the pool's policy and every scheduled action named
// after the pool.
func (r *ClonePoolResource) deleteScaling(ctx context.Context, name string, keep map[string]bool) error {
	if err := pool.DeletePolicy(ctx, r.client.AutoScaling, pool.NamesFor(name).Group, pool.CPUPolicyName(name)); err != nil {
		return err
	}
	return r.deleteSchedules(ctx, name, keep)
}

func (r *ClonePoolResource) deleteSchedules(ctx context.Context, name string, keep map[string]bool) error {
	group := pool.NamesFor(name).Group
	existing, err := pool.ListSchedules(ctx, r.client.AutoScaling, group, pool.ScheduleName(name, ""))
	if err != nil {
		return err
	}
	for _, s := range existing {
		if keep[s.Name] {
			continue
		}
		tflog.Info(ctx, "deleting a scheduled action", map[string]any{"scheduled_action": s.Name})
		if err := pool.DeleteSchedule(ctx, r.client.AutoScaling, group, s.Name); err != nil {
			return err
		}
	}
	return nil
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

func scalingEqual(a, b []clonePoolScalingModel) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	if !a[0].TargetCPUPercent.Equal(b[0].TargetCPUPercent) || len(a[0].Schedule) != len(b[0].Schedule) {
		return false
	}
	for i := range a[0].Schedule {
		x, y := a[0].Schedule[i], b[0].Schedule[i]
		if !x.Name.Equal(y.Name) || !x.Recurrence.Equal(y.Recurrence) || !x.MinSize.Equal(y.MinSize) ||
			!x.MaxSize.Equal(y.MaxSize) || !x.DesiredCapacity.Equal(y.DesiredCapacity) {
			return false
		}
	}
	return true
}

// readScaling refreshes the scaling block: a deleted policy clears
// target_cpu_percent, a deleted scheduled action drops its schedule.
func (r *ClonePoolResource) readScaling(ctx context.Context, m *clonePoolResourceModel) error {
	if len(m.Scaling) == 0 {
		return nil
	}
	name := m.ID.ValueString()
	group := pool.NamesFor(name).Group
	sc := &m.Scaling[0]
	if !sc.TargetCPUPercent.IsNull() {
		p, err := pool.FindCPUPolicy(ctx, r.client.AutoScaling, group, pool.CPUPolicyName(name))
		switch {
		case errors.Is(err, pool.ErrNotFound):
			tflog.Warn(ctx, "target tracking policy no longer exists; the next apply creates it again")
			sc.TargetCPUPercent = types.Float64Null()
		case err != nil:
			return err
		default:
			sc.TargetCPUPercent = types.Float64Value(p.TargetPercent)
		}
	}
	if len(sc.Schedule) == 0 {
		return nil
	}
	names := make([]string, len(sc.Schedule))
	for i, s := range sc.Schedule {
		names[i] = expandSchedule(name, i, s).Name
	}
	found, err := pool.FindSchedules(ctx, r.client.AutoScaling, group, names)
	if err != nil {
		return err
	}
	kept := sc.Schedule[:0]
	for i, s := range sc.Schedule {
		a, ok := found[names[i]]
		if !ok {
			tflog.Warn(ctx, "scheduled action no longer exists; the next apply creates it again", map[string]any{"scheduled_action": names[i]})
			continue
		}
		s.Recurrence = types.StringValue(a.Recurrence)
		s.MinSize, s.MaxSize, s.DesiredCapacity = sizeOrNull(a.MinSize), sizeOrNull(a.MaxSize), sizeOrNull(a.Desired)
		kept = append(kept, s)
	}
	sc.Schedule = kept
	return nil
}

// discoverScaling finds the pool's policy and scheduled actions for import.
func (r *ClonePoolResource) discoverScaling(ctx context.Context, name string) ([]clonePoolScalingModel, error) {
	group := pool.NamesFor(name).Group
	sc := clonePoolScalingModel{TargetCPUPercent: types.Float64Null()}
	p, err := pool.FindCPUPolicy(ctx, r.client.AutoScaling, group, pool.CPUPolicyName(name))
	switch {
	case err == nil:
		sc.TargetCPUPercent = types.Float64Value(p.TargetPercent)
	case !errors.Is(err, pool.ErrNotFound):
		return nil, err
	}
	prefix := pool.ScheduleName(name, "")
	actions, err := pool.ListSchedules(ctx, r.client.AutoScaling, group, prefix)
	if err != nil {
		return nil, err
	}
	// A schedule named by its position goes back to that position; named
	// ones fill the rest in name order.
	slots := make([]*clonePoolScheduleModel, len(actions))
	var named []clonePoolScheduleModel
	for _, a := range actions {
		key := strings.TrimPrefix(a.Name, prefix)
		s := clonePoolScheduleModel{
			Name: types.StringValue(key), Recurrence: types.StringValue(a.Recurrence),
			MinSize: sizeOrNull(a.MinSize), MaxSize: sizeOrNull(a.MaxSize), DesiredCapacity: sizeOrNull(a.Desired),
		}
		if i, err := strconv.Atoi(key); err == nil && strconv.Itoa(i) == key && i < len(slots) && slots[i] == nil {
			s.Name = types.StringNull()
			slots[i] = &s
			continue
		}
		named = append(named, s)
	}
	for _, slot := range slots {
		if slot == nil && len(named) > 0 {
			slot, named = &named[0], named[1:]
		}
		if slot != nil {
			sc.Schedule = append(sc.Schedule, *slot)
		}
	}
	if sc.TargetCPUPercent.IsNull() && len(sc.Schedule) == 0 {
		return nil, nil
	}
	return []clonePoolScalingModel{sc}, nil
}

func sizeOrNull(v int64) types.Int64 {
	if v < 0 {
		return types.Int64Null()
	}
	return types.Int64Value(v)
}
