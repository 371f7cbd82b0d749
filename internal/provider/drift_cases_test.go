//go:build unix

package provider

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
)

const (
	driftPool   = "clone_pool.test"
	driftImage  = "clone_image.test"
	driftPolicy = "clone_sync_policy.test"
)

var driftWritePaths = []string{"/upload/*", "/admin/*"}

// TestAccDrift_pool breaks the pool's group, its attachments and its
// launch template.
func TestAccDrift_pool(t *testing.T) {
	testAccDrift(t, "pool", driftPoolCases(false), nil)
}

// TestAccDrift_master breaks the master's registrations, the write rule,
// the master target group, the recovery alarm and the scaling policy and
// schedule: the pool's cases that roll no clone, in a test of their own so
// that they run beside the slow ones.
func TestAccDrift_master(t *testing.T) {
	testAccDrift(t, "master", driftPoolCases(true), nil)
}

// TestAccDrift_image breaks the image set that feeds the pool. The stack is
// re-baked once first, so the set has a history.
func TestAccDrift_image(t *testing.T) {
	testAccDrift(t, "image", driftImageCases(), func(ctx context.Context, s *driftStack) {
		s.tf.write(driftConfig(s, "2"))
		s.tf.mustRun(ctx, 0, "apply", "-auto-approve")
		s.state = s.tf.state(ctx)
		if got := s.attr(driftImage, "previous_image_ids.#"); got != "1" {
			s.t.Fatalf("after the re-bake the image set has %s previous images, want 1", got)
		}
	})
}

// TestAccDrift_syncPolicy breaks the sync policy the pool runs.
func TestAccDrift_syncPolicy(t *testing.T) {
	testAccDrift(t, "sync", driftSyncCases(), nil)
}

// driftPoolCases are the pool's cases: those of the master, write rule,
// alarm and scaling, or the others.
func driftPoolCases(master bool) []driftCase {
	var out []driftCase
	for _, tc := range allDriftPoolCases() {
		if slices.ContainsFunc([]string{"master_", "write_rule_", "recovery_alarm_", "scaling_", "schedule_"}, func(p string) bool {
			return strings.HasPrefix(tc.name, p)
		}) == master {
			out = append(out, tc)
		}
	}
	return out
}

