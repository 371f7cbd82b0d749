package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

// scaleStep is what one terraform command of the scale sequence cost: the
// AWS API calls the provider made (seen by a recording proxy), the
// mutating ones among them, the calls by service and action, and the wall
// time.
type scaleStep struct {
	Step string `json:"step"`
	// Size is the pool's size in the sequence; Clones its size after the
	// step.
	Size     int            `json:"size"`
	Clones   int            `json:"clones"`
	Total    int            `json:"total"`
	Mutating int            `json:"mutating"`
	ByAction map[string]int `json:"by_action"`
	Seconds  float64        `json:"seconds"`
}

// mutatingAction tells an API action that changes something from a read
// (Describe*, List*, Get*).
func mutatingAction(action string) bool {
	for _, read := range []string{"Describe", "List", "Get"} {
		if strings.HasPrefix(action, read) {
			return false
		}
	}
	return true
}

func countCalls(calls []acctest.Call) (total, mutating int, byAction map[string]int) {
	byAction = map[string]int{}
	for _, c := range calls {
		byAction[c.Service+":"+c.Action]++
		if mutatingAction(c.Action) {
			mutating++
		}
	}
	return len(calls), mutating, byAction
}

// scaleSequence runs, through the terraform CLI and a recording proxy, the
// life of a pool of n clones: create; plan (must be empty); scale-in to
// n/2 (-50 %); scale-out back to n (+100 %); a rollout onto a re-baked
// image in batches of ceil(n/4) (4 batches, min_healthy_percent 100, so it
// surges); destroy. Every step is a whole terraform command, refresh
// included, as a user runs it.
func scaleSequence(t *testing.T, world *seed.World, n int) []scaleStep {
	ctx := context.Background()
	name := acctest.RandomName(6)
	proxy := acctest.NewProxy(t)
	tf := newTerraformCLI(t)
	tf.env = append(tf.env, "AWS_ENDPOINT_URL="+proxy.URL)
	first, next := testAccMasterImage(t, world), testAccImage(t, world, name)
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			tf.run(context.Background(), "destroy", "-auto-approve")
		}
	})

	var steps []scaleStep
	run := func(step string, clones int, want int, args ...string) {
		t.Helper()
		proxy.Reset()
		started := time.Now()
		tf.mustRun(ctx, want, args...)
		s := scaleStep{Step: step, Size: n, Clones: clones, Seconds: time.Since(started).Seconds()}
		s.Total, s.Mutating, s.ByAction = countCalls(proxy.Calls())
		t.Logf("%d clones, %s: %d calls, %d mutating, %.1fs", n, step, s.Total, s.Mutating, s.Seconds)
		steps = append(steps, s)
	}
	apply := func(step string, desired int, image string) {
		tf.write(testAccCLIProviders + scaleConfig(name, world, image, n, desired))
		run(step, desired, 0, "apply", "-auto-approve")
	}
	apply("create", n, first)
	run("plan", n, 0, "plan", "-detailed-exitcode")
	steps = append(steps, rawDescribe(t, world, name, n))
	apply("scale-in", n/2, first)
	apply("scale-out", n, first)
	// A sampler reads healthy capacity all through the rollout: with
	// min_healthy_percent 100 it never falls below n.
	sampler := &healthSampler{t: t, name: name, world: world, every: time.Second}
	sampler.start()
	apply("rollout", n, next)
	if err := sampler.stopAndCheck(n, n)(nil); err != nil {
		t.Errorf("%d clones, rollout: %v", n, err)
	}
	run("destroy", n, 0, "destroy", "-auto-approve")
	destroyed = true
	acctest.CheckNoOrphans(t, name)
	return steps
}

// rawDescribe times, without terraform and the provider's Terraform
// layer, the describe calls a plan of the pool makes (pool.Read: the group,
// its launch template version, the health in each load balancer, the
// clones by id): the emulator's own share of a plan's wall time.
func rawDescribe(t *testing.T, world *seed.World, name string, n int) scaleStep {
	ctx := context.Background()
	proxy := acctest.NewProxy(t)
	c := conns.New(acctest.AWSConfig(t), conns.Endpoints{AutoScaling: proxy.URL, EC2: proxy.URL, ELB: proxy.URL, ELBV2: proxy.URL}, nil)
	started := time.Now()
	snap, err := pool.Read(ctx, poolCloud(c), name, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.InstanceIDs) != n {
		t.Fatalf("raw describe found %d clones, want %d", len(snap.InstanceIDs), n)
	}
	s := scaleStep{Step: "raw-describe", Size: n, Clones: n, Seconds: time.Since(started).Seconds()}
	s.Total, s.Mutating, s.ByAction = countCalls(proxy.Calls())
	t.Logf("%d clones, raw describe of the pool (%d calls): %.2fs", n, s.Total, s.Seconds)
	return s
}

func scaleConfig(name string, world *seed.World, image string, n, desired int) string {
	return fmt.Sprintf(`
resource "clone_pool" "test" {
  name               = %q
  image_id           = %q
  instance_type      = "t3.micro"
  subnet_ids         = [%q, %q]
  security_group_ids = [%q]
  min_size           = 1
  max_size           = %d
  desired_capacity   = %d
  target_group_arns  = [%q]
  classic_elb_names  = [%q]

  rolling_update {
    batch_size          = %d
    min_healthy_percent = 100
    health_timeout      = "20m"
  }

  timeouts {
    create = "60m"
    update = "60m"
    delete = "60m"
  }
}
`, name, image, world.SubnetIDs[0], world.SubnetIDs[1], world.SecurityGroupID, n+quarter(n), desired,
		world.TargetGroupArn, world.ClassicELBName, quarter(n))
}

