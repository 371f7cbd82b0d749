package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

// foreignObject makes, outside Terraform and untagged, an object by the
// name pool name would give one of its own, and returns a check that it
// is still there, untouched.
type foreignObject func(t *testing.T, world *seed.World, name string) (check func() error)

var foreignObjects = map[string]foreignObject{
	// The operators' report: an untagged target group named like the
	// pool's master target group, in the pool's VPC.
	"target group": func(t *testing.T, world *seed.World, name string) func() error {
		c := acctest.Client(t)
		tgName := pool.NamesFor(name).MasterTargetGroup
		out, err := c.ELBV2.CreateTargetGroup(context.Background(), &elasticloadbalancingv2.CreateTargetGroupInput{
			Name: aws.String(tgName), Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(80),
			VpcId: aws.String(world.VpcID), TargetType: elbv2types.TargetTypeEnumInstance,
		})
		if err != nil {
			t.Fatalf("creating the foreign target group %s: %v", tgName, err)
		}
		arn := aws.ToString(out.TargetGroups[0].TargetGroupArn)
		t.Cleanup(func() {
			_, _ = c.ELBV2.DeleteTargetGroup(context.Background(), &elasticloadbalancingv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)})
		})
		return func() error {
			ctx := context.Background()
			if _, err := c.ELBV2.DescribeTargetGroups(ctx, &elasticloadbalancingv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}}); err != nil {
				return fmt.Errorf("the foreign target group %s is gone: %v", tgName, err)
			}
			th, err := c.ELBV2.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
			if err != nil {
				return err
			}
			if n := len(th.TargetHealthDescriptions); n > 0 {
				return fmt.Errorf("the foreign target group %s has %d targets registered", tgName, n)
			}
			tags, err := c.ELBV2.DescribeTags(ctx, &elasticloadbalancingv2.DescribeTagsInput{ResourceArns: []string{arn}})
			if err != nil {
				return err
			}
			for _, d := range tags.TagDescriptions {
				if len(d.Tags) > 0 {
					return fmt.Errorf("the foreign target group %s was tagged: %v", tgName, d.Tags)
				}
			}
			return nil
		}
	},
	"launch template": func(t *testing.T, world *seed.World, name string) func() error {
		id := foreignTemplate(t, world, pool.NamesFor(name).LaunchTemplate)
		return func() error {
			out, err := acctest.Client(t).EC2.DescribeLaunchTemplates(context.Background(), &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{id}})
			if err != nil {
				return fmt.Errorf("the foreign launch template %s is gone: %v", id, err)
			}
			if len(out.LaunchTemplates) != 1 {
				return fmt.Errorf("the foreign launch template %s is gone", id)
			}
			if lt := out.LaunchTemplates[0]; aws.ToInt64(lt.LatestVersionNumber) != 1 || len(lt.Tags) > 0 {
				return fmt.Errorf("the foreign launch template %s was changed: version %d, tags %v", id, aws.ToInt64(lt.LatestVersionNumber), lt.Tags)
			}
			return nil
		}
	},
	"Auto Scaling group": func(t *testing.T, world *seed.World, name string) func() error {
		c := acctest.Client(t)
		lt := foreignTemplate(t, world, name+"-theirs")
		group := pool.NamesFor(name).Group
		if _, err := c.AutoScaling.CreateAutoScalingGroup(context.Background(), &autoscaling.CreateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(group), MinSize: aws.Int32(0), MaxSize: aws.Int32(1), DesiredCapacity: aws.Int32(0),
			LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("1")},
			VPCZoneIdentifier: aws.String(world.SubnetIDs[0]),
		}); err != nil {
			t.Fatalf("creating the foreign Auto Scaling group %s: %v", group, err)
		}
		t.Cleanup(func() {
			_, _ = c.AutoScaling.DeleteAutoScalingGroup(context.Background(), &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String(group), ForceDelete: aws.Bool(true)})
		})
		return func() error {
			out, err := c.AutoScaling.DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
			if err != nil || len(out.AutoScalingGroups) != 1 {
				return fmt.Errorf("the foreign Auto Scaling group %s is gone (%v)", group, err)
			}
			g := out.AutoScalingGroups[0]
			if aws.ToInt32(g.MaxSize) != 1 || len(g.Tags) > 0 || len(g.TargetGroupARNs)+len(g.LoadBalancerNames) > 0 || aws.ToString(g.LaunchTemplate.LaunchTemplateId) != lt {
				return fmt.Errorf("the foreign Auto Scaling group %s was changed: %+v", group, g)
			}
			return nil
		}
	},
	"alarm": func(t *testing.T, world *seed.World, name string) func() error {
		c := acctest.Client(t)
		alarm := pool.NamesFor(name).RecoveryAlarm
		if _, err := c.CloudWatch.PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(alarm), Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"),
			Statistic: cwtypes.StatisticAverage, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(90),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		}); err != nil {
			t.Fatalf("creating the foreign alarm %s: %v", alarm, err)
		}
		t.Cleanup(func() {
			_, _ = c.CloudWatch.DeleteAlarms(context.Background(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{alarm}})
		})
		return func() error {
			out, err := c.CloudWatch.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
			if err != nil || len(out.MetricAlarms) != 1 {
				return fmt.Errorf("the foreign alarm %s is gone (%v)", alarm, err)
			}
			if a := out.MetricAlarms[0]; aws.ToString(a.MetricName) != "CPUUtilization" || len(a.AlarmActions) > 0 {
				return fmt.Errorf("the foreign alarm %s was overwritten: %s, actions %v", alarm, aws.ToString(a.MetricName), a.AlarmActions)
			}
			return nil
		}
	},
}

