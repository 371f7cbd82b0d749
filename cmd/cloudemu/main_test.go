package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cloneserver/terraform-provider-clone/internal/emulator"
)

// requireMoto skips the test where moto_server cannot be found (it installs
// none: a venv in the repository's .cache counts) and returns the directory
// holding it, for the PATH of scripts that run cloudemu with another cache.
func requireMoto(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts moto_server; skipped with -short")
	}
	bin, err := emulator.Locate(filepath.Join("..", "..", ".cache"))
	if err != nil {
		t.Skipf("moto_server unavailable: %v", err)
	}
	dir, err := filepath.Abs(filepath.Dir(bin))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// cloudemu runs one cloudemu command in this process, as make does (port 0:
// 4566 if free), except for a first start: any free port, never 4566, so the
// test leaves a demo alone.
func cloudemu(t *testing.T, verb, cache string, port int) (stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(verb, port, cache, &out, &errOut); err != nil {
		t.Fatalf("cloudemu %s: %v (stderr: %s)", verb, err, errOut.String())
	}
	return out.String(), errOut.String()
}

var startedRE = regexp.MustCompile(`^started the emulator on (127\.0\.0\.1:[0-9]+) \(pid ([0-9]+)\); its log: .*emulator\.log\n$`)

// startEmulator starts an emulator recorded in cache, stopped at the end of
// the test, and returns its host:port and pid as cloudemu prints them.
func startEmulator(t *testing.T, cache string) (hostPort, pid string) {
	t.Helper()
	stdout, stderr := cloudemu(t, "start", cache, emulator.AnyPort)
	t.Cleanup(func() { _, _ = emulator.StopDetached(filepath.Join(cache, "emulator.pid")) })
	m := startedRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("first start said %q, want %q", stderr, startedRE)
	}
	if want := "http://" + m[1] + "\n"; stdout != want {
		t.Errorf("start printed %q on stdout, want the endpoint %q", stdout, want)
	}
	return m[1], m[2]
}

// TestRun_saysWhatItDoes: start says whether it started the emulator or
// reuses the running one, with its address and pid; stop says what it
// stopped, or that nothing runs.
func TestRun_saysWhatItDoes(t *testing.T) {
	requireMoto(t)
	t.Parallel()
	cache := t.TempDir()

	hostPort, pid := startEmulator(t, cache)

	stdout, stderr := cloudemu(t, "start", cache, 0)
	if want := fmt.Sprintf("reusing the emulator on %s (pid %s)\n", hostPort, pid); stderr != want {
		t.Errorf("second start said %q, want %q", stderr, want)
	}
	if want := "http://" + hostPort + "\n"; stdout != want {
		t.Errorf("second start printed %q on stdout, want %q", stdout, want)
	}

	if stdout, _ := cloudemu(t, "status", cache, 0); stdout != "http://"+hostPort+"\n" {
		t.Errorf("status printed %q, want the endpoint", stdout)
	}

	_, stderr = cloudemu(t, "stop", cache, 0)
	if want := fmt.Sprintf("stopped the emulator on %s (pid %s)\n", hostPort, pid); stderr != want {
		t.Errorf("stop said %q, want %q", stderr, want)
	}

	_, stderr = cloudemu(t, "stop", cache, 0)
	if !strings.HasPrefix(stderr, "no emulator is running") || !strings.HasSuffix(stderr, ": nothing to stop\n") {
		t.Errorf("stop with none running said %q, want that nothing runs", stderr)
	}
}
