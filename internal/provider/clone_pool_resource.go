package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
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
	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
	"github.com/cloneserver/terraform-provider-clone/internal/rollout"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

const (
	defaultPoolCreateTimeout = 15 * time.Minute
	defaultPoolUpdateTimeout = 15 * time.Minute
	defaultPoolDeleteTimeout = 15 * time.Minute

	// privateMasterRegistrations records where the pool itself registered
	// the master, so destroy deregisters it only there.
	privateMasterRegistrations = "master_registrations"
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
	rolloutPollInterval      = 2 * time.Second
)

var (
	_ resource.Resource                   = &ClonePoolResource{}
	_ resource.ResourceWithConfigure      = &ClonePoolResource{}
	_ resource.ResourceWithImportState    = &ClonePoolResource{}
	_ resource.ResourceWithModifyPlan     = &ClonePoolResource{}
	_ resource.ResourceWithValidateConfig = &ClonePoolResource{}
)

// NewClonePoolResource is the clone_pool constructor.
func NewClonePoolResource() resource.Resource {
	return &ClonePoolResource{}
}

// ClonePoolResource runs the clone fleet behind the load balancer.
type ClonePoolResource struct {
	client *conns.AWSClient
}

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
					"parts (master address, disabled services) and sends one MIME multipart document, identical byte for " +
					"byte for an identical configuration. Do not pass a multipart document yourself.",
				Validators: []validator.String{stringvalidator.LengthAtMost(16 * 1024)},
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
					"in every attached load balancer, then retire old ones (deregister, drain, terminate). Healthy capacity never " +
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

// validateSchedules checks min <= desired <= max within each schedule and
// that no two schedules get the same scheduled action name.
func validateSchedules(scaling []clonePoolScalingModel) []attrError {
	if len(scaling) == 0 {
		return nil
	}
	var errs []attrError
	seen := map[string]int{}
	for i, sc := range scaling[0].Schedule {
		at := path.Root("scaling").AtListIndex(0).AtName("schedule").AtListIndex(i)
		for _, e := range validateSizes(sc.MinSize, sc.MaxSize, sc.DesiredCapacity) {
			errs = append(errs, attrError{at.AtName(e.path.String()), e.msg})
		}
		if sc.MinSize.IsNull() && sc.MaxSize.IsNull() && sc.DesiredCapacity.IsNull() {
			errs = append(errs, attrError{at, "A schedule sets at least one of min_size, max_size and desired_capacity."})
		}
		if sc.Name.IsUnknown() {
			continue
		}
		key := pool.ScheduleKey(sc.Name.ValueString(), i)
		if j, dup := seen[key]; dup {
			errs = append(errs, attrError{at.AtName("name"),
				fmt.Sprintf("schedules %d and %d would both be named %q; give each schedule a distinct name.", j, i, key)})
		}
		seen[key] = i
	}
	return errs
}

type attrError struct {
	path path.Path
	msg  string
}

