package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/emulator"
)

// TestAccClonePool_hookOrder adds sync_policy_id to a pool while scaling it
// out, then removes it while scaling it back in, and proves from the calls the recording proxy saw that the first-sync
// launch lifecycle hook exists before the group is pointed at the launch
// template version with the sync agent and before anything launches, and
// that it is gone before the group is pointed at the version without the
// agent and before anything launches.
//
// "Pointed at" is the UpdateAutoScalingGroup that sets LaunchTemplate.Version:
// the group launches from the version it names, never from the template's
// default, so creating a version launches nothing. "Launches" are the calls
// that raise capacity: CreateAutoScalingGroup, SetDesiredCapacity and
// UpdateAutoScalingGroup with DesiredCapacity.
func TestAccClonePool_hookOrder(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-hook")
	proxy := acctest.NewProxy(t)
	const desired = 2
	cfg := func(sync bool) string {
		extra, n := "", desired
		if sync {
			extra, n = "  sync_policy_id = clone_sync_policy.test.id\n", desired+1
		}
		c := testAccClonePoolConfig(t, name, world, n, extra) + testAccSyncPolicyConfig(name, world, "5m")
		return strings.Replace(c, "provider \"clone\" {\n", fmt.Sprintf(
			"provider \"clone\" {\n  endpoints {\n    autoscaling = %q\n    ec2         = %q\n    elb         = %q\n    elbv2       = %q\n  }\n",
			proxy.URL, proxy.URL, proxy.URL, proxy.URL), 1)
	}

	// The stand-in plays each clone's sync agent: its first sync completes
	// the hook 20 s (scaled) after the clone entered Pending:Wait.
	const firstSync = 20.0
	acctest.StandIn(t, emulator.StandIn{Group: name, Result: "CONTINUE", DelaySeconds: firstSync})
	var since float64
	mark := func() { proxy.Reset(); since = nowSeconds() }

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: cfg(false),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired),
					testAccCheckSyncHook(t, name, false),
				),
			},
			{
				PreConfig: mark,
				Config:    cfg(true),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired+1),
					testAccCheckSyncHook(t, name, true),
					testAccCheckHookFirst(proxy, name, "PutLifecycleHook"),
					testAccCheckLaunchesHeld(t, name, &since, true, firstSync*acctest.TimeScale()),
				),
			},
			{
				PreConfig: mark,
				Config:    cfg(false),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired),
					testAccCheckSyncHook(t, name, false),
					testAccCheckHookFirst(proxy, name, "DeleteLifecycleHook"),
					testAccCheckLaunchesHeld(t, name, &since, false, 0),
				),
			},
		},
	})
}

// testAccCheckSyncHook proves the group has its first-sync hook, or none.
func testAccCheckSyncHook(t *testing.T, name string, want bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		out, err := acctest.Client(t).AutoScaling.DescribeLifecycleHooks(context.Background(), &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String(name)})
		if err != nil {
			return err
		}
		var names []string
		for _, h := range out.LifecycleHooks {
			names = append(names, aws.ToString(h.LifecycleHookName))
		}
		have := len(names) == 1 && names[0] == name+"-first-sync"
		if want && !have || !want && len(names) > 0 {
			return fmt.Errorf("lifecycle hooks of %s: %v, want the first-sync hook: %t", name, names, want)
		}
		return nil
	}
}

