package provider

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

func TestAccClonePool_basic(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-basic")
	cfg := testAccClonePoolConfig(t, name, world, 3, "")

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check:  testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 3),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("instance_ids"), knownvalue.ListSizeExact(3)),
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("healthy_count"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("desired_capacity"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("launch_template_version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("launch_template_id"), knownvalue.StringRegexp(regexp.MustCompile(`^lt-`))),
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("master_target_group_arn"), knownvalue.Null()),
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("tags_all"), knownvalue.MapExact(map[string]knownvalue.Check{
						"owner": knownvalue.StringExact("platform"), "env": knownvalue.StringExact("test"),
					})),
				},
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

func TestAccClonePool_scale(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-scale")
	step := func(n int) resource.TestStep {
		return resource.TestStep{
			Config: testAccClonePoolConfig(t, name, world, n, ""),
			Check:  testAccCheckClonePoolHealthy(t, "clone_pool.test", world, n),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("instance_ids"), knownvalue.ListSizeExact(n)),
				statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("healthy_count"), knownvalue.Int64Exact(int64(n))),
			},
		}
	}
	s6, s1 := step(6), step(1)
	s6.ConfigPlanChecks = resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
	}}
	s1.ConfigPlanChecks = s6.ConfigPlanChecks

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps:                    []resource.TestStep{step(3), s6, s1},
	})
}

func TestAccClonePool_master(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-master")
	extraTG := testAccExtraTargetGroup(t, world, name)
	master := fmt.Sprintf(`
  master {
    instance_id              = %q
    attach_to_load_balancers = true
    write_paths              = ["/upload/*", "/admin/*"]
    listener_arn             = %q
    rule_priority            = 10
    env_file                 = "/etc/clone/master.env"
    disable_services         = ["mysql"]
    recovery_alarm           = true
  }
`, world.MasterInstanceID, world.ListenerArn)
	cfg := testAccClonePoolConfigTGs(t, name, world, 2, []string{world.TargetGroupArn, extraTG}, master)

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			testAccCheckClonePoolDestroy(t, world),
			testAccCheckTargetRegistered(t, extraTG, world.MasterInstanceID, false),
			// The seed registered the master in the world's target group; the pool leaves it there.
			testAccCheckTargetRegistered(t, world.TargetGroupArn, world.MasterInstanceID, true),
		),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 2),
					testAccCheckTargetRegistered(t, extraTG, world.MasterInstanceID, true),
					testAccCheckClonePoolWriteRule(t, "clone_pool.test", world.ListenerArn, 10, []string{"/upload/*", "/admin/*"}),
					testAccCheckClonePoolAlarm(t, name, world.MasterInstanceID),
					testAccCheckClonePoolUserData(t, name, "MASTER_ADDRESS="+world.MasterPrivateIP, `disable-service, "mysql"`),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("master_target_group_arn"), knownvalue.StringRegexp(regexp.MustCompile(`:targetgroup/`+name+`-master/`))),
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("write_rule_arn"), knownvalue.StringRegexp(regexp.MustCompile(`:listener-rule/`))),
				},
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				ResourceName:            "clone_pool.test",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"healthy_count"},
			},
			{
				// Detaching the extra target group is in place and deregisters the master there.
				Config: testAccClonePoolConfigTGs(t, name, world, 2, []string{world.TargetGroupArn}, strings.Replace(master, `"/upload/*", "/admin/*"`, `"/upload/*"`, 1)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 2),
					testAccCheckTargetRegistered(t, extraTG, world.MasterInstanceID, false),
					testAccCheckClonePoolWriteRule(t, "clone_pool.test", world.ListenerArn, 10, []string{"/upload/*"}),
				),
			},
		},
	})
}

