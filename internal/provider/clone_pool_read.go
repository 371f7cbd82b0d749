package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

// read refreshes m from AWS: one DescribeAutoScalingGroups, one
// DescribeLaunchTemplateVersions, one health read per attached load
// balancer, and with a master the rule, its target group and the alarm.
// gone means nothing of the pool is left. agent is the sync agent part of
// the launch template version read, nil when there is none to read.
func (r *ClonePoolResource) read(ctx context.Context, m *clonePoolResourceModel) (gone bool, agent *syncAgentSeen, err error) {
	name := m.ID.ValueString()
	g, err := pool.FindGroup(ctx, r.client.AutoScaling, pool.NamesFor(name).Group)
	groupGone := errors.Is(err, pool.ErrNotFound) || (err == nil && g.Deleting)
	if err != nil && !groupGone {
		return false, nil, err
	}
	templateID, version := g.LaunchTemplateID, g.LaunchTemplateVersion
	if groupGone {
		templateID = m.LaunchTemplateID.ValueString()
		version = strconv.FormatInt(m.LaunchTemplateVersion.ValueInt64(), 10)
	}
	var tmpl pool.Template
	templateGone := templateID == ""
	if !templateGone {
		tmpl, err = pool.FindTemplateVersion(ctx, r.client.EC2, templateID, version)
		templateGone = errors.Is(err, pool.ErrNotFound)
		if err != nil && !templateGone {
			return false, nil, err
		}
	}
	if groupGone && templateGone {
		return true, nil, nil
	}
	m.Name = types.StringValue(name)

	if templateGone {
		tflog.Warn(ctx, "launch template of the pool no longer exists; the next apply creates a new one", map[string]any{"launch_template_id": templateID})
		m.LaunchTemplateID = types.StringNull()
		m.LaunchTemplateVersion = types.Int64Null()
	} else {
		m.LaunchTemplateID = types.StringValue(tmpl.ID)
		m.LaunchTemplateVersion = types.Int64Value(tmpl.Version)
		m.ImageID = types.StringValue(tmpl.Spec.ImageID)
		m.InstanceType = types.StringValue(tmpl.Spec.InstanceType)
		m.KeyName = stringOrNull(tmpl.Spec.KeyName)
		m.IAMInstanceProfile = stringOrNull(tmpl.Spec.IAMInstanceProfile)
		m.SecurityGroupIDs = setOrNull(tmpl.Spec.SecurityGroupIDs, m.SecurityGroupIDs)
		parts, err := pool.ParseUserData(tmpl.Spec.UserData)
		if err != nil {
			return false, nil, fmt.Errorf("launch template %s: %w", tmpl.ID, err)
		}
		m.UserData = stringOrNull(parts.User)
		agent = newSyncAgentSeen(tmpl.Version, parts.SyncAgent)
		if pm := m.master(); pm != nil {
			pm.EnvFile = stringOrNull(parts.EnvFile)
			pm.DisableServices = listOrNull(parts.DisableServices, pm.DisableServices)
		}
	}

	if groupGone {
		tflog.Warn(ctx, "Auto Scaling group of the pool no longer exists; the next apply creates it again")
		m.MinSize, m.MaxSize, m.DesiredCapacity = types.Int64Null(), types.Int64Null(), types.Int64Null()
		m.SubnetIDs = types.ListNull(types.StringType)
		m.InstanceIDs = listValue(nil)
		m.OutdatedInstanceIDs = listValue(nil)
		m.HealthyCount = types.Int64Value(0)
		if !m.TargetGroupARNs.IsNull() {
			m.TargetGroupARNs = types.SetNull(types.StringType)
		}
		if !m.ClassicELBNames.IsNull() {
			m.ClassicELBNames = types.SetNull(types.StringType)
		}
	} else {
		m.MinSize = types.Int64Value(g.MinSize)
		m.MaxSize = types.Int64Value(g.MaxSize)
		if len(m.Scaling) == 0 || m.DesiredCapacity.IsNull() {
			m.DesiredCapacity = types.Int64Value(g.DesiredCapacity)
		}
		m.SubnetIDs = sameOrderList(g.SubnetIDs, m.SubnetIDs)
		m.TargetGroupARNs = setOrNull(g.TargetGroupARNs, m.TargetGroupARNs)
		m.ClassicELBNames = setOrNull(g.ClassicELBNames, m.ClassicELBNames)
		m.SyncPolicyID = stringOrNull(g.Tags[tagSyncPolicy])
		m.TagsAll, m.Tags = splitTags(ctx, r.client, withoutReservedTags(g.Tags), m.Tags)
		report, err := r.clients().Health(ctx, pool.Targets(g.TargetGroupARNs, g.ClassicELBNames))
		if err != nil {
			return false, nil, err
		}
		ids := g.ServingIDs()
		m.InstanceIDs = listValue(ids)
		m.HealthyCount = types.Int64Value(int64(len(report.Healthy(ids))))
		m.OutdatedInstanceIDs = listValue(nil)
		if !templateGone {
			outdated, err := pool.OutdatedIDs(ctx, r.client.EC2, g, tmpl)
			if err != nil {
				return false, nil, err
			}
			m.OutdatedInstanceIDs = listValue(outdated)
		}
		if err := r.readScaling(ctx, m); err != nil {
			return false, nil, err
		}
	}
	return false, agent, r.readMaster(ctx, m)
}

