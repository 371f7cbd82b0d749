//go:build unix

package provider

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/emulator"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

// The chaos tests (make chaos) run the demo configuration's lifecycle with
// the real terraform CLI while the world misbehaves. They are not part of
// make test: skipChaos skips them unless CLONE_CHAOS=1.
const (
	chaosEnv     = "CLONE_CHAOS"
	chaosSeedEnv = "CLONE_CHAOS_SEED"

	chaosTrials        = 10
	chaosRecoveryKills = 3
)

// The demo lifecycle, in the order a trial runs it: create the pool, re-bake
// the image and roll the pool onto it, scale in, a re-bake whose new clones
// never finish their first sync (the pool rolls back by itself), destroy.
const (
	phaseCreate   = "create"
	phaseRebake   = "rebake"
	phaseScale    = "scale"
	phaseRollback = "rollback"
	phaseDestroy  = "destroy"
)

var chaosPhases = []string{phaseCreate, phaseRebake, phaseScale, phaseRollback, phaseDestroy}

// chaosStep is one phase: the variables it applies (destroy keeps the last
// ones) and the exit code terraform ends it with when nothing is killed.
type chaosStep struct {
	phase         string
	release       string
	desired       int
	healthTimeout string
	exit          int
}

// chaosHealthTimeout is the rolling update's health timeout but in the
// rollback phase: patient, as the 2 cores are shared by every trial.
const chaosHealthTimeout = "3m"

var chaosLifecycle = []chaosStep{
	{phase: phaseCreate, release: "v1", desired: 2, healthTimeout: chaosHealthTimeout},
	{phase: phaseRebake, release: "v2", desired: 2, healthTimeout: chaosHealthTimeout},
	{phase: phaseScale, release: "v2", desired: 1, healthTimeout: chaosHealthTimeout},
	{phase: phaseRollback, release: "v3", desired: 1, healthTimeout: "10s", exit: 1},
	{phase: phaseDestroy, release: "v3", desired: 1, healthTimeout: "10s"},
}

// chaosKillBefore bounds the random kill point of each phase: the kill
// holds call n, 1 ≤ n ≤ bound, of the command through the proxy, so that
// many calls at least must be made in the phase (measured on the strict
// emulator; a phase that ends earlier fails the trial and says so).
var chaosKillBefore = map[string]int{
	phaseCreate:   55,  // 62-65 calls
	phaseRebake:   100, // 110
	phaseScale:    45,  // 51
	phaseRollback: 70,  // 80
	phaseDestroy:  45,  // about 50
	"recovery":    15,  // its refresh alone makes more
}

// TestChaosKills SIGKILLs terraform (and the provider plugin) at a seeded
// random AWS call of a randomly chosen phase of the demo configuration's
// lifecycle, in chaosTrials trials running in parallel, each with its own
// seeded world and random name. A recovering apply follows (in
// chaosRecoveryKills trials it is killed too, then applied again); the
// trial then proves convergence (an empty plan, the group at desired
// capacity, every clone healthy on the current image), destroys, and
// audits the cloud for anything left under the trial's name.
func TestChaosKills(t *testing.T) {
	skipChaos(t)
	testAccPreCheck(t)
	t.Parallel()
	seedValue := chaosSeed(t)
	rng := rand.New(rand.NewPCG(seedValue, 0))
	phases := make([]string, chaosTrials)
	for i := range phases {
		phases[i] = chaosPhases[i%len(chaosPhases)]
	}
	rng.Shuffle(len(phases), func(i, j int) { phases[i], phases[j] = phases[j], phases[i] })
	killRecovery := map[int]bool{}
	for _, i := range rng.Perm(chaosTrials)[:chaosRecoveryKills] {
		killRecovery[i] = true
	}

	cli := newTerraformCLI(t)
	for i, phase := range phases {
		trial := chaosTrial{
			index:        i,
			seed:         seedValue,
			phase:        phase,
			rng:          rand.New(rand.NewPCG(seedValue, uint64(i)+1)),
			killRecovery: killRecovery[i],
		}
		t.Run(fmt.Sprintf("trial%02d_%s", i, phase), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 9*time.Minute)
			defer cancel()
			trial.run(ctx, t, cli)
		})
	}
}