// testAccCheckHookFirst proves, from the calls of one apply, that hookCall
// (PutLifecycleHook or DeleteLifecycleHook of the pool's first-sync hook)
// came before the group was pointed at the launch template version in state
// and before any call that launches.
func testAccCheckHookFirst(proxy *acctest.Proxy, name, hookCall string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		version := s.RootModule().Resources["clone_pool.test"].Primary.Attributes["launch_template_version"]
		calls := proxy.Calls()
		hook, switched, launch := -1, -1, -1
		for i, c := range calls {
			if c.Service != "autoscaling" {
				continue
			}
			switch {
			case c.Action == hookCall && c.Form.Get("LifecycleHookName") == name+"-first-sync" && hook < 0:
				hook = i
			case c.Action == "UpdateAutoScalingGroup" && c.Form.Get("LaunchTemplate.Version") == version && switched < 0:
				switched = i
			}
			if launch < 0 && (c.Action == "CreateAutoScalingGroup" || c.Action == "SetDesiredCapacity" ||
				(c.Action == "UpdateAutoScalingGroup" && c.Form.Has("DesiredCapacity"))) {
				launch = i
			}
		}
		var trace []string
		for i, c := range calls {
			if c.Service == "autoscaling" && !strings.HasPrefix(c.Action, "Describe") {
				trace = append(trace, fmt.Sprintf("%d:%s", i, c.Action))
			}
		}
		switch {
		case hook < 0:
			return fmt.Errorf("no %s of %s-first-sync; calls: %s", hookCall, name, strings.Join(trace, " "))
		case switched < 0:
			return fmt.Errorf("no UpdateAutoScalingGroup pointed %s at launch template version %s; calls: %s", name, version, strings.Join(trace, " "))
		case switched < hook:
			return fmt.Errorf("%s pointed at launch template version %s (call %d) before %s (call %d); calls: %s", name, version, switched, hookCall, hook, strings.Join(trace, " "))
		case launch >= 0 && launch < hook:
			return fmt.Errorf("%s launched (call %d, %s) before %s (call %d); calls: %s", name, launch, calls[launch].Action, hookCall, hook, strings.Join(trace, " "))
		}
		return nil
	}
}

func nowSeconds() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// testAccCheckLaunchesHeld reads what the strict emulator saw group name
// launch since *since. With the agent (withAgent), every launch carries the
// agent, waited under the first-sync hook, and entered service only after
// the stand-in completed its hook, at least firstSync seconds later.
// Without it, no launch carries the agent or waits under a hook. In both,
// no clone without the agent ever launched while the hook existed: nothing
// would complete its hook on AWS and it would be abandoned.
func testAccCheckLaunchesHeld(t *testing.T, name string, since *float64, withAgent bool, firstSync float64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		type life struct{ wait, completed, inService float64 }
		lives := map[string]*life{}
		launched := 0
		for _, e := range acctest.Events(t) {
			if e.Group != name || e.Time < *since {
				continue
			}
			l := lives[e.Instance]
			if l == nil {
				l = &life{}
				lives[e.Instance] = l
			}
			switch e.Kind {
			case "launch":
				launched++
				if e.Hooked && !e.Agent {
					return fmt.Errorf("clone %s launched without the sync agent while the first-sync hook existed", e.Instance)
				}
				if e.Agent != withAgent || e.Hooked != withAgent {
					return fmt.Errorf("clone %s launched with agent=%t under hook=%t, want both %t", e.Instance, e.Agent, e.Hooked, withAgent)
				}
			case "pending_wait":
				l.wait = e.Time
			case "lifecycle_action":
				if e.Result != "CONTINUE" || e.Detail != "stand-in" {
					return fmt.Errorf("clone %s: lifecycle action %s by %s, want CONTINUE by the stand-in", e.Instance, e.Result, e.Detail)
				}
				l.completed = e.Time
			case "in_service":
				l.inService = e.Time
			}
		}
		if launched == 0 {
			return fmt.Errorf("the apply launched no clone in %s", name)
		}
		if !withAgent {
			return nil
		}
		for id, l := range lives {
			if l.inService == 0 {
				continue
			}
			if l.completed == 0 || l.inService < l.completed || l.inService-l.wait < 0.9*firstSync {
				return fmt.Errorf("clone %s entered service %.1fs after Pending:Wait (hook completed: %t), before its first sync (%.1fs)", id, l.inService-l.wait, l.completed > 0, firstSync)
			}
		}
		return nil
	}
}
