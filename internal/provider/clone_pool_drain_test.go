package provider

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/emulator"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

// testAccDrainDelay is the deregistration delay of the drain test's target
// group and the connection-draining timeout of its classic ELB.
const testAccDrainDelay = 5 * time.Second

// TestAccClonePool_drain proves that retiring a clone waits out the load
// balancers' draining before terminating it: with a 5 s deregistration
// delay on the target group and a 5 s connection-draining timeout on the
// classic ELB (set before the pool scales), every clone retired by a
// scale-in (3 → 1) and by a rollout onto a new image is terminated no
// sooner than 5 s (times the test cloud's time scale) after it was
// deregistered from each of them, as the recording proxy timed the calls.
//
// AWS keeps a deregistered target `draining` for the delay, and a classic
// ELB keeps a deregistered instance InService ("Instance deregistration
// currently in progress.") for the timeout. The proxy plays that part on
// top of the emulator where the emulator drops the registration at once.
func TestAccClonePool_drain(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-drain")
	proxy := acctest.NewProxy(t)
	scaled := time.Duration(float64(testAccDrainDelay) * acctest.TimeScale())
	testAccSetDrainDelays(t, world, testAccDrainDelay)
	testAccEmulateDraining(t, proxy, world, scaled)
	image := testAccMasterImage(t, world)
	cfg := func(n int, img string) string {
		c := testAccClonePoolConfig(t, name, world, n, "")
		c = strings.Replace(c, fmt.Sprintf("image_id           = %q", image), fmt.Sprintf("image_id           = %q", img), 1)
		return strings.Replace(c, "provider \"clone\" {\n", fmt.Sprintf(
			"provider \"clone\" {\n  endpoints {\n    autoscaling = %q\n    ec2         = %q\n    elb         = %q\n    elbv2       = %q\n  }\n",
			proxy.URL, proxy.URL, proxy.URL, proxy.URL), 1)
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: cfg(3, image),
				Check:  testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 3),
			},
			{
				PreConfig: proxy.Reset,
				Config:    cfg(1, image),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 1),
					testAccCheckDrained(t, proxy, world, scaled, 2),
				),
			},
			{
				PreConfig: proxy.Reset,
				Config:    cfg(1, testAccImage(t, world, name)),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, 1),
					testAccCheckDrained(t, proxy, world, scaled, 1),
				),
			},
		},
	})
}

// testAccSetDrainDelays sets the world's target group deregistration delay
// and its classic ELB's connection-draining timeout to d.
func testAccSetDrainDelays(t *testing.T, world *seed.World, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	c := acctest.Client(t)
	secs := int32(d / time.Second)
	if _, err := c.ELBV2.ModifyTargetGroupAttributes(ctx, &elasticloadbalancingv2.ModifyTargetGroupAttributesInput{
		TargetGroupArn: aws.String(world.TargetGroupArn),
		Attributes:     []elbv2types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(fmt.Sprint(secs))}},
	}); err != nil {
		t.Fatalf("setting the deregistration delay of %s: %s", world.TargetGroupName, err)
	}
	if _, err := c.ELB.ModifyLoadBalancerAttributes(ctx, &elasticloadbalancing.ModifyLoadBalancerAttributesInput{
		LoadBalancerName:       aws.String(world.ClassicELBName),
		LoadBalancerAttributes: &elbtypes.LoadBalancerAttributes{ConnectionDraining: &elbtypes.ConnectionDraining{Enabled: true, Timeout: aws.Int32(secs)}},
	}); err != nil {
		t.Fatalf("setting connection draining on %s: %s", world.ClassicELBName, err)
	}
}