type chaosTrial struct {
	index        int
	seed         uint64
	phase        string
	rng          *rand.Rand
	killRecovery bool

	name  string
	world *seed.World
	proxy *acctest.Proxy
	tf    *terraformCLI
}

func (tr *chaosTrial) run(ctx context.Context, t *testing.T, cli *terraformCLI) {
	tr.name = acctest.RandomName(8)
	tr.world = acctest.World(t, fmt.Sprintf("tf-acc-test-chaos-kill%02d", tr.index))
	tr.proxy = acctest.NewProxy(t)
	tr.tf = chaosWorkspace(t, cli, tr.proxy, tr.name, tr.world)
	kills, recoveryKills, orphans := 0, 0, 0
	defer func() {
		t.Logf("chaos-count: trials=1 kills=%d recovery_kills=%d orphans=%d", kills, recoveryKills, orphans)
	}()
	chaosCleanup(t, tr.tf, tr.name)

	// The lifecycle up to the phase to kill, then the kill.
	var last chaosStep
	var killed []string
	for _, step := range chaosLifecycle {
		last = step
		if step.phase != tr.phase {
			tr.runStep(ctx, t, step)
			continue
		}
		n := 1 + tr.rng.IntN(chaosKillBefore[step.phase])
		tr.prepare(t, step, false)
		killed = append(killed, fmt.Sprintf("phase %s at %s", step.phase, tr.killAt(ctx, t, n, chaosCommand(step)...)))
		kills++
		break
	}

	// Recover: the first sync works again; apply what the killed phase
	// applied (after a killed destroy, the configuration is still there),
	// with the patient health timeout.
	last.healthTimeout = chaosHealthTimeout
	tr.prepare(t, last, true)
	if tr.killRecovery {
		m := 1 + tr.rng.IntN(chaosKillBefore["recovery"])
		killed = append(killed, "the recovering apply at "+tr.killAt(ctx, t, m, "apply", "-auto-approve"))
		recoveryKills++
	}
	report := fmt.Sprintf("trial %d (%s=%d, pool %s, killed in %s)", tr.index, chaosSeedEnv, tr.seed, tr.name, strings.Join(killed, ", then "))
	switch code, out := tr.tf.run(ctx, "apply", "-auto-approve"); {
	case code != 0:
		t.Errorf("%s: the recovering apply exited %d:\n%s", report, code, out)
	default:
		if err := chaosConverged(ctx, t, tr.tf, tr.name, tr.world, last.desired); err != nil {
			t.Errorf("%s: the recovering apply did not converge: %s", report, err)
		}
	}
	if code, out := tr.tf.run(ctx, "destroy", "-auto-approve"); code != 0 {
		t.Errorf("%s: terraform destroy exited %d:\n%s", report, code, out)
	}
	orphans = chaosAudit(ctx, t, tr.name)
	if orphans > 0 {
		t.Errorf("%s: %d objects left after destroy (listed above)", report, orphans)
	}
}

// runStep runs one phase to its end and checks how it ended.
func (tr *chaosTrial) runStep(ctx context.Context, t *testing.T, step chaosStep) {
	t.Helper()
	tr.prepare(t, step, false)
	started := len(tr.proxy.Calls())
	out := tr.tf.mustRun(ctx, step.exit, chaosCommand(step)...)
	t.Logf("phase %s: %d AWS calls", step.phase, len(tr.proxy.Calls())-started)
	if step.phase == phaseRollback && !rolledBack.MatchString(out) {
		t.Errorf("phase %s: the failed rollout should say it rolled back:\n%s", step.phase, out)
	}
}

// rolledBack finds the failed rollout's report that it rolled back, which
// terraform may wrap across lines.
var rolledBack = regexp.MustCompile(`rolled\s+back`)