// validateSizes checks min <= max and min <= desired <= max for the known values.
func validateSizes(minSize, maxSize, desired types.Int64) []attrError {
	var errs []attrError
	known := func(v types.Int64) bool { return !v.IsNull() && !v.IsUnknown() }
	if known(minSize) && known(maxSize) && minSize.ValueInt64() > maxSize.ValueInt64() {
		errs = append(errs, attrError{path.Root("min_size"),
			fmt.Sprintf("min_size (%d) must not exceed max_size (%d).", minSize.ValueInt64(), maxSize.ValueInt64())})
	}
	if known(desired) {
		d := desired.ValueInt64()
		if (known(minSize) && d < minSize.ValueInt64()) || (known(maxSize) && d > maxSize.ValueInt64()) {
			errs = append(errs, attrError{path.Root("desired_capacity"),
				fmt.Sprintf("desired_capacity (%d) must lie within [min_size, max_size] = [%s, %s].", d, minSize, maxSize)})
		}
	}
	return errs
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

	if plan.Tags.IsUnknown() {
		plan.TagsAll = types.MapUnknown(types.StringType)
	} else {
		tags, diags := stringMap(ctx, plan.Tags)
		resp.Diagnostics.Append(diags...)
		plan.TagsAll = mapValue(r.client.AllTags(tags))
	}

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

	switch {
	case templateChanged(&plan, state):
		plan.LaunchTemplateVersion = types.Int64Unknown()
	case r.syncAgentStale(r.client.Context(ctx), &plan, state):
		tflog.Info(ctx, "the sync policy's agent changed since the launch template was made: planning a new launch template version", map[string]any{"sync_policy_id": plan.SyncPolicyID.ValueString()})
		plan.LaunchTemplateVersion = types.Int64Unknown()
	default:
		plan.LaunchTemplateVersion = state.LaunchTemplateVersion
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
	pm, om := plan.master(), state.master()
	if (pm == nil) != (om == nil) {
		return pm.rendersUserData() || om.rendersUserData()
	}
	if pm == nil {
		return false
	}
	return !pm.InstanceID.Equal(om.InstanceID) || !pm.EnvFile.Equal(om.EnvFile) || !pm.DisableServices.Equal(om.DisableServices)
}

// fleetChanged tells whether the apply can change which clones run or how
// healthy they are.
func fleetChanged(plan, state *clonePoolResourceModel) bool {
	if plan.LaunchTemplateVersion.IsUnknown() || len(state.OutdatedInstanceIDs.Elements()) > 0 || (len(plan.Scaling) > 0) != (len(state.Scaling) > 0) {
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
	ctx, cancel := context.WithTimeout(r.client.Context(ctx), timeout)
	defer cancel()
	name := plan.Name.ValueString()
	ctx = tflog.SetField(ctx, "clone_pool", name)

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
	gone, err := r.read(ctx, &state)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading Clone Pool (%s)", name), err.Error())
		return
	}
	if gone {
		tflog.Warn(ctx, "Clone Pool not found: neither its Auto Scaling group nor its launch template exists; removing from state")
		resp.State.RemoveResource(ctx)
		return
	}
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
	ctx, cancel := context.WithTimeout(r.client.Context(ctx), timeout)
	defer cancel()
	name := state.ID.ValueString()
	ctx = tflog.SetField(ctx, "clone_pool", name)

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
		gone, err := r.read(rctx, &state)
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
	ctx, cancel := context.WithTimeout(r.client.Context(ctx), timeout)
	defer cancel()
	name := state.ID.ValueString()
	ctx = tflog.SetField(ctx, "clone_pool", name)
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

func (r *ClonePoolResource) clients() pool.Clients {
	return pool.Clients{AutoScaling: r.client.AutoScaling, ELBV2: r.client.ELBV2, ELB: r.client.ELB}
}

func progress(ctx context.Context, what string) func(string) {
	return func(status string) {
		tflog.Info(ctx, status, map[string]any{"waiting_for": what})
	}
}

// converge makes AWS match plan; prior is nil on create. It fills the
// plan's unknown computed values and reports whether the group exists.
func (r *ClonePoolResource) converge(ctx context.Context, plan, prior *clonePoolResourceModel, regs []masterRegistration) ([]masterRegistration, bool, error) {
	name := plan.Name.ValueString()
	names := pool.NamesFor(name)
	in, err := plan.expand(ctx)
	if err != nil {
		return regs, false, err
	}
	tags := r.ownTags(name, in.tagsAll)

	var master *pool.Master
	if pm := plan.master(); pm != nil {
		m, err := pool.FindMaster(ctx, r.client.EC2, pm.InstanceID.ValueString())
		if err != nil {
			return regs, false, err
		}
		master = &m
	}

	if prior == nil || plan.LaunchTemplateVersion.IsUnknown() {
		if err := r.putTemplate(ctx, plan, prior, in, master, tags); err != nil {
			return regs, false, err
		}
	}

	g, err := pool.FindGroup(ctx, r.client.AutoScaling, names.Group)
	switch {
	case errors.Is(err, pool.ErrNotFound):
		tflog.Info(ctx, "creating Auto Scaling group", map[string]any{"desired_capacity": in.desired})
		err = r.createGroup(ctx, plan, in, tags)
	case err == nil:
		if prior != nil && len(plan.Scaling) > 0 && plan.DesiredCapacity.Equal(prior.DesiredCapacity) {
			in.desired = min(max(g.DesiredCapacity, in.minSize), in.maxSize)
			tflog.Info(ctx, "scaling owns desired capacity: keeping the group's", map[string]any{"desired_capacity": in.desired})
		}
		err = r.updateGroup(ctx, g, plan, prior, in, tags)
	}
	if err != nil {
		return regs, false, err
	}
	if err := r.applyScaling(ctx, plan, prior); err != nil {
		return regs, true, err
	}
	plan.OutdatedInstanceIDs = listValue(nil)

	regs, err = r.applyMaster(ctx, plan, prior, master, in, regs, tags)
	if err != nil {
		return regs, true, err
	}

	targets := pool.Targets(in.targetGroups, in.classicELBs)
	if plan.WaitForHealthy.ValueBool() && plan.InstanceIDs.IsUnknown() {
		if _, err := r.clients().WaitHealthy(ctx, names.Group, targets, int(in.desired), progress(ctx, "clones healthy")); err != nil {
			return regs, true, fmt.Errorf("waiting for Clone Pool (%s) healthy: %w", name, err)
		}
	}
	if plan.InstanceIDs.IsUnknown() || plan.HealthyCount.IsUnknown() {
		g, err := pool.FindGroup(ctx, r.client.AutoScaling, names.Group)
		if err != nil {
			return regs, true, err
		}
		report, err := r.clients().Health(ctx, targets)
		if err != nil {
			return regs, true, err
		}
		ids := g.ServingIDs()
		plan.InstanceIDs = listValue(ids)
		plan.HealthyCount = types.Int64Value(int64(len(report.Healthy(ids))))
	}
	return regs, true, nil
}

// ownTags are tags_all plus the pool's own marker.
func (r *ClonePoolResource) ownTags(name string, tagsAll map[string]string) map[string]string {
	out := maps.Clone(tagsAll)
	out[pool.TagPool] = name
	return out
}

func (r *ClonePoolResource) putTemplate(ctx context.Context, plan, prior *clonePoolResourceModel, in poolInput, master *pool.Master, tags map[string]string) error {
	name := plan.Name.ValueString()
	spec, err := r.templateSpec(ctx, plan, in, master)
	if err != nil {
		return err
	}
	id := ""
	if prior != nil && !prior.LaunchTemplateID.IsNull() {
		id = prior.LaunchTemplateID.ValueString()
	}
	if id == "" {
		found, err := pool.FindTemplateByName(ctx, r.client.EC2, pool.NamesFor(name).LaunchTemplate)
		switch {
		case err == nil:
			id = found
		case !errors.Is(err, pool.ErrNotFound):
			return err
		}
	}
	var t pool.Template
	if id == "" {
		tflog.Info(ctx, "creating launch template", map[string]any{"image_id": spec.ImageID})
		t, err = pool.CreateTemplate(ctx, r.client.EC2, pool.NamesFor(name).LaunchTemplate, spec, tags)
	} else {
		tflog.Info(ctx, "creating launch template version", map[string]any{"launch_template_id": id, "image_id": spec.ImageID})
		t, err = pool.CreateTemplateVersion(ctx, r.client.EC2, id, spec)
		if errors.Is(err, pool.ErrNotFound) || (err != nil && strings.Contains(err.Error(), "NotFound")) {
			t, err = pool.CreateTemplate(ctx, r.client.EC2, pool.NamesFor(name).LaunchTemplate, spec, tags)
		}
	}
	if err != nil {
		return err
	}
	plan.LaunchTemplateID = types.StringValue(t.ID)
	plan.LaunchTemplateVersion = types.Int64Value(t.Version)
	return nil
}

func (r *ClonePoolResource) templateSpec(ctx context.Context, plan *clonePoolResourceModel, in poolInput, master *pool.Master) (pool.TemplateSpec, error) {
	parts, err := masterParts(plan.master(), master)
	if err != nil {
		return pool.TemplateSpec{}, err
	}
	if id := plan.SyncPolicyID.ValueString(); id != "" {
		part, err := r.syncAgentPart(ctx, plan.Name.ValueString(), id)
		if err != nil {
			return pool.TemplateSpec{}, err
		}
		parts = append(parts, part)
	}
	doc, err := userdata.Assemble(parts, plan.UserData.ValueString())
	if err != nil {
		return pool.TemplateSpec{}, fmt.Errorf("assembling user data: %w", err)
	}
	root, size, err := pool.RootDevice(ctx, r.client.EC2, plan.ImageID.ValueString())
	if err != nil {
		return pool.TemplateSpec{}, err
	}
	return pool.TemplateSpec{
		ImageID:            plan.ImageID.ValueString(),
		InstanceType:       plan.InstanceType.ValueString(),
		KeyName:            plan.KeyName.ValueString(),
		IAMInstanceProfile: plan.IAMInstanceProfile.ValueString(),
		SecurityGroupIDs:   in.securityGroups,
		UserData:           doc,
		RootDeviceName:     root,
		RootVolumeSize:     size,
	}, nil
}

// syncAgentPart renders the agent of a clone_sync_policy for this pool: it
// completes the pool's first-sync lifecycle hook after its first sync.
func (r *ClonePoolResource) syncAgentPart(ctx context.Context, poolName, policyID string) (userdata.Part, error) {
	p, err := syncstore.LoadPolicy(ctx, r.client.SSM, policyID)
	if err != nil {
		return userdata.Part{}, fmt.Errorf("loading sync policy %s: %w", policyID, err)
	}
	p.AutoScalingGroupName = pool.NamesFor(poolName).Group
	p.LifecycleHookName = firstSyncHookName(poolName)
	if err := p.Validate(); err != nil {
		return userdata.Part{}, fmt.Errorf("sync policy %s: %w", policyID, err)
	}
	return userdata.Part{Filename: pool.SyncAgentPartFilename, ContentType: userdata.ContentTypeCloudConfig, Content: syncagent.RenderCloudInitPart(p)}, nil
}

func firstSyncHookName(poolName string) string {
	return poolName + "-first-sync"
}

// firstSyncHook keeps a new clone in Pending:Wait until its agent's first
// sync completes the action; without that it is abandoned.
func firstSyncHook(poolName string) astypes.LifecycleHookSpecification {
	return astypes.LifecycleHookSpecification{
		LifecycleHookName:   aws.String(firstSyncHookName(poolName)),
		LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_LAUNCHING"),
		DefaultResult:       aws.String("ABANDON"),
		HeartbeatTimeout:    aws.Int32(900),
	}
}

func (r *ClonePoolResource) putSyncHook(ctx context.Context, plan, prior *clonePoolResourceModel) error {
	name := plan.Name.ValueString()
	had := prior != nil && !prior.SyncPolicyID.IsNull()
	want := !plan.SyncPolicyID.IsNull()
	switch {
	case want && !had:
		h := firstSyncHook(name)
		_, err := r.client.AutoScaling.PutLifecycleHook(ctx, &autoscaling.PutLifecycleHookInput{
			AutoScalingGroupName: aws.String(name), LifecycleHookName: h.LifecycleHookName,
			LifecycleTransition: h.LifecycleTransition, DefaultResult: h.DefaultResult, HeartbeatTimeout: h.HeartbeatTimeout,
		})
		if err != nil {
			return fmt.Errorf("putting lifecycle hook %s: %w", aws.ToString(h.LifecycleHookName), err)
		}
	case had && !want:
		_, err := r.client.AutoScaling.DeleteLifecycleHook(ctx, &autoscaling.DeleteLifecycleHookInput{
			AutoScalingGroupName: aws.String(name), LifecycleHookName: aws.String(firstSyncHookName(name)),
		})
		if err != nil && !pool.IsNotFound(err) {
			return fmt.Errorf("deleting lifecycle hook %s: %w", firstSyncHookName(name), err)
		}
	}
	return nil
}

// masterParts renders the pool's cloud-init parts; sync_policy_id adds the
// sync agent's part here once clone_sync_policy is available.
func masterParts(pm *clonePoolMasterModel, master *pool.Master) ([]userdata.Part, error) {
	if pm == nil || master == nil {
		return nil, nil
	}
	var services []string
	for _, v := range pm.DisableServices.Elements() {
		if s, ok := v.(types.String); ok {
			services = append(services, s.ValueString())
		}
	}
	parts, err := userdata.MasterParts(userdata.MasterSettings{
		Address:         master.PrivateIP,
		InstanceID:      master.ID,
		EnvFile:         pm.EnvFile.ValueString(),
		DisableServices: services,
	})
	if err != nil {
		return nil, fmt.Errorf("rendering the master's user data part: %w", err)
	}
	return parts, nil
}

func (r *ClonePoolResource) groupTags(name string, pm *clonePoolMasterModel, syncPolicy types.String, tags map[string]string) []astypes.Tag {
	if id := syncPolicy.ValueString(); id != "" {
		tags = maps.Clone(tags)
		tags[tagSyncPolicy] = id
	}
	out := pool.GroupTags(name, tags)
	if pm != nil {
		out = append(out, astypes.Tag{
			ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group"),
			Key: aws.String(pool.TagMaster), Value: aws.String(pm.InstanceID.ValueString()), PropagateAtLaunch: aws.Bool(false),
		})
		if pm.AttachToLoadBalancers.ValueBool() {
			out = append(out, astypes.Tag{
				ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group"),
				Key: aws.String(tagMasterAttached), Value: aws.String("true"), PropagateAtLaunch: aws.Bool(false),
			})
		}
	}
	return out
}

func (r *ClonePoolResource) createGroup(ctx context.Context, plan *clonePoolResourceModel, in poolInput, tags map[string]string) error {
	name := plan.Name.ValueString()
	input := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{
			LaunchTemplateId: aws.String(plan.LaunchTemplateID.ValueString()),
			Version:          aws.String(strconv.FormatInt(plan.LaunchTemplateVersion.ValueInt64(), 10)),
		},
		MinSize:                aws.Int32(int32(in.minSize)),
		MaxSize:                aws.Int32(int32(in.maxSize)),
		DesiredCapacity:        aws.Int32(int32(in.desired)),
		VPCZoneIdentifier:      aws.String(strings.Join(in.subnets, ",")),
		TargetGroupARNs:        in.targetGroups,
		LoadBalancerNames:      in.classicELBs,
		HealthCheckGracePeriod: aws.Int32(300),
		Tags:                   r.groupTags(name, plan.master(), plan.SyncPolicyID, tags),
	}
	if !plan.SyncPolicyID.IsNull() {
		input.LifecycleHookSpecificationList = []astypes.LifecycleHookSpecification{firstSyncHook(name)}
	}
	if len(in.targetGroups)+len(in.classicELBs) > 0 {
		input.HealthCheckType = aws.String("ELB")
	}
	if _, err := r.client.AutoScaling.CreateAutoScalingGroup(ctx, input); err != nil {
		return fmt.Errorf("creating Auto Scaling group %s: %w", name, err)
	}
	// The hook specification covers the first launches on AWS; emulators
	// may ignore it, and putting the same hook again changes nothing.
	if err := r.putSyncHook(ctx, plan, nil); err != nil {
		return err
	}
	plan.DesiredCapacity = types.Int64Value(in.desired)
	return nil
}

func (r *ClonePoolResource) updateGroup(ctx context.Context, g pool.Group, plan, prior *clonePoolResourceModel, in poolInput, tags map[string]string) error {
	name := g.Name
	c := r.clients()
	version := strconv.FormatInt(plan.LaunchTemplateVersion.ValueInt64(), 10)
	unfinished := prior != nil && len(prior.OutdatedInstanceIDs.Elements()) > 0
	if g.LaunchTemplateID != plan.LaunchTemplateID.ValueString() || g.LaunchTemplateVersion != version || unfinished {
		if err := r.rollOut(ctx, g, plan, prior, in); err != nil {
			return err
		}
		var err error
		if g, err = pool.FindGroup(ctx, r.client.AutoScaling, name); err != nil {
			return err
		}
	}

	if err := r.putSyncHook(ctx, plan, prior); err != nil {
		return err
	}
	if err := r.updateAttachments(ctx, g, in); err != nil {
		return err
	}

	targets := pool.Targets(in.targetGroups, in.classicELBs)
	serving := g.ServingIDs()
	update := &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name),
		MinSize:              aws.Int32(int32(in.minSize)),
		MaxSize:              aws.Int32(int32(in.maxSize)),
		DesiredCapacity:      aws.Int32(int32(in.desired)),
		VPCZoneIdentifier:    aws.String(strings.Join(in.subnets, ",")),
	}
	if len(in.targetGroups)+len(in.classicELBs) > 0 {
		update.HealthCheckType = aws.String("ELB")
	} else {
		update.HealthCheckType = aws.String("EC2")
	}
	if retire := len(serving) - int(in.desired); retire > 0 {
		images, err := pool.InstanceImages(ctx, r.client.EC2, serving)
		if err != nil {
			return err
		}
		retirees := pool.Retirees(serving, images, plan.ImageID.ValueString(), retire)
		tflog.Info(ctx, fmt.Sprintf("scaling in: retiring %d of %d clones", len(retirees), len(serving)), map[string]any{"instance_ids": retirees})
		if _, err := r.client.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(name),
			MinSize:              aws.Int32(int32(in.minSize)),
			MaxSize:              aws.Int32(int32(max(in.maxSize, int64(len(serving))))),
		}); err != nil {
			return fmt.Errorf("updating Auto Scaling group %s: %w", name, err)
		}
		if err := c.Deregister(ctx, targets, retirees); err != nil {
			return err
		}
		// Target groups drain before the clones go. Classic load balancers
		// may drop a clone only once it is out of the group, and the
		// emulator re-registers the group's remaining members on every
		// termination, so retirees are deregistered again afterwards.
		if err := c.WaitAbsent(ctx, pool.TargetGroupsOnly(targets), retirees, progress(ctx, "retired clones drained from the target groups")); err != nil {
			return fmt.Errorf("waiting for retired clones of Clone Pool (%s) to leave the target groups: %w", name, err)
		}
		if err := pool.Terminate(ctx, r.client.AutoScaling, retirees); err != nil {
			return err
		}
		if err := c.Deregister(ctx, targets, retirees); err != nil {
			return err
		}
		if err := c.WaitAbsent(ctx, targets, retirees, progress(ctx, "retired clones out of every load balancer")); err != nil {
			return fmt.Errorf("waiting for retired clones of Clone Pool (%s) to leave the load balancers: %w", name, err)
		}
	}
	if _, err := r.client.AutoScaling.UpdateAutoScalingGroup(ctx, update); err != nil {
		return fmt.Errorf("updating Auto Scaling group %s: %w", name, err)
	}

	had := map[string]string{}
	for k, v := range g.Tags {
		had[k] = v
	}
	want := map[string]string{}
	for _, t := range r.groupTags(name, plan.master(), plan.SyncPolicyID, tags) {
		want[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if !maps.Equal(had, want) {
		if err := pool.UpdateGroupTags(ctx, r.client.AutoScaling, name, had, want); err != nil {
			return err
		}
		if err := updateMasterTagPropagation(ctx, r.client.AutoScaling, name, plan.master()); err != nil {
			return err
		}
	}
	if prior != nil && !prior.TagsAll.Equal(plan.TagsAll) && !plan.LaunchTemplateID.IsNull() {
		oldTags := r.ownTags(name, mustStringMap(ctx, prior.TagsAll))
		if err := pool.RetagTemplate(ctx, r.client.EC2, plan.LaunchTemplateID.ValueString(), oldTags, tags); err != nil {
			return err
		}
	}
	return nil
}

// updateMasterTagPropagation keeps the pool's own bookkeeping tags off the clones.
func updateMasterTagPropagation(ctx context.Context, client *autoscaling.Client, name string, pm *clonePoolMasterModel) error {
	if pm == nil {
		return nil
	}
	tags := []astypes.Tag{{
		ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group"),
		Key: aws.String(pool.TagMaster), Value: aws.String(pm.InstanceID.ValueString()), PropagateAtLaunch: aws.Bool(false),
	}}
	if pm.AttachToLoadBalancers.ValueBool() {
		tags = append(tags, astypes.Tag{
			ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group"),
			Key: aws.String(tagMasterAttached), Value: aws.String("true"), PropagateAtLaunch: aws.Bool(false),
		})
	}
	if _, err := client.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: tags}); err != nil {
		return fmt.Errorf("tagging Auto Scaling group %s: %w", name, err)
	}
	return nil
}

