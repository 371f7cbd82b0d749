package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
)

// privateMasterRegistrations records where the pool itself registered the
// master, so destroy deregisters it only there.
const privateMasterRegistrations = "master_registrations"

// masterRegistration is one load balancer the pool registered the master in.
type masterRegistration struct {
	Kind       string `json:"kind"`
	Target     string `json:"target"`
	InstanceID string `json:"instance_id"`
}

func getRegistrations(ctx context.Context, p interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}) ([]masterRegistration, diag.Diagnostics) {
	raw, diags := p.GetKey(ctx, privateMasterRegistrations)
	if diags.HasError() || len(raw) == 0 {
		return nil, diags
	}
	var regs []masterRegistration
	if err := json.Unmarshal(raw, &regs); err != nil {
		diags.AddError("Reading Clone Pool private state", err.Error())
	}
	return regs, diags
}

func setRegistrations(ctx context.Context, p interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}, regs []masterRegistration) diag.Diagnostics {
	if regs == nil {
		regs = []masterRegistration{}
	}
	raw, _ := json.Marshal(regs)
	return p.SetKey(ctx, privateMasterRegistrations, raw)
}

func (r *ClonePoolResource) applyMaster(ctx context.Context, plan, prior *clonePoolResourceModel, master *pool.Master, in poolInput, regs []masterRegistration, tags map[string]string) ([]masterRegistration, error) {
	c := r.clients()
	pm := plan.master()
	var om *clonePoolMasterModel
	if prior != nil {
		om = prior.master()
	}
	names := pool.NamesFor(plan.Name.ValueString())

	want := map[masterRegistration]bool{}
	if pm != nil && pm.AttachToLoadBalancers.ValueBool() {
		for _, t := range pool.Targets(in.targetGroups, in.classicELBs) {
			want[masterRegistration{Kind: t.Kind, Target: t.ID, InstanceID: pm.InstanceID.ValueString()}] = true
		}
	}
	var kept []masterRegistration
	for _, reg := range regs {
		if want[reg] {
			kept = append(kept, reg)
			delete(want, reg)
			continue
		}
		if err := r.deregisterMaster(ctx, reg); err != nil {
			return append(kept, reg), err
		}
	}
	if len(want) > 0 {
		var check []poolhealth.Target
		for reg := range want {
			check = append(check, poolhealth.Target{Kind: reg.Kind, ID: reg.Target, Name: reg.Target})
		}
		report, err := c.Health(ctx, check)
		if err != nil {
			return kept, err
		}
		for _, th := range report.Targets {
			id := pm.InstanceID.ValueString()
			if th.Instances[id].Active {
				continue
			}
			tflog.Info(ctx, "registering the master", map[string]any{"target": th.Target.ID, "instance_id": id})
			if err := c.Register(ctx, []poolhealth.Target{th.Target}, []string{id}); err != nil {
				return kept, err
			}
			kept = append(kept, masterRegistration{Kind: th.Target.Kind, Target: th.Target.ID, InstanceID: id})
		}
	}
	slices.SortFunc(kept, func(a, b masterRegistration) int { return strings.Compare(a.Kind+a.Target, b.Kind+b.Target) })

	if err := r.applyWriteRule(ctx, plan, prior, pm, om, master, in, names, tags); err != nil {
		return kept, err
	}

	tagsChanged := prior != nil && !prior.TagsAll.Equal(plan.TagsAll)
	switch {
	case pm != nil && pm.RecoveryAlarm.ValueBool():
		if om == nil || !om.RecoveryAlarm.ValueBool() || !om.InstanceID.Equal(pm.InstanceID) || tagsChanged {
			if tagsChanged {
				if err := pool.DeleteAlarm(ctx, r.client.CloudWatch, names.RecoveryAlarm); err != nil {
					return kept, err
				}
			}
			tflog.Info(ctx, "putting the master's recovery alarm", map[string]any{"alarm": names.RecoveryAlarm})
			if err := pool.PutAlarm(ctx, r.client.CloudWatch, pool.RecoveryAlarm{
				Name: names.RecoveryAlarm, InstanceID: pm.InstanceID.ValueString(),
				Action: pool.RecoverAction(r.partition(), r.client.Region),
			}, tags); err != nil {
				return kept, err
			}
		}
	case om != nil && om.RecoveryAlarm.ValueBool():
		if err := pool.DeleteAlarm(ctx, r.client.CloudWatch, names.RecoveryAlarm); err != nil {
			return kept, err
		}
	}
	return kept, nil
}