func allDriftPoolCases() []driftCase {
	var alarmVersion string
	return []driftCase{
		{
			name: "group_sizes_changed",
			breakIt: func(ctx context.Context, s *driftStack) error {
				_, err := s.c.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
					AutoScalingGroupName: aws.String(s.name), MinSize: aws.Int32(2), MaxSize: aws.Int32(4), DesiredCapacity: aws.Int32(2),
				})
				return err
			},
			diff: []string{driftPool + ":min_size", driftPool + ":max_size"},
			healed: func(ctx context.Context, s *driftStack) error {
				g, err := pool.FindGroup(ctx, s.c.AutoScaling, s.name)
				if err != nil {
					return err
				}
				if g.MinSize != 1 || g.MaxSize != 3 {
					return fmt.Errorf("group sizes %d..%d, want 1..3", g.MinSize, g.MaxSize)
				}
				// The scaling block owns desired capacity: what Auto Scaling
				// (or anyone) set within the sizes stays.
				if g.DesiredCapacity != 2 {
					return fmt.Errorf("group desired capacity %d: the apply undid the desired capacity of 2 set outside Terraform, though the scaling block owns it", g.DesiredCapacity)
				}
				return driftServing(ctx, s)
			},
		},
		{
			name: "group_subnets_changed",
			breakIt: func(ctx context.Context, s *driftStack) error {
				_, err := s.c.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
					AutoScalingGroupName: aws.String(s.name), VPCZoneIdentifier: aws.String(s.world.SubnetIDs[1]),
				})
				return err
			},
			diff: []string{driftPool + ":subnet_ids"},
			healed: func(ctx context.Context, s *driftStack) error {
				g, err := pool.FindGroup(ctx, s.c.AutoScaling, s.name)
				if err != nil {
					return err
				}
				if got := slices.Sorted(slices.Values(g.SubnetIDs)); !slices.Equal(got, slices.Sorted(slices.Values(s.world.SubnetIDs[:2]))) {
					return fmt.Errorf("group subnets %v, want %v", got, s.world.SubnetIDs[:2])
				}
				return nil
			},
		},
		{
			// Without its first-sync hook a new clone would serve before
			// its first sync.
			name: "first_sync_hook_deleted",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return pool.DeleteLifecycleHook(ctx, s.c.AutoScaling, s.name, s.name+"-first-sync")
			},
			warn: func(s *driftStack) string { return "lifecycle hook " + s.name + "-first-sync" },
			healed: func(ctx context.Context, s *driftStack) error {
				out, err := s.c.AutoScaling.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String(s.name)})
				if err != nil {
					return err
				}
				if len(out.LifecycleHooks) != 1 || aws.ToString(out.LifecycleHooks[0].LifecycleHookName) != s.name+"-first-sync" {
					return fmt.Errorf("group %s has lifecycle hooks %+v, want its first-sync hook", s.name, out.LifecycleHooks)
				}
				return nil
			},
		},
		{
			name: "group_tags_changed",
			breakIt: func(ctx context.Context, s *driftStack) error {
				_, err := s.c.AutoScaling.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{
					{ResourceId: aws.String(s.name), ResourceType: aws.String("auto-scaling-group"), Key: aws.String("env"), Value: aws.String("prod"), PropagateAtLaunch: aws.Bool(true)},
				}})
				return err
			},
			diff: []string{driftPool + ":tags.env"},
			healed: func(ctx context.Context, s *driftStack) error {
				g, err := pool.FindGroup(ctx, s.c.AutoScaling, s.name)
				if err != nil {
					return err
				}
				if g.Tags["env"] != "test" {
					return fmt.Errorf("group tag env = %q, want test", g.Tags["env"])
				}
				return nil
			},
		},
		{
			name: "target_group_detached",
			breakIt: func(ctx context.Context, s *driftStack) error {
				_, err := s.c.AutoScaling.DetachLoadBalancerTargetGroups(ctx, &autoscaling.DetachLoadBalancerTargetGroupsInput{
					AutoScalingGroupName: aws.String(s.name), TargetGroupARNs: []string{s.extraTG},
				})
				return err
			},
			diff: []string{driftPool + ":target_group_arns"},
			healed: func(ctx context.Context, s *driftStack) error {
				if err := testAccCheckGroupTargetGroups(s.t, s.name, s.world.TargetGroupArn, s.extraTG)(s.state); err != nil {
					return err
				}
				return driftServing(ctx, s)
			},
		},
		{
			name: "classic_elb_detached",
			breakIt: func(ctx context.Context, s *driftStack) error {
				_, err := s.c.AutoScaling.DetachLoadBalancers(ctx, &autoscaling.DetachLoadBalancersInput{
					AutoScalingGroupName: aws.String(s.name), LoadBalancerNames: []string{s.world.ClassicELBName},
				})
				return err
			},
			diff: []string{driftPool + ":classic_elb_names"},
			healed: func(ctx context.Context, s *driftStack) error {
				g, err := pool.FindGroup(ctx, s.c.AutoScaling, s.name)
				if err != nil {
					return err
				}
				if !slices.Equal(g.ClassicELBNames, []string{s.world.ClassicELBName}) {
					return fmt.Errorf("group lists classic ELBs %v, want %s", g.ClassicELBNames, s.world.ClassicELBName)
				}
				return driftServing(ctx, s)
			},
		},
		{
			name: "master_deregistered_from_master_target_group",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return driftDeregister(ctx, s, s.pool("master_target_group_arn"))
			},
			warn: func(s *driftStack) string { return s.pool("master_target_group_arn") },
			healed: func(_ context.Context, s *driftStack) error {
				return testAccCheckTargetRegistered(s.t, s.pool("master_target_group_arn"), s.world.MasterInstanceID, true)(s.state)
			},
		},
		{
			name: "master_deregistered_from_attached_target_group",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return driftDeregister(ctx, s, s.extraTG)
			},
			warn: func(s *driftStack) string { return s.extraTG },
			diff: []string{driftPool + ":master.attach_to_load_balancers"},
			healed: func(_ context.Context, s *driftStack) error {
				return testAccCheckTargetRegistered(s.t, s.extraTG, s.world.MasterInstanceID, true)(s.state)
			},
		},
		{
			name: "write_rule_paths_modified",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return pool.ModifyRule(ctx, s.c.ELBV2, pool.Rule{
					ARN: s.pool("write_rule_arn"), PathPatterns: []string{"/evil/*"}, TargetGroupARN: s.pool("master_target_group_arn"),
				}, false)
			},
			diff:   []string{driftPool + ":master.write_paths"},
			healed: driftWriteRuleHealed,
		},
		{
			name: "write_rule_priority_modified",
			breakIt: func(ctx context.Context, s *driftStack) error {
				_, err := s.c.ELBV2.SetRulePriorities(ctx, &elasticloadbalancingv2.SetRulePrioritiesInput{
					RulePriorities: []elbv2types.RulePriorityPair{{RuleArn: aws.String(s.pool("write_rule_arn")), Priority: aws.Int32(77)}},
				})
				return err
			},
			diff:   []string{driftPool + ":master.rule_priority"},
			healed: driftWriteRuleHealed,
		},
		{
			name: "write_rule_target_modified",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return pool.ModifyRule(ctx, s.c.ELBV2, pool.Rule{
					ARN: s.pool("write_rule_arn"), PathPatterns: driftWritePaths, TargetGroupARN: s.world.TargetGroupArn,
				}, false)
			},
			warn:   func(s *driftStack) string { return "write rule " + s.pool("write_rule_arn") },
			healed: driftWriteRuleHealed,
		},
		driftWriteRuleDeleted(),
		{
			// AWS refuses to delete a target group a listener rule forwards
			// to, so the write rule goes first.
			name: "master_target_group_deleted",
			breakIt: func(ctx context.Context, s *driftStack) error {
				if err := pool.DeleteRule(ctx, s.c.ELBV2, s.pool("write_rule_arn")); err != nil {
					return err
				}
				return pool.DeleteTargetGroup(ctx, s.c.ELBV2, s.pool("master_target_group_arn"))
			},
			warn:   func(s *driftStack) string { return "master target group " + s.pool("master_target_group_arn") },
			healed: driftWriteRuleHealed,
		},
		{
			name: "recovery_alarm_deleted",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return pool.DeleteAlarm(ctx, s.c.CloudWatch, pool.NamesFor(s.name).RecoveryAlarm)
			},
			warn: func(s *driftStack) string { return "recovery alarm " + pool.NamesFor(s.name).RecoveryAlarm },
			diff: []string{driftPool + ":master.recovery_alarm"},
			healed: func(_ context.Context, s *driftStack) error {
				return testAccCheckClonePoolAlarm(s.t, s.name, s.world.MasterInstanceID)(s.state)
			},
		},
		{
			// The alarm made to watch another instance (one of the clones):
			// the apply puts it back on the master and nothing else moves.
			name: "recovery_alarm_modified",
			breakIt: func(ctx context.Context, s *driftStack) error {
				alarmVersion = s.pool("launch_template_version")
				alarm := pool.NamesFor(s.name).RecoveryAlarm
				a, err := pool.FindAlarm(ctx, s.c.CloudWatch, alarm)
				if err != nil {
					return err
				}
				// AWS keeps an alarm's tags when PutMetricAlarm updates it; the
				// emulator needs them again.
				_, tags, err := pool.AlarmTags(ctx, s.c.CloudWatch, alarm)
				if err != nil {
					return err
				}
				a.InstanceID = s.pool("instance_ids.0")
				return pool.PutAlarm(ctx, s.c.CloudWatch, a, tags)
			},
			warn: func(s *driftStack) string { return "recovery alarm " + pool.NamesFor(s.name).RecoveryAlarm },
			diff: []string{driftPool + ":master.recovery_alarm"},
			healed: func(ctx context.Context, s *driftStack) error {
				if err := testAccCheckClonePoolAlarm(s.t, s.name, s.world.MasterInstanceID)(s.state); err != nil {
					return err
				}
				if v := s.pool("launch_template_version"); v != alarmVersion {
					return fmt.Errorf("the apply made launch template version %s (was %s) and rolled the clones to heal the alarm", v, alarmVersion)
				}
				return driftTemplateHealed(ctx, s)
			},
		},
		{
			name: "scaling_policy_modified",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return pool.PutCPUPolicy(ctx, s.c.AutoScaling, s.name, pool.CPUPolicy{Name: pool.CPUPolicyName(s.name), TargetPercent: 80})
			},
			diff:   []string{driftPool + ":scaling.target_cpu_percent"},
			healed: driftScalingHealed,
		},
		{
			name: "scaling_policy_deleted",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return pool.DeletePolicy(ctx, s.c.AutoScaling, s.name, pool.CPUPolicyName(s.name))
			},
			warn:   func(s *driftStack) string { return "target tracking policy " + pool.CPUPolicyName(s.name) },
			diff:   []string{driftPool + ":scaling.target_cpu_percent"},
			healed: driftScalingHealed,
		},
		{
			name: "schedule_modified",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return pool.PutSchedule(ctx, s.c.AutoScaling, s.name, pool.Schedule{
					Name: pool.ScheduleName(s.name, "night"), Recurrence: "0 4 * * *", MinSize: 1, MaxSize: 2, Desired: 2,
				})
			},
			diff:   []string{driftPool + ":scaling.schedule.0.recurrence", driftPool + ":scaling.schedule.0.max_size"},
			healed: driftScalingHealed,
		},
		{
			name: "schedule_deleted",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return pool.DeleteSchedule(ctx, s.c.AutoScaling, s.name, pool.ScheduleName(s.name, "night"))
			},
			warn:   func(s *driftStack) string { return "scheduled action " + pool.ScheduleName(s.name, "night") },
			diff:   []string{driftPool + ":scaling.schedule"},
			healed: driftScalingHealed,
		},
		{
			// A version made outside Terraform, on another instance type,
			// and set as the group's version: the pool rolls onto a version
			// of its own again.
			name: "launch_template_version_set",
			breakIt: func(ctx context.Context, s *driftStack) error {
				id, version := s.pool("launch_template_id"), s.pool("launch_template_version")
				out, err := s.c.EC2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
					LaunchTemplateId: aws.String(id), SourceVersion: aws.String(version),
					LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeT3Small},
				})
				if err != nil {
					return err
				}
				_, err = s.c.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
					AutoScalingGroupName: aws.String(s.name),
					LaunchTemplate: &astypes.LaunchTemplateSpecification{
						LaunchTemplateId: aws.String(id), Version: aws.String(strconv.FormatInt(aws.ToInt64(out.LaunchTemplateVersion.VersionNumber), 10)),
					},
				})
				return err
			},
			diff:   []string{driftPool + ":instance_type"},
			healed: driftTemplateHealed,
		},
		{
			name: "launch_template_deleted",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return pool.DeleteTemplate(ctx, s.c.EC2, s.pool("launch_template_id"))
			},
			warn:   func(s *driftStack) string { return "launch template " + s.pool("launch_template_id") },
			healed: driftTemplateHealed,
		},
		{
			// AWS deletes a group's scaling policies and scheduled actions
			// with it; the emulator keeps them, so they are deleted here too.
			name: "group_deleted",
			breakIt: func(ctx context.Context, s *driftStack) error {
				_, err := s.c.AutoScaling.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
					AutoScalingGroupName: aws.String(s.name), ForceDelete: aws.Bool(true),
				})
				if err != nil {
					return err
				}
				if err := pool.DeletePolicy(ctx, s.c.AutoScaling, s.name, pool.CPUPolicyName(s.name)); err != nil {
					return err
				}
				return pool.DeleteSchedule(ctx, s.c.AutoScaling, s.name, pool.ScheduleName(s.name, "night"))
			},
			warn: func(s *driftStack) string { return "Auto Scaling group " + s.name },
			healed: func(ctx context.Context, s *driftStack) error {
				if err := driftTemplateHealed(ctx, s); err != nil {
					return err
				}
				if err := testAccCheckGroupTargetGroups(s.t, s.name, s.world.TargetGroupArn, s.extraTG)(s.state); err != nil {
					return err
				}
				return driftScalingHealed(ctx, s)
			},
		},
	}
}

