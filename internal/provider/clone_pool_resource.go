package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
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

	// tagSyncPolicy names the clone_sync_policy whose agent the clones run.
	tagSyncPolicy = "clone:sync-policy"
	// tagMasterAttached marks a group whose master serves behind its load
	// balancers; import reads it back.
	tagMasterAttached = "clone:master-attached"
)

var (
	subnetIDRegexp       = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	securityGroupRegexp  = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	instanceTypeRegexp   = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)
	targetGroupARNRegexp = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[a-zA-Z0-9-]{1,32}/[0-9a-f]{16}$`)
	listenerARNRegexp    = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener/(app|net)/[a-zA-Z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}$`)
	classicELBNameRegexp = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)
	poolNameRegexp       = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?$`)
	profileRegexp        = regexp.MustCompile(`^(arn:aws[a-z-]*:iam::\d{12}:instance-profile/[\w+=,.@/-]+|[\w+=,.@-]{1,128})$`)
	pathPatternRegexp    = regexp.MustCompile(`^[A-Za-z0-9_\-.$/~"'@:+&()!,;=*?]{1,128}$`)
	absolutePathRegexp   = regexp.MustCompile(`^/[^\x00-\x1f\x7f]*[^/]$`)
	unitNameRegexp       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9:_.@-]{0,254}$`)
	syncPolicyIDRegexp   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	scheduleNameRegexp   = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?$`)
	recurrenceRegexp     = regexp.MustCompile(`^\S+( +\S+){4}$`)
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
	stable := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The clone fleet behind the load balancer: a versioned launch template (IMDSv2 required, " +
			"root volume encrypted) and an Auto Scaling group started from an image of the master, attached to " +
			"target groups and classic load balancers. Create and scale-out return once the pool's own instances " +
			"are healthy in every attached load balancer; scale-in returns once retired instances are out of all of " +
			"them. The optional `master` block serves the master too, routes write paths to it through a " +
			"master-only target group and listener rule, tells clones the master's address, disables the " +
			"master's services on clones and guards the master with an EC2 auto-recovery alarm.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The pool name.",
				PlanModifiers:       stable,
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Name of the pool, its Auto Scaling group and its launch template; the master target group " +
					"and recovery alarm are named after it. 1-64 letters, digits and hyphens. Changing it replaces the pool.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{stringvalidator.RegexMatches(poolNameRegexp, "must be 1-64 letters, digits and hyphens, not starting or ending with a hyphen")},
			},
			"image_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "AMI the clones start from, usually `clone_image.x.image_id`. A change creates a new launch template version.",
				Validators:          []validator.String{stringvalidator.RegexMatches(imageIDRegexp, "must be an AMI id such as ami-0123456789abcdef0")},
			},
			"instance_type": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "EC2 instance type of the clones, such as `t3.micro`.",
				Validators:          []validator.String{stringvalidator.RegexMatches(instanceTypeRegexp, "must be an EC2 instance type such as t3.micro")},
			},
			"subnet_ids": schema.ListAttribute{
				ElementType:         types.StringType,
				Required:            true,
				MarkdownDescription: "Subnets the group launches clones in, without duplicates.",
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.RegexMatches(subnetIDRegexp, "must be a subnet id such as subnet-0123456789abcdef0")),
				},
			},
			"security_group_ids": schema.SetAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Security groups of the clones.",
				Validators: []validator.Set{
					setvalidator.SizeBetween(1, 5),
					setvalidator.ValueStringsAre(stringvalidator.RegexMatches(securityGroupRegexp, "must be a security group id such as sg-0123456789abcdef0")),
				},
			},
			"key_name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "EC2 key pair for SSH access to the clones.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"iam_instance_profile": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Instance profile of the clones, by name or ARN.",
				Validators:          []validator.String{stringvalidator.RegexMatches(profileRegexp, "must be an instance profile name or ARN")},
			},
			"user_data": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Your own user data (a cloud-config document or a script). The pool adds its own cloud-init " +
					"parts (master address, disabled services, sync agent) and sends one gzip-compressed MIME multipart " +
					"document, identical byte for byte for an identical configuration; without parts of its own it sends " +
					"`user_data` as it is. EC2 allows 16,384 bytes of user data: the plan fails when `user_data` does not " +
					"fit beside the pool's own parts. Do not pass a multipart document yourself.",
			},
			"min_size": schema.Int64Attribute{
				Required:            true,
				MarkdownDescription: "Fewest clones the group keeps.",
				Validators:          []validator.Int64{int64validator.Between(0, 10000)},
			},
			"max_size": schema.Int64Attribute{
				Required:            true,
				MarkdownDescription: "Most clones the group may run.",
				Validators:          []validator.Int64{int64validator.Between(0, 10000)},
			},
			"desired_capacity": schema.Int64Attribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Clones to run. Left out, the pool starts with `min_size` and afterwards leaves capacity " +
					"to autoscaling: a changed desired capacity is then not a diff.",
				Validators:    []validator.Int64{int64validator.Between(0, 10000)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"target_group_arns": schema.SetAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "ALB/NLB target groups the pool is attached to. Attaching or detaching one is an in-place update.",
				Validators: []validator.Set{setvalidator.ValueStringsAre(
					stringvalidator.RegexMatches(targetGroupARNRegexp, "must be a target group ARN"))},
			},
			"classic_elb_names": schema.SetAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Classic load balancers the pool is attached to, together with `target_group_arns` if you like.",
				Validators: []validator.Set{setvalidator.ValueStringsAre(
					stringvalidator.RegexMatches(classicELBNameRegexp, "must be a classic load balancer name"))},
			},
			"wait_for_healthy": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Wait on create and scale-out until every clone of the pool is healthy in every attached " +
					"load balancer (default `true`). On timeout the error names which clones are unhealthy where.",
			},
			"tags": schema.MapAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Tags for the group (propagated to the clones), the launch template, the master target group, the write rule and the alarm. Merged over the provider's `default_tags`.",
				Validators:          tagsValidators(),
			},
			"tags_all": schema.MapAttribute{
				ElementType:         types.StringType,
				Computed:            true,
				MarkdownDescription: "`tags` merged over the provider's `default_tags`.",
			},
			"launch_template_id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The pool's launch template.",
				PlanModifiers:       stable,
			},
			"launch_template_version": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "The launch template version the group launches. Image, instance type, user data or master changes create a new one.",
			},
			"instance_ids": schema.ListAttribute{
				ElementType:         types.StringType,
				Computed:            true,
				MarkdownDescription: "The clones in the group, sorted.",
			},
			"outdated_instance_ids": schema.ListAttribute{
				ElementType: types.StringType,
				Computed:    true,
				MarkdownDescription: "Clones in service that do not run `launch_template_version` (its image, or its version where " +
					"EC2 recorded it), sorted: what an interrupted rollout, or a failed one with `rollback_on_failure = false`, " +
					"left behind. While it is not empty the next plan is an update that finishes the rollout.",
			},
			"healthy_count": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "How many clones are healthy in every attached load balancer.",
			},
			"master_target_group_arn": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The master-only target group, when `master.write_paths` is set.",
			},
			"write_rule_arn": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The listener rule routing `master.write_paths` to the master, when set.",
			},
			"sync_policy_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "A `clone_sync_policy` (its `id`). Clones boot with its sync agent, and a launch lifecycle " +
					"hook (`<name>-first-sync`, default result ABANDON) keeps a new clone out of service until its first " +
					"sync from the master completed. Changing it creates a new launch template version.",
				Validators: []validator.String{stringvalidator.RegexMatches(syncPolicyIDRegexp, "must be a clone_sync_policy id")},
			},
		},
		Blocks: map[string]schema.Block{
			"master": schema.ListNestedBlock{
				MarkdownDescription: "The master server the clones were made from.",
				Validators:          []validator.List{listvalidator.SizeAtMost(1)},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"instance_id": schema.StringAttribute{
							Required:            true,
							MarkdownDescription: "The master instance.",
							Validators:          []validator.String{stringvalidator.RegexMatches(instanceIDRegexp, "must be an EC2 instance id such as i-0123456789abcdef0")},
						},
						"attach_to_load_balancers": schema.BoolAttribute{
							Optional: true,
							Computed: true,
							Default:  booldefault.StaticBool(false),
							MarkdownDescription: "Register the master in the pool's target groups and classic load balancers too, so it " +
								"keeps serving. Destroy deregisters it only where the pool registered it.",
						},
						"write_paths": schema.ListAttribute{
							ElementType: types.StringType,
							Optional:    true,
							MarkdownDescription: "Path patterns (such as `/upload/*`) routed to the master only, through a master-only " +
								"target group and a rule on `listener_arn`. Needs `listener_arn` and `rule_priority`.",
							Validators: []validator.List{
								listvalidator.SizeBetween(1, 5),
								listvalidator.UniqueValues(),
								listvalidator.ValueStringsAre(stringvalidator.RegexMatches(pathPatternRegexp, "must be an ALB path pattern of at most 128 characters")),
								listvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("listener_arn"), path.MatchRelative().AtParent().AtName("rule_priority")),
							},
						},
						"listener_arn": schema.StringAttribute{
							Optional:            true,
							MarkdownDescription: "ALB listener that gets the write rule.",
							Validators: []validator.String{
								stringvalidator.RegexMatches(listenerARNRegexp, "must be a load balancer listener ARN"),
								stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("write_paths")),
							},
						},
						"rule_priority": schema.Int64Attribute{
							Optional:            true,
							MarkdownDescription: "Priority of the write rule on the listener, 1 to 50000.",
							Validators: []validator.Int64{
								int64validator.Between(1, 50000),
								int64validator.AlsoRequires(path.MatchRelative().AtParent().AtName("write_paths")),
							},
						},
						"env_file": schema.StringAttribute{
							Optional:            true,
							MarkdownDescription: "Absolute path where clones find `MASTER_ADDRESS` (the master's private IP) and `MASTER_INSTANCE_ID`, written at boot.",
							Validators:          []validator.String{stringvalidator.RegexMatches(absolutePathRegexp, "must be an absolute path to a file")},
						},
						"disable_services": schema.ListAttribute{
							ElementType:         types.StringType,
							Optional:            true,
							MarkdownDescription: "systemd units (such as `mysql`) stopped and masked on every clone at boot: the database stays on the master.",
							Validators: []validator.List{
								listvalidator.UniqueValues(),
								listvalidator.ValueStringsAre(stringvalidator.RegexMatches(unitNameRegexp, "must be a systemd unit name")),
							},
						},
						"recovery_alarm": schema.BoolAttribute{
							Optional: true,
							Computed: true,
							Default:  booldefault.StaticBool(true),
							MarkdownDescription: "Create a CloudWatch alarm that recovers the master (`arn:aws:automate:REGION:ec2:recover`) " +
								"when its system status check fails twice in a row (default `true`: the master is a single point of failure).",
						},
					},
				},
			},
			"rolling_update": schema.ListNestedBlock{
				MarkdownDescription: "How a change of image, instance type, user data, master settings or sync agent (also a changed " +
					"`clone_sync_policy`) rolls the pool. Every change creates a launch template version; clones in service that do " +
					"not run it are replaced batch by batch: launch a batch of new clones, wait until those instances are healthy " +
					"in every attached load balancer, then retire old ones (deregister, drain, terminate). Draining waits out each " +
					"target group's `deregistration_delay.timeout_seconds` (300 s unless you changed it) and each classic ELB's " +
					"connection-draining timeout, so every batch, every scale-in and the destroy take at least that long: size " +
					"the `update` and `delete` timeouts (15m by default) for batches × (launch + health + drain). Healthy capacity never " +
					"drops below `min_healthy_percent` of desired capacity. Old and new are told apart by image id and by the " +
					"launch template version EC2 recorded on the instance, not by what the group reports. Left out, the defaults apply.",
				Validators: []validator.List{listvalidator.SizeAtMost(1)},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"batch_size": schema.Int64Attribute{
							Optional:            true,
							Computed:            true,
							Default:             int64default.StaticInt64(defaultBatchSize),
							MarkdownDescription: "Clones launched (and then retired) per batch (default 1).",
							Validators:          []validator.Int64{int64validator.Between(1, 10000)},
						},
						"min_healthy_percent": schema.Int64Attribute{
							Optional: true,
							Computed: true,
							Default:  int64default.StaticInt64(defaultMinHealthyPercent),
							MarkdownDescription: "Healthy clones kept throughout, in percent of desired capacity, rounded up (default 100: " +
								"surge first, so `max_size` must leave room above desired capacity). Below 100 the rollout retires old " +
								"clones before launching only as far as `max_size` forces it to.",
							Validators: []validator.Int64{int64validator.Between(0, 100)},
						},
						"health_timeout": schema.StringAttribute{
							Optional: true,
							Computed: true,
							Default:  stringdefault.StaticString(defaultHealthTimeout),
							MarkdownDescription: "How long one batch of new clones may take to become healthy in every load balancer " +
								"(default `10m`, at least `10s`). Bounded by the update timeout too.",
							Validators: []validator.String{durationBetween(10*time.Second, 24*time.Hour)},
						},
						"rollback_on_failure": schema.BoolAttribute{
							Optional: true,
							Computed: true,
							Default:  booldefault.StaticBool(true),
							MarkdownDescription: "When a batch is not healthy in time, point the group back at the previous launch " +
								"template version, retire the new clones and restore capacity with old ones (default `true`). The " +
								"apply then fails naming the clones that failed and why; state keeps the previous version, so the next " +
								"plan shows the change again. With `false` the apply fails and leaves the pool mixed; state records " +
								"the new version and the old clones in `outdated_instance_ids`, so the next apply continues.",
						},
					},
				},
			},
			"scaling": schema.ListNestedBlock{
				MarkdownDescription: "Load-based and scheduled scaling. With this block, Auto Scaling owns desired capacity: a desired " +
					"capacity moved by a policy or schedule is not a diff (state keeps the value Terraform last set), and an update " +
					"sets desired capacity only when `desired_capacity` changes in the configuration. Without it, a configured " +
					"`desired_capacity` that changed outside Terraform is a diff and the next apply restores it. The policy is named " +
					"`<name>-cpu-target`, scheduled actions `<name>-schedule-<schedule name or index>`; destroy deletes them.",
				Validators: []validator.List{listvalidator.SizeAtMost(1)},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"target_cpu_percent": schema.Float64Attribute{
							Optional:            true,
							MarkdownDescription: "Average CPU utilisation of the group a target tracking policy keeps, 1 to 100.",
							Validators:          []validator.Float64{float64validator.Between(1, 100)},
						},
					},
					Blocks: map[string]schema.Block{
						"schedule": schema.ListNestedBlock{
							MarkdownDescription: "Scheduled actions: at each `recurrence` the group's sizes are set.",
							Validators:          []validator.List{listvalidator.SizeAtMost(100)},
							NestedObject: schema.NestedBlockObject{
								Attributes: map[string]schema.Attribute{
									"name": schema.StringAttribute{
										Optional: true,
										MarkdownDescription: "Short name; the scheduled action is `<pool>-schedule-<name>`. Without it the " +
											"schedule's position names it, so reordering schedules renames them.",
										Validators: []validator.String{stringvalidator.RegexMatches(scheduleNameRegexp, "must be 1-64 letters, digits and hyphens")},
									},
									"recurrence": schema.StringAttribute{
										Required:            true,
										MarkdownDescription: "Cron expression in UTC with five fields, such as `0 22 * * 1-5`.",
										Validators:          []validator.String{stringvalidator.RegexMatches(recurrenceRegexp, "must be a cron expression with five fields such as \"0 22 * * 1-5\"")},
									},
									"min_size": schema.Int64Attribute{
										Optional:            true,
										MarkdownDescription: "Fewest clones from then on.",
										Validators:          []validator.Int64{int64validator.Between(0, 10000)},
									},
									"max_size": schema.Int64Attribute{
										Optional:            true,
										MarkdownDescription: "Most clones from then on.",
										Validators:          []validator.Int64{int64validator.Between(0, 10000)},
									},
									"desired_capacity": schema.Int64Attribute{
										Optional:            true,
										MarkdownDescription: "Clones to run from then on.",
										Validators:          []validator.Int64{int64validator.Between(0, 10000)},
									},
								},
							},
						},
					},
				},
			},
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *ClonePoolResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	client, diags := clientFrom(req.ProviderData, "Resource")
	resp.Diagnostics.Append(diags...)
	r.client = client
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
}

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

	changed := templateChanged(&plan, state)
	var agentStale bool
	var agent *userdata.Part // the sync agent as rendered now, when it was
	if !changed {
		agentStale, agent = r.syncAgentStale(r.client.Context(ctx), req.Private, &plan, state)
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
		r.checkUserDataFits(ctx, &plan, agent, &resp.Diagnostics)
	}
	if plan.LaunchTemplateVersion.IsUnknown() || len(state.OutdatedInstanceIDs.Elements()) > 0 {
		if e := surgeRoom(&plan); e != nil {
			resp.Diagnostics.AddAttributeError(e.path, "Clone Pool cannot roll", e.msg)
		}
	}
	if om := state.master(); pm != nil && !pm.WritePaths.IsNull() {
		plan.MasterTargetGroupARN = state.MasterTargetGroupARN
		plan.WriteRuleARN = state.WriteRuleARN
		if om == nil || !pm.ListenerARN.Equal(om.ListenerARN) || state.WriteRuleARN.IsNull() {
			plan.WriteRuleARN = types.StringUnknown()
		}
		if state.MasterTargetGroupARN.IsNull() {
			plan.MasterTargetGroupARN = types.StringUnknown()
		}
	}
	if fleetChanged(&plan, state) {
		plan.InstanceIDs = types.ListUnknown(types.StringType)
		plan.HealthyCount = types.Int64Unknown()
	} else {
		plan.InstanceIDs = state.InstanceIDs
		plan.HealthyCount = state.HealthyCount
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
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
	regs, created, err := r.converge(ctx, &plan, nil, nil)
	resp.Diagnostics.Append(setRegistrations(ctx, resp.Private, regs)...)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Creating Clone Pool (%s)", name), err.Error())
		if created {
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
	gone, agent, err := r.read(ctx, &state)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading Clone Pool (%s)", name), err.Error())
		return
	}
	if gone {
		tflog.Warn(ctx, "Clone Pool not found: neither its Auto Scaling group nor its launch template exists; removing from state")
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

	regs, _, err := r.converge(ctx, &plan, &state, regs)
	resp.Diagnostics.Append(setRegistrations(ctx, resp.Private, regs)...)
	var failed *rolloutFailure
	switch {
	case errors.As(err, &failed):
		resp.Diagnostics.AddError(fmt.Sprintf("Rolling out Clone Pool (%s)", name), failed.describe(&state))
		// State tells what the pool is now: the version the group launches
		// and the clones still on an older one.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		gone, _, err := r.read(rctx, &state)
		if err != nil || gone {
			resp.Diagnostics.AddWarning(fmt.Sprintf("Reading Clone Pool (%s) after the failed rollout", name),
				fmt.Sprintf("State keeps its previous values; the next refresh corrects them (%v).", err))
			return
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
		return
	case err != nil:
		resp.Diagnostics.AddError(fmt.Sprintf("Updating Clone Pool (%s)", name), err.Error())
		return
	}
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
	if err := r.delete(ctx, &state, regs); err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Deleting Clone Pool (%s)", name), err.Error())
	}
}

// ImportState takes the pool name and finds what the pool made from it.
func (r *ClonePoolResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ctx = r.client.Context(ctx)
	name := strings.TrimSpace(req.ID)
	summary := fmt.Sprintf("Importing Clone Pool (%s)", name)
	if err := pool.ValidateName(name); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
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
	ID                    types.String                  `tfsdk:"id"`
	Name                  types.String                  `tfsdk:"name"`
	ImageID               types.String                  `tfsdk:"image_id"`
	InstanceType          types.String                  `tfsdk:"instance_type"`
	SubnetIDs             types.List                    `tfsdk:"subnet_ids"`
	SecurityGroupIDs      types.Set                     `tfsdk:"security_group_ids"`
	KeyName               types.String                  `tfsdk:"key_name"`
	IAMInstanceProfile    types.String                  `tfsdk:"iam_instance_profile"`
	UserData              types.String                  `tfsdk:"user_data"`
	MinSize               types.Int64                   `tfsdk:"min_size"`
	MaxSize               types.Int64                   `tfsdk:"max_size"`
	DesiredCapacity       types.Int64                   `tfsdk:"desired_capacity"`
	TargetGroupARNs       types.Set                     `tfsdk:"target_group_arns"`
	ClassicELBNames       types.Set                     `tfsdk:"classic_elb_names"`
	WaitForHealthy        types.Bool                    `tfsdk:"wait_for_healthy"`
	Tags                  types.Map                     `tfsdk:"tags"`
	TagsAll               types.Map                     `tfsdk:"tags_all"`
	LaunchTemplateID      types.String                  `tfsdk:"launch_template_id"`
	LaunchTemplateVersion types.Int64                   `tfsdk:"launch_template_version"`
	InstanceIDs           types.List                    `tfsdk:"instance_ids"`
	HealthyCount          types.Int64                   `tfsdk:"healthy_count"`
	MasterTargetGroupARN  types.String                  `tfsdk:"master_target_group_arn"`
	WriteRuleARN          types.String                  `tfsdk:"write_rule_arn"`
	Master                []clonePoolMasterModel        `tfsdk:"master"`
	SyncPolicyID          types.String                  `tfsdk:"sync_policy_id"`
	OutdatedInstanceIDs   types.List                    `tfsdk:"outdated_instance_ids"`
	RollingUpdate         []clonePoolRollingUpdateModel `tfsdk:"rolling_update"`
	Scaling               []clonePoolScalingModel       `tfsdk:"scaling"`
	Timeouts              timeouts.Value                `tfsdk:"timeouts"`
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
	if m == nil || len(m.Master) == 0 {
		return nil
	}
	return &m.Master[0]
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
	if m.DesiredCapacity.IsUnknown() {
		m.DesiredCapacity = m.MinSize
	}
}