// TestAccClonePool_masterRulePriority leaves rule_priority out on a
// listener that already has rules: the write rule takes one above the
// highest, a rule added later above it changes nothing on the next plan, a
// configured priority moves the rule, and leaving it out again keeps it.
func TestAccClonePool_masterRulePriority(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-priority")
	foreign := testAccForeignRules{t: t, world: world}
	foreign.add(7)
	foreign.add(40)
	master := func(priority string) string {
		return fmt.Sprintf(`
  master {
    instance_id    = %q
    write_paths    = ["/upload/*"]
    listener_arn   = %q
    recovery_alarm = false
    %s
  }
`, world.MasterInstanceID, world.ListenerArn, priority)
	}
	cfg := func(priority string) string { return testAccClonePoolConfig(t, name, world, 1, master(priority)) }
	rulePriority := tfjsonpath.New("master").AtMapKey("rule_priority")

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// The destroy check wants the listener back to its default rule.
		CheckDestroy: resource.ComposeTestCheckFunc(foreign.deleteAll, testAccCheckClonePoolDestroy(t, world)),
		Steps: []resource.TestStep{
			{
				Config: cfg(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue("clone_pool.test", rulePriority),
				}},
				Check: testAccCheckClonePoolWriteRule(t, "clone_pool.test", world.ListenerArn, 41, []string{"/upload/*"}),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("clone_pool.test", rulePriority, knownvalue.Int64Exact(41)),
				},
			},
			{
				PreConfig: func() { foreign.add(60) },
				Config:    cfg(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: testAccCheckClonePoolWriteRule(t, "clone_pool.test", world.ListenerArn, 41, []string{"/upload/*"}),
			},
			{
				Config: cfg("rule_priority = 70"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("clone_pool.test", rulePriority, knownvalue.Int64Exact(70)),
				}},
				Check: testAccCheckClonePoolWriteRule(t, "clone_pool.test", world.ListenerArn, 70, []string{"/upload/*"}),
			},
			{
				Config: cfg(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: testAccCheckClonePoolWriteRule(t, "clone_pool.test", world.ListenerArn, 70, []string{"/upload/*"}),
			},
		},
	})
}

// testAccForeignRules are rules the pool does not own on the world's
// listener; deleteAll removes them (also when the test ends).
type testAccForeignRules struct {
	t     *testing.T
	world *seed.World
	arns  []string
}

// add puts a foreign rule at priority.
func (f *testAccForeignRules) add(priority int32) {
	f.t.Helper()
	out, err := acctest.Client(f.t).ELBV2.CreateRule(context.Background(), &elasticloadbalancingv2.CreateRuleInput{
		ListenerArn: aws.String(f.world.ListenerArn),
		Priority:    aws.Int32(priority),
		Conditions:  pool.ExpandRuleConditions([]string{fmt.Sprintf("/foreign-%d/*", priority)}),
		Actions: []elbv2types.Action{{
			Type:           elbv2types.ActionTypeEnumForward,
			TargetGroupArn: aws.String(f.world.TargetGroupArn),
		}},
	})
	if err != nil {
		f.t.Fatalf("creating a foreign rule at priority %d on %s: %s", priority, f.world.ListenerArn, err)
	}
	if len(f.arns) == 0 {
		f.t.Cleanup(func() { _ = f.deleteAll(nil) })
	}
	f.arns = append(f.arns, aws.ToString(out.Rules[0].RuleArn))
}

func (f *testAccForeignRules) deleteAll(*terraform.State) error {
	for len(f.arns) > 0 {
		if _, err := acctest.Client(f.t).ELBV2.DeleteRule(context.Background(), &elasticloadbalancingv2.DeleteRuleInput{RuleArn: aws.String(f.arns[0])}); err != nil {
			return fmt.Errorf("deleting foreign rule %s: %w", f.arns[0], err)
		}
		f.arns = f.arns[1:]
	}
	return nil
}