// rollOut moves the group onto the plan's launch template version and,
// when clones in service run anything else, replaces them batch by batch
// (rollout.Run). A failed or interrupted rollout returns a
// *rolloutFailure.
func (r *ClonePoolResource) rollOut(ctx context.Context, g pool.Group, plan, prior *clonePoolResourceModel, in poolInput) error {
	templateID := plan.LaunchTemplateID.ValueString()
	version := strconv.FormatInt(plan.LaunchTemplateVersion.ValueInt64(), 10)
	fleet := &pool.Fleet{
		Clients: r.clients(), EC2: r.client.EC2, Group: g.Name, TemplateID: templateID,
		Targets: pool.Targets(in.targetGroups, in.classicELBs), Progress: progress(ctx, "rollout"),
	}
	to := rollout.Target{ImageID: plan.ImageID.ValueString(), TemplateVersion: version}
	instances, err := fleet.Instances(ctx)
	if err != nil {
		return err
	}
	if !rollout.NeedsRollout(instances, to) {
		tflog.Info(ctx, "no clone in service runs an older launch template: pointing the group at the new version", map[string]any{"launch_template_id": templateID, "version": version})
		return fleet.SetTemplateVersion(ctx, version)
	}

	ru := plan.rolling()
	from := rollbackTarget(prior, instances, to)
	opts := rollout.Options{
		BatchSize:         ru.batchSize,
		MinHealthyPercent: ru.minHealthyPercent,
		HealthTimeout:     ru.healthTimeout,
		Rollback:          ru.rollback,
		PollInterval:      rolloutPollInterval,
		Progress:          func(msg string) { tflog.Info(ctx, msg, map[string]any{"waiting_for": "rollout"}) },
	}
	if opts.Rollback && from.TemplateVersion == "" {
		tflog.Warn(ctx, "the launch template version to roll back to is unknown: this rollout cannot roll back")
		opts.Rollback = false
	}
	desired := int(in.desired)
	if floor := rollout.Floor(rollout.Params{Desired: desired, MinHealthyPercent: ru.minHealthyPercent}); int64(floor) < in.minSize {
		// Retiring before launching may take the group below min_size for a
		// while; the update that follows restores it.
		if _, err := r.client.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(g.Name), MinSize: aws.Int32(int32(floor)),
		}); err != nil {
			return fmt.Errorf("lowering min_size of Auto Scaling group %s to %d for the rollout: %w", g.Name, floor, err)
		}
	}
	tflog.Info(ctx, fmt.Sprintf("rolling Clone Pool (%s) onto %s", g.Name, to), map[string]any{
		"batch_size": ru.batchSize, "min_healthy_percent": ru.minHealthyPercent, "health_timeout": ru.healthTimeout.String(), "rollback_to": from.String(),
	})
	res, err := rollout.Run(ctx, fleet, from, to, desired, int(in.maxSize), opts)
	if err != nil {
		return &rolloutFailure{err: err, to: to}
	}
	tflog.Info(ctx, fmt.Sprintf("rollout complete: %d batches, %d clones launched, %d retired, %d/%d healthy", res.Batches, len(res.Launched), len(res.Retired), res.Healthy, desired),
		map[string]any{"launched": res.Launched, "retired": res.Retired})
	return nil
}