// quarter is a rollout batch of 25 %: ceil(n/4), so n clones roll in 4
// batches.
func quarter(n int) int {
	return (n + 3) / 4
}

// scaleBudget is what one step may cost.
type scaleBudget struct {
	total         int // 0: not bounded
	mutating      int
	mutatingExact bool
}

// TestAccClonePool_callBudget holds the API call budgets of a pool's life
// at 10 and at 1,000 clones: counts are deterministic, time is not.
// CLONE_SCALE_CLONES replaces the large size (CLONE_SCALE_CLONES=10 runs
// only the small one). The budgets are issue 9's targets: a plan reads a
// fixed number of times whatever the size; scaling out is one write;
// scaling in and destroying take calls by batches of 20, not by clone; a
// rollout of 1,000 clones in 4 batches makes at most 1.5 times the calls of
// one of 10 clones in 4 batches.
func TestAccClonePool_callBudget(t *testing.T) {
	sizes := []int{10, 1000}
	if v := os.Getenv("CLONE_SCALE_CLONES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 4 {
			t.Fatalf("CLONE_SCALE_CLONES=%q: want a number of clones, at least 4", v)
		}
		sizes = slices.Compact([]int{10, n})
	}
	world := acctest.World(t, "tf-acc-test-pool-budget")
	rollouts := map[int]int{}
	for _, n := range sizes {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			testAccCheckSubnetsHold(t, world, n+quarter(n))
			for _, s := range scaleSequence(t, world, n) {
				checkScaleBudget(t, n, s)
				if s.Step == "rollout" {
					rollouts[n] = s.Total
				}
			}
		})
	}
	small, large := rollouts[sizes[0]], rollouts[sizes[len(sizes)-1]]
	if small > 0 && large > 0 && float64(large) > 1.5*float64(small) {
		t.Errorf("a rollout of %d clones made %d calls, over 1.5 × the %d of %d clones", sizes[len(sizes)-1], large, small, sizes[0])
	}
}

// checkScaleBudget fails a step over its budget at n clones.
func checkScaleBudget(t *testing.T, n int, s scaleStep) {
	t.Helper()
	batches := (n/2 + 19) / 20 // DetachInstances calls to retire n/2 clones
	budgets := map[string]scaleBudget{
		// A plan refreshes the pool: the group, the template, one health
		// read per load balancer, the clones' images, the scaling block.
		"plan": {total: 11, mutating: 0, mutatingExact: true},
		// Scale-out sets desired capacity: one UpdateAutoScalingGroup, and
		// the master-less pool writes nothing else.
		"scale-out": {mutating: 3},
		// Scale-in: raise max size, deregister from each of the 2 load
		// balancers, detach in batches of 20, terminate, set the sizes.
		"scale-in": {mutating: 2 + 2 + batches + 1 + 1},
		// Each of the 4 rollout batches: surge (one UpdateAutoScalingGroup),
		// deregister from the 2 load balancers, detach the batch 20 at a
		// time, terminate it, shrink; plus pointing the group at the new
		// version and the final sizes.
		"rollout": {mutating: 4*(5+(quarter(n)+19)/20) + 4},
		// Destroy: policies and schedules, deregister from each load
		// balancer, delete the group and the template.
		"destroy": {mutating: 12},
	}
	b, ok := budgets[s.Step]
	if !ok {
		return
	}
	if b.total > 0 && s.Total > b.total {
		t.Errorf("%d clones, %s: %d calls, budget %d: %v", n, s.Step, s.Total, b.total, sortedCounts(s.ByAction))
	}
	if s.Mutating > b.mutating || (b.mutatingExact && s.Mutating != b.mutating) {
		t.Errorf("%d clones, %s: %d mutating calls, budget %d: %v", n, s.Step, s.Mutating, b.mutating, sortedCounts(s.ByAction))
	}
}

func sortedCounts(m map[string]int) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%s=%d ", k, m[k])
	}
	return strings.TrimSpace(b.String())
}

// TestBenchClonePoolScale is make bench's pool benchmark: for each size in
// CLONE_BENCH_SIZES (e.g. "10,100,500,1000"), CLONE_BENCH_RUNS times (3),
// the scale sequence; every step's costs go as JSON lines to
// CLONE_BENCH_OUT. scripts/bench.sh takes the medians into BENCHMARKS.md.
// It does not run unless CLONE_BENCH_SIZES is set.
func TestBenchClonePoolScale(t *testing.T) {
	sizesVar := os.Getenv("CLONE_BENCH_SIZES")
	if sizesVar == "" {
		t.Skip("CLONE_BENCH_SIZES is not set: run make bench")
	}
	runs, _ := strconv.Atoi(os.Getenv("CLONE_BENCH_RUNS"))
	runs = max(runs, 1)
	out, err := os.Create(os.Getenv("CLONE_BENCH_OUT"))
	if err != nil {
		t.Fatalf("CLONE_BENCH_OUT: %v", err)
	}
	defer out.Close()
	enc := json.NewEncoder(out)
	world := acctest.World(t, "tf-acc-test-pool-bench")
	for field := range strings.SplitSeq(sizesVar, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			t.Fatalf("CLONE_BENCH_SIZES=%q: %v", sizesVar, err)
		}
		testAccCheckSubnetsHold(t, world, n+quarter(n))
		for run := range runs {
			t.Run(fmt.Sprintf("%d/run%d", n, run+1), func(t *testing.T) {
				for _, s := range scaleSequence(t, world, n) {
					if err := enc.Encode(struct {
						Run int `json:"run"`
						scaleStep
					}{run + 1, s}); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}