func (r *ClonePoolResource) readMaster(ctx context.Context, m *clonePoolResourceModel) error {
	pm := m.master()
	if pm == nil {
		m.MasterTargetGroupARN, m.WriteRuleARN = types.StringNull(), types.StringNull()
		return nil
	}
	names := pool.NamesFor(m.ID.ValueString())
	if arn := m.WriteRuleARN.ValueString(); arn != "" {
		rule, err := pool.FindRule(ctx, r.client.ELBV2, arn, pm.ListenerARN.ValueString())
		switch {
		case errors.Is(err, pool.ErrNotFound):
			tflog.Warn(ctx, "write rule no longer exists; the next apply creates it again", map[string]any{"rule_arn": arn})
			m.WriteRuleARN = types.StringNull()
		case err != nil:
			return err
		default:
			pm.WritePaths = listOrNull(rule.PathPatterns, pm.WritePaths)
			pm.RulePriority = types.Int64Value(rule.Priority)
		}
	}
	if arn := m.MasterTargetGroupARN.ValueString(); arn != "" {
		if _, err := pool.FindTargetGroup(ctx, r.client.ELBV2, arn); errors.Is(err, pool.ErrNotFound) {
			tflog.Warn(ctx, "master target group no longer exists; the next apply creates it again", map[string]any{"target_group_arn": arn})
			m.MasterTargetGroupARN = types.StringNull()
		} else if err != nil {
			return err
		}
	}
	if pm.RecoveryAlarm.ValueBool() {
		a, err := pool.FindAlarm(ctx, r.client.CloudWatch, names.RecoveryAlarm)
		switch {
		case errors.Is(err, pool.ErrNotFound):
			tflog.Warn(ctx, "recovery alarm no longer exists; the next apply creates it again", map[string]any{"alarm": names.RecoveryAlarm})
			pm.RecoveryAlarm = types.BoolValue(false)
		case err != nil:
			return err
		case a.InstanceID != "":
			pm.InstanceID = types.StringValue(a.InstanceID)
		}
	}
	return nil
}