// rollbackTarget is what a failed rollout rolls back to: the version state
// held, or, when the group already launches to (an interrupted rollout),
// the version most old clones were launched from.
func rollbackTarget(prior *clonePoolResourceModel, instances []rollout.Instance, to rollout.Target) rollout.Target {
	if prior != nil && !prior.LaunchTemplateVersion.IsNull() && !prior.LaunchTemplateVersion.IsUnknown() {
		if v := strconv.FormatInt(prior.LaunchTemplateVersion.ValueInt64(), 10); v != to.TemplateVersion {
			return rollout.Target{ImageID: prior.ImageID.ValueString(), TemplateVersion: v}
		}
	}
	old, _ := rollout.Classify(instances, to)
	counts := map[rollout.Target]int{}
	var best rollout.Target
	for _, inst := range old {
		if inst.TemplateVersion == "" || inst.TemplateVersion == to.TemplateVersion {
			continue
		}
		t := rollout.Target{ImageID: inst.ImageID, TemplateVersion: inst.TemplateVersion}
		counts[t]++
		if counts[t] > counts[best] {
			best = t
		}
	}
	return best
}

// rolloutFailure is a rollout that did not complete: rolled back, left
// mixed, or interrupted. Update saves what the pool is now.
type rolloutFailure struct {
	err error
	to  rollout.Target
}

