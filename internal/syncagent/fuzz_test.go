package syncagent

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func requireTools(tb testing.TB, tools ...string) {
	tb.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("skipping: %s is not installed (run .ci/install-sync-deps.sh)", tool)
		}
	}
}

// plainTempDir is a t.TempDir whose path passes the status file check
// (subtest and fuzz names bring '#' and other characters).
func plainTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "clone-sync-test-") //nolint:usetesting // t.TempDir paths carry '#' from subtest and fuzz names
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// dryArgv runs script with CLONE_SYNC_DRY_ARGV=1 and returns every rsync
// argv it would have run.
func dryArgv(t *testing.T, script, pathsJSON, dir string) [][]string {
	t.Helper()
	scriptFile := filepath.Join(dir, "agent.sh")
	pathsFile := filepath.Join(dir, "paths.json")
	if err := os.WriteFile(scriptFile, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pathsFile, []byte(pathsJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	trap := filepath.Join(dir, "bin")
	if err := os.MkdirAll(trap, 0o700); err != nil {
		t.Fatal(err)
	}
	invoked := filepath.Join(dir, "rsync-invoked")
	fake := "#!/bin/sh\n: >" + ShellQuote(invoked) + "\nexit 99\n"
	for _, tool := range []string{"rsync", "ssh", "aws"} {
		if err := os.WriteFile(filepath.Join(trap, tool), []byte(fake), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", scriptFile)
	cmd.Env = append(os.Environ(),
		"CLONE_SYNC_DRY_ARGV=1",
		"CLONE_SYNC_RUN_DIR="+filepath.Join(dir, "run"),
		"CLONE_SYNC_PATHS_FILE="+pathsFile,
		"PATH="+trap+":"+os.Getenv("PATH"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dry run failed: %v\nstderr:\n%s\npaths: %s", err, stderr.String(), pathsJSON)
	}
	if _, err := os.Stat(invoked); err == nil {
		t.Fatal("dry run invoked rsync, ssh or aws")
	}
	var argvs [][]string
	var cur []string
	out := stdout.Bytes()
	if len(out) > 0 && out[len(out)-1] != 0 {
		t.Fatalf("dry-run output does not end with NUL: %q", out)
	}
	for _, el := range bytes.SplitAfter(out, []byte{0}) {
		if len(el) == 0 {
			continue
		}
		s := string(el[:len(el)-1])
		if s == "" {
			argvs = append(argvs, cur)
			cur = nil
			continue
		}
		cur = append(cur, s)
	}
	if cur != nil {
		t.Fatalf("dry-run output ends inside an argv: %q", cur)
	}
	return argvs
}

// wantArgv is an independent statement of the argv the agent must build.
func wantArgv(p Policy, runDir string, paths []Path) [][]string {
	var sources []string
	for _, pa := range paths {
		sources = append(sources, pa.Source)
	}
	root, err := SyncRoot(sources)
	if err != nil {
		panic(err)
	}
	clean := func(s string) string {
		var kept []string
		for _, e := range strings.Split(s, "/") {
			if e != "" && e != "." {
				kept = append(kept, e)
			}
		}
		return strings.Join(kept, "/")
	}
	ssh := "ssh -i " + runDir + "/key -p " + strconv.Itoa(p.SSHPort) +
		" -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=" +
		filepath.Dir(p.StatusFile) + "/" + p.Name + ".known_hosts -o ConnectTimeout=30 -o ServerAliveInterval=30"
	var all [][]string
	for _, pa := range paths {
		argv := []string{"rsync", "-a", "--numeric-ids", "--partial", "--timeout=600", "--stats", "-e", ssh}
		if p.BandwidthLimitKbps > 0 {
			argv = append(argv, "--bwlimit="+strconv.Itoa(p.BandwidthLimitKbps*125)+"b")
		}
		if pa.Delete {
			argv = append(argv, "--delete")
		}
		for _, e := range pa.Exclude {
			argv = append(argv, "--filter=- "+e)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(clean(pa.Source), clean(root)), "/")
		var remote string
		if rel == "" {
			remote = "./"
		} else {
			var b strings.Builder
			for _, r := range rel {
				if strings.ContainsRune("*?[", r) {
					b.WriteString("[" + string(r) + "]")
				} else {
					b.WriteRune(r)
				}
			}
			remote = "./" + b.String() + "/"
		}
		argv = append(argv, "--", p.SSHUser+"@"+p.MasterAddress+":"+remote, "/"+clean(pa.Destination)+"/")
		all = append(all, argv)
	}
	return all
}

// FuzzRenderArgs renders the agent for arbitrary paths and excludes, runs
// it in dry-argv mode and checks that every path and exclude reached rsync
// as exactly the argv element it should be.
func FuzzRenderArgs(f *testing.F) {
	requireTools(f, "bash", "python3")
	f.Fuzz(func(t *testing.T, src1, src2, dst, ex1, ex2 string, del bool, bw uint16) {
		if !strings.HasPrefix(src2, "/") {
			src2 = src1 + "/" + src2
		}
		var excludes []string
		for _, e := range []string{ex1, ex2} {
			if e != "" {
				excludes = append(excludes, e)
			}
		}
		paths := []Path{
			{Source: src1, Destination: dst, Exclude: excludes, Delete: del},
			{Source: src2, Destination: dst + "/2", Delete: !del},
		}
		if ValidatePaths(paths) != nil {
			return
		}
		kbps := int(bw)
		if kbps < MinBandwidthLimitKbps {
			kbps = 0
		}
		dir := plainTempDir(t)
		p := Policy{
			Name:                 "fuzz",
			MasterAddress:        "10.1.2.3",
			SSHUser:              "clone-sync",
			SSHPort:              2222,
			Interval:             time.Minute,
			BandwidthLimitKbps:   kbps,
			PathsParameter:       "/clone/fuzz/paths",
			KeyParameter:         "/clone/fuzz/key",
			StatusFile:           filepath.Join(dir, "state", "status.json"),
			LifecycleHookName:    ex1,
			AutoScalingGroupName: ex2,
		}
		if p.LifecycleHookName == "" || p.AutoScalingGroupName == "" {
			p.LifecycleHookName, p.AutoScalingGroupName = "", ""
		}
		if err := p.WithDefaults().Validate(); err != nil {
			t.Fatalf("policy around valid paths is invalid: %v", err)
		}
		doc, err := PathsJSON(paths, testFingerprint)
		if err != nil {
			t.Fatalf("PathsJSON of valid paths: %v", err)
		}
		runDir := filepath.Join(dir, "run")
		got := dryArgv(t, RenderAgentScript(p), doc, dir)
		want := wantArgv(p, runDir, paths)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("rsync argv mismatch\n got: %q\nwant: %q", got, want)
		}
	})
}

// FuzzShellQuote checks that a quoted word reads back as itself in bash and
// in the system sh.
func FuzzShellQuote(f *testing.F) {
	requireTools(f, "bash", "sh")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return
		}
		for _, shell := range []string{"bash", "sh"} {
			out, err := exec.Command(shell, "-c", "printf '%s' "+ShellQuote(s)).Output()
			if err != nil {
				t.Fatalf("%s rejected %q quoted as %s: %v", shell, s, ShellQuote(s), err)
			}
			if string(out) != s {
				t.Fatalf("%s read %q back as %q (quoted: %s)", shell, s, out, ShellQuote(s))
			}
		}
	})
}
