package provider

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

// read refreshes m from AWS (pool.Read), then its scaling and master
// blocks. gone means nothing of the pool is left. agent is the sync agent
// part of the launch template version read, nil when there is none to read.
// What it finds deleted out of band is added to diags as a warning naming
// the object.
func (r *ClonePoolResource) read(ctx context.Context, m *clonePoolResourceModel, diags *diag.Diagnostics) (gone bool, agent *syncAgentSeen, err error) {
	name := m.ID.ValueString()
	snap, err := pool.Read(ctx, r.cloud, name, m.LaunchTemplateID.ValueString(), strconv.FormatInt(m.LaunchTemplateVersion.ValueInt64(), 10))
	if err != nil || snap.Gone() {
		return snap.Gone(), nil, err
	}
	m.Name = types.StringValue(name)
	if t := snap.Template; t != nil {
		m.flattenTemplate(*t, snap.UserData)
		agent = newSyncAgentSeen(t.Version, snap.UserData.SyncAgent)
		if agent.HookMissing = snap.SyncHookMissing; agent.HookMissing {
			warnDrift(ctx, diags, name, "lifecycle hook "+pool.FirstSyncHookName(pool.NamesFor(name).Group)+" of the Auto Scaling group no longer exists",
				"Its clones run the sync agent, and without the hook a clone launched now serves before its first sync. The next apply puts it back.")
		}
	} else {
		warnDrift(ctx, diags, name, "launch template "+m.LaunchTemplateID.ValueString()+" no longer exists", "The next apply creates a new one.")
		m.LaunchTemplateID, m.LaunchTemplateVersion = types.StringNull(), types.Int64Null()
	}
	if snap.Group == nil {
		warnDrift(ctx, diags, name, "Auto Scaling group "+pool.NamesFor(name).Group+" no longer exists", "The next apply creates it again.")
		m.clearGroup()
	} else {
		m.flattenGroup(ctx, r.client, snap)
		for _, t := range snap.GoneTargets {
			warnDrift(ctx, diags, name, fmt.Sprintf("%s %s attached to the group no longer exists", targetKind(t), t.ID),
				"The Auto Scaling group still lists it, and no clone can register with it. Remove it from the configuration: the next apply detaches it.")
		}
		readMasterRegistrations(ctx, m, snap.Health, diags)
		if err := r.readScaling(ctx, m, diags); err != nil {
			return false, nil, err
		}
	}
	return false, agent, r.readMaster(ctx, m, diags)
}

// readMasterRegistrations clears attach_to_load_balancers when the master
// is out of a load balancer of the group, so that the plan shows it and
// the apply registers it there again.
func readMasterRegistrations(ctx context.Context, m *clonePoolResourceModel, health poolhealth.Report, diags *diag.Diagnostics) {
	pm := m.master()
	if pm == nil || !pm.AttachToLoadBalancers.ValueBool() {
		return
	}
	id := pm.InstanceID.ValueString()
	for _, th := range health.Targets {
		if !masterRegistered(th, id) {
			warnDrift(ctx, diags, m.ID.ValueString(), fmt.Sprintf("the master %s is not registered in %s %s", id, targetKind(th.Target), th.Target.ID),
				"The next apply registers it there again.")
			pm.AttachToLoadBalancers = types.BoolValue(false)
		}
	}
}

// masterRegistered tells whether the master is registered with a load
// balancer and not leaving it. A target group no listener uses reports its
// targets unused: they are registered all the same.
func masterRegistered(th poolhealth.TargetHealth, id string) bool {
	st, ok := th.Instances[id]
	return ok && (st.Active || st.State == string(elbv2types.TargetHealthStateEnumUnused))
}

// flattenTemplate sets what a launch template version holds.
func (m *clonePoolResourceModel) flattenTemplate(t pool.Template, parts userdata.Parsed) {
	m.LaunchTemplateID = types.StringValue(t.ID)
	m.LaunchTemplateVersion = types.Int64Value(t.Version)
	m.ImageID = types.StringValue(t.Spec.ImageID)
	m.InstanceType = types.StringValue(t.Spec.InstanceType)
	m.KeyName = stringOrNull(t.Spec.KeyName)
	m.IAMInstanceProfile = stringOrNull(t.Spec.IAMInstanceProfile)
	m.SecurityGroupIDs = setOrNull(t.Spec.SecurityGroupIDs, m.SecurityGroupIDs)
	m.UserData = stringOrNull(parts.User)
	if pm := m.master(); pm != nil {
		pm.EnvFile = stringOrNull(parts.EnvFile)
		pm.DisableServices = listOrNull(parts.DisableServices, pm.DisableServices)
	}
}