func driftWriteRuleDeleted() driftCase {
	var deleted string
	return driftCase{
		name: "write_rule_deleted",
		breakIt: func(ctx context.Context, s *driftStack) error {
			deleted = s.pool("write_rule_arn")
			return pool.DeleteRule(ctx, s.c.ELBV2, deleted)
		},
		warn:   func(*driftStack) string { return "write rule " + deleted },
		diff:   []string{driftPool + ":write_rule_arn"},
		healed: driftWriteRuleHealed,
	}
}

// driftDeregister takes the master out of a target group, and waits out
// its drain so the plan sees it gone.
func driftDeregister(ctx context.Context, s *driftStack, tgARN string) error {
	_, err := s.c.ELBV2.DeregisterTargets(ctx, &elasticloadbalancingv2.DeregisterTargetsInput{
		TargetGroupArn: aws.String(tgARN), Targets: []elbv2types.TargetDescription{{Id: aws.String(s.world.MasterInstanceID)}},
	})
	return err
}

// driftServing checks every clone of the group is healthy in every load
// balancer of the pool.
func driftServing(ctx context.Context, s *driftStack) error {
	g, err := pool.FindGroup(ctx, s.c.AutoScaling, s.name)
	if err != nil {
		return err
	}
	ids := g.ServingIDs()
	if int64(len(ids)) != g.DesiredCapacity {
		return fmt.Errorf("group %s serves %v, desired capacity %d", s.name, ids, g.DesiredCapacity)
	}
	report, err := poolCloud(s.c).Health(ctx, pool.Targets([]string{s.world.TargetGroupArn, s.extraTG}, []string{s.world.ClassicELBName}))
	if err != nil {
		return err
	}
	if healthy := report.Healthy(ids); len(healthy) != len(ids) {
		return fmt.Errorf("clones %v of %s: only %v healthy in every load balancer", ids, s.name, healthy)
	}
	return nil
}

