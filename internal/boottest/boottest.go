//go:build linux

// Package boottest boots the user data of a clone for real on this machine:
// cloud-init's own stages against a NoCloud seed, inside a "clone" network
// namespace with a private mount namespace (overlays over /etc, /var,
// /usr/local, /root, /home and the systemd unit directory, a tmpfs on /run),
// against a "master" network namespace running sshd. Nothing it does
// changes the host: every write lands in an overlay's upper directory under
// the test's temporary directory, and the namespaces and their veth pair
// are deleted when the test ends.
//
// What is stood in for, and why:
//   - systemd is not PID 1 here: cloud-init runs with SYSTEMD_OFFLINE=1, so
//     systemctl edits unit files (enable, disable, mask) for real and
//     ignores start and daemon-reload; the test then runs a service's
//     ExecStart itself, as systemd would at boot and on each timer tick.
//   - the instance metadata service is a small HTTP server inside the clone
//     namespace at 169.254.169.254 (instance id, region, instance profile
//     credentials), see IMDS.
//   - AWS endpoints: the clone's /etc/hosts points the service host names
//     the agent calls at a TLS listener inside the clone namespace, whose
//     certificate a test CA signs (appended to the clone's CA bundle); it
//     forwards each call unchanged to the test cloud, see CloudProxy.
package boottest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SystemPath is the PATH systemd gives services and the clone's cloud-init
// runs with, so every tool comes from the image (Debian's packages), not
// from the test's environment.
const SystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Tools are the programs a boot test needs, with the Debian package that
// ships each one.
var Tools = []struct{ Path, Package string }{
	{"/usr/bin/cloud-init", "cloud-init"},
	{"/usr/bin/shellcheck", "shellcheck"},
	{"/usr/bin/systemd-analyze", "systemd"},
	{"/usr/bin/systemctl", "systemd"},
	{"/usr/bin/aws", "awscli"},
	{"/usr/bin/rsync", "rsync"},
	{"/usr/bin/rrsync", "rsync"},
	{"/usr/sbin/sshd", "openssh-server"},
	{"/usr/bin/ssh", "openssh-client"},
	{"/usr/bin/ssh-keygen", "openssh-client"},
	{"/usr/bin/curl", "curl"},
	{"/usr/bin/python3", "python3"},
	{"/usr/bin/flock", "util-linux"},
	{"/usr/bin/unshare", "util-linux"},
	{"/usr/bin/nsenter", "util-linux"},
	{"/usr/sbin/ip", "iproute2"},
}

// Require skips the test, naming every missing tool and its Debian package,
// unless this machine can run a boot test: root, every tool in Tools (at
// the path Debian installs it, so the clone uses Debian's and not another
// copy on PATH), and overlay mounts.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping the boot test: it must run as root (network and mount namespaces, sshd)")
	}
	var missing, pkgs []string
	seen := map[string]bool{}
	for _, tool := range Tools {
		if _, err := os.Stat(tool.Path); err != nil {
			missing = append(missing, tool.Path)
			if !seen[tool.Package] {
				seen[tool.Package] = true
				pkgs = append(pkgs, tool.Package)
			}
		}
	}
	if len(missing) > 0 {
		t.Skipf("skipping the boot test: missing %s (Debian: apt-get install %s, or run .ci/install-boot-deps.sh)",
			strings.Join(missing, ", "), strings.Join(pkgs, " "))
	}
	for _, dir := range []string{"/srv", "/etc/systemd/system", "/usr/lib/systemd/system", "/usr/local", "/home", "/root", "/var"} {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			t.Skipf("skipping the boot test: %s is not a directory on this machine", dir)
		}
	}
	probe := t.TempDir()
	for _, d := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(probe, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := fmt.Sprintf("lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", probe, probe, probe)
	if out, err := exec.Command("unshare", "-m", "--propagation", "private", "mount", "-t", "overlay", "overlay", "-o", opts, probe+"/merged").CombinedOutput(); err != nil {
		t.Skipf("skipping the boot test: overlay mounts do not work here: %v %s", err, bytes.TrimSpace(out))
	}
}

// Sandbox is a long-lived process holding a network namespace, a private
// mount namespace and a UTS namespace; commands run inside it with nsenter.
type Sandbox struct {
	Name string
	pid  int
	cmd  *exec.Cmd
	log  *Buffer

	mu    sync.Mutex
	procs []*exec.Cmd
}