func (e *rolloutFailure) Error() string { return e.err.Error() }
func (e *rolloutFailure) Unwrap() error { return e.err }

func (e *rolloutFailure) describe(prior *clonePoolResourceModel) string {
	var rb *rollout.RollbackError
	var ht *rollout.HealthTimeoutError
	switch {
	case errors.As(e.err, &rb) && rb.Err == nil:
		return fmt.Sprintf("%s\n\nFailed clones: %s. State keeps launch template version %s (image %s), so the next plan shows the change again.",
			rb.Error(), strings.Join(rb.FailedIDs(), ", "), rb.From.TemplateVersion, cmpOr(rb.From.ImageID, prior.ImageID.ValueString()))
	case errors.As(e.err, &rb):
		return fmt.Sprintf("%s\n\nFailed clones: %s. The rollback did not complete: state records the launch template version the group launches now and, in outdated_instance_ids, the clones that do not run it; the next apply rolls them.",
			rb.Error(), strings.Join(rb.FailedIDs(), ", "))
	case errors.As(e.err, &ht):
		return fmt.Sprintf("%s\n\nFailed clones: %s. rollback_on_failure is false: state records %s and, in outdated_instance_ids, the old clones; the next apply continues the rollout.",
			ht.Error(), strings.Join(ht.FailedIDs(), ", "), e.to)
	}
	return e.err.Error() + "\n\nState records the launch template version the group launches now and, in outdated_instance_ids, the clones that do not run it; the next apply continues the rollout."
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// rollingSettings are rolling_update with its defaults.
type rollingSettings struct {
	batchSize, minHealthyPercent int
	healthTimeout                time.Duration
	rollback                     bool
}

func (m *clonePoolResourceModel) rolling() rollingSettings {
	out := rollingSettings{batchSize: defaultBatchSize, minHealthyPercent: defaultMinHealthyPercent, rollback: true}
	out.healthTimeout, _ = time.ParseDuration(defaultHealthTimeout)
	if len(m.RollingUpdate) == 0 {
		return out
	}
	ru := m.RollingUpdate[0]
	if v := ru.BatchSize; !v.IsNull() && !v.IsUnknown() {
		out.batchSize = int(v.ValueInt64())
	}
	if v := ru.MinHealthyPercent; !v.IsNull() && !v.IsUnknown() {
		out.minHealthyPercent = int(v.ValueInt64())
	}
	if d, err := time.ParseDuration(ru.HealthTimeout.ValueString()); err == nil && d > 0 {
		out.healthTimeout = d
	}
	if v := ru.RollbackOnFailure; !v.IsNull() && !v.IsUnknown() {
		out.rollback = v.ValueBool()
	}
	return out
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
	if desired == 0 || ru.minHealthyPercent < 100 || maxSize > desired {
		return nil
	}
	return &attrError{path.Root("max_size"), fmt.Sprintf(
		"This change rolls the pool, and rolling_update.min_healthy_percent = 100 keeps all %d clones healthy while new ones come up, "+
			"so max_size (%d) must be at least %d. Raise max_size or lower min_healthy_percent.", desired, maxSize, desired+1)}
}

// syncAgentStale tells whether the sync policy's agent, rendered now, differs
// from the one in the pool's launch template: a changed clone_sync_policy
// then plans a new version and a rollout.
func (r *ClonePoolResource) syncAgentStale(ctx context.Context, plan, state *clonePoolResourceModel) bool {
	id := plan.SyncPolicyID
	if id.IsNull() || id.IsUnknown() || !id.Equal(state.SyncPolicyID) || state.LaunchTemplateID.IsNull() || state.LaunchTemplateVersion.IsNull() {
		return false
	}
	tmpl, err := pool.FindTemplateVersion(ctx, r.client.EC2, state.LaunchTemplateID.ValueString(), strconv.FormatInt(state.LaunchTemplateVersion.ValueInt64(), 10))
	if err != nil {
		tflog.Warn(ctx, "reading the launch template to compare the sync agent", map[string]any{"error": err.Error()})
		return false
	}
	parts, err := pool.ParseUserData(tmpl.Spec.UserData)
	if err != nil {
		return false
	}
	part, err := r.syncAgentPart(ctx, plan.Name.ValueString(), id.ValueString())
	if err != nil {
		tflog.Warn(ctx, "rendering the sync agent to compare it", map[string]any{"error": err.Error()})
		return false
	}
	return part.Content != parts.SyncAgent
}

// applyScaling puts the target tracking policy and the scheduled actions of
// plan and deletes those it no longer has.
func (r *ClonePoolResource) applyScaling(ctx context.Context, plan, prior *clonePoolResourceModel) error {
	if prior != nil && scalingEqual(plan.Scaling, prior.Scaling) {
		return nil
	}
	name := plan.Name.ValueString()
	group := pool.NamesFor(name).Group
	if len(plan.Scaling) == 0 {
		return r.deleteScaling(ctx, name, nil)
	}
	sc := plan.Scaling[0]
	policy := pool.CPUPolicyName(name)
	if sc.TargetCPUPercent.IsNull() {
		if err := pool.DeletePolicy(ctx, r.client.AutoScaling, group, policy); err != nil {
			return err
		}
	} else {
		tflog.Info(ctx, "putting the target tracking policy", map[string]any{"policy": policy, "target_cpu_percent": sc.TargetCPUPercent.ValueFloat64()})
		if err := pool.PutCPUPolicy(ctx, r.client.AutoScaling, group, pool.CPUPolicy{Name: policy, TargetPercent: sc.TargetCPUPercent.ValueFloat64()}); err != nil {
			return err
		}
	}
	keep := map[string]bool{}
	for i, s := range sc.Schedule {
		action := expandSchedule(name, i, s)
		keep[action.Name] = true
		tflog.Info(ctx, "putting a scheduled action", map[string]any{"scheduled_action": action.Name, "recurrence": action.Recurrence})
		if err := pool.PutSchedule(ctx, r.client.AutoScaling, group, action); err != nil {
			return err
		}
	}
	return r.deleteSchedules(ctx, name, keep)
}

// deleteScaling deletes the pool's policy and every scheduled action named
// after the pool.
func (r *ClonePoolResource) deleteScaling(ctx context.Context, name string, keep map[string]bool) error {
	if err := pool.DeletePolicy(ctx, r.client.AutoScaling, pool.NamesFor(name).Group, pool.CPUPolicyName(name)); err != nil {
		return err
	}
	return r.deleteSchedules(ctx, name, keep)
}

func (r *ClonePoolResource) deleteSchedules(ctx context.Context, name string, keep map[string]bool) error {
	group := pool.NamesFor(name).Group
	existing, err := pool.ListSchedules(ctx, r.client.AutoScaling, group, pool.ScheduleName(name, ""))
	if err != nil {
		return err
	}
	for _, s := range existing {
		if keep[s.Name] {
			continue
		}
		tflog.Info(ctx, "deleting a scheduled action", map[string]any{"scheduled_action": s.Name})
		if err := pool.DeleteSchedule(ctx, r.client.AutoScaling, group, s.Name); err != nil {
			return err
		}
	}
	return nil
}

func expandSchedule(poolName string, index int, s clonePoolScheduleModel) pool.Schedule {
	size := func(v types.Int64) int64 {
		if v.IsNull() || v.IsUnknown() {
			return -1
		}
		return v.ValueInt64()
	}
	return pool.Schedule{
		Name:       pool.ScheduleName(poolName, pool.ScheduleKey(s.Name.ValueString(), index)),
		Recurrence: s.Recurrence.ValueString(),
		MinSize:    size(s.MinSize), MaxSize: size(s.MaxSize), Desired: size(s.DesiredCapacity),
	}
}

func scalingEqual(a, b []clonePoolScalingModel) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	if !a[0].TargetCPUPercent.Equal(b[0].TargetCPUPercent) || len(a[0].Schedule) != len(b[0].Schedule) {
		return false
	}
	for i := range a[0].Schedule {
		x, y := a[0].Schedule[i], b[0].Schedule[i]
		if !x.Name.Equal(y.Name) || !x.Recurrence.Equal(y.Recurrence) || !x.MinSize.Equal(y.MinSize) ||
			!x.MaxSize.Equal(y.MaxSize) || !x.DesiredCapacity.Equal(y.DesiredCapacity) {
			return false
		}
	}
	return true
}

