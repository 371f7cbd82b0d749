package pool

import (
	"context"
	"fmt"
	"slices"
)

// applyScaling puts the target tracking policy and the scheduled actions of
// d and deletes those it no longer has; nothing when the scaling block did
// not change and the group existed before (AWS deletes a group's policies
// and scheduled actions with it, so a group created again after a deletion
// out of band gets them again).
func (a *applier) applyScaling(ctx context.Context) error {
	if a.prior != nil && a.prior.GroupExists && scalingEqual(a.d.Scaling, a.prior.Scaling) {
		return nil
	}
	name, sc := a.d.Name, a.d.Scaling
	if sc == nil {
		return deleteScaling(ctx, a.c, name, nil, a.log)
	}
	policy := CPUPolicyName(name)
	if sc.TargetCPUPercent == nil {
		if err := a.c.DeletePolicy(ctx, name, policy); err != nil {
			return err
		}
	} else {
		a.log(fmt.Sprintf("putting the target tracking policy %s at %g%% CPU", policy, *sc.TargetCPUPercent))
		if err := a.c.PutCPUPolicy(ctx, name, CPUPolicy{Name: policy, TargetPercent: *sc.TargetCPUPercent}); err != nil {
			return err
		}
	}
	keep := map[string]bool{}
	for _, s := range sc.Schedules {
		keep[s.Name] = true
		a.log(fmt.Sprintf("putting the scheduled action %s (%s)", s.Name, s.Recurrence))
		if err := a.c.PutSchedule(ctx, name, s); err != nil {
			return err
		}
	}
	return deleteSchedules(ctx, a.c, name, keep, a.log)
}

func scalingEqual(x, y *ScalingSettings) bool {
	if x == nil || y == nil {
		return x == y
	}
	samePolicy := (x.TargetCPUPercent == nil) == (y.TargetCPUPercent == nil) &&
		(x.TargetCPUPercent == nil || *x.TargetCPUPercent == *y.TargetCPUPercent)
	return samePolicy && slices.Equal(x.Schedules, y.Schedules)
}

// deleteScaling deletes the pool's policy and every scheduled action named
// after the pool but those in keep.
func deleteScaling(ctx context.Context, c Policies, name string, keep map[string]bool, log func(string)) error {
	if err := c.DeletePolicy(ctx, NamesFor(name).Group, CPUPolicyName(name)); err != nil {
		return err
	}
	return deleteSchedules(ctx, c, name, keep, log)
}

func deleteSchedules(ctx context.Context, c Policies, name string, keep map[string]bool, log func(string)) error {
	group := NamesFor(name).Group
	existing, err := c.ListSchedules(ctx, group, ScheduleName(name, ""))
	if err != nil {
		return err
	}
	for _, s := range existing {
		if keep[s.Name] {
			continue
		}
		log("deleting the scheduled action " + s.Name)
		if err := c.DeleteSchedule(ctx, group, s.Name); err != nil {
			return err
		}
	}
	return nil
}