// StartSandbox starts a sandbox in network namespace netns: setup (a bash
// script) runs first inside the new mount namespace and prepares its file
// system; the sandbox is killed, with everything started in it, when t ends.
func StartSandbox(t testing.TB, name, netns, setup string) *Sandbox {
	t.Helper()
	s := &Sandbox{Name: name, log: &Buffer{}}
	script := "set -eu\n" + setup + "\necho \"sandbox-ready $$\"\nexec sleep infinity\n"
	s.cmd = exec.Command("ip", "netns", "exec", netns, "unshare", "-m", "-u", "--propagation", "private", "bash", "-c", script)
	s.cmd.Env = []string{"PATH=" + SystemPath, "HOME=/root", "LANG=C.UTF-8"}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	s.cmd.Stderr = s.log
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting sandbox %s: %v", name, err)
	}
	t.Cleanup(s.stop)
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if pid, ok := strings.CutPrefix(line, "sandbox-ready "); ok {
				ready <- pid
				_, _ = io.Copy(s.log, out)
				return
			}
			fmt.Fprintln(s.log, line)
		}
		close(ready)
	}()
	select {
	case pid, ok := <-ready:
		if !ok {
			_ = s.cmd.Wait()
			t.Fatalf("sandbox %s: setup failed:\n%s", name, s.log.String())
		}
		s.pid, _ = strconv.Atoi(pid)
	case <-time.After(time.Minute):
		t.Fatalf("sandbox %s: setup did not finish in a minute:\n%s", name, s.log.String())
	}
	return s
}

func (s *Sandbox) stop() {
	s.mu.Lock()
	procs := s.procs
	s.mu.Unlock()
	for _, p := range procs {
		if p.Process != nil {
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			_ = p.Wait()
		}
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
}

// Path is path as the sandbox sees it, readable from the test.
func (s *Sandbox) Path(path string) string {
	return fmt.Sprintf("/proc/%d/root%s", s.pid, path)
}

// Command returns argv to run inside the sandbox with exactly env (plus
// PATH=SystemPath when env sets no PATH).
func (s *Sandbox) Command(ctx context.Context, env []string, argv ...string) *exec.Cmd {
	hasPath := false
	for _, e := range env {
		hasPath = hasPath || strings.HasPrefix(e, "PATH=")
	}
	if !hasPath {
		env = append([]string{"PATH=" + SystemPath}, env...)
	}
	args := []string{"-t", strconv.Itoa(s.pid), "-m", "-u", "-n", "--", "env", "-i"}
	args = append(args, env...)
	args = append(args, argv...)
	cmd := exec.CommandContext(ctx, "nsenter", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Run runs argv in the sandbox and returns its combined output.
func (s *Sandbox) Run(ctx context.Context, env []string, argv ...string) (string, error) {
	out, err := s.Command(ctx, env, argv...).CombinedOutput()
	return string(out), err
}

// MustRun is Run that fails the test on an error.
func (s *Sandbox) MustRun(t testing.TB, env []string, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := s.Run(ctx, env, argv...)
	if err != nil {
		t.Fatalf("%s: %q: %v\n%s", s.Name, argv, err, out)
	}
	return out
}

// Output runs argv in the sandbox and returns its output whatever its
// exit code (for commands such as "systemctl is-enabled" that answer
// through both).
func (s *Sandbox) Output(t testing.TB, env []string, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, _ := s.Run(ctx, env, argv...)
	return out
}

// Start starts argv in the sandbox in the background; it is killed when the
// sandbox stops, or earlier with Stop.
func (s *Sandbox) Start(t testing.TB, out io.Writer, env []string, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := s.Command(context.Background(), env, argv...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: starting %q: %v", s.Name, argv, err)
	}
	s.mu.Lock()
	s.procs = append(s.procs, cmd)
	s.mu.Unlock()
	return cmd
}

// Stop kills a process Start started and waits for it.
func Stop(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()
}

// Log is what the sandbox's setup printed.
func (s *Sandbox) Log() string { return s.log.String() }

// Buffer is a log safe for concurrent use: a command's output written while
// the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// NewLog returns a Buffer.
func NewLog() *Buffer { return &Buffer{} }
