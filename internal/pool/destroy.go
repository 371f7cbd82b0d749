package pool

import (
	"context"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

// Destroy deletes what Apply made of the pool prior describes, in the
// reverse order: the master's registrations the pool made, the write rule
// then the master target group, the recovery alarm, scaling, the group
// (its clones drained from every load balancer first: force deletion
// terminates them at once), and last the launch template. What is already
// gone is skipped, so a Destroy that failed halfway can run again. A group
// or launch template found by the pool's names is deleted only when state
// recorded it or it carries the pool's TagPool tag: what the pool did not
// create is left alone.
func Destroy(ctx context.Context, c Cloud, prior Prior, progress func(string)) error {
	log := logger(progress)
	name := prior.Name
	names := NamesFor(name)
	g, err := c.FindGroup(ctx, names.Group)
	switch {
	case notfound.Is(err):
		g.Name = ""
	case err != nil:
		return err
	case !prior.GroupExists && !owned(name, g.Tags):
		log("leaving Auto Scaling group " + g.Name + ": the pool did not create it")
		g.Name = ""
	}
	for _, reg := range prior.Registrations {
		if err := deregisterMaster(ctx, c, reg, log); err != nil {
			return err
		}
	}
	if err := deleteWriteRule(ctx, c, prior.WriteRuleARN, prior.MasterTargetGroupARN, log); err != nil {
		return err
	}
	if m := prior.Master; m != nil && m.RecoveryAlarm {
		if err := deleteAlarm(ctx, c, name, log); err != nil {
			return err
		}
	}
	if g.Name != "" {
		if err := deleteScaling(ctx, c, name, nil, log); err != nil {
			return err
		}
		if err := c.Drain(ctx, Targets(g.TargetGroupARNs, g.ClassicELBNames), g.ServingIDs(), log); err != nil {
			return err
		}
		log("deleting Auto Scaling group " + g.Name + " and terminating its clones")
		if err := c.DeleteGroup(ctx, g, log); err != nil {
			return err
		}
	}
	id := prior.LaunchTemplateID
	if id == "" {
		found, tags, err := c.FindTemplateByName(ctx, names.LaunchTemplate)
		switch {
		case notfound.Is(err):
			return nil
		case err != nil:
			return err
		case !owned(name, tags):
			log("leaving launch template " + names.LaunchTemplate + ": the pool did not create it")
			return nil
		}
		id = found
	}
	log("deleting launch template " + id)
	return c.DeleteTemplate(ctx, id)
}

// deleteAlarm deletes the pool's recovery alarm when it is there and the
// pool's own.
func deleteAlarm(ctx context.Context, c Alarms, pool string, log func(string)) error {
	name := NamesFor(pool).RecoveryAlarm
	_, tags, err := c.AlarmTags(ctx, name)
	switch {
	case notfound.Is(err):
		return nil
	case err != nil:
		return err
	case !owned(pool, tags):
		log("leaving alarm " + name + ": the pool did not create it")
		return nil
	}
	log("deleting the recovery alarm " + name)
	return c.DeleteAlarm(ctx, name)
}