// testAccEmulateDraining makes the proxy report what AWS reports while a
// deregistration drains, for d after each deregistration call it saw, where
// the emulator no longer lists the instance: `draining`
// (Target.DeregistrationInProgress) in the world's target group, InService
// with "Instance deregistration currently in progress." in its classic ELB.
// Where the emulator drains on its own (its strict layer), it lists the
// instance and the proxy adds nothing.
func testAccEmulateDraining(t *testing.T, proxy *acctest.Proxy, world *seed.World, d time.Duration) {
	ctx := context.Background()
	c := acctest.Client(t)
	var mu sync.Mutex
	tgDrain, elbDrain := map[string]time.Time{}, map[string]time.Time{}
	proxy.SetRule(func(call acctest.Call) *acctest.Fault {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case call.Action == "DeregisterTargets" && call.Form.Get("TargetGroupArn") == world.TargetGroupArn:
			for _, id := range formList(call, "Targets.member.", ".Id") {
				tgDrain[id] = call.At.Add(d)
			}
		case call.Action == "DeregisterInstancesFromLoadBalancer" && call.Form.Get("LoadBalancerName") == world.ClassicELBName:
			for _, id := range formList(call, "Instances.member.", ".InstanceId") {
				elbDrain[id] = call.At.Add(d)
			}
		case call.Action == "DescribeTargetHealth" && call.Form.Get("TargetGroupArn") == world.TargetGroupArn && !call.Form.Has("Targets.member.1.Id"):
			out, err := c.ELBV2.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(world.TargetGroupArn)})
			if err != nil {
				return &acctest.Fault{Status: 500, Code: "InternalFailure", Message: err.Error()}
			}
			descs := out.TargetHealthDescriptions
			for _, id := range draining(tgDrain, call.At) {
				if !slices.ContainsFunc(descs, func(d elbv2types.TargetHealthDescription) bool { return aws.ToString(d.Target.Id) == id }) {
					descs = append(descs, elbv2types.TargetHealthDescription{
						Target:       &elbv2types.TargetDescription{Id: aws.String(id), Port: aws.Int32(80)},
						TargetHealth: &elbv2types.TargetHealth{State: elbv2types.TargetHealthStateEnumDraining, Reason: elbv2types.TargetHealthReasonEnumDeregistrationInProgress},
					})
				}
			}
			return &acctest.Fault{Status: 200, Body: targetHealthXML(descs, func(string, elbv2types.TargetHealthStateEnum) bool { return false })}
		case call.Action == "DescribeInstanceHealth" && call.Form.Get("LoadBalancerName") == world.ClassicELBName && !call.Form.Has("Instances.member.1.InstanceId"):
			out, err := c.ELB.DescribeInstanceHealth(ctx, &elasticloadbalancing.DescribeInstanceHealthInput{LoadBalancerName: aws.String(world.ClassicELBName)})
			if err != nil {
				return &acctest.Fault{Status: 500, Code: "InternalFailure", Message: err.Error()}
			}
			states := out.InstanceStates
			for _, id := range draining(elbDrain, call.At) {
				if !slices.ContainsFunc(states, func(s elbtypes.InstanceState) bool { return aws.ToString(s.InstanceId) == id }) {
					states = append(states, elbtypes.InstanceState{
						InstanceId: aws.String(id), State: aws.String("InService"), ReasonCode: aws.String("N/A"),
						Description: aws.String("Instance deregistration currently in progress."),
					})
				}
			}
			return &acctest.Fault{Status: 200, Body: instanceHealthXML(states)}
		}
		return nil
	})
}

