package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// clonePoolAttributes are the top-level attributes.
func clonePoolAttributes() map[string]schema.Attribute {
	stable := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	return map[string]schema.Attribute{
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
			Validators:    []validator.String{poolNameCheck},
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
			MarkdownDescription: "Subnets the group launches clones in: at least one, without duplicates.",
			Validators: []validator.List{
				listvalidator.SizeAtLeast(1),
				listvalidator.UniqueValues(),
				listvalidator.ValueStringsAre(stringvalidator.RegexMatches(subnetIDRegexp, "must be a subnet id such as subnet-0123456789abcdef0")),
			},
		},
		"security_group_ids": schema.SetAttribute{
			ElementType:         types.StringType,
			Optional:            true,
			MarkdownDescription: "Security groups of the clones, 1 to 5. Left out, EC2 uses the VPC's default security group.",
			Validators: []validator.Set{
				setvalidator.SizeBetween(1, 5),
				setvalidator.ValueStringsAre(stringvalidator.RegexMatches(securityGroupRegexp, "must be a security group id such as sg-0123456789abcdef0")),
			},
		},
		"key_name": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "EC2 key pair for SSH access to the clones (1 to 255 characters). Left out, the clones have no key pair.",
			Validators:          []validator.String{stringvalidator.LengthBetween(1, 255)},
		},
		"iam_instance_profile": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "Instance profile of the clones, by name or ARN; left out, the clones have none. With `sync_policy_id`, its role needs the clone policy " +
				"(`clone_iam_policy`'s `clone_policy_json`, see the [IAM guide](../guides/iam.md)): without it no clone finishes its first sync or enters service.",
			Validators: []validator.String{stringvalidator.RegexMatches(profileRegexp, "must be an instance profile name or ARN")},
		},
		"user_data": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "Your own user data (a cloud-config document or a script). The pool adds its own cloud-init " +
				"parts (master address, disabled services, sync agent) and sends one gzip-compressed MIME multipart " +
				"document, identical byte for byte for an identical configuration; without parts of its own it sends " +
				"`user_data` as it is. EC2 allows 16,384 bytes of user data: the plan fails when `user_data` does not " +
				"fit beside the pool's own parts. Do not pass a multipart document yourself. Left out, the clones get only " +
				"the pool's own parts (no user data at all without a `master` block or `sync_policy_id`).",
		},
		"min_size": schema.Int64Attribute{
			Required:            true,
			MarkdownDescription: "Fewest clones the group keeps, 0 to 10000 and at most `max_size`.",
			Validators:          []validator.Int64{int64validator.Between(0, 10000)},
		},
		"max_size": schema.Int64Attribute{
			Required:            true,
			MarkdownDescription: "Most clones the group may run, 0 to 10000 and at least `min_size`. A rollout with `min_healthy_percent = 100` (the default) launches new clones before it retires old ones, so leave room above the desired capacity.",
			Validators:          []validator.Int64{int64validator.Between(0, 10000)},
		},
		"desired_capacity": schema.Int64Attribute{
			Optional: true,
			Computed: true,
			MarkdownDescription: "Clones to run, 0 to 10000, between `min_size` and `max_size`. Left out, the pool starts with `min_size` and " +
				"afterwards leaves capacity to autoscaling: a changed desired capacity is then not a diff.",
			Validators:    []validator.Int64{int64validator.Between(0, 10000)},
			PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
		},
		"target_group_arns": schema.SetAttribute{
			ElementType: types.StringType,
			Optional:    true,
			MarkdownDescription: "ALB/NLB target groups the pool is attached to, at most 50 (Auto Scaling's limit of Elastic Load Balancing target groups " +
				"per group, [Auto Scaling quotas](https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-quotas.html)): more is a plan-time error. Attaching or detaching one is an in-place update. " +
				"Left out, none.",
			Validators: []validator.Set{setvalidator.SizeAtMost(maxPoolTargetGroups), setvalidator.ValueStringsAre(
				stringvalidator.RegexMatches(targetGroupARNRegexp, "must be a target group ARN"))},
		},
		"classic_elb_names": schema.SetAttribute{
			ElementType: types.StringType,
			Optional:    true,
			MarkdownDescription: "Classic load balancers the pool is attached to, together with `target_group_arns` if you like, at most 50 (Auto Scaling's " +
				"limit of Classic Load Balancers per group, [Auto Scaling quotas](https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-quotas.html)): more is a plan-time error. Left out, none. " +
				"With any load balancer the group uses ELB health checks (`EC2` without one), with a 300-second grace period.",
			Validators: []validator.Set{setvalidator.SizeAtMost(maxPoolClassicELBs), setvalidator.ValueStringsAre(
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
			ElementType: types.StringType,
			Optional:    true,
			MarkdownDescription: "Tags for the group (propagated to the clones), the launch template, the master target group, the write rule and the alarm. " +
				"Merged over the provider's `default_tags`; left out, only `default_tags`. " + tagsLimitsDescription,
			Validators: tagsValidators(),
		},
		"tags_all": schema.MapAttribute{
			ElementType:         types.StringType,
			Computed:            true,
			MarkdownDescription: "`tags` merged over the provider's `default_tags`.",
		},
		"launch_template_id": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "The pool's launch template.",
			// Null in state when the template was deleted out of band: the
			// apply makes a new one, so the plan must not promise null.
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseNonNullStateForUnknown()},
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
				"sync from the master completed. Changing it creates a new launch template version. Left out, clones boot without a sync " +
				"agent and the pool has no first-sync hook: a new clone enters service as soon as it is healthy, with the files its image holds.",
			Validators: []validator.String{syncPolicyIDCheck},
		},
		"sync_agent_sha256": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "Set it to the sync policy's `agent_sha256` (`clone_sync_policy.<name>.agent_sha256`) so that " +
				"a change of the policy's agent (its `interval`, `ssh_user`, `ssh_port`, `bandwidth_limit_kbps` or master) " +
				"plans a new launch template version in the same plan, and one `terraform apply` updates the policy and " +
				"rolls the clones onto the new agent. Left out, the pool notices the changed agent only on the next plan " +
				"after the policy's apply, so such a change takes two applies. A 64-character lowercase hex string; only " +
				"with `sync_policy_id`. Adding or removing it rolls nothing; changing `paths` does not change the agent.",
			Validators: []validator.String{
				stringvalidator.RegexMatches(sha256HexRegexp, "must be a hex SHA-256 such as clone_sync_policy.web.agent_sha256"),
				stringvalidator.AlsoRequires(path.MatchRoot("sync_policy_id")),
			},
		},
	}
}

