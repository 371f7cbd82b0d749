// Command cloudemu starts, stops and reports the local test cloud (moto_server)
// that outlives it, for `make demo`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cloneserver/terraform-provider-clone/internal/emulator"
)

const usage = "usage: cloudemu start|stop|status|strict [-port N] [-cache DIR]"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	verb := os.Args[1]
	flags := flag.NewFlagSet("cloudemu "+verb, flag.ExitOnError)
	port := flags.Int("port", 0, "port to listen on; 0 = 4566 if free, otherwise any free port")
	cache := flags.String("cache", ".cache", "cache directory holding emulator.pid, emulator.log and an optional moto venv")
	_ = flags.Parse(os.Args[2:])

	if err := run(verb, *port, *cache); err != nil {
		fmt.Fprintln(os.Stderr, "cloudemu "+verb+":", err)
		os.Exit(1)
	}
}

func run(verb string, port int, cache string) error {
	pidFile := filepath.Join(cache, "emulator.pid")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	switch verb {
	case "start":
		s, err := emulator.StartDetached(ctx, emulator.Options{Port: port, CacheDir: cache}, pidFile)
		if err != nil {
			return err
		}
		// A running emulator is reused: it must be the kind asked for.
		_, cfgErr := emulator.Config(ctx, s.Endpoint)
		if running, want := cfgErr == nil, emulator.StrictFromEnv(); running != want {
			return fmt.Errorf("the emulator already running at %s has the strict layer %s, but %s=%q asks for it %s: run `make demo-destroy` first",
				s.Endpoint, onOff(running), emulator.EnvStrict, os.Getenv(emulator.EnvStrict), onOff(want))
		}
		fmt.Println(s.Endpoint)
	case "stop":
		return emulator.StopDetached(pidFile)
	case "status":
		endpoint, err := emulator.Status(ctx, pidFile)
		if err != nil {
			return err
		}
		fmt.Println(endpoint)
	case "strict":
		endpoint, err := emulator.Status(ctx, pidFile)
		if err != nil {
			return err
		}
		return reportStrict(ctx, endpoint)
	default:
		return fmt.Errorf("unknown command %q; %s", verb, usage)
	}
	return nil
}

// reportStrict prints whether the strict layer is on and what it saw, and
// fails when a clone was terminated while a load balancer still routed to
// it or drained it.
func reportStrict(ctx context.Context, endpoint string) error {
	cfg, cfgErr := emulator.Config(ctx, endpoint)
	if strictOn := cfgErr == nil; !strictOn {
		fmt.Println("strict layer: off (the emulator was started with CLONE_EMULATOR_STRICT=off): it is plain, lenient moto")
		return nil
	}
	events, err := emulator.Events(ctx, endpoint)
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, e := range events {
		count[e.Kind]++
	}
	violations := emulator.Violations(events)
	fmt.Printf("strict layer: on, AWS timing × %g; %d launches, %d hook completions, %d deregistrations, %d terminations; %d terminated while still serving\n",
		cfg.TimeScale, count["launch"], count["lifecycle_action"], count["deregister"], count["terminate"], len(violations))
	for _, v := range violations {
		fmt.Println("  " + v)
	}
	if len(violations) > 0 {
		return fmt.Errorf("%d instances were terminated while a load balancer still routed to them or drained them", len(violations))
	}
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