func foreignTemplate(t *testing.T, world *seed.World, ltName string) string {
	t.Helper()
	c := acctest.Client(t)
	out, err := c.EC2.CreateLaunchTemplate(context.Background(), &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(ltName),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(testAccMasterImage(t, world)), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		t.Fatalf("creating the foreign launch template %s: %v", ltName, err)
	}
	id := aws.ToString(out.LaunchTemplate.LaunchTemplateId)
	t.Cleanup(func() {
		_, _ = c.EC2.DeleteLaunchTemplate(context.Background(), &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(id)})
	})
	return id
}

// TestAccClonePool_foreignObjects: an object by a name the pool would
// create under, made outside Terraform and not tagged by the pool, is never
// adopted, changed or deleted. The create fails at once naming it, creates
// nothing, and the destroy that follows leaves it as it was.
func TestAccClonePool_foreignObjects(t *testing.T) {
	world := acctest.World(t, "tf-acc-test-pool-foreign")
	kinds := []string{"target group", "launch template", "Auto Scaling group", "alarm"}
	for i, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			name := acctest.RandomName(8)
			// Registered first, so it runs last: after the foreign object
			// is deleted, nothing of the run may be left.
			t.Cleanup(func() { acctest.CheckNoOrphans(t, name) })
			priority := 40 + i
			master := fmt.Sprintf(`
  master {
    instance_id    = %q
    write_paths    = ["/upload/*"]
    listener_arn   = %q
    rule_priority  = %d
    recovery_alarm = true
  }
`, world.MasterInstanceID, world.ListenerArn, priority)
			untouched := foreignObjects[kind](t, world, name)
			resource.ParallelTest(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				CheckDestroy: func(*terraform.State) error {
					if err := untouched(); err != nil {
						return err
					}
					return testAccCheckNothingOfPool(t, world, name, kind, priority)
				},
				Steps: []resource.TestStep{{
					Config:      testAccClonePoolConfig(t, name, world, 1, master),
					ExpectError: regexp.MustCompile(regexp.QuoteMeta(kind) + `[\s\S]*already[\s]+exists[\s]+and[\s]+was[\s]+not[\s]+created[\s]+by[\s]+Clone[\s]+Pool`),
				}},
			})
		})
	}
}