func driftWriteRuleHealed(_ context.Context, s *driftStack) error {
	return testAccCheckClonePoolWriteRule(s.t, driftPool, s.world.ListenerArn, 10, driftWritePaths)(s.state)
}

func driftScalingHealed(ctx context.Context, s *driftStack) error {
	p, err := pool.FindCPUPolicy(ctx, s.c.AutoScaling, s.name, pool.CPUPolicyName(s.name))
	if err != nil {
		return err
	}
	if p.TargetPercent != 50 {
		return fmt.Errorf("target tracking policy at %g%% CPU, want 50", p.TargetPercent)
	}
	name := pool.ScheduleName(s.name, "night")
	found, err := pool.FindSchedules(ctx, s.c.AutoScaling, s.name, []string{name})
	if err != nil {
		return err
	}
	want := pool.Schedule{Name: name, Recurrence: "0 3 * * *", MinSize: 1, MaxSize: 3, Desired: 1}
	if got, ok := found[name]; !ok || got != want {
		return fmt.Errorf("scheduled action %+v (found: %v), want %+v", got, ok, want)
	}
	return nil
}

// driftTemplateHealed checks the group launches the version state holds,
// a version of the pool's own on t3.micro, and serves.
func driftTemplateHealed(ctx context.Context, s *driftStack) error {
	g, err := pool.FindGroup(ctx, s.c.AutoScaling, s.name)
	if err != nil {
		return err
	}
	id, version := s.pool("launch_template_id"), s.pool("launch_template_version")
	if g.LaunchTemplateID != id || g.LaunchTemplateVersion != version {
		return fmt.Errorf("group launches %s version %s, state holds %s version %s", g.LaunchTemplateID, g.LaunchTemplateVersion, id, version)
	}
	tmpl, err := pool.FindTemplateVersion(ctx, s.c.EC2, id, version)
	if err != nil {
		return err
	}
	if tmpl.Spec.InstanceType != "t3.micro" || tmpl.Spec.ImageID != s.attr(driftImage, "image_id") {
		return fmt.Errorf("launch template %s version %s: %s from %s, want t3.micro from %s", id, version, tmpl.Spec.InstanceType, tmpl.Spec.ImageID, s.attr(driftImage, "image_id"))
	}
	if got := s.pool("outdated_instance_ids.#"); got != "0" {
		return fmt.Errorf("state lists %s outdated clones", got)
	}
	images, err := pool.InstanceImages(ctx, s.c.EC2, g.ServingIDs())
	if err != nil {
		return err
	}
	for clone, image := range images {
		if image != tmpl.Spec.ImageID {
			return fmt.Errorf("clone %s runs %s, not %s", clone, image, tmpl.Spec.ImageID)
		}
	}
	return driftServing(ctx, s)
}