// clonePoolMasterBlock is the master block.
func clonePoolMasterBlock() schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		MarkdownDescription: "The master server the clones were made from. Left out, the pool has no master: no write " +
			"rule, no env file, no services disabled on clones and no recovery alarm.",
		// A single block may be left out, so none of its attributes can be
		// Required: Terraform sends an absent single block as an object of
		// null attributes, and the framework would demand them of it
		// (terraform-plugin-framework issue 740). The block's validator
		// requires instance_id of a block that is there.
		Validators: []validator.Object{objectvalidator.AlsoRequires(path.MatchRelative().AtName("instance_id"))},
		Attributes: map[string]schema.Attribute{
			"instance_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "**Required in a `master` block** (listed as optional only because the block is): the master instance, such as `i-0123456789abcdef0`.",
				Validators:          []validator.String{stringvalidator.RegexMatches(instanceIDRegexp, "must be an EC2 instance id such as i-0123456789abcdef0")},
			},
			"attach_to_load_balancers": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Register the master in the pool's target groups and classic load balancers too, so it " +
					"keeps serving (default `false`: the master serves only the `write_paths`). Destroy deregisters it only where the pool registered it.",
			},
			"write_paths": schema.ListAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "1 to 5 path patterns (such as `/upload/*`, at most 128 characters each: an ALB rule condition takes 5 values) " +
					"routed to the master only, through a master-only target group and a rule on `listener_arn`. Needs `listener_arn`. " +
					"Left out (together with `listener_arn`), the pool creates no master target group and no listener rule: every request goes " +
					"to the pool's load balancers as they are.",
				Validators: []validator.List{
					listvalidator.SizeBetween(1, 5),
					listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.RegexMatches(pathPatternRegexp, "must be an ALB path pattern of at most 128 characters")),
					listvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("listener_arn")),
				},
			},
			"listener_arn": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "ALB listener that gets the write rule; set it exactly when `write_paths` is set. Left out, no listener gets a rule.",
				Validators: []validator.String{
					stringvalidator.RegexMatches(listenerARNRegexp, "must be a load balancer listener ARN"),
					stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("write_paths")),
				},
			},
			"rule_priority": schema.Int64Attribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Priority of the write rule on the listener, 1 to 50000. Left out, the write rule takes " +
					"the next free priority on the listener (one above its highest rule, as `aws_lb_listener_rule` does) and " +
					"keeps it on later applies; a change of `listener_arn` picks again on the new listener.",
				PlanModifiers: []planmodifier.Int64{rulePriorityModifier{}},
				Validators: []validator.Int64{
					int64validator.Between(1, 50000),
					int64validator.AlsoRequires(path.MatchRelative().AtParent().AtName("write_paths")),
				},
			},
			"env_file": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Absolute path where clones find `MASTER_ADDRESS` (the master's private IP) and `MASTER_INSTANCE_ID`, written at boot. Left out, no file is written.",
				Validators:          []validator.String{stringvalidator.RegexMatches(absolutePathRegexp, "must be an absolute path to a file")},
			},
			"disable_services": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "systemd units (such as `mysql`), without duplicates, stopped and masked on every clone at boot: the database stays on the master. Left out, none.",
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
	}
}

