package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

// templateChanged tells whether the plan needs a new launch template version.
func templateChanged(plan, state *clonePoolResourceModel) bool {
	if state.LaunchTemplateID.IsNull() || state.LaunchTemplateVersion.IsNull() {
		return true
	}
	for _, p := range [][2]attr.Value{
		{plan.ImageID, state.ImageID}, {plan.InstanceType, state.InstanceType}, {plan.KeyName, state.KeyName},
		{plan.IAMInstanceProfile, state.IAMInstanceProfile}, {plan.SecurityGroupIDs, state.SecurityGroupIDs},
		{plan.UserData, state.UserData}, {plan.SyncPolicyID, state.SyncPolicyID},
	} {
		if !p[0].Equal(p[1]) {
			return true
		}
	}
	if syncAgentHashChanged(plan.SyncAgentSHA256, state.SyncAgentSHA256) {
		return true
	}
	pm, om := plan.master(), state.master()
	if (pm == nil) != (om == nil) {
		return pm.rendersUserData() || om.rendersUserData()
	}
	if pm == nil {
		return false
	}
	return !pm.InstanceID.Equal(om.InstanceID) || !pm.EnvFile.Equal(om.EnvFile) || !pm.DisableServices.Equal(om.DisableServices)
}

// syncAgentHashChanged tells whether sync_agent_sha256 says the agent
// changes: it is unknown (its policy changes in this plan) or differs from
// the hash the pool last had. Setting it where it was null, or removing it,
// changes no agent.
func syncAgentHashChanged(plan, state types.String) bool {
	if plan.IsUnknown() {
		return true
	}
	return !plan.IsNull() && !state.IsNull() && !plan.Equal(state)
}

// privateSyncAgent is the private state key under which Read records the
// sync agent part of the launch template version it read, so ModifyPlan
// compares against it without describing the template again.
const privateSyncAgent = "sync_agent"

// syncAgentSeen is a launch template version and a hash of its sync agent
// part ("" when it has none).
type syncAgentSeen struct {
	TemplateVersion int64  `json:"template_version"`
	SHA256          string `json:"sha256"`
	// HookMissing says the group lacked its first-sync hook
	// (pool.Snapshot.SyncHookMissing): the plan is an update that puts it
	// back.
	HookMissing bool `json:"hook_missing,omitempty"`
}

// syncHookMissing tells whether the last Read found the group without the
// first-sync hook its clones need.
func syncHookMissing(ctx context.Context, p privateGetter) bool {
	var seen syncAgentSeen
	raw, diags := p.GetKey(ctx, privateSyncAgent)
	return !diags.HasError() && len(raw) > 0 && json.Unmarshal(raw, &seen) == nil && seen.HookMissing
}

// syncHookPutBack records that the update put the first-sync hook back.
func syncHookPutBack(ctx context.Context, p interface {
	privateGetter
	privateSetter
}) diag.Diagnostics {
	var seen syncAgentSeen
	raw, diags := p.GetKey(ctx, privateSyncAgent)
	if diags.HasError() || len(raw) == 0 || json.Unmarshal(raw, &seen) != nil || !seen.HookMissing {
		return diags
	}
	seen.HookMissing = false
	return setSyncAgentSeen(ctx, p, &seen)
}

func newSyncAgentSeen(version int64, part string) *syncAgentSeen {
	sum := sha256.Sum256([]byte(part))
	return &syncAgentSeen{TemplateVersion: version, SHA256: hex.EncodeToString(sum[:])}
}

func setSyncAgentSeen(ctx context.Context, p privateSetter, seen *syncAgentSeen) diag.Diagnostics {
	if seen == nil {
		return nil
	}
	raw, _ := json.Marshal(seen)
	return p.SetKey(ctx, privateSyncAgent, raw)
}

// syncAgentStale tells whether the sync policy's agent, rendered now, differs
// from the one in the pool's launch template: a changed clone_sync_policy
// then plans a new version and a rollout. The template's part comes from
// what Read recorded for the state's version, or else from EC2. It also
// returns the agent it rendered, for the user-data size check.
func (r *ClonePoolResource) syncAgentStale(ctx context.Context, private privateGetter, plan, state *clonePoolResourceModel) (bool, *userdata.Part) {
	id := plan.SyncPolicyID
	if id.IsNull() || id.IsUnknown() || !id.Equal(state.SyncPolicyID) || state.LaunchTemplateID.IsNull() || state.LaunchTemplateVersion.IsNull() {
		return false, nil
	}
	version := state.LaunchTemplateVersion.ValueInt64()
	var seen syncAgentSeen
	if raw, diags := private.GetKey(ctx, privateSyncAgent); diags.HasError() || len(raw) == 0 || json.Unmarshal(raw, &seen) != nil || seen.TemplateVersion != version {
		tmpl, err := r.cloud.FindTemplateVersion(ctx, state.LaunchTemplateID.ValueString(), strconv.FormatInt(version, 10))
		if err != nil {
			tflog.Warn(ctx, "reading the launch template to compare the sync agent", map[string]any{"error": err.Error()})
			return false, nil
		}
		parts, err := userdata.Parse(tmpl.Spec.UserData)
		if err != nil {
			return false, nil
		}
		seen = *newSyncAgentSeen(version, parts.SyncAgent)
	}
	part, err := r.syncAgentPart(ctx, plan.Name.ValueString(), id.ValueString())
	if err != nil {
		tflog.Warn(ctx, "rendering the sync agent to compare it", map[string]any{"error": err.Error()})
		return false, nil
	}
	return newSyncAgentSeen(version, part.Content).SHA256 != seen.SHA256, &part
}