// prepare writes the step's variables and programs the clone stand-in:
// in the rollback phase (but for the recovery) no new clone ever finishes
// its first sync.
func (tr *chaosTrial) prepare(t *testing.T, step chaosStep, recovery bool) {
	t.Helper()
	chaosWriteVars(t, tr.tf, step)
	standIn := emulator.StandIn{Group: tr.name, Result: "CONTINUE", DelaySeconds: 5}
	if step.phase == phaseRollback && !recovery {
		standIn.Result = "NEVER"
	}
	acctest.StandIn(t, standIn)
}

// killAt runs terraform args and SIGKILLs it, the provider plugin with it,
// while the proxy holds its n-th AWS call (never forwarded), then removes
// the state lock the killed command left behind. It returns the call.
func (tr *chaosTrial) killAt(ctx context.Context, t *testing.T, n int, args ...string) string {
	t.Helper()
	var at string
	reached := chaosArmKill(tr.proxy, n)
	defer tr.proxy.SetRule(nil)
	p := tr.tf.start(ctx, args...)
	select {
	case c := <-reached:
		at = fmt.Sprintf("AWS call %d (%s %s)", n, c.Service, c.Action)
		t.Logf("trial %d: killing terraform %s at %s", tr.index, args[0], at)
	case <-p.done:
		t.Fatalf("terraform %s ended (%v) after fewer than %d AWS calls: lower the phase's kill bound\n%s",
			strings.Join(args, " "), p.err, n, p.out.String())
	case <-ctx.Done():
		p.kill(t)
		t.Fatalf("kill point (call %d) not reached before %s:\n%s", n, ctx.Err(), p.out.String())
	}
	p.kill(t)
	if err := os.Remove(filepath.Join(tr.tf.dir, ".terraform.tfstate.lock.info")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return at
}

// chaosArmKill makes the proxy hold the n-th call from now and every later
// one until their caller is gone, and report the n-th.
func chaosArmKill(proxy *acctest.Proxy, n int) <-chan acctest.Call {
	var mu sync.Mutex
	seen := 0
	reached := make(chan acctest.Call, 1)
	proxy.SetRule(func(c acctest.Call) *acctest.Fault {
		mu.Lock()
		defer mu.Unlock()
		seen++
		if seen < n {
			return nil
		}
		if seen == n {
			reached <- c
		}
		return &acctest.Fault{Delay: time.Minute, Status: 500, Code: "InternalFailure"}
	})
	return reached
}

func chaosCommand(step chaosStep) []string {
	if step.phase == phaseDestroy {
		return []string{"destroy", "-auto-approve"}
	}
	return []string{"apply", "-auto-approve"}
}

// skipChaos keeps the chaos tests out of make test: they run in make chaos.
func skipChaos(t *testing.T) {
	t.Helper()
	acctest.SkipUnlessAcc(t)
	if os.Getenv(chaosEnv) != "1" {
		t.Skipf("chaos test: runs in make chaos (%s=1), not in make test, to keep CI's make test within its time", chaosEnv)
	}
}

var (
	chaosSeedOnce  sync.Once
	chaosSeedValue uint64
)

// chaosSeed is the seed of the whole chaos run, CLONE_CHAOS_SEED or a
// random one, logged so a run can be repeated.
func chaosSeed(t *testing.T) uint64 {
	t.Helper()
	chaosSeedOnce.Do(func() {
		chaosSeedValue = rand.Uint64() >> 1
		if s := os.Getenv(chaosSeedEnv); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				t.Fatalf("%s=%q: %s", chaosSeedEnv, s, err)
			}
			chaosSeedValue = v
		}
	})
	t.Logf("chaos seed %d (%s=%d repeats this run)", chaosSeedValue, chaosSeedEnv, chaosSeedValue)
	return chaosSeedValue
}

// chaosWorkspace is a terraform working directory with the demo
// configuration for the pool name in world, whose AWS calls go through
// proxy.
func chaosWorkspace(t *testing.T, cli *terraformCLI, proxy *acctest.Proxy, name string, world *seed.World) *terraformCLI {
	t.Helper()
	tf := cli.workspace(t)
	tf.env = append(slices.Clone(tf.env), "AWS_ENDPOINT_URL="+proxy.URL)
	tf.write(chaosDemoConfig(t, name))
	if err := os.WriteFile(filepath.Join(tf.dir, "terraform.tfvars"), []byte(world.TFVars()), 0o600); err != nil {
		t.Fatal(err)
	}
	return tf
}

