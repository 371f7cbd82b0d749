package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The demo script's messages and colour, run for real against an emulator
// but with a stub terraform: the order checks, whether it says it starts or
// reuses the emulator, and colour only on a terminal without NO_COLOR.

// appliedState is the part of a Terraform state the demo script reads.
const appliedState = `{
  "resources": [
    {"type": "clone_image", "instances": [{"attributes": {"triggers": {"release": "v1"}}}]},
    {"type": "clone_pool", "instances": [{"attributes": {}}]}
  ]
}
`

type demoEnv struct {
	script string // scripts/demo.sh
	cache  string // CLONE_DEMO_CACHE
	tfLog  string // the stub terraform's record of its arguments
	env    []string
}

func newDemoEnv(t *testing.T) *demoEnv {
	t.Helper()
	motoDir := requireMoto(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH: the demo script builds its tools")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "demo.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d := &demoEnv{script: script, cache: filepath.Join(dir, "cache"), tfLog: filepath.Join(dir, "terraform.log")}
	stub := filepath.Join(dir, "terraform")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\necho \"$*\" >> \""+d.tfLog+"\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "NO_COLOR", "CLONE_DEMO_CACHE", "TERRAFORM", "RELEASE", "PATH":
			continue
		}
		d.env = append(d.env, kv)
	}
	d.env = append(d.env, "CLONE_DEMO_CACHE="+d.cache, "TERRAFORM="+stub, "PATH="+motoDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return d
}

// run runs `demo.sh verb` with its stdout and stderr in a pipe, or on a
// terminal (util-linux script) when tty is set, and returns its output and
// exit status.
func (d *demoEnv) run(t *testing.T, verb string, tty bool, env ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("bash", d.script, verb)
	if tty {
		cmd = exec.Command("script", "-qec", "bash '"+d.script+"' "+verb, "/dev/null")
	}
	cmd.Env = append(append([]string{}, d.env...), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatalf("demo.sh %s: %v\n%s", verb, err, out)
	}
	return string(out), 0
}

// apply writes a state as if `make demo` had applied the demo.
func (d *demoEnv) apply(t *testing.T) {
	t.Helper()
	work := filepath.Join(d.cache, "demo")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "terraform.tfstate"), []byte(appliedState), 0o644); err != nil {
		t.Fatal(err)
	}
}

// terraformCalls returns the stub terraform's calls since the last one and
// forgets them.
func (d *demoEnv) terraformCalls(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(d.tfLog)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	_ = os.Remove(d.tfLog)
	return string(b)
}

func (d *demoEnv) noEmulatorRecorded(t *testing.T, after string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(d.cache, "emulator.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after %s an emulator is recorded in %s (stat: %v)", after, d.cache, err)
	}
}

func TestDemoScript_orderAndEmulatorMessages(t *testing.T) {
	t.Parallel()
	d := newDemoEnv(t)

	out, code := d.run(t, "destroy", false)
	if code != 0 || !strings.Contains(out, "Nothing to destroy: no demo is running") {
		t.Errorf("destroy with nothing deployed: exit %d, output:\n%s", code, out)
	}

	out, code = d.run(t, "rollout", false)
	if code != 1 || !strings.Contains(out, "run `make demo` first") {
		t.Errorf("rollout before demo: exit %d, want 1 and to be told to run make demo first; output:\n%s", code, out)
	}
	d.noEmulatorRecorded(t, "rollout before demo")

	// A demo is applied and its emulator runs: destroy reuses it, says so,
	// and stops it.
	hostPort, pid := startEmulator(t, d.cache)
	d.apply(t)
	out, code = d.run(t, "destroy", false)
	if code != 0 {
		t.Fatalf("destroy: exit %d, output:\n%s", code, out)
	}
	for _, want := range []string{
		fmt.Sprintf("reusing the emulator on %s (pid %s)\n", hostPort, pid),
		fmt.Sprintf("stopped the emulator on %s (pid %s)\n", hostPort, pid),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("destroy did not say %q; output:\n%s", want, out)
		}
	}
	if strings.Contains(out, "starting") {
		t.Errorf("destroy said it starts something while it reused the running emulator; output:\n%s", out)
	}
	if calls := d.terraformCalls(t); !strings.Contains(calls, " destroy -no-color ") {
		t.Errorf("terraform called as %q, want destroy -no-color (its output is not a terminal)", calls)
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour escapes in output that is not a terminal:\n%q", out)
	}
	d.noEmulatorRecorded(t, "destroy")
}

// TestDemoScript_colour: bold headings on a terminal, no colour there with
// NO_COLOR set (https://no-color.org); none in a pipe, and terraform's
// -no-color there, are checked above. With nothing applied, destroy only
// stops the emulator: a heading, no terraform, no provider build.
func TestDemoScript_colour(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("runs the script on a terminal with util-linux script")
	}
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux) not found")
	}
	t.Parallel()
	d := newDemoEnv(t)
	for _, tc := range []struct {
		env     []string
		heading string
	}{
		{heading: "\x1b[1m==> stopping the emulator\x1b[0m"},
		{env: []string{"NO_COLOR=1"}, heading: "\n==> stopping the emulator\r\n"},
	} {
		startEmulator(t, d.cache)
		out, code := d.run(t, "destroy", true, tc.env...)
		if code != 0 || !strings.Contains(out, tc.heading) {
			t.Errorf("destroy on a terminal %v: exit %d, want 0 and the heading %q; output:\n%q", tc.env, code, tc.heading, out)
		}
		if tc.env != nil && strings.Contains(out, "\x1b[") {
			t.Errorf("colour escapes on a terminal with %v:\n%q", tc.env, out)
		}
		if calls := d.terraformCalls(t); calls != "" {
			t.Errorf("terraform called as %q with nothing applied", calls)
		}
		d.noEmulatorRecorded(t, "destroy")
	}
}