func driftImageCases() []driftCase {
	var history, current imageset.Image
	return []driftCase{
		{
			name: "image_tags_changed",
			breakIt: func(ctx context.Context, s *driftStack) error {
				_, err := s.c.EC2.CreateTags(ctx, &ec2.CreateTagsInput{
					Resources: []string{s.attr(driftImage, "image_id")}, Tags: []ec2types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
				})
				return err
			},
			diff: []string{driftImage + ":tags.env"},
			healed: func(ctx context.Context, s *driftStack) error {
				img, err := imageset.FindImage(ctx, s.c.EC2, s.attr(driftImage, "image_id"))
				if err != nil {
					return err
				}
				if img.Tags["env"] != "test" {
					return fmt.Errorf("image %s tag env = %q, want test", img.ID, img.Tags["env"])
				}
				return nil
			},
		},
		{
			// A deregistered history image cannot come back: the plan has
			// nothing to change, but warns; its leftover snapshot goes
			// with the set on destroy.
			name: "history_image_deregistered",
			breakIt: func(ctx context.Context, s *driftStack) error {
				var err error
				if history, err = imageset.FindImage(ctx, s.c.EC2, s.attr(driftImage, "previous_image_ids.0")); err != nil {
					return err
				}
				_, err = s.c.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(history.ID)})
				return err
			},
			warn: func(*driftStack) string { return history.ID },
			healed: func(_ context.Context, s *driftStack) error {
				if got := s.attr(driftImage, "previous_image_ids.#"); got != "0" {
					return fmt.Errorf("state lists %s previous images, want none", got)
				}
				return nil
			},
			planEmpty: true,
		},
		{
			name: "current_image_deregistered",
			breakIt: func(ctx context.Context, s *driftStack) error {
				var err error
				if current, err = imageset.FindImage(ctx, s.c.EC2, s.attr(driftImage, "image_id")); err != nil {
					return err
				}
				_, err = s.c.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(current.ID)})
				return err
			},
			warn: func(*driftStack) string { return current.ID },
			diff: []string{driftImage + ":image_id", driftPool + ":image_id"},
			healed: func(ctx context.Context, s *driftStack) error {
				if id := s.attr(driftImage, "image_id"); id == current.ID || id == "" {
					return fmt.Errorf("image_id is %q after the re-bake", id)
				}
				for _, snap := range current.SnapshotIDs {
					_, err := s.c.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}})
					if err == nil {
						return fmt.Errorf("snapshot %s of the deregistered image %s is left", snap, current.ID)
					}
				}
				return driftTemplateHealed(ctx, s)
			},
		},
	}
}

