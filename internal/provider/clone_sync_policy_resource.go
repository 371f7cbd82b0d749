package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
)

const (
	defaultSyncPolicyTimeout       = 10 * time.Minute
	defaultSyncPolicyDeleteTimeout = 5 * time.Minute
	defaultSyncInterval            = "5m"
)

var (
	_ resource.Resource                   = &CloneSyncPolicyResource{}
	_ resource.ResourceWithConfigure      = &CloneSyncPolicyResource{}
	_ resource.ResourceWithImportState    = &CloneSyncPolicyResource{}
	_ resource.ResourceWithModifyPlan     = &CloneSyncPolicyResource{}
	_ resource.ResourceWithValidateConfig = &CloneSyncPolicyResource{}
)

// NewCloneSyncPolicyResource is the clone_sync_policy constructor.
func NewCloneSyncPolicyResource() resource.Resource {
	return &CloneSyncPolicyResource{}
}

// CloneSyncPolicyResource keeps the clones' files in sync with the master.
type CloneSyncPolicyResource struct {
	client *conns.AWSClient
}

func (r *CloneSyncPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_sync_policy"
}

func (r *CloneSyncPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	client, diags := clientFrom(req.ProviderData, "Resource")
	resp.Diagnostics.Append(diags...)
	r.client = client
}

// ValidateConfig checks what single attributes cannot (validateSyncPolicyConfig).
func (r *CloneSyncPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(validateSyncPolicyConfig(ctx, cfg)...)
}

func (r *CloneSyncPolicyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan cloneSyncPolicyResourceModel
	var state *cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}

	plan.ID = plan.Name
	if plan.Name.IsUnknown() {
		plan.PrivateKeyParameter, plan.PathsParameter = types.StringUnknown(), types.StringUnknown()
		plan.PolicyParameter, plan.DocumentName = types.StringUnknown(), types.StringUnknown()
	} else {
		plan.setNames(syncstore.NamesOf(plan.Name.ValueString()))
	}

	if r.client != nil || plan.Tags.IsUnknown() {
		tagsAll, diags := plannedTagsAll(ctx, r.client, plan.Tags)
		resp.Diagnostics.Append(diags...)
		plan.TagsAll = tagsAll
	}

	root := types.StringUnknown()
	if paths, known, _ := expandSyncPaths(ctx, plan.Paths); known {
		if rt, err := syncagent.SyncRoot(syncagent.Sources(paths)); err == nil {
			root = types.StringValue(rt)
		}
	}
	plan.SyncRoot = root

	plan.MasterAddress = types.StringUnknown()
	plan.AuthorizedKey = types.StringUnknown()
	plan.KeyFingerprint = types.StringUnknown()
	if state != nil {
		if plan.MasterInstanceID.Equal(state.MasterInstanceID) && !state.MasterAddress.IsNull() {
			plan.MasterAddress = state.MasterAddress
		}
		rotate := state.KeyFingerprint.IsNull() || state.AuthorizedKey.IsNull() ||
			!plan.RotateKeyTrigger.Equal(state.RotateKeyTrigger) || !root.Equal(state.SyncRoot)
		if !rotate {
			plan.AuthorizedKey = state.AuthorizedKey
			plan.KeyFingerprint = state.KeyFingerprint
		}
	}
	plan.AgentSHA256 = plan.renderAgentSHA256()
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

func (r *CloneSyncPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultSyncPolicyTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_sync_policy", name)
	defer cancel()

	if r.apply(ctx, &plan, nil, fmt.Sprintf("Creating Clone Sync Policy (%s)", name), &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	}
}