func TestAccClonePool_disappears(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-gone")
	cfg := testAccClonePoolConfig(t, name, world, 2, "")

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 2),
					func(*terraform.State) error {
						_, err := acctest.Client(t).AutoScaling.DeleteAutoScalingGroup(context.Background(), &autoscaling.DeleteAutoScalingGroupInput{
							AutoScalingGroupName: aws.String(name), ForceDelete: aws.Bool(true),
						})
						return err
					},
				),
				ExpectNonEmptyPlan: true,
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
				}},
				Check: testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 2),
			},
		},
	})
}

func TestAccClonePool_import(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-import")
	cfg := testAccClonePoolConfig(t, name, world, 1, `  user_data = "#!/bin/sh\necho clone\n"`)

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				ResourceName:      "clone_pool.test",
				ImportState:       true,
				ImportStateVerify: true,
			},
		},
	})
}

func TestAccClonePool_syncPolicy(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-sync")
	policy := fmt.Sprintf(`
resource "clone_sync_policy" "test" {
  name               = %q
  master_instance_id = %q
  paths              = [{ source = "/srv/app/www", destination = "/var/www" }]
}
`, name+"-sync", world.MasterInstanceID)
	cfg := testAccClonePoolConfig(t, name, world, 2, "  sync_policy_id = clone_sync_policy.test.id") + policy

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 2),
					testAccCheckClonePoolUserData(t, name, `filename="clone-sync-agent.cfg"`),
					func(*terraform.State) error {
						ctx := context.Background()
						c := acctest.Client(t)
						hooks, err := c.AutoScaling.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String(name)})
						if err != nil {
							return err
						}
						if len(hooks.LifecycleHooks) != 1 || aws.ToString(hooks.LifecycleHooks[0].LifecycleHookName) != name+"-first-sync" ||
							aws.ToString(hooks.LifecycleHooks[0].DefaultResult) != "ABANDON" {
							return fmt.Errorf("lifecycle hooks = %+v, want one %s-first-sync defaulting to ABANDON", hooks.LifecycleHooks, name)
						}
						g, err := pool.FindGroup(ctx, c.AutoScaling, name)
						if err != nil {
							return err
						}
						if g.Tags["clone:sync-policy"] != name+"-sync" {
							return fmt.Errorf("group tag clone:sync-policy = %q", g.Tags["clone:sync-policy"])
						}
						return nil
					},
				),
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