// clonePoolRollingUpdateBlock is the rolling_update block.
func clonePoolRollingUpdateBlock() schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		MarkdownDescription: "How a change of image, instance type, user data, master settings or sync agent (also a changed " +
			"`clone_sync_policy`) rolls the pool. Every change creates a launch template version; clones in service that do " +
			"not run it are replaced batch by batch: launch a batch of new clones, wait until those instances are healthy " +
			"in every attached load balancer, then retire old ones (deregister, drain, terminate). Draining waits out each " +
			"target group's `deregistration_delay.timeout_seconds` (300 s unless you changed it) and each classic ELB's " +
			"connection-draining timeout, so every batch, every scale-in and the destroy take at least that long: size " +
			"the `update` and `delete` timeouts (15m by default) for batches × (launch + health + drain). Healthy capacity never " +
			"drops below `min_healthy_percent` of desired capacity. Old and new are told apart by image id and by the " +
			"launch template version EC2 recorded on the instance, not by what the group reports. Left out, the defaults apply.",
		Attributes: map[string]schema.Attribute{
			"batch_size": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultBatchSize),
				MarkdownDescription: "Clones launched (and then retired) per batch, 1 to 10000 (default 1).",
				Validators:          []validator.Int64{int64validator.Between(1, 10000)},
			},
			"min_healthy_percent": schema.Int64Attribute{
				Optional: true,
				Computed: true,
				Default:  int64default.StaticInt64(defaultMinHealthyPercent),
				MarkdownDescription: "Healthy clones kept throughout, in percent of desired capacity (0 to 100), rounded up (default 100: " +
					"surge first, so `max_size` must leave room above desired capacity). Below 100 the rollout retires old " +
					"clones before launching only as far as `max_size` forces it to.",
				Validators: []validator.Int64{int64validator.Between(0, 100)},
			},
			"health_timeout": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(defaultHealthTimeout),
				MarkdownDescription: "How long one batch of new clones may take to become healthy in every load balancer " +
					"(default `10m`, from `10s` to `24h`). Bounded by the update timeout too.",
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
	}
}

// clonePoolScalingBlock is the scaling block.
func clonePoolScalingBlock() schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Load-based and scheduled scaling. With this block, Auto Scaling owns desired capacity: a desired " +
			"capacity moved by a policy or schedule is not a diff (state keeps the value Terraform last set), and an update " +
			"sets desired capacity only when `desired_capacity` changes in the configuration. Without it, a configured " +
			"`desired_capacity` that changed outside Terraform is a diff and the next apply restores it. The policy is named " +
			"`<name>-cpu-target`, scheduled actions `<name>-schedule-<schedule name or index>`; destroy deletes them. Left out, " +
			"the pool has no scaling policy and no scheduled action.",
		Attributes: map[string]schema.Attribute{
			"target_cpu_percent": schema.Float64Attribute{
				Optional: true,
				MarkdownDescription: "Average CPU utilisation of the group, in percent, that a target tracking policy keeps (the " +
					"predefined metric `ASGAverageCPUUtilization`, [target tracking](https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html)): " +
					"1 to 100, checked at plan time. Left out, no target tracking policy.",
				Validators: []validator.Float64{float64validator.Between(1, 100)},
			},
		},
		Blocks: map[string]schema.Block{
			"schedule": schema.ListNestedBlock{
				MarkdownDescription: "Up to 100 scheduled actions (Auto Scaling allows 125 a group, [Auto Scaling quotas](https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-quotas.html)): at each `recurrence` the " +
					"group's sizes are set. Each sets at least one size. Left out, none.",
				Validators: []validator.List{listvalidator.SizeAtMost(100)},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"name": schema.StringAttribute{
							Optional: true,
							MarkdownDescription: "Short name; the scheduled action is `<pool>-schedule-<name>`. Without it the " +
								"schedule's position names it, so reordering schedules renames them. 1 to 64 letters, digits and hyphens, not starting " +
								"or ending with a hyphen, so that with the pool name (at most 64) the action name stays within the 255 characters of a " +
								"[scheduled action name](https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutScheduledUpdateGroupAction.html).",
							Validators: []validator.String{stringvalidator.RegexMatches(scheduleNameRegexp, "must be 1-64 letters, digits and hyphens")},
						},
						"recurrence": schema.StringAttribute{
							Required:            true,
							MarkdownDescription: "Cron expression in UTC with five fields, such as `0 22 * * 1-5`.",
							Validators:          []validator.String{stringvalidator.RegexMatches(recurrenceRegexp, "must be a cron expression with five fields such as \"0 22 * * 1-5\"")},
						},
						"min_size": schema.Int64Attribute{
							Optional:            true,
							MarkdownDescription: "Fewest clones from then on, 0 to 10000. Left out, unchanged.",
							Validators:          []validator.Int64{int64validator.Between(0, 10000)},
						},
						"max_size": schema.Int64Attribute{
							Optional:            true,
							MarkdownDescription: "Most clones from then on, 0 to 10000. Left out, unchanged.",
							Validators:          []validator.Int64{int64validator.Between(0, 10000)},
						},
						"desired_capacity": schema.Int64Attribute{
							Optional:            true,
							MarkdownDescription: "Clones to run from then on, 0 to 10000, between the sizes in force. Left out, unchanged.",
							Validators:          []validator.Int64{int64validator.Between(0, 10000)},
						},
					},
				},
			},
		},
	}
}