// chaosDemoConfig is examples/demo with the trial's name, one or two clones
// (desired_capacity a variable) rolled one at a time with a short health
// timeout, so that a failed rollout rolls back within seconds.
func chaosDemoConfig(t *testing.T, name string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	var cfg strings.Builder
	for _, f := range []string{"main.tf", "variables.tf"} {
		b, err := os.ReadFile(filepath.Join(root, "examples", "demo", f))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Write(b)
		cfg.WriteString("\n")
	}
	c := cfg.String()
	// Patterns, not text: terraform fmt aligns the "=" of a block to its
	// longest attribute name, which the demo may change.
	for _, r := range []struct {
		old, new string
		n        int
	}{
		{`"clone-demo-web"`, strconv.Quote(name), 3},
		{`(?m)^(  min_size +=) 2$`, "${1} 1", 1},
		{`(?m)^(  desired_capacity +=) 3$`, "${1} var.desired_capacity", 1},
		{`\n  master \{\n`, "\n  rolling_update {\n    batch_size     = 1\n    health_timeout = var.health_timeout\n  }\n\n  master {\n", 1},
	} {
		re := regexp.MustCompile(r.old)
		if got := len(re.FindAllStringIndex(c, -1)); got != r.n {
			t.Fatalf("examples/demo matches %q %d times, want %d: update chaosDemoConfig", r.old, got, r.n)
		}
		c = re.ReplaceAllString(c, r.new)
	}
	return c + `
variable "desired_capacity" {
  type = number
}

variable "health_timeout" {
  type = string
}
`
}

func chaosWriteVars(t *testing.T, tf *terraformCLI, step chaosStep) {
	t.Helper()
	vars := fmt.Sprintf("release          = %q\ndesired_capacity = %d\nhealth_timeout   = %q\n", step.release, step.desired, step.healthTimeout)
	if err := os.WriteFile(filepath.Join(tf.dir, "chaos.auto.tfvars"), []byte(vars), 0o600); err != nil {
		t.Fatal(err)
	}
}

// chaosCleanup destroys what a failed trial left, so the run's other
// trials and the audit are not disturbed by it.
func chaosCleanup(t *testing.T, tf *terraformCLI, name string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if code, out := tf.run(ctx, "destroy", "-auto-approve"); code != 0 {
			t.Logf("cleanup of %s: terraform destroy exited %d:\n%s", name, code, out)
		}
	})
}

// chaosConverged proves the pool converged: a plan shows no changes, the
// pool's image is the image set's current one, and the group runs desired
// clones, all in service and healthy in every load balancer, on it.
func chaosConverged(ctx context.Context, t *testing.T, tf *terraformCLI, name string, world *seed.World, desired int) error {
	if code, out := tf.run(ctx, "plan", "-detailed-exitcode"); code != 0 {
		return fmt.Errorf("terraform plan exited %d, want 0 (no changes):\n%s", code, out)
	}
	st := tf.state(ctx)
	image := st.RootModule().Resources["clone_image.web"].Primary.Attributes["image_id"]
	if got := st.RootModule().Resources["clone_pool.web"].Primary.Attributes["image_id"]; got != image {
		return fmt.Errorf("pool image_id %s, want the image set's current %s", got, image)
	}
	if err := testAccCheckGroupSize(ctx, t, name, desired); err != nil {
		return err
	}
	if err := testAccCheckClonePoolRuns(t, name, image, desired)(st); err != nil {
		return err
	}
	return testAccCheckClonePoolHealthy(t, "clone_pool.web", world, desired)(st)
}

// chaosAudit lists what the cloud still holds under name and returns how
// many objects that is; each is an error.
func chaosAudit(ctx context.Context, t *testing.T, name string) int {
	t.Helper()
	orphans, err := acctest.Audit(ctx, acctest.AWSConfig(t), name)
	if err != nil {
		t.Errorf("auditing %s: %s", name, err)
		return 0
	}
	for _, o := range orphans {
		t.Errorf("orphan after destroy: %s", o)
	}
	return len(orphans)
}