func TestAccClonePool_invalid(t *testing.T) {
	const okTG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-web/0123456789abcdef"
	const okListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/0123456789abcdef"
	base := func(extra string) string {
		return fmt.Sprintf(`
resource "clone_pool" "test" {
  name          = "web"
  image_id      = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  subnet_ids    = ["subnet-0123456789abcdef0"]
%s
}
`, extra)
	}
	sizes := func(minSize, maxSize int, rest string) string {
		return fmt.Sprintf("  min_size = %d\n  max_size = %d\n%s", minSize, maxSize, rest)
	}
	cases := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{"min above max", base(sizes(3, 2, "")), regexp.MustCompile(`min_size \(3\) must not exceed max_size \(2\)`)},
		{"desired above max", base(sizes(1, 3, "desired_capacity = 4")), regexp.MustCompile(`desired_capacity \(4\) must lie within`)},
		{"desired below min", base(sizes(2, 3, "desired_capacity = 1")), regexp.MustCompile(`desired_capacity \(1\) must lie within`)},
		{"write_paths without listener", base(sizes(1, 2, `master {
  instance_id = "i-0123456789abcdef0"
  write_paths = ["/upload/*"]
}`)), regexp.MustCompile(`(?s)listener_arn.*must be specified|Attribute "master\.listener_arn" must be specified`)},
		{"rule_priority out of range", base(sizes(1, 2, fmt.Sprintf(`master {
  instance_id   = "i-0123456789abcdef0"
  write_paths   = ["/upload/*"]
  listener_arn  = %q
  rule_priority = 50001
}`, okListener))), regexp.MustCompile(`(?s)rule_priority.*between 1 and 50000`)},
		{"malformed image id", strings.Replace(base(sizes(1, 2, "")), "ami-0123456789abcdef0", "image-1", 1), regexp.MustCompile(`(?s)image_id.*must be an AMI id`)},
		{"master without instance_id", base(sizes(1, 2, `master {
  env_file = "/etc/clone/master.env"
}`)), regexp.MustCompile(`(?s)master\.instance_id.*must be specified`)},
		{"malformed master instance", base(sizes(1, 2, `master {
  instance_id = "web-1"
}`)), regexp.MustCompile(`(?s)instance_id.*must be an EC2 instance id`)},
		{"malformed target group ARN", base(sizes(1, 2, `target_group_arns = ["tg-web"]`)), regexp.MustCompile(`(?s)target_group_arns.*must be a target group ARN`)},
		{"malformed listener ARN", base(sizes(1, 2, `master {
  instance_id   = "i-0123456789abcdef0"
  write_paths   = ["/upload/*"]
  listener_arn  = "`+okTG+`"
  rule_priority = 5
}`)), regexp.MustCompile(`(?s)listener_arn.*must be a load balancer listener ARN`)},
		{"duplicate subnets", strings.Replace(base(sizes(1, 2, "")), `["subnet-0123456789abcdef0"]`, `["subnet-0123456789abcdef0", "subnet-0123456789abcdef0"]`, 1), regexp.MustCompile(`(?s)subnet_ids.*unique|(?s)subnet_ids.*duplicate`)},
		{"relative env_file", base(sizes(1, 2, `master {
  instance_id = "i-0123456789abcdef0"
  env_file    = "etc/master.env"
}`)), regexp.MustCompile(`(?s)env_file.*absolute path`)},
		// Auto Scaling's quotas: 50 target groups and 50 classic load
		// balancers a group.
		{"51 target groups", base(sizes(1, 2, "target_group_arns = ["+repeatQuoted(51, func(i int) string {
			return fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-%d/0123456789abcdef", i)
		})+"]")), regexp.MustCompile(`(?s)target_group_arns.*set must contain at most 50 elements`)},
		{"51 classic load balancers", base(sizes(1, 2, "classic_elb_names = ["+repeatQuoted(51, func(i int) string {
			return fmt.Sprintf("elb-%d", i)
		})+"]")), regexp.MustCompile(`(?s)classic_elb_names.*set must contain at most 50 elements`)},
		{"sync_agent_sha256 not a hash", base(sizes(1, 2, `sync_policy_id    = "web"
  sync_agent_sha256 = "v2"`)), regexp.MustCompile(`(?s)sync_agent_sha256.*must be a hex SHA-256`)},
		{"sync_agent_sha256 without sync_policy_id", base(sizes(1, 2, `sync_agent_sha256 = "`+strings.Repeat("0a", 32)+`"`)),
			regexp.MustCompile(`(?s)sync_policy_id.*must be specified when.*sync_agent_sha256|Attribute "sync_policy_id" must be specified`)},
		{"invalid pool name", strings.Replace(base(sizes(1, 2, "")), `"web"`, `"web_1"`, 1), regexp.MustCompile(`(?s)name.*letters, digits and hyphens`)},
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

func TestValidateSizes(t *testing.T) {
	v := types.Int64Value
	cases := []struct {
		name              string
		minS, maxS, desir types.Int64
		want              int
	}{
		{"ok", v(1), v(3), v(2), 0},
		{"desired unset", v(1), v(3), types.Int64Null(), 0},
		{"unknown max", v(5), types.Int64Unknown(), v(6), 0},
		{"min above max", v(4), v(3), types.Int64Null(), 1},
		{"desired above max and min above max", v(4), v(3), v(5), 2},
		{"desired below min", v(2), v(3), v(1), 1},
	}
	for _, tc := range cases {
		if got := validateSizes(tc.minS, tc.maxS, tc.desir); len(got) != tc.want {
			t.Errorf("%s: %d errors %v, want %d", tc.name, len(got), got, tc.want)
		}
	}
}

func TestTemplateChanged(t *testing.T) {
	master := func(env string) *clonePoolMasterModel {
		return &clonePoolMasterModel{InstanceID: types.StringValue("i-0123456789abcdef0"), EnvFile: stringOrNull(env),
			DisableServices: types.ListNull(types.StringType), WritePaths: types.ListNull(types.StringType)}
	}
	base := func() clonePoolResourceModel {
		return clonePoolResourceModel{
			ImageID: types.StringValue("ami-1"), InstanceType: types.StringValue("t3.micro"),
			LaunchTemplateID: types.StringValue("lt-1"), LaunchTemplateVersion: types.Int64Value(1),
			SecurityGroupIDs: types.SetNull(types.StringType), UserData: types.StringNull(),
			KeyName: types.StringNull(), IAMInstanceProfile: types.StringNull(),
		}
	}
	cases := []struct {
		name string
		edit func(p, s *clonePoolResourceModel)
		want bool
	}{
		{"nothing", func(p, s *clonePoolResourceModel) {}, false},
		{"image", func(p, s *clonePoolResourceModel) { p.ImageID = types.StringValue("ami-2") }, true},
		{"user data", func(p, s *clonePoolResourceModel) { p.UserData = types.StringValue("#!/bin/sh") }, true},
		{"template gone", func(p, s *clonePoolResourceModel) { s.LaunchTemplateID = types.StringNull() }, true},
		{"master without user data added", func(p, s *clonePoolResourceModel) { p.Master = master("") }, false},
		{"master with env file added", func(p, s *clonePoolResourceModel) { p.Master = master("/etc/m.env") }, true},
		{"env file changed", func(p, s *clonePoolResourceModel) { p.Master, s.Master = master("/a"), master("/b") }, true},
		{"sync agent hash changed", func(p, s *clonePoolResourceModel) {
			p.SyncAgentSHA256, s.SyncAgentSHA256 = types.StringValue(strings.Repeat("b", 64)), types.StringValue(strings.Repeat("a", 64))
		}, true},
		{"sync agent hash unknown (its policy changes in this plan)", func(p, s *clonePoolResourceModel) {
			p.SyncAgentSHA256, s.SyncAgentSHA256 = types.StringUnknown(), types.StringValue(strings.Repeat("a", 64))
		}, true},
		{"sync agent hash set where it was null", func(p, s *clonePoolResourceModel) {
			p.SyncAgentSHA256, s.SyncAgentSHA256 = types.StringValue(strings.Repeat("a", 64)), types.StringNull()
		}, false},
		{"sync agent hash removed", func(p, s *clonePoolResourceModel) {
			p.SyncAgentSHA256, s.SyncAgentSHA256 = types.StringNull(), types.StringValue(strings.Repeat("a", 64))
		}, false},
		{"sync agent hash the same", func(p, s *clonePoolResourceModel) {
			p.SyncAgentSHA256, s.SyncAgentSHA256 = types.StringValue(strings.Repeat("a", 64)), types.StringValue(strings.Repeat("a", 64))
		}, false},
	}
	for _, tc := range cases {
		p, s := base(), base()
		tc.edit(&p, &s)
		if got := templateChanged(&p, &s); got != tc.want {
			t.Errorf("%s: templateChanged = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func testAccMasterImage(t *testing.T, world *seed.World) string {
	t.Helper()
	out, err := acctest.Client(t).EC2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{world.MasterInstanceID}})
	if err != nil || len(out.Reservations) == 0 {
		t.Fatalf("describing master %s: %v", world.MasterInstanceID, err)
	}
	return aws.ToString(out.Reservations[0].Instances[0].ImageId)
}

func testAccClonePoolConfig(t *testing.T, name string, world *seed.World, n int, extra string) string {
	return testAccClonePoolConfigTGs(t, name, world, n, []string{world.TargetGroupArn}, extra)
}

func testAccClonePoolConfigTGs(t *testing.T, name string, world *seed.World, n int, tgs []string, extra string) string {
	quoted := make([]string, len(tgs))
	for i, tg := range tgs {
		quoted[i] = strconv.Quote(tg)
	}
	return fmt.Sprintf(`
provider "clone" {
  default_tags {
    tags = { owner = "platform" }
  }
}

resource "clone_pool" "test" {
  name               = %q
  image_id           = %q
  instance_type      = "t3.micro"
  subnet_ids         = [%q, %q]
  security_group_ids = [%q]
  min_size           = 1
  max_size           = 6
  desired_capacity   = %d
  target_group_arns  = [%s]
  classic_elb_names  = [%q]
  tags               = { env = "test" }
%s
  timeouts {
    create = "5m"
    update = "5m"
    delete = "5m"
  }
}
`, name, testAccMasterImage(t, world), world.SubnetIDs[0], world.SubnetIDs[1], world.SecurityGroupID, n,
		strings.Join(quoted, ", "), world.ClassicELBName, extra)
}

// testAccCheckClonePoolHealthy proves through the API that the group runs
// exactly n clones, each healthy in the ALB target group and InService in
// the classic ELB, and that no other clone of the pool is still registered.
func testAccCheckClonePoolHealthy(t *testing.T, res string, world *seed.World, n int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx := context.Background()
		rs, ok := s.RootModule().Resources[res]
		if !ok {
			return fmt.Errorf("%s not in state", res)
		}
		c := acctest.Client(t)
		g, err := pool.FindGroup(ctx, c.AutoScaling, rs.Primary.ID)
		if err != nil {
			return err
		}
		ids := g.ServingIDs()
		if len(ids) != n {
			return fmt.Errorf("pool %s runs %d clones %v, want %d", rs.Primary.ID, len(ids), ids, n)
		}
		if got := rs.Primary.Attributes["instance_ids.#"]; got != strconv.Itoa(n) {
			return fmt.Errorf("state has %s instance_ids, want %d", got, n)
		}
		th, err := c.ELBV2.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(world.TargetGroupArn)})
		if err != nil {
			return err
		}
		healthyTG := map[string]bool{}
		for _, d := range th.TargetHealthDescriptions {
			id := aws.ToString(d.Target.Id)
			state := d.TargetHealth.State
			if state == elbv2types.TargetHealthStateEnumHealthy {
				healthyTG[id] = true
			}
			if id != world.MasterInstanceID && !slices.Contains(ids, id) && state == elbv2types.TargetHealthStateEnumHealthy && g.Tags[pool.TagPool] != "" {
				if mine, _ := instanceOfPool(ctx, t, id, rs.Primary.ID); mine {
					return fmt.Errorf("retired clone %s of pool %s is still healthy in target group %s", id, rs.Primary.ID, world.TargetGroupName)
				}
			}
		}
		ih, err := c.ELB.DescribeInstanceHealth(ctx, &elasticloadbalancing.DescribeInstanceHealthInput{LoadBalancerName: aws.String(world.ClassicELBName)})
		if err != nil {
			return err
		}
		inService := map[string]bool{}
		for _, st := range ih.InstanceStates {
			if aws.ToString(st.State) == "InService" {
				inService[aws.ToString(st.InstanceId)] = true
			}
		}
		for _, id := range ids {
			if !healthyTG[id] {
				return fmt.Errorf("clone %s is not healthy in target group %s", id, world.TargetGroupName)
			}
			if !inService[id] {
				return fmt.Errorf("clone %s is not InService in classic ELB %s", id, world.ClassicELBName)
			}
		}
		return nil
	}
}

