package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

const (
	defaultPoolCreateTimeout = 15 * time.Minute
	defaultPoolUpdateTimeout = 15 * time.Minute
	defaultPoolDeleteTimeout = 15 * time.Minute
)

const (
	defaultBatchSize         = 1
	defaultMinHealthyPercent = 100
	defaultHealthTimeout     = "10m"
)

// NewClonePoolResource is the clone_pool constructor.
func NewClonePoolResource() resource.Resource {
	return &ClonePoolResource{}
}

// ClonePoolResource runs the clone fleet behind the load balancer.
type ClonePoolResource struct {
	client *conns.AWSClient
	cloud  pool.AWS
}

var (
	_ resource.Resource                   = &ClonePoolResource{}
	_ resource.ResourceWithConfigure      = &ClonePoolResource{}
	_ resource.ResourceWithImportState    = &ClonePoolResource{}
	_ resource.ResourceWithModifyPlan     = &ClonePoolResource{}
	_ resource.ResourceWithValidateConfig = &ClonePoolResource{}
)

func (r *ClonePoolResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_pool"
}

func (r *ClonePoolResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Version: clonePoolSchemaVersion,
		MarkdownDescription: "The clone fleet behind the load balancer: a versioned launch template (IMDSv2 required, " +
			"root volume encrypted) and an Auto Scaling group started from an image of the master, attached to " +
			"target groups and classic load balancers. Create and scale-out return once the pool's own instances " +
			"are healthy in every attached load balancer; scale-in returns once retired instances are out of all of " +
			"them. The optional `master` block serves the master too, routes write paths to it through a " +
			"master-only target group and listener rule, tells clones the master's address, disables the " +
			"master's services on clones and guards the master with an EC2 auto-recovery alarm.\n\n" +
			"The pool never adopts, changes or deletes an object it did not create. Everything it creates carries " +
			"the tag `clone:pool = NAME`; when an Auto Scaling group, launch template, master target group or alarm " +
			"by one of its names exists without that tag, the apply fails naming it before anything is created. " +
			"A refresh that finds one of its objects deleted or changed out of band warns naming it, and the next " +
			"apply heals it. A target group or classic load balancer deleted while the group still lists it does " +
			"not block refresh: remove it from the configuration and the apply detaches it.\n\n" +
			"Every wait logs its progress at INFO level (`3/5 clones healthy in target group web`, `batch 2/4`): run " +
			"Terraform with `TF_LOG_PROVIDER=INFO` to see it. The guide \"Timeouts, waits and progress\" lists what each " +
			"wait waits for and the settings of `aws_autoscaling_group` a pool does not have.",
		Attributes: clonePoolAttributes(),
		Blocks:     clonePoolBlocks(ctx),
	}
}

func (r *ClonePoolResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	client, diags := clientFrom(req.ProviderData, "Resource")
	resp.Diagnostics.Append(diags...)
	if client != nil {
		r.client, r.cloud = client, poolCloud(client)
	}
}

func (r *ClonePoolResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg clonePoolResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, e := range validateSizes(cfg.MinSize, cfg.MaxSize, cfg.DesiredCapacity) {
		resp.Diagnostics.AddAttributeError(e.path, "Invalid Clone Pool size", e.msg)
	}
	for _, e := range validateSchedules(cfg.Scaling) {
		resp.Diagnostics.AddAttributeError(e.path, "Invalid Clone Pool schedule", e.msg)
	}
	if !cfg.SyncPolicyID.IsNull() && cfg.IAMInstanceProfile.IsNull() {
		resp.Diagnostics.AddAttributeWarning(path.Root("iam_instance_profile"), "Clone Pool clones have no instance profile", noProfileWarning)
	}
}

// noProfileWarning explains why a pool with a sync policy needs an
// instance profile: the agent calls AWS with the instance's credentials
// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html).
const noProfileWarning = "sync_policy_id is set but iam_instance_profile is not. A clone's sync agent calls AWS with the " +
	"instance's role: it reads the policy's SSM parameters (ssm:GetParameter, and kms:Decrypt on its key) and " +
	"completes the first-sync lifecycle hook (autoscaling:CompleteLifecycleAction). Without an instance profile, " +
	"unless the image carries other credentials, every first sync fails, the hook times out with ABANDON and no " +
	"clone enters service. Give the clones a role with the clone policy: the clone_iam_policy data source renders " +
	"it, scoped to your pools (docs/guides/iam.md)."