// readScaling refreshes the scaling block: a deleted policy clears
// target_cpu_percent, a deleted scheduled action drops its schedule.
func (r *ClonePoolResource) readScaling(ctx context.Context, m *clonePoolResourceModel) error {
	if len(m.Scaling) == 0 {
		return nil
	}
	name := m.ID.ValueString()
	group := pool.NamesFor(name).Group
	sc := &m.Scaling[0]
	if !sc.TargetCPUPercent.IsNull() {
		p, err := pool.FindCPUPolicy(ctx, r.client.AutoScaling, group, pool.CPUPolicyName(name))
		switch {
		case errors.Is(err, pool.ErrNotFound):
			tflog.Warn(ctx, "target tracking policy no longer exists; the next apply creates it again")
			sc.TargetCPUPercent = types.Float64Null()
		case err != nil:
			return err
		default:
			sc.TargetCPUPercent = types.Float64Value(p.TargetPercent)
		}
	}
	if len(sc.Schedule) == 0 {
		return nil
	}
	names := make([]string, len(sc.Schedule))
	for i, s := range sc.Schedule {
		names[i] = expandSchedule(name, i, s).Name
	}
	found, err := pool.FindSchedules(ctx, r.client.AutoScaling, group, names)
	if err != nil {
		return err
	}
	kept := sc.Schedule[:0]
	for i, s := range sc.Schedule {
		a, ok := found[names[i]]
		if !ok {
			tflog.Warn(ctx, "scheduled action no longer exists; the next apply creates it again", map[string]any{"scheduled_action": names[i]})
			continue
		}
		s.Recurrence = types.StringValue(a.Recurrence)
		s.MinSize, s.MaxSize, s.DesiredCapacity = sizeOrNull(a.MinSize), sizeOrNull(a.MaxSize), sizeOrNull(a.Desired)
		kept = append(kept, s)
	}
	sc.Schedule = kept
	return nil
}

func sizeOrNull(v int64) types.Int64 {
	if v < 0 {
		return types.Int64Null()
	}
	return types.Int64Value(v)
}

