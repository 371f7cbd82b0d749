package pool

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

// ForeignError is returned, before anything is created or changed, when a
// name the pool would give one of its objects is taken by an object the
// pool did not create: one without the pool's TagPool tag naming it. The
// pool never adopts, changes or deletes such an object.
type ForeignError struct {
	Pool string
	// Kind and Name are the object's kind and name in AWS's words, ID its
	// id or ARN.
	Kind, Name, ID string
	// Owner is the pool its TagPool tag names, "" when it has none.
	Owner string
}

func (e *ForeignError) Error() string {
	tag := fmt.Sprintf("it has no %s tag", TagPool)
	if e.Owner != "" {
		tag = fmt.Sprintf("its %s tag names pool %q", TagPool, e.Owner)
	}
	return fmt.Sprintf("%s %s (%s) already exists and was not created by Clone Pool (%s): %s. "+
		"The pool never adopts, changes or deletes an object it did not create: delete or rename that %s, or give the pool another name",
		e.Kind, e.Name, e.ID, e.Pool, tag, e.Kind)
}

// owned tells whether tags mark an object as the named pool's own.
func owned(pool string, tags map[string]string) bool { return tags[TagPool] == pool }

// claim returns a ForeignError unless tags mark the object as the pool's.
func claim(pool, kind, name, id string, tags map[string]string) error {
	if owned(pool, tags) {
		return nil
	}
	return &ForeignError{Pool: pool, Kind: kind, Name: name, ID: id, Owner: tags[TagPool]}
}

// claimNames runs before Apply changes anything. Every object the pool
// is about to create under its own names, because state does not hold it
// (a create, or one deleted out of band), either does not exist, or is the
// pool's own, left by an apply interrupted before state was saved; those
// are taken over (their ids go to a.obs). Anything else is a ForeignError.
// It costs a describe call per object state does not hold, none otherwise.
func (a *applier) claimNames(ctx context.Context) error {
	if a.prior == nil || !a.prior.GroupExists {
		name := NamesFor(a.d.Name).Group
		g, err := a.c.FindGroup(ctx, name)
		switch {
		case err == nil:
			if err := claim(a.d.Name, "Auto Scaling group", g.Name, g.Name, g.Tags); err != nil {
				return err
			}
		case !notfound.Is(err):
			return err
		}
	}
	if a.obs.LaunchTemplateID == "" {
		if err := a.claimTemplate(ctx); err != nil {
			return err
		}
	}
	m, om := a.d.Master, a.priorMaster()
	if m != nil && len(m.WritePaths) > 0 && a.obs.MasterTargetGroupARN == "" {
		if err := a.claimMasterTargetGroup(ctx); err != nil {
			return err
		}
		// The write rule has no name: the pool's own is the rule of the
		// listener forwarding to the pool's own master target group. Taken
		// over, a new rule does not collide with it (PriorityInUse).
		if tg := a.obs.MasterTargetGroupARN; tg != "" && a.obs.WriteRuleARN == "" {
			rule, err := a.c.FindRuleForwardingTo(ctx, m.ListenerARN, tg)
			switch {
			case err == nil:
				a.obs.WriteRuleARN = rule.ARN
			case !notfound.Is(err):
				return err
			}
		}
	}
	if m != nil && m.RecoveryAlarm && (om == nil || !om.RecoveryAlarm) {
		if err := ownAlarm(ctx, a.c, a.d.Name); err != nil {
			return err
		}
	}
	return nil
}

// claimTemplate takes over the pool's own launch template found by name.
func (a *applier) claimTemplate(ctx context.Context) error {
	name := NamesFor(a.d.Name).LaunchTemplate
	id, tags, err := a.c.FindTemplateByName(ctx, name)
	switch {
	case notfound.Is(err):
		return nil
	case err != nil:
		return err
	}
	if err := claim(a.d.Name, "launch template", name, id, tags); err != nil {
		return err
	}
	a.obs.LaunchTemplateID = id
	return nil
}

// claimMasterTargetGroup takes over the pool's own master target group
// found by name.
func (a *applier) claimMasterTargetGroup(ctx context.Context) error {
	name := NamesFor(a.d.Name).MasterTargetGroup
	arn, err := ownTargetGroup(ctx, a.c, a.d.Name, name)
	if err == nil {
		a.obs.MasterTargetGroupARN = arn
	}
	if notfound.Is(err) {
		return nil
	}
	return err
}

// ownTargetGroup returns the ARN of the target group named name when it is
// the pool's own, a not-found error when there is none, and a ForeignError
// when it is another's.
func ownTargetGroup(ctx context.Context, c Routing, pool, name string) (string, error) {
	tg, err := c.FindTargetGroupByName(ctx, name)
	if err != nil {
		return "", err
	}
	arn := aws.ToString(tg.TargetGroupArn)
	tags, err := c.TargetGroupTags(ctx, arn)
	if err != nil {
		return "", err
	}
	return arn, claim(pool, "target group", name, arn, tags)
}

// ownAlarm returns nil when there is no alarm by the name of the pool's
// recovery alarm or it is the pool's own, and a ForeignError when it is
// another's. PutMetricAlarm replaces an alarm of the same name, so without
// this a foreign alarm would be overwritten, then deleted on destroy.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
func ownAlarm(ctx context.Context, c Alarms, pool string) error {
	name := NamesFor(pool).RecoveryAlarm
	al, tags, err := c.AlarmTags(ctx, name)
	if notfound.Is(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return claim(pool, "alarm", name, al, tags)
}