// flattenGroup sets what the group and its clones tell.
func (m *clonePoolResourceModel) flattenGroup(ctx context.Context, client *conns.AWSClient, snap pool.Snapshot) {
	g := snap.Group
	m.MinSize = types.Int64Value(g.MinSize)
	m.MaxSize = types.Int64Value(g.MaxSize)
	if m.Scaling == nil || m.DesiredCapacity.IsNull() {
		m.DesiredCapacity = types.Int64Value(g.DesiredCapacity)
	}
	m.SubnetIDs = sameOrderList(g.SubnetIDs, m.SubnetIDs)
	m.TargetGroupARNs = setOrNull(g.TargetGroupARNs, m.TargetGroupARNs)
	m.ClassicELBNames = setOrNull(g.ClassicELBNames, m.ClassicELBNames)
	m.SyncPolicyID = stringOrNull(g.Tags[pool.TagSyncPolicy])
	m.TagsAll, m.Tags = splitTags(ctx, client, withoutReservedTags(g.Tags), m.Tags)
	m.InstanceIDs = listValue(snap.InstanceIDs)
	m.HealthyCount = types.Int64Value(snap.Healthy)
	m.OutdatedInstanceIDs = listValue(snap.Outdated)
}

// clearGroup empties what the group told, when it is gone.
func (m *clonePoolResourceModel) clearGroup() {
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
}

func (r *ClonePoolResource) readMaster(ctx context.Context, m *clonePoolResourceModel, diags *diag.Diagnostics) error {
	pm := m.master()
	if pm == nil {
		m.MasterTargetGroupARN, m.WriteRuleARN = types.StringNull(), types.StringNull()
		return nil
	}
	names := pool.NamesFor(m.ID.ValueString())
	if arn := m.WriteRuleARN.ValueString(); arn != "" {
		rule, err := r.cloud.FindRule(ctx, arn, pm.ListenerARN.ValueString())
		switch {
		case notfound.Is(err):
			warnDrift(ctx, diags, m.ID.ValueString(), "write rule "+arn+" no longer exists", "The next apply creates it again.")
			m.WriteRuleARN = types.StringNull()
		case err != nil:
			return err
		default:
			pm.WritePaths = listOrNull(rule.PathPatterns, pm.WritePaths)
			pm.RulePriority = types.Int64Value(rule.Priority)
			if tg := m.MasterTargetGroupARN.ValueString(); tg != "" && rule.TargetGroupARN != tg {
				// Cleared, the apply takes the target group over again by
				// its ownership tag and points the rule at it.
				warnDrift(ctx, diags, m.ID.ValueString(), fmt.Sprintf("write rule %s forwards to %s, not the master target group %s", arn, rule.TargetGroupARN, tg),
					"The next apply points it at the master target group again.")
				m.MasterTargetGroupARN = types.StringNull()
			}
		}
	}
	if arn := m.MasterTargetGroupARN.ValueString(); arn != "" {
		// One DescribeTargetHealth tells both whether the group exists
		// and whether the master is in it.
		report, err := r.cloud.Health(ctx, []poolhealth.Target{{Kind: poolhealth.KindTargetGroup, ID: arn, Name: names.MasterTargetGroup}})
		switch {
		case err != nil:
			return err
		case len(report.Gone) > 0:
			warnDrift(ctx, diags, m.ID.ValueString(), "master target group "+arn+" no longer exists", "The next apply creates it again.")
			m.MasterTargetGroupARN = types.StringNull()
		case len(report.Targets) == 1 && !masterRegistered(report.Targets[0], pm.InstanceID.ValueString()):
			// Cleared, the apply takes the group over again by its
			// ownership tag and registers the master in it.
			warnDrift(ctx, diags, m.ID.ValueString(), fmt.Sprintf("the master %s is not registered in master target group %s", pm.InstanceID.ValueString(), arn),
				"The next apply registers it again.")
			m.MasterTargetGroupARN = types.StringNull()
		}
	}
	if pm.RecoveryAlarm.ValueBool() {
		a, err := r.cloud.FindAlarm(ctx, names.RecoveryAlarm)
		switch {
		case notfound.Is(err):
			warnDrift(ctx, diags, m.ID.ValueString(), "recovery alarm "+names.RecoveryAlarm+" no longer exists", "The next apply creates it again.")
			pm.RecoveryAlarm = types.BoolValue(false)
		case err != nil:
			return err
		case a.InstanceID != pm.InstanceID.ValueString():
			// Not the master's instance_id: that would plan a new launch
			// template version and roll every clone to heal an alarm.
			warnDrift(ctx, diags, m.ID.ValueString(), fmt.Sprintf("recovery alarm %s watches instance %q, not the master %s", names.RecoveryAlarm, a.InstanceID, pm.InstanceID.ValueString()),
				"The next apply puts it back on the master.")
			pm.RecoveryAlarm = types.BoolValue(false)
		}
	}
	return nil
}