func instanceOfPool(ctx context.Context, t *testing.T, id, poolName string) (bool, error) {
	out, err := acctest.Client(t).EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return false, err
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if i.State == nil || i.State.Name != "running" {
				continue
			}
			for _, tag := range i.Tags {
				if aws.ToString(tag.Key) == pool.TagPool && aws.ToString(tag.Value) == poolName {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

func testAccExtraTargetGroup(t *testing.T, world *seed.World, name string) string {
	t.Helper()
	return testAccTargetGroupNamed(t, world, name+"-x")
}

// testAccTargetGroupNamed creates a target group in the world's VPC,
// deleted when the test ends.
func testAccTargetGroupNamed(t *testing.T, world *seed.World, tgName string) string {
	t.Helper()
	c := acctest.Client(t)
	out, err := c.ELBV2.CreateTargetGroup(context.Background(), &elasticloadbalancingv2.CreateTargetGroupInput{
		Name: aws.String(tgName), Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String(world.VpcID), TargetType: elbv2types.TargetTypeEnumInstance,
	})
	if err != nil {
		t.Fatalf("creating extra target group %s: %s", tgName, err)
	}
	arn := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	// Drains like the seeded target group, not for AWS's default 300 s.
	if _, err := c.ELBV2.ModifyTargetGroupAttributes(context.Background(), &elasticloadbalancingv2.ModifyTargetGroupAttributesInput{
		TargetGroupArn: aws.String(arn),
		Attributes: []elbv2types.TargetGroupAttribute{{
			Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(strconv.Itoa(seed.DrainSeconds)),
		}},
	}); err != nil {
		t.Fatalf("setting the deregistration delay of %s: %s", tgName, err)
	}
	t.Cleanup(func() {
		_, _ = c.ELBV2.DeleteTargetGroup(context.Background(), &elasticloadbalancingv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)})
	})
	return arn
}

func testAccCheckTargetRegistered(t *testing.T, tgARN, instanceID string, want bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		out, err := acctest.Client(t).ELBV2.DescribeTargetHealth(context.Background(), &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
		if err != nil {
			return err
		}
		got := false
		for _, d := range out.TargetHealthDescriptions {
			if aws.ToString(d.Target.Id) == instanceID && d.TargetHealth.State != elbv2types.TargetHealthStateEnumDraining && d.TargetHealth.State != elbv2types.TargetHealthStateEnumUnused {
				got = true
			}
		}
		if got != want {
			return fmt.Errorf("master %s registered in %s: %v, want %v", instanceID, pool.TargetGroupName(tgARN), got, want)
		}
		return nil
	}
}

func testAccCheckClonePoolWriteRule(t *testing.T, res, listenerARN string, priority int, paths []string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := s.RootModule().Resources[res].Primary.Attributes
		out, err := acctest.Client(t).ELBV2.DescribeRules(context.Background(), &elasticloadbalancingv2.DescribeRulesInput{RuleArns: []string{attrs["write_rule_arn"]}})
		if err != nil {
			return err
		}
		if len(out.Rules) != 1 {
			return fmt.Errorf("write rule %s: found %d rules", attrs["write_rule_arn"], len(out.Rules))
		}
		got := pool.FlattenRule(out.Rules[0], listenerARN)
		if got.Priority != int64(priority) {
			return fmt.Errorf("write rule priority %d, want %d", got.Priority, priority)
		}
		if !slices.Equal(got.PathPatterns, paths) {
			return fmt.Errorf("write rule paths %v, want %v", got.PathPatterns, paths)
		}
		if got.TargetGroupARN != attrs["master_target_group_arn"] {
			return fmt.Errorf("write rule forwards to %s, want the master target group %s", got.TargetGroupARN, attrs["master_target_group_arn"])
		}
		rules, err := acctest.Client(t).ELBV2.DescribeRules(context.Background(), &elasticloadbalancingv2.DescribeRulesInput{ListenerArn: aws.String(listenerARN)})
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(rules.Rules, func(r elbv2types.Rule) bool { return aws.ToString(r.RuleArn) == got.ARN }) {
			return fmt.Errorf("write rule %s is not on listener %s", got.ARN, listenerARN)
		}
		th, err := acctest.Client(t).ELBV2.DescribeTargetHealth(context.Background(), &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(got.TargetGroupARN)})
		if err != nil {
			return err
		}
		if len(th.TargetHealthDescriptions) != 1 {
			return fmt.Errorf("master target group has %d targets, want only the master", len(th.TargetHealthDescriptions))
		}
		return nil
	}
}