// discoverScaling finds the pool's policy and scheduled actions for import.
func (r *ClonePoolResource) discoverScaling(ctx context.Context, name string) ([]clonePoolScalingModel, error) {
	group := pool.NamesFor(name).Group
	sc := clonePoolScalingModel{TargetCPUPercent: types.Float64Null()}
	p, err := pool.FindCPUPolicy(ctx, r.client.AutoScaling, group, pool.CPUPolicyName(name))
	switch {
	case err == nil:
		sc.TargetCPUPercent = types.Float64Value(p.TargetPercent)
	case !errors.Is(err, pool.ErrNotFound):
		return nil, err
	}
	prefix := pool.ScheduleName(name, "")
	actions, err := pool.ListSchedules(ctx, r.client.AutoScaling, group, prefix)
	if err != nil {
		return nil, err
	}
	// A schedule named by its position goes back to that position; named
	// ones fill the rest in name order.
	slots := make([]*clonePoolScheduleModel, len(actions))
	var named []clonePoolScheduleModel
	for _, a := range actions {
		key := strings.TrimPrefix(a.Name, prefix)
		s := clonePoolScheduleModel{
			Name: types.StringValue(key), Recurrence: types.StringValue(a.Recurrence),
			MinSize: sizeOrNull(a.MinSize), MaxSize: sizeOrNull(a.MaxSize), DesiredCapacity: sizeOrNull(a.Desired),
		}
		if i, err := strconv.Atoi(key); err == nil && strconv.Itoa(i) == key && i < len(slots) && slots[i] == nil {
			s.Name = types.StringNull()
			slots[i] = &s
			continue
		}
		named = append(named, s)
	}
	for _, slot := range slots {
		if slot == nil && len(named) > 0 {
			slot, named = &named[0], named[1:]
		}
		if slot != nil {
			sc.Schedule = append(sc.Schedule, *slot)
		}
	}
	if sc.TargetCPUPercent.IsNull() && len(sc.Schedule) == 0 {
		return nil, nil
	}
	return []clonePoolScalingModel{sc}, nil
}

func (r *ClonePoolResource) updateAttachments(ctx context.Context, g pool.Group, in poolInput) error {
	name := g.Name
	addTG, dropTG := diffStrings(g.TargetGroupARNs, in.targetGroups)
	addELB, dropELB := diffStrings(g.ClassicELBNames, in.classicELBs)
	if len(addTG) > 0 {
		tflog.Info(ctx, "attaching target groups", map[string]any{"target_group_arns": addTG})
		if _, err := r.client.AutoScaling.AttachLoadBalancerTargetGroups(ctx, &autoscaling.AttachLoadBalancerTargetGroupsInput{
			AutoScalingGroupName: aws.String(name), TargetGroupARNs: addTG,
		}); err != nil {
			return fmt.Errorf("attaching target groups %v to Auto Scaling group %s: %w", addTG, name, err)
		}
	}
	if len(addELB) > 0 {
		tflog.Info(ctx, "attaching classic load balancers", map[string]any{"classic_elb_names": addELB})
		if _, err := r.client.AutoScaling.AttachLoadBalancers(ctx, &autoscaling.AttachLoadBalancersInput{
			AutoScalingGroupName: aws.String(name), LoadBalancerNames: addELB,
		}); err != nil {
			return fmt.Errorf("attaching classic load balancers %v to Auto Scaling group %s: %w", addELB, name, err)
		}
	}
	if len(dropTG) > 0 {
		tflog.Info(ctx, "detaching target groups", map[string]any{"target_group_arns": dropTG})
		if _, err := r.client.AutoScaling.DetachLoadBalancerTargetGroups(ctx, &autoscaling.DetachLoadBalancerTargetGroupsInput{
			AutoScalingGroupName: aws.String(name), TargetGroupARNs: dropTG,
		}); err != nil && !pool.IsNotFound(err) {
			return fmt.Errorf("detaching target groups %v from Auto Scaling group %s: %w", dropTG, name, err)
		}
	}
	if len(dropELB) > 0 {
		tflog.Info(ctx, "detaching classic load balancers", map[string]any{"classic_elb_names": dropELB})
		if _, err := r.client.AutoScaling.DetachLoadBalancers(ctx, &autoscaling.DetachLoadBalancersInput{
			AutoScalingGroupName: aws.String(name), LoadBalancerNames: dropELB,
		}); err != nil && !pool.IsNotFound(err) {
			return fmt.Errorf("detaching classic load balancers %v from Auto Scaling group %s: %w", dropELB, name, err)
		}
	}
	if dropped := pool.Targets(dropTG, dropELB); len(dropped) > 0 {
		ids := g.ServingIDs()
		if err := r.clients().Deregister(ctx, dropped, ids); err != nil {
			return err
		}
		if err := r.clients().WaitAbsent(ctx, dropped, ids, progress(ctx, "clones out of detached load balancers")); err != nil {
			return fmt.Errorf("waiting for clones of Clone Pool (%s) to leave detached load balancers: %w", name, err)
		}
	}
	return nil
}