// draining lists, sorted, the ids whose drain ends after now.
func draining(until map[string]time.Time, now time.Time) []string {
	var out []string
	for id, end := range until {
		if now.Before(end) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// formList reads the values of a Query-protocol list: prefix1suffix,
// prefix2suffix, ...
func formList(call acctest.Call, prefix, suffix string) []string {
	var out []string
	for i := 1; ; i++ {
		v := call.Form.Get(fmt.Sprintf("%s%d%s", prefix, i, suffix))
		if v == "" {
			return out
		}
		out = append(out, v)
	}
}

// instanceHealthXML renders a DescribeInstanceHealth response.
func instanceHealthXML(states []elbtypes.InstanceState) string {
	esc := func(s *string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(aws.ToString(s)))
		return b.String()
	}
	var b strings.Builder
	b.WriteString(`<DescribeInstanceHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/"><DescribeInstanceHealthResult><InstanceStates>`)
	for _, s := range states {
		fmt.Fprintf(&b, `<member><InstanceId>%s</InstanceId><State>%s</State><ReasonCode>%s</ReasonCode><Description>%s</Description></member>`,
			esc(s.InstanceId), esc(s.State), esc(s.ReasonCode), esc(s.Description))
	}
	b.WriteString(`</InstanceStates></DescribeInstanceHealthResult><ResponseMetadata><RequestId>fault-proxy</RequestId></ResponseMetadata></DescribeInstanceHealthResponse>`)
	return b.String()
}

// testAccCheckDrained proves from the calls the proxy recorded that want
// clones were terminated, each no sooner than d after its deregistration
// from the world's target group and from its classic ELB.
func testAccCheckDrained(t *testing.T, proxy *acctest.Proxy, world *seed.World, d time.Duration, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		tg, elb, terminated := map[string]time.Time{}, map[string]time.Time{}, map[string]time.Time{}
		var order []string
		for _, c := range proxy.Calls() {
			var ids []string
			var first map[string]time.Time
			switch {
			case c.Action == "DeregisterTargets" && c.Form.Get("TargetGroupArn") == world.TargetGroupArn:
				ids, first = formList(c, "Targets.member.", ".Id"), tg
			case c.Action == "DeregisterInstancesFromLoadBalancer" && c.Form.Get("LoadBalancerName") == world.ClassicELBName:
				ids, first = formList(c, "Instances.member.", ".InstanceId"), elb
			case c.Action == "TerminateInstanceInAutoScalingGroup":
				ids, first = []string{c.Form.Get("InstanceId")}, terminated
			case c.Action == "TerminateInstances" && c.Service == "ec2":
				ids, first = formList(c, "InstanceId.", ""), terminated
			}
			for _, id := range ids {
				if _, seen := first[id]; !seen {
					first[id] = c.At
					if c.Action == "TerminateInstanceInAutoScalingGroup" || c.Action == "TerminateInstances" {
						order = append(order, id)
					}
				}
			}
		}
		if len(order) != want {
			return fmt.Errorf("%d clones terminated (%v), want %d", len(order), order, want)
		}
		var errs []string
		for _, id := range order {
			for _, lb := range []struct {
				name string
				at   map[string]time.Time
			}{{world.TargetGroupName, tg}, {world.ClassicELBName, elb}} {
				dereg, ok := lb.at[id]
				if !ok {
					errs = append(errs, fmt.Sprintf("%s terminated without being deregistered from %s", id, lb.name))
					continue
				}
				gap := terminated[id].Sub(dereg)
				t.Logf("%s: deregistered from %s, terminated %.2fs later (drain %s)", id, lb.name, gap.Seconds(), d)
				if gap < d {
					errs = append(errs, fmt.Sprintf("%s terminated %.2fs after its deregistration from %s, before its %s drain ended", id, gap.Seconds(), lb.name, d))
				}
			}
		}
		// The strict emulator records a violation when it terminates an
		// instance still registered or draining somewhere.
		if cfg, err := emulator.Config(context.Background(), acctest.Endpoint()); err == nil && cfg.Strict {
			events, err := emulator.Events(context.Background(), acctest.Endpoint())
			if err != nil {
				return err
			}
			for _, e := range events {
				if e.Kind == "terminate" && e.Violation != "" && slices.Contains(order, e.Instance) {
					errs = append(errs, fmt.Sprintf("strict emulator: %s: %s", e.Instance, e.Violation))
				}
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%s", strings.Join(errs, "; "))
		}
		return nil
	}
}