func (r *ClonePoolResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.client == nil {
		return
	}
	var plan, config clonePoolResourceModel
	var state *clonePoolResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}

	tagsAll, diags := plannedTagsAll(ctx, r.client, plan.Tags)
	resp.Diagnostics.Append(diags...)
	plan.TagsAll = tagsAll

	pm := plan.master()
	if pm == nil || pm.WritePaths.IsNull() {
		plan.MasterTargetGroupARN = types.StringNull()
		plan.WriteRuleARN = types.StringNull()
	}
	plan.OutdatedInstanceIDs = listValue(nil)
	if state == nil {
		if config.DesiredCapacity.IsNull() {
			plan.DesiredCapacity = plan.MinSize
		}
		r.checkUserDataFits(ctx, &plan, nil, &resp.Diagnostics)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		return
	}

	if config.DesiredCapacity.IsNull() && !plan.DesiredCapacity.IsUnknown() && !plan.MinSize.IsUnknown() && !plan.MaxSize.IsUnknown() {
		d := plan.DesiredCapacity.ValueInt64()
		if plan.DesiredCapacity.IsNull() {
			d = plan.MinSize.ValueInt64()
		}
		plan.DesiredCapacity = types.Int64Value(min(max(d, plan.MinSize.ValueInt64()), plan.MaxSize.ValueInt64()))
	}

	r.planTemplateVersion(ctx, req.Private, &plan, state, &resp.Diagnostics)
	planComputedFromState(&plan, state)
	if syncHookMissing(ctx, req.Private) && !plan.SyncPolicyID.IsNull() {
		// Only the apply can put the hook back: plan an update.
		plan.HealthyCount = types.Int64Unknown()
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// planTemplateVersion plans a new launch template version when the plan
// changes what a version holds or the sync policy's agent changed, checks
// its user data fits, and that a rollout would have room to surge.
func (r *ClonePoolResource) planTemplateVersion(ctx context.Context, private privateGetter, plan, state *clonePoolResourceModel, diags *diag.Diagnostics) {
	changed := templateChanged(plan, state)
	var agentStale bool
	var agent *userdata.Part // the sync agent as rendered now, when it was
	if !changed {
		agentStale, agent = r.syncAgentStale(r.client.Context(ctx), private, plan, state)
	}
	switch {
	case changed:
		plan.LaunchTemplateVersion = types.Int64Unknown()
	case agentStale:
		tflog.Info(ctx, "the sync policy's agent changed since the launch template was made: planning a new launch template version", map[string]any{"sync_policy_id": plan.SyncPolicyID.ValueString()})
		plan.LaunchTemplateVersion = types.Int64Unknown()
	default:
		plan.LaunchTemplateVersion = state.LaunchTemplateVersion
	}
	if plan.LaunchTemplateVersion.IsUnknown() {
		if state.LaunchTemplateID.IsNull() {
			// The template was deleted out of band: the apply makes a new one.
			plan.LaunchTemplateID = types.StringUnknown()
		}
		r.checkUserDataFits(ctx, plan, agent, diags)
	}
	if plan.LaunchTemplateVersion.IsUnknown() || len(state.OutdatedInstanceIDs.Elements()) > 0 {
		if e := surgeRoom(plan); e != nil {
			diags.AddAttributeError(e.path, "Clone Pool cannot roll", e.msg)
		}
	}
}

// planComputedFromState keeps the computed values the apply will not
// change, and marks unknown those it will: the write rule and master target
// group when their listener changes or they are gone, the clones when the
// fleet changes.
func planComputedFromState(plan, state *clonePoolResourceModel) {
	if pm, om := plan.master(), state.master(); pm != nil && !pm.WritePaths.IsNull() {
		plan.MasterTargetGroupARN = state.MasterTargetGroupARN
		plan.WriteRuleARN = state.WriteRuleARN
		if om == nil || !pm.ListenerARN.Equal(om.ListenerARN) || state.WriteRuleARN.IsNull() {
			plan.WriteRuleARN = types.StringUnknown()
		}
		if state.MasterTargetGroupARN.IsNull() {
			plan.MasterTargetGroupARN = types.StringUnknown()
		}
	}
	if fleetChanged(plan, state) {
		plan.InstanceIDs = types.ListUnknown(types.StringType)
		plan.HealthyCount = types.Int64Unknown()
	} else {
		plan.InstanceIDs = state.InstanceIDs
		plan.HealthyCount = state.HealthyCount
	}
}

func (r *ClonePoolResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan clonePoolResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultPoolCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_pool", name)
	defer cancel()

	plan.ID = types.StringValue(name)
	obs, err := r.converge(ctx, &plan, nil, nil, false)
	resp.Diagnostics.Append(setRegistrations(ctx, resp.Private, obs.Registrations)...)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Creating Clone Pool (%s)", name), err.Error())
		if obs.GroupExists {
			plan.settleUnknowns()
			resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
		}
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *ClonePoolResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state clonePoolResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	ctx = tflog.SetField(r.client.Context(ctx), "clone_pool", name)
	gone, agent, err := r.read(ctx, &state, &resp.Diagnostics)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading Clone Pool (%s)", name), err.Error())
		return
	}
	if gone {
		tflog.Warn(ctx, "Clone Pool not found: neither its Auto Scaling group nor its launch template exists; removing from state")
		resp.Diagnostics.AddWarning(fmt.Sprintf("Clone Pool (%s) not found", name),
			"Neither its Auto Scaling group nor its launch template exists any more: it is removed from state, and the next apply creates it again.")
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(setSyncAgentSeen(ctx, resp.Private, agent)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *ClonePoolResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state clonePoolResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultPoolUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	regs, diags := getRegistrations(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_pool", name)
	defer cancel()

	obs, err := r.converge(ctx, &plan, &state, regs, syncHookMissing(ctx, req.Private))
	resp.Diagnostics.Append(setRegistrations(ctx, resp.Private, obs.Registrations)...)
	var failed *pool.RolloutError
	switch {
	case errors.As(err, &failed):
		resp.Diagnostics.AddError(fmt.Sprintf("Rolling out Clone Pool (%s)", name), failed.Explain(state.ImageID.ValueString()))
		// State tells what the pool is now: the version the group launches
		// and the clones still on an older one.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		gone, _, err := r.read(rctx, &state, &resp.Diagnostics)
		if err != nil || gone {
			resp.Diagnostics.AddWarning(fmt.Sprintf("Reading Clone Pool (%s) after the failed rollout", name),
				fmt.Sprintf("State keeps its previous values; the next refresh corrects them (%v).", err))
			return
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
		return
	case err != nil:
		resp.Diagnostics.AddError(fmt.Sprintf("Updating Clone Pool (%s)", name), err.Error())
		state.keepCreated(obs)
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
		return
	}
	resp.Diagnostics.Append(syncHookPutBack(ctx, resp.Private)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *ClonePoolResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state clonePoolResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultPoolDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	regs, diags := getRegistrations(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_pool", name)
	defer cancel()
	prior, err := r.expandPrior(ctx, &state, regs)
	if err == nil {
		err = pool.Destroy(ctx, r.cloud, *prior, logProgress(ctx))
	}
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Deleting Clone Pool (%s)", name), err.Error())
	}
}

// ImportState takes the pool name and finds what the pool made from it. A
// group the pool did not make (an aws_autoscaling_group's) is refused, as
// Apply refuses to take one over: without this, state would hold it and
// Apply would change it.
func (r *ClonePoolResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ctx = r.client.Context(ctx)
	name := strings.TrimSpace(req.ID)
	summary := fmt.Sprintf("Importing Clone Pool (%s)", name)
	if err := pool.ValidateName(name); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	if g, err := r.cloud.FindGroup(ctx, pool.NamesFor(name).Group); err == nil && g.Tags[pool.TagPool] != name {
		resp.Diagnostics.AddError(summary, fmt.Sprintf("Auto Scaling group %s was not created by clone_pool: it has no %s tag naming pool %q. "+
			"A pool never adopts a group it did not create. To move an aws_autoscaling_group's fleet to a pool without downtime, "+
			"start a pool of another name beside it in the same target groups, then drain and delete the old group "+
			"(guide: Moving from aws_autoscaling_group / aws_ami_from_instance).", g.Name, pool.TagPool, name))
		return
	}
	m, err := r.discover(ctx, name)
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

type clonePoolResourceModel struct {
	ID                    types.String                 `tfsdk:"id"`
	Name                  types.String                 `tfsdk:"name"`
	ImageID               types.String                 `tfsdk:"image_id"`
	InstanceType          types.String                 `tfsdk:"instance_type"`
	SubnetIDs             types.List                   `tfsdk:"subnet_ids"`
	SecurityGroupIDs      types.Set                    `tfsdk:"security_group_ids"`
	KeyName               types.String                 `tfsdk:"key_name"`
	IAMInstanceProfile    types.String                 `tfsdk:"iam_instance_profile"`
	UserData              types.String                 `tfsdk:"user_data"`
	MinSize               types.Int64                  `tfsdk:"min_size"`
	MaxSize               types.Int64                  `tfsdk:"max_size"`
	DesiredCapacity       types.Int64                  `tfsdk:"desired_capacity"`
	TargetGroupARNs       types.Set                    `tfsdk:"target_group_arns"`
	ClassicELBNames       types.Set                    `tfsdk:"classic_elb_names"`
	WaitForHealthy        types.Bool                   `tfsdk:"wait_for_healthy"`
	Tags                  types.Map                    `tfsdk:"tags"`
	TagsAll               types.Map                    `tfsdk:"tags_all"`
	LaunchTemplateID      types.String                 `tfsdk:"launch_template_id"`
	LaunchTemplateVersion types.Int64                  `tfsdk:"launch_template_version"`
	InstanceIDs           types.List                   `tfsdk:"instance_ids"`
	HealthyCount          types.Int64                  `tfsdk:"healthy_count"`
	MasterTargetGroupARN  types.String                 `tfsdk:"master_target_group_arn"`
	WriteRuleARN          types.String                 `tfsdk:"write_rule_arn"`
	Master                *clonePoolMasterModel        `tfsdk:"master"`
	SyncPolicyID          types.String                 `tfsdk:"sync_policy_id"`
	SyncAgentSHA256       types.String                 `tfsdk:"sync_agent_sha256"`
	OutdatedInstanceIDs   types.List                   `tfsdk:"outdated_instance_ids"`
	RollingUpdate         *clonePoolRollingUpdateModel `tfsdk:"rolling_update"`
	Scaling               *clonePoolScalingModel       `tfsdk:"scaling"`
	Timeouts              timeouts.Value               `tfsdk:"timeouts"`
}

type clonePoolRollingUpdateModel struct {
	BatchSize         types.Int64  `tfsdk:"batch_size"`
	MinHealthyPercent types.Int64  `tfsdk:"min_healthy_percent"`
	HealthTimeout     types.String `tfsdk:"health_timeout"`
	RollbackOnFailure types.Bool   `tfsdk:"rollback_on_failure"`
}

type clonePoolScalingModel struct {
	TargetCPUPercent types.Float64            `tfsdk:"target_cpu_percent"`
	Schedule         []clonePoolScheduleModel `tfsdk:"schedule"`
}

type clonePoolScheduleModel struct {
	Name            types.String `tfsdk:"name"`
	Recurrence      types.String `tfsdk:"recurrence"`
	MinSize         types.Int64  `tfsdk:"min_size"`
	MaxSize         types.Int64  `tfsdk:"max_size"`
	DesiredCapacity types.Int64  `tfsdk:"desired_capacity"`
}

type clonePoolMasterModel struct {
	InstanceID            types.String `tfsdk:"instance_id"`
	AttachToLoadBalancers types.Bool   `tfsdk:"attach_to_load_balancers"`
	WritePaths            types.List   `tfsdk:"write_paths"`
	ListenerARN           types.String `tfsdk:"listener_arn"`
	RulePriority          types.Int64  `tfsdk:"rule_priority"`
	EnvFile               types.String `tfsdk:"env_file"`
	DisableServices       types.List   `tfsdk:"disable_services"`
	RecoveryAlarm         types.Bool   `tfsdk:"recovery_alarm"`
}

func (m *clonePoolResourceModel) master() *clonePoolMasterModel {
	if m == nil {
		return nil
	}
	return m.Master
}

func (pm *clonePoolMasterModel) rendersUserData() bool {
	return pm != nil && (!pm.EnvFile.IsNull() || len(pm.DisableServices.Elements()) > 0)
}

// settleUnknowns replaces computed values an interrupted create could not
// learn, so the partial pool can be saved and destroyed.
func (m *clonePoolResourceModel) settleUnknowns() {
	if m.LaunchTemplateID.IsUnknown() {
		m.LaunchTemplateID = types.StringNull()
	}
	if m.LaunchTemplateVersion.IsUnknown() {
		m.LaunchTemplateVersion = types.Int64Null()
	}
	if m.InstanceIDs.IsUnknown() {
		m.InstanceIDs = types.ListNull(types.StringType)
	}
	if m.HealthyCount.IsUnknown() {
		m.HealthyCount = types.Int64Null()
	}
	if m.OutdatedInstanceIDs.IsUnknown() {
		m.OutdatedInstanceIDs = types.ListNull(types.StringType)
	}
	if m.MasterTargetGroupARN.IsUnknown() {
		m.MasterTargetGroupARN = types.StringNull()
	}
	if m.WriteRuleARN.IsUnknown() {
		m.WriteRuleARN = types.StringNull()
	}
	if pm := m.master(); pm != nil && pm.RulePriority.IsUnknown() {
		pm.RulePriority = types.Int64Null()
	}
	if m.DesiredCapacity.IsUnknown() {
		m.DesiredCapacity = m.MinSize
	}
}