// diffStrings returns what want adds to have and what it drops, sorted.
func diffStrings(have, want []string) (add, drop []string) {
	for _, w := range want {
		if !slices.Contains(have, w) {
			add = append(add, w)
		}
	}
	for _, h := range have {
		if !slices.Contains(want, h) {
			drop = append(drop, h)
		}
	}
	slices.Sort(add)
	slices.Sort(drop)
	return add, drop
}

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
		tflog.Info(ctx, "deregistering the master where the pool registered it", map[string]any{"target": reg.Target, "instance_id": reg.InstanceID})
		if err := c.Deregister(ctx, []poolhealth.Target{{Kind: reg.Kind, ID: reg.Target, Name: reg.Target}}, []string{reg.InstanceID}); err != nil {
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

func (r *ClonePoolResource) partition() string {
	if r.client.Partition != "" {
		return r.client.Partition
	}
	return "aws"
}

func (r *ClonePoolResource) applyWriteRule(ctx context.Context, plan, prior *clonePoolResourceModel, pm, om *clonePoolMasterModel, master *pool.Master, in poolInput, names pool.Names, tags map[string]string) error {
	priorTG, priorRule := "", ""
	if prior != nil {
		priorTG, priorRule = prior.MasterTargetGroupARN.ValueString(), prior.WriteRuleARN.ValueString()
	}
	if pm == nil || pm.WritePaths.IsNull() {
		if priorRule != "" {
			tflog.Info(ctx, "deleting the write rule", map[string]any{"rule_arn": priorRule})
			if err := pool.DeleteRule(ctx, r.client.ELBV2, priorRule); err != nil {
				return err
			}
		}
		if priorTG != "" {
			tflog.Info(ctx, "deleting the master target group", map[string]any{"target_group_arn": priorTG})
			if err := pool.DeleteTargetGroup(ctx, r.client.ELBV2, priorTG); err != nil {
				return err
			}
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
			tgARN = found.ARN
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

func mustStringMap(ctx context.Context, m types.Map) map[string]string {
	out, _ := stringMap(ctx, m)
	return out
}

// read refreshes m from AWS: one DescribeAutoScalingGroups, one
// DescribeLaunchTemplateVersions, one health read per attached load
// balancer, and with a master the rule, its target group and the alarm.
// gone means nothing of the pool is left.
func (r *ClonePoolResource) read(ctx context.Context, m *clonePoolResourceModel) (bool, error) {
	name := m.ID.ValueString()
	g, err := pool.FindGroup(ctx, r.client.AutoScaling, pool.NamesFor(name).Group)
	groupGone := errors.Is(err, pool.ErrNotFound) || (err == nil && g.Deleting)
	if err != nil && !groupGone {
		return false, err
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
			return false, err
		}
	}
	if groupGone && templateGone {
		return true, nil
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
			return false, fmt.Errorf("launch template %s: %w", tmpl.ID, err)
		}
		m.UserData = stringOrNull(parts.User)
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
		r.readTags(ctx, m, g.Tags)
		report, err := r.clients().Health(ctx, pool.Targets(g.TargetGroupARNs, g.ClassicELBNames))
		if err != nil {
			return false, err
		}
		ids := g.ServingIDs()
		m.InstanceIDs = listValue(ids)
		m.HealthyCount = types.Int64Value(int64(len(report.Healthy(ids))))
		m.OutdatedInstanceIDs = listValue(nil)
		if !templateGone {
			outdated, err := pool.OutdatedIDs(ctx, r.client.EC2, g, tmpl)
			if err != nil {
				return false, err
			}
			m.OutdatedInstanceIDs = listValue(outdated)
		}
		if err := r.readScaling(ctx, m); err != nil {
			return false, err
		}
	}
	return false, r.readMaster(ctx, m)
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

// readTags splits the group's tags into tags_all and tags; the pool's own
// clone:* keys and keys only default_tags set stay out of `tags`.
func (r *ClonePoolResource) readTags(ctx context.Context, m *clonePoolResourceModel, groupTags map[string]string) {
	all := map[string]string{}
	for k, v := range groupTags {
		if !reservedTagKey.MatchString(k) {
			all[k] = v
		}
	}
	configured, _ := stringMap(ctx, m.Tags)
	own := map[string]string{}
	for k, v := range all {
		if dv, isDefault := r.client.DefaultTags[k]; isDefault && dv == v {
			if _, inConfig := configured[k]; !inConfig {
				continue
			}
		}
		own[k] = v
	}
	m.TagsAll = mapValue(all)
	if len(own) > 0 || !m.Tags.IsNull() {
		m.Tags = mapValue(own)
	}
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
		m.MasterTargetGroupARN = types.StringValue(tg.ARN)
		full, err := pool.FindTargetGroup(ctx, r.client.ELBV2, tg.ARN)
		if err != nil {
			return m, err
		}
		listeners, err := pool.ListenersOf(ctx, r.client.ELBV2, full.LoadBalancerArns)
		if err != nil {
			return m, err
		}
		for _, l := range listeners {
			rule, err := pool.FindRuleForwardingTo(ctx, r.client.ELBV2, l, tg.ARN)
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

func (r *ClonePoolResource) delete(ctx context.Context, m *clonePoolResourceModel, regs []masterRegistration) error {
	name := m.ID.ValueString()
	names := pool.NamesFor(name)
	c := r.clients()
	for _, reg := range regs {
		tflog.Info(ctx, "deregistering the master where the pool registered it", map[string]any{"target": reg.Target, "instance_id": reg.InstanceID})
		if err := c.Deregister(ctx, []poolhealth.Target{{Kind: reg.Kind, ID: reg.Target, Name: reg.Target}}, []string{reg.InstanceID}); err != nil {
			return err
		}
	}
	if arn := m.WriteRuleARN.ValueString(); arn != "" {
		tflog.Info(ctx, "deleting the write rule", map[string]any{"rule_arn": arn})
		if err := pool.DeleteRule(ctx, r.client.ELBV2, arn); err != nil {
			return err
		}
	}
	if arn := m.MasterTargetGroupARN.ValueString(); arn != "" {
		tflog.Info(ctx, "deleting the master target group", map[string]any{"target_group_arn": arn})
		if err := pool.DeleteTargetGroup(ctx, r.client.ELBV2, arn); err != nil {
			return err
		}
	}
	if pm := m.master(); pm != nil && pm.RecoveryAlarm.ValueBool() {
		tflog.Info(ctx, "deleting the recovery alarm", map[string]any{"alarm": names.RecoveryAlarm})
		if err := pool.DeleteAlarm(ctx, r.client.CloudWatch, names.RecoveryAlarm); err != nil {
			return err
		}
	}

	if err := r.deleteScaling(ctx, name, nil); err != nil {
		return err
	}

	g, err := pool.FindGroup(ctx, r.client.AutoScaling, names.Group)
	switch {
	case err == nil:
		if ids := g.ServingIDs(); len(ids) > 0 {
			if err := c.Deregister(ctx, pool.Targets(g.TargetGroupARNs, g.ClassicELBNames), ids); err != nil {
				return err
			}
		}
	case !errors.Is(err, pool.ErrNotFound):
		return err
	}
	tflog.Info(ctx, "deleting Auto Scaling group and terminating its clones")
	if err := pool.DeleteGroup(ctx, r.client.AutoScaling, r.client.EC2, names.Group, progress(ctx, "Auto Scaling group deleted")); err != nil {
		return err
	}
	tflog.Info(ctx, "deleting launch template")
	return pool.DeleteTemplate(ctx, r.client.EC2, names.LaunchTemplate)
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

// poolInput is the plan in plain Go values.
type poolInput struct {
	subnets        []string
	securityGroups []string
	targetGroups   []string
	classicELBs    []string
	minSize        int64
	maxSize        int64
	desired        int64
	tagsAll        map[string]string
}

func (m *clonePoolResourceModel) expand(ctx context.Context) (poolInput, error) {
	var in poolInput
	var diags diag.Diagnostics
	diags.Append(m.SubnetIDs.ElementsAs(ctx, &in.subnets, false)...)
	if !m.SecurityGroupIDs.IsNull() {
		diags.Append(m.SecurityGroupIDs.ElementsAs(ctx, &in.securityGroups, false)...)
	}
	if !m.TargetGroupARNs.IsNull() {
		diags.Append(m.TargetGroupARNs.ElementsAs(ctx, &in.targetGroups, false)...)
	}
	if !m.ClassicELBNames.IsNull() {
		diags.Append(m.ClassicELBNames.ElementsAs(ctx, &in.classicELBs, false)...)
	}
	tags, d := stringMap(ctx, m.TagsAll)
	diags.Append(d...)
	if diags.HasError() {
		return in, fmt.Errorf("reading the plan: %v", diags)
	}
	slices.Sort(in.securityGroups)
	slices.Sort(in.targetGroups)
	slices.Sort(in.classicELBs)
	in.tagsAll = tags
	in.minSize, in.maxSize = m.MinSize.ValueInt64(), m.MaxSize.ValueInt64()
	in.desired = in.minSize
	if !m.DesiredCapacity.IsNull() && !m.DesiredCapacity.IsUnknown() {
		in.desired = m.DesiredCapacity.ValueInt64()
	}
	return in, nil
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
