// Command cloudemu starts, stops and reports the local test cloud (moto_server)
// that outlives it, for `make demo`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
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

	if err := run(verb, *port, *cache, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cloudemu "+verb+":", err)
		os.Exit(1)
	}
}

// run carries out verb. start prints the endpoint on stdout (for scripts) and
// on stderr whether it started the emulator or reuses the one running; stop
// says on stderr what it stopped, if anything.
func run(verb string, port int, cache string, stdout, stderr io.Writer) error {
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
			return fmt.Errorf("the emulator already running on %s (pid %d) has the strict layer %s, but %s=%q asks for it %s: run `make demo-destroy` first",
				hostPort(s.Endpoint), s.Pid(), onOff(running), emulator.EnvStrict, os.Getenv(emulator.EnvStrict), onOff(want))
		}
		if s.Reused {
			fmt.Fprintf(stderr, "reusing the emulator on %s (pid %d)\n", hostPort(s.Endpoint), s.Pid())
		} else {
			fmt.Fprintf(stderr, "started the emulator on %s (pid %d); its log: %s\n",
				hostPort(s.Endpoint), s.Pid(), filepath.Join(cache, "emulator.log"))
		}
		fmt.Fprintln(stdout, s.Endpoint)
	case "stop":
		s, err := emulator.StopDetached(pidFile)
		if err != nil {
			return err
		}
		if s == nil {
			fmt.Fprintf(stderr, "no emulator is running (none recorded in %s): nothing to stop\n", pidFile)
		} else {
			fmt.Fprintf(stderr, "stopped the emulator on %s (pid %d)\n", hostPort(s.Endpoint), s.Pid())
		}
	case "status":
		endpoint, err := emulator.Status(ctx, pidFile)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, endpoint)
	case "strict":
		endpoint, err := emulator.Status(ctx, pidFile)
		if err != nil {
			return err
		}
		return reportStrict(ctx, stdout, endpoint)
	default:
		return fmt.Errorf("unknown command %q; %s", verb, usage)
	}
	return nil
}

// hostPort turns http://127.0.0.1:4566 into 127.0.0.1:4566.
func hostPort(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		return u.Host
	}
	return endpoint
}

// reportStrict prints whether the strict layer is on and what it saw, and
// fails when a clone was terminated while a load balancer still routed to
// it or drained it.
func reportStrict(ctx context.Context, stdout io.Writer, endpoint string) error {
	cfg, cfgErr := emulator.Config(ctx, endpoint)
	if strictOn := cfgErr == nil; !strictOn {
		fmt.Fprintln(stdout, "strict layer: off (the emulator was started with CLONE_EMULATOR_STRICT=off): it is plain, lenient moto")
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
	fmt.Fprintf(stdout, "strict layer: on, AWS timing × %g; %d launches, %d hook completions, %d deregistrations, %d terminations; %d terminated while still serving\n",
		cfg.TimeScale, count["launch"], count["lifecycle_action"], count["deregister"], count["terminate"], len(violations))
	for _, v := range violations {
		fmt.Fprintln(stdout, "  "+v)
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