func driftSyncCases() []driftCase {
	names := func(s *driftStack) syncstore.Names { return syncstore.NamesOf(s.syncName()) }
	var rec syncstore.Record
	exists := func(_ context.Context, s *driftStack) error {
		return testAccCheckCloneSyncPolicyExists(s.t, driftPolicy, &rec)(s.state)
	}
	deleteParameter := func(parameter func(syncstore.Names) string) func(context.Context, *driftStack) error {
		return func(ctx context.Context, s *driftStack) error {
			_, err := s.c.SSM.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(parameter(names(s)))})
			return err
		}
	}
	rewrite := func(ctx context.Context, s *driftStack, parameter, old, replacement string) error {
		out, err := s.c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(parameter)})
		if err != nil {
			return err
		}
		value := aws.ToString(out.Parameter.Value)
		if !strings.Contains(value, old) {
			return fmt.Errorf("parameter %s does not hold %q: %s", parameter, old, value)
		}
		_, err = s.c.SSM.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(parameter), Value: aws.String(strings.Replace(value, old, replacement, 1)),
			Type: out.Parameter.Type, Overwrite: aws.Bool(true),
		})
		return err
	}
	return []driftCase{
		{
			name: "sync_policy_tags_changed",
			breakIt: func(ctx context.Context, s *driftStack) error {
				_, err := s.c.SSM.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
					ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(names(s).PolicyParameter),
					Tags: []ssmtypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
				})
				return err
			},
			diff: []string{driftPolicy + ":tags.env"},
			healed: func(ctx context.Context, s *driftStack) error {
				return testAccCheckSyncTags(s.t, s.syncName(), map[string]string{"env": "test", "owner": "platform"})(s.state)
			},
		},
		{
			name: "paths_parameter_modified",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return rewrite(ctx, s, names(s).PathsParameter, `"destination":"/var/www"`, `"destination":"/var/evil"`)
			},
			diff: []string{driftPolicy + ":paths.0.destination"},
			healed: func(ctx context.Context, s *driftStack) error {
				list, err := syncstore.FindPaths(ctx, s.c.SSM, s.syncName())
				if err != nil {
					return err
				}
				if len(list.Paths) != 1 || list.Paths[0].Destination != "/var/www" {
					return fmt.Errorf("paths parameter holds %+v, want /srv/app/www to /var/www", list.Paths)
				}
				return exists(ctx, s)
			},
		},
		{
			name:    "paths_parameter_deleted",
			breakIt: deleteParameter(func(n syncstore.Names) string { return n.PathsParameter }),
			warn:    func(s *driftStack) string { return "paths parameter " + names(s).PathsParameter },
			diff:    []string{driftPolicy + ":paths_parameter"},
			healed:  exists,
		},
		{
			name:    "private_key_parameter_deleted",
			breakIt: deleteParameter(func(n syncstore.Names) string { return n.KeyParameter }),
			warn:    func(s *driftStack) string { return "private key parameter " + names(s).KeyParameter },
			diff:    []string{driftPolicy + ":key_fingerprint"},
			healed:  exists,
		},
		{
			name: "policy_parameter_modified",
			breakIt: func(ctx context.Context, s *driftStack) error {
				return rewrite(ctx, s, names(s).PolicyParameter, `"interval":"5m"`, `"interval":"1h"`)
			},
			diff: []string{driftPolicy + ":interval"},
			healed: func(ctx context.Context, s *driftStack) error {
				if err := exists(ctx, s); err != nil {
					return err
				}
				if rec.Interval != "5m" {
					return fmt.Errorf("policy interval %q, want 5m", rec.Interval)
				}
				return nil
			},
		},
		{
			name: "document_deleted",
			breakIt: func(ctx context.Context, s *driftStack) error {
				_, err := s.c.SSM.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String(names(s).Document)})
				return err
			},
			warn:   func(s *driftStack) string { return "document " + names(s).Document },
			diff:   []string{driftPolicy + ":document_name"},
			healed: exists,
		},
		{
			// Its other objects left, the policy is damaged, not gone: the
			// apply writes the policy parameter again, with a new key.
			name:    "policy_parameter_deleted",
			breakIt: deleteParameter(func(n syncstore.Names) string { return n.PolicyParameter }),
			warn:    func(s *driftStack) string { return "policy parameter " + names(s).PolicyParameter },
			diff:    []string{driftPolicy + ":policy_parameter", driftPolicy + ":key_fingerprint"},
			healed: func(ctx context.Context, s *driftStack) error {
				if err := exists(ctx, s); err != nil {
					return err
				}
				if _, err := syncstore.FindDocument(ctx, s.c.SSM, s.syncName()); err != nil {
					return err
				}
				return driftServing(ctx, s)
			},
		},
	}
}