func (r *ClonePoolResource) applyWriteRule(ctx context.Context, plan, prior *clonePoolResourceModel, pm, om *clonePoolMasterModel, master *pool.Master, in poolInput, names pool.Names, tags map[string]string) error {
	priorTG, priorRule := "", ""
	if prior != nil {
		priorTG, priorRule = prior.MasterTargetGroupARN.ValueString(), prior.WriteRuleARN.ValueString()
	}
	if pm == nil || pm.WritePaths.IsNull() {
		if err := r.deleteWriteRule(ctx, priorRule, priorTG); err != nil {
			return err
		}
		plan.MasterTargetGroupARN = types.StringNull()
		plan.WriteRuleARN = types.StringNull()
		return nil
	}

	tgARN := ""
	if priorTG != "" {
		if _, err := pool.FindTargetGroup(ctx, r.client.ELBV2, priorTG); err == nil {
			tgARN = priorTG
		} else if !errors.Is(err, pool.ErrNotFound) {
			return err
		}
	}
	if tgARN == "" {
		found, err := pool.FindTargetGroupByName(ctx, r.client.ELBV2, names.MasterTargetGroup)
		switch {
		case err == nil:
			tgARN = aws.ToString(found.TargetGroupArn)
		case !errors.Is(err, pool.ErrNotFound):
			return err
		default:
			var like *elbv2types.TargetGroup
			if len(in.targetGroups) > 0 {
				tg, err := pool.FindTargetGroup(ctx, r.client.ELBV2, in.targetGroups[0])
				if err != nil {
					return err
				}
				like = &tg
			}
			tflog.Info(ctx, "creating the master target group", map[string]any{"name": names.MasterTargetGroup})
			tgARN, err = pool.CreateMasterTargetGroup(ctx, r.client.ELBV2, pool.MasterTargetGroupInput{
				Name: names.MasterTargetGroup, VpcID: master.VpcID, Like: like, Tags: tags,
			})
			if err != nil {
				return err
			}
		}
	}
	plan.MasterTargetGroupARN = types.StringValue(tgARN)
	mt := []poolhealth.Target{{Kind: poolhealth.KindTargetGroup, ID: tgARN, Name: names.MasterTargetGroup}}
	if om != nil && !om.InstanceID.Equal(pm.InstanceID) {
		if err := r.clients().Deregister(ctx, mt, []string{om.InstanceID.ValueString()}); err != nil {
			return err
		}
	}
	if err := r.clients().Register(ctx, mt, []string{pm.InstanceID.ValueString()}); err != nil {
		return err
	}

	var paths []string
	if diags := pm.WritePaths.ElementsAs(ctx, &paths, false); diags.HasError() {
		return fmt.Errorf("reading master.write_paths: %v", diags)
	}
	rule := pool.Rule{
		ListenerARN: pm.ListenerARN.ValueString(), Priority: pm.RulePriority.ValueInt64(),
		PathPatterns: paths, TargetGroupARN: tgARN,
	}
	if priorRule != "" && om != nil && om.ListenerARN.Equal(pm.ListenerARN) {
		existing, err := pool.FindRule(ctx, r.client.ELBV2, priorRule, rule.ListenerARN)
		switch {
		case err == nil:
			rule.ARN = priorRule
			if !slices.Equal(existing.PathPatterns, paths) || existing.TargetGroupARN != tgARN || existing.Priority != rule.Priority {
				tflog.Info(ctx, "modifying the write rule", map[string]any{"rule_arn": priorRule})
				if err := pool.ModifyRule(ctx, r.client.ELBV2, rule, existing.Priority != rule.Priority); err != nil {
					return err
				}
			}
		case !errors.Is(err, pool.ErrNotFound):
			return err
		}
	} else if priorRule != "" {
		if err := pool.DeleteRule(ctx, r.client.ELBV2, priorRule); err != nil {
			return err
		}
	}
	if rule.ARN == "" {
		tflog.Info(ctx, "creating the write rule", map[string]any{"listener_arn": rule.ListenerARN, "priority": rule.Priority, "paths": paths})
		arn, err := pool.CreateRule(ctx, r.client.ELBV2, rule, tags)
		if err != nil {
			return err
		}
		rule.ARN = arn
	}
	plan.WriteRuleARN = types.StringValue(rule.ARN)

	if prior != nil && !prior.TagsAll.Equal(plan.TagsAll) {
		oldTags := r.ownTags(plan.Name.ValueString(), mustStringMap(ctx, prior.TagsAll))
		if err := pool.RetagELBV2(ctx, r.client.ELBV2, []string{tgARN, rule.ARN}, oldTags, tags); err != nil {
			return err
		}
	}
	return nil
}

// deregisterMaster takes the master out of one load balancer the pool
// registered it in.
func (r *ClonePoolResource) deregisterMaster(ctx context.Context, reg masterRegistration) error {
	tflog.Info(ctx, "deregistering the master where the pool registered it", map[string]any{"target": reg.Target, "instance_id": reg.InstanceID})
	return r.clients().Deregister(ctx, []poolhealth.Target{{Kind: reg.Kind, ID: reg.Target, Name: reg.Target}}, []string{reg.InstanceID})
}

// deleteWriteRule deletes the write rule, then the master target group it
// forwards to; an empty ARN is skipped.
func (r *ClonePoolResource) deleteWriteRule(ctx context.Context, ruleARN, tgARN string) error {
	if ruleARN != "" {
		tflog.Info(ctx, "deleting the write rule", map[string]any{"rule_arn": ruleARN})
		if err := pool.DeleteRule(ctx, r.client.ELBV2, ruleARN); err != nil {
			return err
		}
	}
	if tgARN != "" {
		tflog.Info(ctx, "deleting the master target group", map[string]any{"target_group_arn": tgARN})
		if err := pool.DeleteTargetGroup(ctx, r.client.ELBV2, tgARN); err != nil {
			return err
		}
	}
	return nil
}

func (r *ClonePoolResource) partition() string {
	if r.client.Partition != "" {
		return r.client.Partition
	}
	return "aws"
}