// discover builds the state of an existing pool for import.
func (r *ClonePoolResource) discover(ctx context.Context, name string) (clonePoolResourceModel, error) {
	names := pool.NamesFor(name)
	g, err := r.cloud.FindGroup(ctx, names.Group)
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
		SyncPolicyID:    types.StringNull(),
		SyncAgentSHA256: types.StringNull(),
		WaitForHealthy:  types.BoolValue(true),
		Tags:            types.MapNull(types.StringType), TagsAll: types.MapNull(types.StringType),
		LaunchTemplateID: types.StringValue(g.LaunchTemplateID),
		InstanceIDs:      types.ListNull(types.StringType), HealthyCount: types.Int64Null(),
		MasterTargetGroupARN: types.StringNull(), WriteRuleARN: types.StringNull(),
		OutdatedInstanceIDs: types.ListNull(types.StringType),
		Timeouts:            timeouts.Value{Object: types.ObjectNull(timeoutsAttrTypes())},
	}
	if m.Scaling, err = r.discoverScaling(ctx, name); err != nil {
		return m, err
	}
	m.LaunchTemplateVersion = templateVersionNumber(g.LaunchTemplateVersion)
	masterID := g.Tags[pool.TagMaster]
	if masterID == "" {
		return m, nil
	}
	pm := clonePoolMasterModel{
		InstanceID:            types.StringValue(masterID),
		AttachToLoadBalancers: types.BoolValue(g.Tags[pool.TagMasterAttached] == "true"),
		WritePaths:            types.ListNull(types.StringType),
		ListenerARN:           types.StringNull(),
		RulePriority:          types.Int64Null(),
		EnvFile:               types.StringNull(),
		DisableServices:       types.ListNull(types.StringType),
		RecoveryAlarm:         types.BoolValue(false),
	}
	// Only the pool's own alarm and master target group are imported with
	// it: objects by their names that the pool did not create are left.
	if _, tags, err := r.cloud.AlarmTags(ctx, names.RecoveryAlarm); err == nil {
		pm.RecoveryAlarm = types.BoolValue(tags[pool.TagPool] == name)
	} else if !notfound.Is(err) {
		return m, err
	}
	tg, err := r.cloud.FindTargetGroupByName(ctx, names.MasterTargetGroup)
	var tags map[string]string
	if err == nil {
		tags, err = r.cloud.TargetGroupTags(ctx, aws.ToString(tg.TargetGroupArn))
	}
	switch {
	case err == nil && tags[pool.TagPool] == name:
		tgARN := aws.ToString(tg.TargetGroupArn)
		m.MasterTargetGroupARN = types.StringValue(tgARN)
		listeners, err := r.cloud.ListenersOf(ctx, tg.LoadBalancerArns)
		if err != nil {
			return m, err
		}
		for _, l := range listeners {
			rule, err := r.cloud.FindRuleForwardingTo(ctx, l, tgARN)
			if notfound.Is(err) {
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
	case !notfound.Is(err):
		return m, err
	}
	m.Master = &pm
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