// fleetChanged tells whether the apply can change which clones run or how
// healthy they are.
func fleetChanged(plan, state *clonePoolResourceModel) bool {
	if plan.LaunchTemplateVersion.IsUnknown() || len(state.OutdatedInstanceIDs.Elements()) > 0 || (plan.Scaling != nil) != (state.Scaling != nil) {
		return true
	}
	for _, p := range [][2]attr.Value{
		{plan.SubnetIDs, state.SubnetIDs}, {plan.MinSize, state.MinSize}, {plan.MaxSize, state.MaxSize},
		{plan.DesiredCapacity, state.DesiredCapacity}, {plan.TargetGroupARNs, state.TargetGroupARNs},
		{plan.ClassicELBNames, state.ClassicELBNames},
	} {
		if !p[0].Equal(p[1]) {
			return true
		}
	}
	return false
}

// surgeRoom tells at plan time what rollout.Plan would refuse at apply
// time: a rollout that must keep every clone healthy needs room above
// desired capacity.
func surgeRoom(plan *clonePoolResourceModel) *attrError {
	if plan.MaxSize.IsUnknown() || plan.DesiredCapacity.IsUnknown() || plan.MaxSize.IsNull() || plan.DesiredCapacity.IsNull() {
		return nil
	}
	ru := plan.rolling()
	desired, maxSize := plan.DesiredCapacity.ValueInt64(), plan.MaxSize.ValueInt64()
	if desired == 0 || ru.MinHealthyPercent < 100 || maxSize > desired {
		return nil
	}
	return &attrError{path.Root("max_size"), fmt.Sprintf(
		"This change rolls the pool, and rolling_update.min_healthy_percent = 100 keeps all %d clones healthy while new ones come up, "+
			"so max_size (%d) must be at least %d. Raise max_size or lower min_healthy_percent.", desired, maxSize, desired+1)}
}

// Stand-ins at plan time for the master's instance id, when not known yet,
// and for its private address, which only the apply reads: the longest of
// each, so the master's part is never smaller than the one applied.
const (
	masterIDPlaceholder      = "i-00000000000000000"
	masterAddressPlaceholder = "255.255.255.255"
)

// checkUserDataFits adds an error on user_data when the user data of the
// launch template version this plan creates would not fit EC2's limit. It
// renders the pool's parts with what the plan knows: the master's address
// is a stand-in, and a sync policy not known yet (or not readable now) is
// stood in for by placeholderAgentPart; rendered, when the plan already
// rendered it (syncAgentStale). Unknown user_data is left to the apply,
// which checks the user data it renders again.
func (r *ClonePoolResource) checkUserDataFits(ctx context.Context, plan *clonePoolResourceModel, rendered *userdata.Part, diags *diag.Diagnostics) {
	if plan.UserData.IsUnknown() || plan.Name.IsUnknown() {
		return
	}
	name := plan.Name.ValueString()
	agent := rendered
	estimated := false
	if id := plan.SyncPolicyID; !id.IsNull() && agent == nil {
		var part userdata.Part
		var err error
		if !id.IsUnknown() {
			part, err = r.syncAgentPart(r.client.Context(ctx), name, id.ValueString())
			if err != nil {
				tflog.Warn(ctx, "rendering the sync agent to size the user data; estimating it", map[string]any{"error": err.Error()})
			}
		}
		if id.IsUnknown() || err != nil {
			estimated = true
			if part, err = placeholderAgentPart(name); err != nil {
				tflog.Warn(ctx, "rendering a stand-in sync agent to size the user data", map[string]any{"error": err.Error()})
				return
			}
		}
		agent = &part
	}
	parts, err := plannedUserDataParts(plan, agent)
	if err != nil {
		// The apply reports the same error with the master's real values.
		tflog.Debug(ctx, "rendering the master's user data part to size the user data", map[string]any{"error": err.Error()})
		return
	}
	sizes, err := userdata.Measure(parts, plan.UserData.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("user_data"), "Invalid Clone Pool user data", err.Error())
		return
	}
	if err := sizes.Err(estimated); err != nil {
		diags.AddAttributeError(path.Root("user_data"), "Clone Pool user data too large", err.Error())
	}
}

// plannedUserDataParts renders the pool's own user data parts as far as the
// plan knows them: the master's with stand-ins for its id and address, then
// agent, the sync agent's, when not nil.
func plannedUserDataParts(plan *clonePoolResourceModel, agent *userdata.Part) ([]userdata.Part, error) {
	var parts []userdata.Part
	if pm := plan.master(); pm != nil {
		id := pm.InstanceID.ValueString()
		if pm.InstanceID.IsUnknown() || id == "" {
			id = masterIDPlaceholder
		}
		var err error
		parts, err = pool.MasterParts(pm.expand(context.Background()), pool.Master{ID: id, PrivateIP: masterAddressPlaceholder})
		if err != nil {
			return nil, err
		}
	}
	if agent != nil {
		parts = append(parts, *agent)
	}
	return parts, nil
}