// testAccCheckNothingOfPool fails when anything of pool name exists but
// the foreign object of kind: no group, launch template, master target
// group, rule at priority or alarm.
func testAccCheckNothingOfPool(t *testing.T, world *seed.World, name, foreign string, priority int) error {
	ctx := context.Background()
	c := acctest.Client(t)
	names := pool.NamesFor(name)
	if foreign != "Auto Scaling group" {
		out, err := c.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{names.Group}})
		if err != nil || len(out.AutoScalingGroups) > 0 {
			return fmt.Errorf("Auto Scaling group %s exists after the refused create (%v)", names.Group, err)
		}
	}
	if foreign != "launch template" {
		out, err := c.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{
			Filters: []ec2types.Filter{{Name: aws.String("launch-template-name"), Values: []string{names.LaunchTemplate}}},
		})
		if err != nil || len(out.LaunchTemplates) > 0 {
			return fmt.Errorf("launch template %s exists after the refused create (%v)", names.LaunchTemplate, err)
		}
	}
	if foreign != "alarm" {
		out, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{names.RecoveryAlarm}})
		if err != nil || len(out.MetricAlarms) > 0 {
			return fmt.Errorf("alarm %s exists after the refused create (%v)", names.RecoveryAlarm, err)
		}
	}
	rules, err := c.ELBV2.DescribeRules(ctx, &elasticloadbalancingv2.DescribeRulesInput{ListenerArn: aws.String(world.ListenerArn)})
	if err != nil {
		return err
	}
	for _, r := range rules.Rules {
		if aws.ToString(r.Priority) == strconv.Itoa(priority) {
			return fmt.Errorf("write rule %s exists after the refused create", aws.ToString(r.RuleArn))
		}
	}
	return nil
}

// TestAccClonePool_danglingTargetGroup: a target group attached to the
// pool and deleted out of band does not wedge it. Refresh succeeds (with a
// warning naming it); with the ARN removed from the configuration, the plan
// shows the change and the apply detaches it; the pool then scales out.
func TestAccClonePool_danglingTargetGroup(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-dangling")
	extraTG := testAccExtraTargetGroup(t, world, name)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: testAccClonePoolConfigTGs(t, name, world, 1, []string{world.TargetGroupArn, extraTG}, ""),
			},
			{
				PreConfig: func() {
					if _, err := acctest.Client(t).ELBV2.DeleteTargetGroup(context.Background(), &elasticloadbalancingv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(extraTG)}); err != nil {
						t.Fatalf("deleting target group %s out of band: %v", extraTG, err)
					}
				},
				Config: testAccClonePoolConfigTGs(t, name, world, 1, []string{world.TargetGroupArn}, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
				}},
				Check: testAccCheckGroupTargetGroups(t, name, world.TargetGroupArn),
			},
			{
				Config: testAccClonePoolConfigTGs(t, name, world, 2, []string{world.TargetGroupArn}, ""),
				Check:  testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 2),
			},
		},
	})
}

// TestAccClonePool_manyTargetGroups adds eleven target groups to a pool,
// then removes them: Auto Scaling attaches and detaches at most 10 per call
// (the strict test cloud refuses more, as AWS does), so each takes two calls.
func TestAccClonePool_manyTargetGroups(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-manytgs")
	many := []string{world.TargetGroupArn}
	for i := range 11 {
		many = append(many, testAccTargetGroupNamed(t, world, fmt.Sprintf("%s-x%d", name, i)))
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: testAccClonePoolConfigTGs(t, name, world, 1, many[:1], ""),
			},
			{
				Config: testAccClonePoolConfigTGs(t, name, world, 1, many, ""),
				Check:  testAccCheckGroupTargetGroups(t, name, many...),
			},
			{
				Config: testAccClonePoolConfigTGs(t, name, world, 1, many[:1], ""),
				Check:  testAccCheckGroupTargetGroups(t, name, many[0]),
			},
		},
	})
}

func testAccCheckGroupTargetGroups(t *testing.T, group string, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		out, err := acctest.Client(t).AutoScaling.DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
		if err != nil || len(out.AutoScalingGroups) != 1 {
			return fmt.Errorf("describing group %s: %v", group, err)
		}
		got := slices.Clone(out.AutoScalingGroups[0].TargetGroupARNs)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return fmt.Errorf("group %s lists target groups %v, want %v", group, got, want)
		}
		return nil
	}
}