// discover builds the state of an existing pool for import.
func (r *ClonePoolResource) discover(ctx context.Context, name string) (clonePoolResourceModel, error) {
	names := pool.NamesFor(name)
	g, err := pool.FindGroup(ctx, r.client.AutoScaling, names.Group)
	if err != nil {
		return clonePoolResourceModel{}, err
	}
	m := clonePoolResourceModel{
		ID: types.StringValue(name), Name: types.StringValue(name),
		ImageID: types.StringNull(), InstanceType: types.StringNull(),
		SubnetIDs: types.ListNull(types.StringType), SecurityGroupIDs: types.SetNull(types.StringType),
		KeyName: types.StringNull(), IAMInstanceProfile: types.StringNull(), UserData: types.StringNull(),
		MinSize: types.Int64Null(), MaxSize: types.Int64Null(), DesiredCapacity: types.Int64Null(),
		TargetGroupARNs: types.SetNull(types.StringType), ClassicELBNames: types.SetNull(types.StringType),
		SyncPolicyID:   types.StringNull(),
		WaitForHealthy: types.BoolValue(true),
		Tags:           types.MapNull(types.StringType), TagsAll: types.MapNull(types.StringType),
		LaunchTemplateID: types.StringValue(g.LaunchTemplateID), LaunchTemplateVersion: types.Int64Null(),
		InstanceIDs: types.ListNull(types.StringType), HealthyCount: types.Int64Null(),
		MasterTargetGroupARN: types.StringNull(), WriteRuleARN: types.StringNull(),
		OutdatedInstanceIDs: types.ListNull(types.StringType),
		Timeouts:            timeouts.Value{Object: types.ObjectNull(timeoutsAttrTypes())},
	}
	if m.Scaling, err = r.discoverScaling(ctx, name); err != nil {
		return m, err
	}
	if v, err := strconv.ParseInt(g.LaunchTemplateVersion, 10, 64); err == nil {
		m.LaunchTemplateVersion = types.Int64Value(v)
	}
	masterID := g.Tags[pool.TagMaster]
	if masterID == "" {
		return m, nil
	}
	pm := clonePoolMasterModel{
		InstanceID:            types.StringValue(masterID),
		AttachToLoadBalancers: types.BoolValue(g.Tags[tagMasterAttached] == "true"),
		WritePaths:            types.ListNull(types.StringType),
		ListenerARN:           types.StringNull(),
		RulePriority:          types.Int64Null(),
		EnvFile:               types.StringNull(),
		DisableServices:       types.ListNull(types.StringType),
		RecoveryAlarm:         types.BoolValue(false),
	}
	if _, err := pool.FindAlarm(ctx, r.client.CloudWatch, names.RecoveryAlarm); err == nil {
		pm.RecoveryAlarm = types.BoolValue(true)
	} else if !errors.Is(err, pool.ErrNotFound) {
		return m, err
	}
	tg, err := pool.FindTargetGroupByName(ctx, r.client.ELBV2, names.MasterTargetGroup)
	switch {
	case err == nil:
		tgARN := aws.ToString(tg.TargetGroupArn)
		m.MasterTargetGroupARN = types.StringValue(tgARN)
		listeners, err := pool.ListenersOf(ctx, r.client.ELBV2, tg.LoadBalancerArns)
		if err != nil {
			return m, err
		}
		for _, l := range listeners {
			rule, err := pool.FindRuleForwardingTo(ctx, r.client.ELBV2, l, tgARN)
			if errors.Is(err, pool.ErrNotFound) {
				continue
			}
			if err != nil {
				return m, err
			}
			m.WriteRuleARN = types.StringValue(rule.ARN)
			pm.ListenerARN = types.StringValue(l)
			pm.RulePriority = types.Int64Value(rule.Priority)
			pm.WritePaths = listValue(rule.PathPatterns)
			break
		}
	case !errors.Is(err, pool.ErrNotFound):
		return m, err
	}
	m.Master = []clonePoolMasterModel{pm}
	return m, nil
}

func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func listOrNull(items []string, prior types.List) types.List {
	if len(items) == 0 && prior.IsNull() {
		return types.ListNull(types.StringType)
	}
	return listValue(items)
}

func setOrNull(items []string, prior types.Set) types.Set {
	if len(items) == 0 && prior.IsNull() {
		return types.SetNull(types.StringType)
	}
	elems := make([]attr.Value, 0, len(items))
	for _, s := range items {
		elems = append(elems, types.StringValue(s))
	}
	return types.SetValueMust(types.StringType, elems)
}

// sameOrderList keeps the prior order when the items are the same.
func sameOrderList(items []string, prior types.List) types.List {
	var had []string
	for _, v := range prior.Elements() {
		if s, ok := v.(types.String); ok {
			had = append(had, s.ValueString())
		}
	}
	if slices.Equal(slices.Sorted(slices.Values(had)), slices.Sorted(slices.Values(items))) && len(had) > 0 {
		return prior
	}
	return listValue(items)
}
