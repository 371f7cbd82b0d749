//go:build unix

package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/emulator"
)

// The faults every AWS call of TestChaosFaults meets.
const (
	chaosThrottle    = 0.20
	chaosServerError = 0.05
	chaosLatency     = 50 * time.Millisecond
)

// TestChaosFaults runs the demo configuration's lifecycle (create, re-bake
// and rollout, scale, destroy) with the real terraform CLI while the proxy
// throttles 20 % of all AWS calls (RequestLimitExceeded, Throttling or
// ThrottlingException, as each service answers), fails 5 % with a server
// error and holds every call 50 ms: every step succeeds, every plan after
// an apply is empty, and nothing is left under the pool's name.
func TestChaosFaults(t *testing.T) {
	skipChaos(t)
	testAccPreCheck(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 9*time.Minute)
	defer cancel()

	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-chaos-faults")
	proxy := acctest.NewProxy(t)
	chaos := acctest.NewChaos(chaosSeed(t), chaosThrottle, chaosServerError, chaosLatency)
	tf := chaosWorkspace(t, newTerraformCLI(t), proxy, name, world)
	chaosCleanup(t, tf, name)
	acctest.StandIn(t, emulator.StandIn{Group: name, Result: "CONTINUE", DelaySeconds: 5})
	proxy.SetRule(chaos.Rule)
	orphans := 0
	defer func() {
		injected := chaos.Injected()
		throttled, failed := 0, 0
		for code, n := range injected {
			if strings.Contains(code, "Throttl") || code == "RequestLimitExceeded" {
				throttled += n
			} else {
				failed += n
			}
		}
		t.Logf("faults injected by code: %s", chaosCounts(injected))
		t.Logf("chaos-count: faults=%d throttled=%d server_errors=%d calls=%d orphans=%d",
			throttled+failed, throttled, failed, chaos.Calls(), orphans)
	}()

	for _, step := range chaosLifecycle {
		if step.phase == phaseRollback {
			continue
		}
		chaosWriteVars(t, tf, step)
		before, started := chaos.Calls(), time.Now()
		tf.mustRun(ctx, 0, chaosCommand(step)...)
		t.Logf("phase %s: %d AWS calls, %s", step.phase, chaos.Calls()-before, time.Since(started).Round(time.Second))
		if step.phase == phaseDestroy {
			break
		}
		if err := chaosConverged(ctx, t, tf, name, world, step.desired); err != nil {
			t.Fatalf("after phase %s under faults: %s", step.phase, err)
		}
	}
	if chaos.Calls() == 0 {
		t.Fatal("no AWS call went through the fault proxy")
	}
	orphans = chaosAudit(ctx, t, name)
}

func chaosCounts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