func testAccCheckClonePoolAlarm(t *testing.T, name, masterID string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		a, err := pool.FindAlarm(context.Background(), acctest.Client(t).CloudWatch, pool.NamesFor(name).RecoveryAlarm)
		if err != nil {
			return err
		}
		if a.InstanceID != masterID || !strings.HasSuffix(a.Action, ":ec2:recover") {
			return fmt.Errorf("recovery alarm = %+v, want instance %s and the ec2:recover action", a, masterID)
		}
		return nil
	}
}

func testAccCheckClonePoolUserData(t *testing.T, name string, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		out, err := acctest.Client(t).EC2.DescribeLaunchTemplateVersions(context.Background(), &ec2.DescribeLaunchTemplateVersionsInput{
			LaunchTemplateName: aws.String(name), Versions: []string{"$Latest"},
		})
		if err != nil {
			return err
		}
		d := out.LaunchTemplateVersions[0].LaunchTemplateData
		if d.MetadataOptions == nil || d.MetadataOptions.HttpTokens != "required" {
			return fmt.Errorf("launch template does not require IMDSv2: %+v", d.MetadataOptions)
		}
		raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.UserData))
		if err != nil {
			return err
		}
		doc := testAccGunzip(string(raw))
		for _, w := range want {
			if !strings.Contains(doc, w) {
				return fmt.Errorf("user data lacks %q:\n%s", w, doc)
			}
		}
		return nil
	}
}