func (r *CloneSyncPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	ctx = tflog.SetField(r.client.Context(ctx), "clone_sync_policy", name)
	summary := fmt.Sprintf("Reading Clone Sync Policy (%s)", name)

	observed, err := syncstore.Observe(ctx, r.client.SSM, name)
	if notfound.Is(err) {
		left, lerr := syncstore.Leftovers(ctx, r.client.SSM, name)
		if lerr != nil {
			resp.Diagnostics.AddError(summary, lerr.Error())
			return
		}
		if len(left) > 0 {
			// Damaged, not deleted: state is the proof the policy made
			// them, so the next apply writes the policy parameter again
			// (with a new key: the public one went with it).
			warnDrift(ctx, &resp.Diagnostics, name, "policy parameter "+syncstore.NamesOf(name).PolicyParameter+" no longer exists",
				fmt.Sprintf("Its %s remain: the next apply writes it again, with a new key.", strings.Join(left, ", ")))
			state.PolicyParameter, state.KeyFingerprint, state.AuthorizedKey = types.StringNull(), types.StringNull(), types.StringNull()
			resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
			return
		}
		tflog.Warn(ctx, "sync policy no longer exists; removing it from state", map[string]any{"error": err.Error()})
		resp.Diagnostics.AddWarning(fmt.Sprintf("Clone Sync Policy (%s) not found", name),
			fmt.Sprintf("Its policy parameter is gone (%s); removing it from state.", err))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	for _, drift := range observed.Drift {
		what, next, _ := strings.Cut(drift, "; ")
		warnDrift(ctx, &resp.Diagnostics, name, what, sentence(next))
	}
	if err := flattenSyncObserved(ctx, observed, &state); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	state.TagsAll, state.Tags = splitTags(ctx, r.client, observed.Tags, state.Tags)
	state.AgentSHA256 = state.renderAgentSHA256()
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *CloneSyncPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultSyncPolicyTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_sync_policy", name)
	defer cancel()

	if r.apply(ctx, &plan, &state, fmt.Sprintf("Updating Clone Sync Policy (%s)", name), &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	}
}

func (r *CloneSyncPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultSyncPolicyDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_sync_policy", name)
	defer cancel()

	warnings, err := syncstore.Destroy(ctx, r.env(ctx), name, *expandSyncPrior(&state))
	appendSyncWarnings(&resp.Diagnostics, warnings)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Deleting Clone Sync Policy (%s)", name), err.Error())
	}
}

// ImportState takes the policy's name; everything else is read from SSM.
func (r *CloneSyncPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name := strings.TrimSpace(req.ID)
	if err := syncagent.ValidateName(name); err != nil {
		resp.Diagnostics.AddError("Importing Clone Sync Policy", fmt.Sprintf("import id must be the policy's name: %s", err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
}

// apply expands plan, brings the policy to it with syncstore.Apply (state
// is nil on create) and fills plan's computed values. It reports whether
// plan is ready to be saved; failures are added to diags under summary.
func (r *CloneSyncPolicyResource) apply(ctx context.Context, plan, state *cloneSyncPolicyResourceModel, summary string, diags *diag.Diagnostics) bool {
	desired, d := expandSyncDesired(ctx, plan)
	diags.Append(d...)
	if diags.HasError() {
		diags.AddError(summary, "reading the planned paths and tags")
		return false
	}
	res, err := syncstore.Apply(ctx, r.env(ctx), desired, expandSyncPrior(state))
	appendSyncWarnings(diags, res.Warnings)
	if err != nil {
		diags.AddError(summary, err.Error())
		return false
	}
	flattenSyncResult(plan, res)
	return true
}

// env wires the sync store to this provider's clients and logs.
func (r *CloneSyncPolicyResource) env(ctx context.Context) syncstore.Env {
	return syncstore.Env{
		SSM: r.client.SSM,
		FindMaster: func(ctx context.Context, instanceID string) (string, error) {
			m, err := pool.FindMaster(ctx, r.client.EC2, instanceID)
			return m.PrivateIP, err
		},
		Progress: logProgress(ctx),
	}
}

func appendSyncWarnings(diags *diag.Diagnostics, warnings []syncstore.Warning) {
	for _, w := range warnings {
		diags.AddWarning(w.Summary, w.Detail)
	}
}

// sentence capitalises s and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.TrimSuffix(s[1:], ".") + "."
}
