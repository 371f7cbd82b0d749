package pool

import (
	"context"
	"fmt"
	"slices"
	"strings"

	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
)

// applyMaster registers the master where d wants it and deregisters it
// where the pool registered it and d no longer wants it, then converges the
// write rule and the recovery alarm.
func (a *applier) applyMaster(ctx context.Context) error {
	if err := a.applyRegistrations(ctx); err != nil {
		return err
	}
	if err := a.applyWriteRule(ctx); err != nil {
		return err
	}
	return a.applyAlarm(ctx)
}

func (a *applier) applyRegistrations(ctx context.Context) error {
	m := a.d.Master
	want := map[Registration]bool{}
	if m != nil && m.AttachToLoadBalancers {
		for _, t := range a.targets() {
			want[Registration{Kind: t.Kind, Target: t.ID, InstanceID: m.InstanceID}] = true
		}
	}
	// Read clears attach_to_load_balancers in state when it finds the
	// master out of a load balancer: then the registrations the pool made
	// are checked again, not trusted.
	om := a.priorMaster()
	recheck := om != nil && !om.AttachToLoadBalancers
	had := a.obs.Registrations
	a.obs.Registrations = nil
	for i, reg := range had {
		if want[reg] {
			a.obs.Registrations = append(a.obs.Registrations, reg)
			if !recheck {
				delete(want, reg)
			}
			continue
		}
		if err := deregisterMaster(ctx, a.c, reg, a.log); err != nil {
			a.obs.Registrations = append(a.obs.Registrations, had[i:]...)
			return err
		}
	}
	defer a.sortRegistrations()
	if len(want) == 0 {
		return nil
	}
	var check []poolhealth.Target
	for reg := range want {
		check = append(check, poolhealth.Target{Kind: reg.Kind, ID: reg.Target, Name: reg.Target})
	}
	report, err := a.c.Health(ctx, check)
	if err != nil {
		return err
	}
	for _, th := range report.Targets {
		if th.Instances[m.InstanceID].Active {
			continue
		}
		a.log(fmt.Sprintf("registering the master %s in %s", m.InstanceID, th.Target.ID))
		if err := a.c.Register(ctx, []poolhealth.Target{th.Target}, []string{m.InstanceID}); err != nil {
			return err
		}
		if reg := (Registration{Kind: th.Target.Kind, Target: th.Target.ID, InstanceID: m.InstanceID}); !slices.Contains(a.obs.Registrations, reg) {
			a.obs.Registrations = append(a.obs.Registrations, reg)
		}
	}
	return nil
}

func (a *applier) sortRegistrations() {
	slices.SortFunc(a.obs.Registrations, func(x, y Registration) int { return strings.Compare(x.Kind+x.Target, y.Kind+y.Target) })
}

// deregisterMaster takes the master out of one load balancer the pool
// registered it in.
func deregisterMaster(ctx context.Context, c Balancers, reg Registration, log func(string)) error {
	log(fmt.Sprintf("deregistering the master %s from %s, where the pool registered it", reg.InstanceID, reg.Target))
	return c.Deregister(ctx, []poolhealth.Target{{Kind: reg.Kind, ID: reg.Target, Name: reg.Target}}, []string{reg.InstanceID})
}

// priorMaster is the master block state held, nil without one.
func (a *applier) priorMaster() *MasterSettings {
	if a.prior == nil {
		return nil
	}
	return a.prior.Master
}

// applyWriteRule puts the master-only target group, the master in it and
// the listener rule forwarding write paths to it; or deletes the rule, then
// the target group, when d has no write paths.
func (a *applier) applyWriteRule(ctx context.Context) error {
	m, om := a.d.Master, a.priorMaster()
	if m == nil || len(m.WritePaths) == 0 {
		err := deleteWriteRule(ctx, a.c, a.obs.WriteRuleARN, a.obs.MasterTargetGroupARN, a.log)
		if err == nil {
			a.obs.WriteRuleARN, a.obs.MasterTargetGroupARN = "", ""
		}
		return err
	}
	tgARN, err := a.masterTargetGroup(ctx)
	if err != nil {
		return err
	}
	a.obs.MasterTargetGroupARN = tgARN
	mt := []poolhealth.Target{{Kind: poolhealth.KindTargetGroup, ID: tgARN, Name: NamesFor(a.d.Name).MasterTargetGroup}}
	if om != nil && om.InstanceID != m.InstanceID {
		if err := a.c.Deregister(ctx, mt, []string{om.InstanceID}); err != nil {
			return err
		}
	}
	if err := a.c.Register(ctx, mt, []string{m.InstanceID}); err != nil {
		return err
	}
	rule := Rule{ListenerARN: m.ListenerARN, Priority: m.RulePriority, PathPatterns: m.WritePaths, TargetGroupARN: tgARN}
	if rule.ARN, err = a.keepRule(ctx, rule); err != nil {
		return err
	}
	if rule.ARN == "" {
		a.log(fmt.Sprintf("creating the write rule on %s at priority %d for %v", rule.ListenerARN, rule.Priority, rule.PathPatterns))
		if rule.ARN, err = a.c.CreateRule(ctx, rule, a.tags); err != nil {
			return err
		}
	}
	a.obs.WriteRuleARN = rule.ARN
	if a.tagsChanged() {
		return a.c.RetagELBV2(ctx, []string{tgARN, rule.ARN}, OwnTags(a.d.Name, a.prior.Tags), a.tags)
	}
	return nil
}