// testAccCheckClonePoolDestroy proves no group, launch template, write
// rule, master target group or alarm of a destroyed pool remains.
func testAccCheckClonePoolDestroy(t *testing.T, world *seed.World) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx := context.Background()
		c := acctest.Client(t)
		for _, rs := range s.RootModule().Resources {
			if rs.Type != "clone_pool" {
				continue
			}
			names := pool.NamesFor(rs.Primary.ID)
			if _, err := pool.FindGroup(ctx, c.AutoScaling, names.Group); !notfound.Is(err) {
				return fmt.Errorf("Auto Scaling group %s still exists (%v)", names.Group, err)
			}
			if _, _, err := pool.FindTemplateByName(ctx, c.EC2, names.LaunchTemplate); !notfound.Is(err) {
				return fmt.Errorf("launch template %s still exists (%v)", names.LaunchTemplate, err)
			}
			if _, err := pool.FindTargetGroupByName(ctx, c.ELBV2, names.MasterTargetGroup); !notfound.Is(err) {
				return fmt.Errorf("master target group %s still exists (%v)", names.MasterTargetGroup, err)
			}
			if _, err := pool.FindAlarm(ctx, c.CloudWatch, names.RecoveryAlarm); !notfound.Is(err) {
				return fmt.Errorf("recovery alarm %s still exists (%v)", names.RecoveryAlarm, err)
			}
			if arn := rs.Primary.Attributes["write_rule_arn"]; arn != "" {
				if _, err := pool.FindRule(ctx, c.ELBV2, arn, ""); !notfound.Is(err) {
					return fmt.Errorf("write rule %s still exists (%v)", arn, err)
				}
			}
			rules, err := c.ELBV2.DescribeRules(ctx, &elasticloadbalancingv2.DescribeRulesInput{ListenerArn: aws.String(world.ListenerArn)})
			if err != nil {
				return err
			}
			if len(rules.Rules) != 1 {
				return fmt.Errorf("listener %s has %d rules after destroy, want only the default", world.ListenerArn, len(rules.Rules))
			}
		}
		return acctest.CheckDestroy(s)
	}
}

// repeatQuoted is n quoted values, comma-separated.
func repeatQuoted(n int, value func(int) string) string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Quote(value(i))
	}
	return strings.Join(out, ", ")
}
