package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

const testAccScaling = `
  scaling {
    target_cpu_percent = 60
    schedule {
      name             = "night"
      recurrence       = "0 22 * * *"
      min_size         = 1
      max_size         = 3
      desired_capacity = 1
    }
    schedule {
      recurrence       = "0 7 * * 1-5"
      desired_capacity = 2
    }
  }
`

// TestAccClonePool_scaling proves the policy and the scheduled actions exist
// while the pool has a scaling block and are gone without it and after
// destroy, and that a desired capacity moved outside Terraform is no diff
// with scaling on and a diff with scaling off.
func TestAccClonePool_scaling(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-scaling")
	withScaling := testAccClonePoolConfig(t, name, world, 2, testAccScaling)
	without := testAccClonePoolConfig(t, name, world, 2, "")
	policy := pool.CPUPolicyName(name)
	schedules := []string{pool.ScheduleName(name, "night"), pool.ScheduleName(name, "1")}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			testAccCheckClonePoolDestroy(t, world),
			testAccCheckScalingObjects(t, policy, schedules, false),
		),
		Steps: []resource.TestStep{
			{
				Config: withScaling,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 2),
					testAccCheckScalingObjects(t, policy, schedules, true),
					// Autoscaling moves desired capacity: no diff follows.
					testAccSetDesired(t, name, 3),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("scaling").AtMapKey("target_cpu_percent"), knownvalue.Float64Exact(60)),
				},
			},
			{
				Config: withScaling,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: testAccCheckDesired(t, name, 3),
			},
			{
				// Removing the block deletes policy and schedules and gives
				// desired capacity back to Terraform.
				Config: without,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckScalingObjects(t, policy, schedules, false),
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 2),
					testAccSetDesired(t, name, 3),
				),
				ExpectNonEmptyPlan: true,
			},
			{
				Config: without,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("desired_capacity"), knownvalue.Int64Exact(2)),
				}},
				Check: testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 2),
			},
			{
				Config: withScaling,
				Check:  testAccCheckScalingObjects(t, policy, schedules, true),
			},
			{
				ResourceName:            "clone_pool.test",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"healthy_count"},
			},
		},
	})
}

func TestAccClonePool_invalidRollout(t *testing.T) {
	base := func(extra string) string {
		return fmt.Sprintf(`
resource "clone_pool" "test" {
  name          = "web"
  image_id      = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  subnet_ids    = ["subnet-0123456789abcdef0"]
  min_size      = 1
  max_size      = 4
%s
}
`, extra)
	}
	cases := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{"batch size 0", base("rolling_update {\n batch_size = 0\n}"), regexp.MustCompile(`(?s)batch_size.*between 1 and 10000`)},
		{"percent above 100", base("rolling_update {\n min_healthy_percent = 101\n}"), regexp.MustCompile(`(?s)min_healthy_percent.*between 0 and\s+100`)},
		{"health timeout too short", base("rolling_update {\n health_timeout = \"5s\"\n}"), regexp.MustCompile(`(?s)health_timeout.*at least 10s|(?s)Invalid duration`)},
		{"health timeout not a duration", base("rolling_update {\n health_timeout = \"soon\"\n}"), regexp.MustCompile(`Invalid duration`)},
		{"two rolling_update blocks", base("rolling_update {}\nrolling_update {}"), regexp.MustCompile(`Duplicate rolling_update block`)},
		{"cpu target 0", base("scaling {\n target_cpu_percent = 0\n}"), regexp.MustCompile(`(?s)target_cpu_percent.*between 1`)},
		{"recurrence with 4 fields", base("scaling {\n schedule {\n recurrence = \"0 22 * *\"\n desired_capacity = 1\n }\n}"), regexp.MustCompile(`(?s)recurrence.*five\s+fields`)},
		{"schedule desired above max", base("scaling {\n schedule {\n recurrence = \"0 22 * * *\"\n max_size = 2\n desired_capacity = 3\n }\n}"), regexp.MustCompile(`(?s)desired_capacity \(3\) must lie within`)},
		{"schedule min above max", base("scaling {\n schedule {\n recurrence = \"0 22 * * *\"\n min_size = 3\n max_size = 2\n }\n}"), regexp.MustCompile(`(?s)min_size \(3\) must not exceed max_size \(2\)`)},
		{"schedule without sizes", base("scaling {\n schedule {\n recurrence = \"0 22 * * *\"\n }\n}"), regexp.MustCompile(`(?s)at least one of min_size, max_size and desired_capacity`)},
		{"duplicate schedule names", base("scaling {\n schedule {\n name = \"a\"\n recurrence = \"0 22 * * *\"\n min_size = 1\n }\n schedule {\n name = \"a\"\n recurrence = \"0 7 * * *\"\n min_size = 2\n }\n}"), regexp.MustCompile(`(?s)would both be named "a"`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      tc.config,
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
}

func testAccSetDesired(t *testing.T, name string, n int32) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, err := acctest.Client(t).AutoScaling.SetDesiredCapacity(context.Background(), &autoscaling.SetDesiredCapacityInput{
			AutoScalingGroupName: aws.String(name), DesiredCapacity: aws.Int32(n),
		})
		return err
	}
}

func testAccCheckDesired(t *testing.T, name string, n int64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		g, err := pool.FindGroup(context.Background(), acctest.Client(t).AutoScaling, name)
		if err != nil {
			return err
		}
		if g.DesiredCapacity != n {
			return fmt.Errorf("group %s desired capacity %d, want %d", name, g.DesiredCapacity, n)
		}
		return nil
	}
}

// testAccCheckScalingObjects looks the policy and scheduled actions up by
// name across all groups, as the emulator keeps them after a group is gone.
func testAccCheckScalingObjects(t *testing.T, policy string, schedules []string, want bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		c := acctest.Client(t).AutoScaling
		ps, err := c.DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{PolicyNames: []string{policy}})
		if err != nil {
			return err
		}
		if got := len(ps.ScalingPolicies) == 1; got != want {
			return fmt.Errorf("scaling policy %s exists: %v, want %v", policy, got, want)
		}
		if want {
			p := ps.ScalingPolicies[0]
			if aws.ToString(p.PolicyType) != "TargetTrackingScaling" || p.TargetTrackingConfiguration == nil || aws.ToFloat64(p.TargetTrackingConfiguration.TargetValue) != 60 {
				return fmt.Errorf("scaling policy %s = %+v, want target tracking at 60", policy, p)
			}
		}
		as, err := c.DescribeScheduledActions(ctx, &autoscaling.DescribeScheduledActionsInput{ScheduledActionNames: schedules})
		if err != nil {
			return err
		}
		got := map[string]bool{}
		for _, a := range as.ScheduledUpdateGroupActions {
			got[aws.ToString(a.ScheduledActionName)] = true
		}
		for _, s := range schedules {
			if got[s] != want {
				return fmt.Errorf("scheduled action %s exists: %v, want %v", s, got[s], want)
			}
		}
		return nil
	}
}