// masterTargetGroup finds the master-only target group state holds (or
// claimNames took over), or creates it like the pool's first target group.
func (a *applier) masterTargetGroup(ctx context.Context) (string, error) {
	if arn := a.obs.MasterTargetGroupARN; arn != "" {
		if _, err := a.c.FindTargetGroup(ctx, arn); err == nil {
			return arn, nil
		} else if !notfound.Is(err) {
			return "", err
		}
	}
	name := NamesFor(a.d.Name).MasterTargetGroup
	var like *elbv2types.TargetGroup
	if len(a.d.TargetGroupARNs) > 0 {
		tg, err := a.c.FindTargetGroup(ctx, a.d.TargetGroupARNs[0])
		if err != nil {
			return "", err
		}
		like = &tg
	}
	a.log("creating the master target group " + name)
	return a.c.CreateMasterTargetGroup(ctx, MasterTargetGroupInput{Name: name, VpcID: a.master.VpcID, Like: like, Tags: a.tags})
}

// keepRule returns the ARN of the write rule state holds (or claimNames
// took over), modified to match want, or "" when there is none to keep: it
// is gone, or it is on another listener (then it is deleted).
func (a *applier) keepRule(ctx context.Context, want Rule) (string, error) {
	arn, om := a.obs.WriteRuleARN, a.priorMaster()
	if arn == "" {
		return "", nil
	}
	if om != nil && om.ListenerARN != want.ListenerARN {
		return "", a.c.DeleteRule(ctx, arn)
	}
	existing, err := a.c.FindRule(ctx, arn, want.ListenerARN)
	if notfound.Is(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	want.ARN = arn
	if !slices.Equal(existing.PathPatterns, want.PathPatterns) || existing.TargetGroupARN != want.TargetGroupARN || existing.Priority != want.Priority {
		a.log("modifying the write rule " + arn)
		if err := a.c.ModifyRule(ctx, want, existing.Priority != want.Priority); err != nil {
			return "", err
		}
	}
	return arn, nil
}

// deleteWriteRule deletes the write rule, then the master target group it
// forwards to; an empty ARN is skipped.
func deleteWriteRule(ctx context.Context, c Routing, ruleARN, tgARN string, log func(string)) error {
	if ruleARN != "" {
		log("deleting the write rule " + ruleARN)
		if err := c.DeleteRule(ctx, ruleARN); err != nil {
			return err
		}
	}
	if tgARN != "" {
		log("deleting the master target group " + tgARN)
		if err := c.DeleteTargetGroup(ctx, tgARN); err != nil {
			return err
		}
	}
	return nil
}

// applyAlarm puts the master's recovery alarm when d wants one and it is
// new, watches another master or its tags changed (then it is deleted
// first); deletes it when d no longer wants it.
func (a *applier) applyAlarm(ctx context.Context) error {
	m, om := a.d.Master, a.priorMaster()
	name := NamesFor(a.d.Name).RecoveryAlarm
	had := om != nil && om.RecoveryAlarm
	switch {
	case m != nil && m.RecoveryAlarm:
		if had && om.InstanceID == m.InstanceID && !a.tagsChanged() {
			return nil
		}
		if a.tagsChanged() && had {
			if err := a.c.DeleteAlarm(ctx, name); err != nil {
				return err
			}
		}
		a.log("putting the master's recovery alarm " + name)
		return a.c.PutAlarm(ctx, RecoveryAlarm{Name: name, InstanceID: m.InstanceID, Action: a.d.RecoverAction, InstanceType: a.master.InstanceType}, a.tags)
	case had:
		return a.c.DeleteAlarm(ctx, name)
	}
	return nil
}
