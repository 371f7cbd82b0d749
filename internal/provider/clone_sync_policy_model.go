package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
)

type cloneSyncPolicyResourceModel struct {
	ID                  types.String   `tfsdk:"id"`
	Name                types.String   `tfsdk:"name"`
	MasterInstanceID    types.String   `tfsdk:"master_instance_id"`
	Paths               types.List     `tfsdk:"paths"`
	Interval            types.String   `tfsdk:"interval"`
	BandwidthLimitKbps  types.Int64    `tfsdk:"bandwidth_limit_kbps"`
	SSHUser             types.String   `tfsdk:"ssh_user"`
	SSHPort             types.Int64    `tfsdk:"ssh_port"`
	InstallOnMaster     types.Bool     `tfsdk:"install_on_master"`
	RotateKeyTrigger    types.String   `tfsdk:"rotate_key_trigger"`
	KMSKeyID            types.String   `tfsdk:"kms_key_id"`
	Tags                types.Map      `tfsdk:"tags"`
	TagsAll             types.Map      `tfsdk:"tags_all"`
	MasterAddress       types.String   `tfsdk:"master_address"`
	SyncRoot            types.String   `tfsdk:"sync_root"`
	AuthorizedKey       types.String   `tfsdk:"authorized_key"`
	KeyFingerprint      types.String   `tfsdk:"key_fingerprint"`
	AgentSHA256         types.String   `tfsdk:"agent_sha256"`
	PrivateKeyParameter types.String   `tfsdk:"private_key_parameter"`
	PathsParameter      types.String   `tfsdk:"paths_parameter"`
	PolicyParameter     types.String   `tfsdk:"policy_parameter"`
	DocumentName        types.String   `tfsdk:"document_name"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
}

type syncPathModel struct {
	Source      types.String `tfsdk:"source"`
	Destination types.String `tfsdk:"destination"`
	Exclude     types.List   `tfsdk:"exclude"`
	Delete      types.Bool   `tfsdk:"delete"`
}

var syncPathAttrTypes = map[string]attr.Type{
	"source":      types.StringType,
	"destination": types.StringType,
	"exclude":     types.ListType{ElemType: types.StringType},
	"delete":      types.BoolType,
}

func (m *cloneSyncPolicyResourceModel) setNames(n syncstore.Names) {
	m.PrivateKeyParameter = types.StringValue(n.KeyParameter)
	m.PathsParameter = types.StringValue(n.PathsParameter)
	m.PolicyParameter = types.StringValue(n.PolicyParameter)
	m.DocumentName = types.StringValue(n.Document)
}

// expandSyncDesired expands the plan once into the operation's input.
func expandSyncDesired(ctx context.Context, plan *cloneSyncPolicyResourceModel) (syncstore.Desired, diag.Diagnostics) {
	paths, _, diags := expandSyncPaths(ctx, plan.Paths)
	tags, d := stringMap(ctx, plan.TagsAll)
	diags.Append(d...)
	return syncstore.Desired{
		Name:               plan.Name.ValueString(),
		MasterInstanceID:   plan.MasterInstanceID.ValueString(),
		Paths:              paths,
		SSHUser:            plan.SSHUser.ValueString(),
		SSHPort:            int(plan.SSHPort.ValueInt64()),
		Interval:           plan.Interval.ValueString(),
		BandwidthLimitKbps: int(plan.BandwidthLimitKbps.ValueInt64()),
		InstallOnMaster:    plan.InstallOnMaster.ValueBool(),
		RotateKeyTrigger:   plan.RotateKeyTrigger.ValueStringPointer(),
		KMSKeyID:           plan.KMSKeyID.ValueString(),
		Tags:               tags,
		RotateKey:          plan.KeyFingerprint.IsUnknown(),
		ResolveMaster:      plan.MasterAddress.IsUnknown(),
	}, diags
}

// expandSyncPrior expands the state; nil on create.
func expandSyncPrior(state *cloneSyncPolicyResourceModel) *syncstore.Prior {
	if state == nil {
		return nil
	}
	return &syncstore.Prior{
		MasterInstanceID:   state.MasterInstanceID.ValueString(),
		SSHUser:            state.SSHUser.ValueString(),
		SSHPort:            int(state.SSHPort.ValueInt64()),
		Interval:           state.Interval.ValueString(),
		BandwidthLimitKbps: int(state.BandwidthLimitKbps.ValueInt64()),
		InstallOnMaster:    state.InstallOnMaster.ValueBool(),
		KMSKeyID:           state.KMSKeyID.ValueString(),
		AuthorizedKey:      state.AuthorizedKey.ValueString(),
	}
}

// flattenSyncResult fills the computed values of plan from what Apply wrote.
func flattenSyncResult(plan *cloneSyncPolicyResourceModel, res syncstore.Result) {
	rec := res.Record
	plan.ID = types.StringValue(rec.Name)
	plan.setNames(syncstore.NamesOf(rec.Name))
	plan.MasterAddress = types.StringValue(rec.MasterAddress)
	plan.SyncRoot = types.StringValue(rec.SyncRoot)
	plan.AuthorizedKey = types.StringValue(res.AuthorizedKey)
	plan.KeyFingerprint = types.StringValue(rec.KeyFingerprint)
	plan.AgentSHA256 = types.StringValue(agentSHA256(res.UserData))
}

// flattenSyncObserved fills m from what Observe found, except tags. Objects
// deleted out of band become null, which the next plan turns into an
// update that recreates them; a missing or replaced private key nulls the
// fingerprint, so the plan rotates the key.
func flattenSyncObserved(ctx context.Context, o syncstore.Observed, m *cloneSyncPolicyResourceModel) error {
	rec := o.Record
	m.ID = types.StringValue(rec.Name)
	m.Name = types.StringValue(rec.Name)
	m.setNames(syncstore.NamesOf(rec.Name))
	m.MasterInstanceID = types.StringValue(rec.MasterInstanceID)
	m.MasterAddress = types.StringValue(rec.MasterAddress)
	m.SSHUser = types.StringValue(rec.SSHUser)
	m.SSHPort = types.Int64Value(int64(rec.SSHPort))
	m.Interval = types.StringValue(rec.Interval)
	m.BandwidthLimitKbps = types.Int64Value(int64(rec.BandwidthLimitKbps))
	m.InstallOnMaster = types.BoolValue(rec.InstallOnMaster)
	m.RotateKeyTrigger = types.StringPointerValue(rec.RotateKeyTrigger)
	m.SyncRoot = types.StringValue(rec.SyncRoot)
	m.AuthorizedKey = types.StringValue(syncagent.AuthorizedKeyLine(rec.PublicKey, []string{rec.SyncRoot}))
	m.KeyFingerprint = types.StringValue(rec.KeyFingerprint)
	m.KMSKeyID = stringOrNull(o.KMSKeyID)
	if o.Paths != nil {
		var diags diag.Diagnostics
		if m.Paths, diags = flattenSyncPaths(ctx, o.Paths.Paths, m.Paths); diags.HasError() {
			return errors.New("flattening paths")
		}
	}
	if !o.PathsCurrent {
		m.PathsParameter = types.StringNull()
	}
	if !o.KeyPresent {
		m.PrivateKeyParameter = types.StringNull()
	}
	if !o.KeyCurrent {
		m.KeyFingerprint, m.AuthorizedKey = types.StringNull(), types.StringNull()
	}
	if !o.DocumentPresent {
		m.DocumentName = types.StringNull()
	}
	return nil
}

// agentPolicy returns the agent settings of m without paths, or false while
// one of them is unknown.
func (m *cloneSyncPolicyResourceModel) agentPolicy(masterAddress string) (syncagent.Policy, bool) {
	for _, v := range []attr.Value{m.Name, m.SSHUser, m.SSHPort, m.Interval, m.BandwidthLimitKbps} {
		if v.IsUnknown() {
			return syncagent.Policy{}, false
		}
	}
	interval, _ := time.ParseDuration(m.Interval.ValueString())
	if m.Interval.IsNull() {
		interval, _ = time.ParseDuration(defaultSyncInterval)
	}
	names := syncstore.NamesOf(m.Name.ValueString())
	return syncagent.Policy{
		Name:               m.Name.ValueString(),
		MasterAddress:      masterAddress,
		SSHUser:            m.SSHUser.ValueString(),
		SSHPort:            int(m.SSHPort.ValueInt64()),
		Interval:           interval,
		BandwidthLimitKbps: int(m.BandwidthLimitKbps.ValueInt64()),
		PathsParameter:     names.PathsParameter,
		KeyParameter:       names.KeyParameter,
	}.WithDefaults(), true
}

// renderAgentSHA256 hashes the rendered stand-alone agent, unknown until
// every input is. The agent itself (about 14 KB of cloud-config) stays out
// of state and plans.
func (m *cloneSyncPolicyResourceModel) renderAgentSHA256() types.String {
	if m.MasterAddress.IsUnknown() {
		return types.StringUnknown()
	}
	p, ok := m.agentPolicy(m.MasterAddress.ValueString())
	if !ok || p.Validate() != nil {
		return types.StringUnknown()
	}
	return types.StringValue(agentSHA256(syncagent.RenderCloudInitPart(p)))
}

// agentSHA256 is the hex SHA-256 of a rendered agent part.
func agentSHA256(part string) string {
	sum := sha256.Sum256([]byte(part))
	return hex.EncodeToString(sum[:])
}

// expandSyncPaths converts the paths list; known is false while any part
// of it is unknown.
func expandSyncPaths(ctx context.Context, list types.List) ([]syncagent.Path, bool, diag.Diagnostics) {
	if list.IsNull() || list.IsUnknown() {
		return nil, false, nil
	}
	var models []syncPathModel
	diags := list.ElementsAs(ctx, &models, false)
	if diags.HasError() {
		return nil, false, diags
	}
	paths := make([]syncagent.Path, 0, len(models))
	for _, pm := range models {
		if pm.Source.IsUnknown() || pm.Destination.IsUnknown() || pm.Exclude.IsUnknown() || pm.Delete.IsUnknown() {
			return nil, false, diags
		}
		var exclude []string
		for _, e := range pm.Exclude.Elements() {
			s, ok := e.(types.String)
			if !ok || s.IsUnknown() {
				return nil, false, diags
			}
			exclude = append(exclude, s.ValueString())
		}
		paths = append(paths, syncagent.Path{
			Source:      pm.Source.ValueString(),
			Destination: pm.Destination.ValueString(),
			Exclude:     exclude,
			Delete:      pm.Delete.ValueBool(),
		})
	}
	return paths, true, diags
}

// flattenSyncPaths converts paths read from SSM; an empty exclude list is
// null unless prior had an empty list at the same position.
func flattenSyncPaths(ctx context.Context, paths []syncagent.Path, prior types.List) (types.List, diag.Diagnostics) {
	var priorModels []syncPathModel
	if !prior.IsNull() && !prior.IsUnknown() {
		_ = prior.ElementsAs(ctx, &priorModels, false)
	}
	models := make([]syncPathModel, 0, len(paths))
	for i, p := range paths {
		exclude := types.ListNull(types.StringType)
		if len(p.Exclude) > 0 || (i < len(priorModels) && !priorModels[i].Exclude.IsNull()) {
			exclude = listValue(p.Exclude)
		}
		models = append(models, syncPathModel{
			Source:      types.StringValue(p.Source),
			Destination: types.StringValue(p.Destination),
			Exclude:     exclude,
			Delete:      types.BoolValue(p.Delete),
		})
	}
	return types.ListValueFrom(ctx, types.ObjectType{AttrTypes: syncPathAttrTypes}, models)
}
