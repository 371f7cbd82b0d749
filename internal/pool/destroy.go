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
// gone is skipped, so a Destroy that failed halfway can run again.
func Destroy(ctx context.Context, c Cloud, prior Prior, progress func(string)) error {
	log := logger(progress)
	name := prior.Name
	names := NamesFor(name)
	for _, reg := range prior.Registrations {
		if err := deregisterMaster(ctx, c, reg, log); err != nil {
			return err
		}
	}
	if err := deleteWriteRule(ctx, c, prior.WriteRuleARN, prior.MasterTargetGroupARN, log); err != nil {
		return err
	}
	if m := prior.Master; m != nil && m.RecoveryAlarm {
		log("deleting the recovery alarm " + names.RecoveryAlarm)
		if err := c.DeleteAlarm(ctx, names.RecoveryAlarm); err != nil {
			return err
		}
	}
	if err := deleteScaling(ctx, c, name, nil, log); err != nil {
		return err
	}
	g, err := c.FindGroup(ctx, names.Group)
	switch {
	case notfound.Is(err):
	case err != nil:
		return err
	default:
		if err := c.Drain(ctx, Targets(g.TargetGroupARNs, g.ClassicELBNames), g.ServingIDs(), log); err != nil {
			return err
		}
		log("deleting Auto Scaling group " + g.Name + " and terminating its clones")
		if err := c.DeleteGroup(ctx, g, log); err != nil {
			return err
		}
	}
	log("deleting launch template " + names.LaunchTemplate)
	return c.DeleteTemplate(ctx, names.LaunchTemplate)
}
