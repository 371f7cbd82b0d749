package provider

import (
	"context"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

// readScaling refreshes the scaling block: a deleted policy clears
// target_cpu_percent, a deleted scheduled action drops its schedule.
func (r *ClonePoolResource) readScaling(ctx context.Context, m *clonePoolResourceModel, diags *diag.Diagnostics) error {
	sc := m.Scaling
	if sc == nil {
		return nil
	}
	name := m.ID.ValueString()
	group := pool.NamesFor(name).Group
	if !sc.TargetCPUPercent.IsNull() {
		p, err := r.cloud.FindCPUPolicy(ctx, group, pool.CPUPolicyName(name))
		switch {
		case notfound.Is(err):
			warnDrift(ctx, diags, name, "target tracking policy "+pool.CPUPolicyName(name)+" no longer exists", "The next apply creates it again.")
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
	found, err := r.cloud.FindSchedules(ctx, group, names)
	if err != nil {
		return err
	}
	kept := sc.Schedule[:0]
	for i, s := range sc.Schedule {
		a, ok := found[names[i]]
		if !ok {
			warnDrift(ctx, diags, name, "scheduled action "+names[i]+" no longer exists", "The next apply creates it again.")
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
func (r *ClonePoolResource) discoverScaling(ctx context.Context, name string) (*clonePoolScalingModel, error) {
	group := pool.NamesFor(name).Group
	sc := clonePoolScalingModel{TargetCPUPercent: types.Float64Null()}
	p, err := r.cloud.FindCPUPolicy(ctx, group, pool.CPUPolicyName(name))
	switch {
	case err == nil:
		sc.TargetCPUPercent = types.Float64Value(p.TargetPercent)
	case !notfound.Is(err):
		return nil, err
	}
	prefix := pool.ScheduleName(name, "")
	actions, err := r.cloud.ListSchedules(ctx, group, prefix)
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
	return &sc, nil
}

func sizeOrNull(v int64) types.Int64 {
	if v < 0 {
		return types.Int64Null()
	}
	return types.Int64Value(v)
}
