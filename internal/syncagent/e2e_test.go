//go:build linux

package syncagent

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloneserver/terraform-provider-clone/internal/boottest"
	"github.com/cloneserver/terraform-provider-clone/internal/testlock"
)

// poll checks cond every 50ms until it holds (true) or timeout passes.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
	return true
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// e2eEnv is a master (sshd + a restricted account) and a clone directory
// on this machine.
type e2eEnv struct {
	base, user, root string
	port             int
	sshdLog          *boottest.Buffer
}

func startMaster(t *testing.T) *e2eEnv {
	t.Helper()
	requireTools(t, "rsync", "rrsync", "ssh", "ssh-keygen", "bash", "python3", "useradd", "usermod", "userdel")
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd"
		if !exists(sshd) {
			t.Skip("skipping: sshd is not installed (run .ci/install-sync-deps.sh)")
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: the end-to-end sync test must run as root (it adds a user and starts sshd)")
	}

	e := &e2eEnv{base: plainTempDir(t), sshdLog: boottest.NewLog()}
	if err := os.Chmod(e.base, 0o755); err != nil {
		t.Fatal(err)
	}
	e.user = fmt.Sprintf("csync%d", os.Getpid()%1000000)
	home := filepath.Join(e.base, "home")
	testlock.HostUsers(t, false)
	run(t, "useradd", "-M", "-d", home, "-s", "/bin/sh", e.user)
	t.Cleanup(func() {
		var out []byte
		var err error
		poll(10*time.Second, func() bool {
			out, err = exec.Command("userdel", e.user).CombinedOutput()
			return err == nil
		})
		if err != nil {
			t.Errorf("userdel %s: %v\n%s", e.user, err, out)
		}
	})
	run(t, "usermod", "-p", "*", e.user)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".ssh", "authorized_keys"), "")
	run(t, "chown", "-R", e.user+":", home)

	// The root's name needs quoting inside the authorized_keys command.
	e.root = filepath.Join(e.base, "mas ter's")
	if err := os.MkdirAll(e.root, 0o755); err != nil {
		t.Fatal(err)
	}

	hostKey, _, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	hostKeyFile := filepath.Join(e.base, "ssh_host_ed25519_key")
	if err := os.WriteFile(hostKeyFile, hostKey, 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(e.base, "sshd_config")
	writeFile(t, config, strings.Join([]string{
		"HostKey " + hostKeyFile,
		"PidFile " + filepath.Join(e.base, "sshd.pid"),
		"AuthorizedKeysFile .ssh/authorized_keys",
		"StrictModes yes",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin no",
		"UsePAM no",
		"AllowUsers " + e.user,
		"LogLevel VERBOSE",
		"",
	}, "\n"))
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}

	e.port = freePort(t)
	cmd := exec.Command(sshd, "-D", "-e", "-f", config, "-p", strconv.Itoa(e.port), "-o", "ListenAddress=127.0.0.1")
	cmd.Stdout, cmd.Stderr = e.sshdLog, e.sshdLog
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", e.sshdLog.String())
		}
	})
	eventually(t, 10*time.Second, "sshd to listen", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(e.port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return e
}

// authorize adds a restricted key for sources and returns its private key
// file.
func (e *e2eEnv) authorize(t *testing.T, name string, sources []string) string {
	t.Helper()
	priv, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	line := AuthorizedKeyLine(pub, sources)
	f, err := os.OpenFile(filepath.Join(e.base, "home", ".ssh", "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	keyFile := filepath.Join(e.base, name+".key")
	if err := os.WriteFile(keyFile, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	return keyFile
}

func (e *e2eEnv) policy(name string) Policy {
	return Policy{
		Name:           name,
		MasterAddress:  "127.0.0.1",
		SSHUser:        e.user,
		SSHPort:        e.port,
		Interval:       time.Minute,
		PathsParameter: "/clone/" + name + "/paths",
		KeyParameter:   "/clone/" + name + "/key",
		StatusFile:     filepath.Join(e.base, "state", name, "status.json"),
	}
}

// agent renders p's agent for paths and returns a command running it as the
// clone would, reading paths and key from files; the path list carries the
// fingerprint of keyFile.
func (e *e2eEnv) agent(t *testing.T, p Policy, paths []Path, keyFile string) *exec.Cmd {
	t.Helper()
	return e.agentFor(t, p, paths, keyFile, keyFile)
}

// agentFor is agent with a path list written for the key in pathsKeyFile,
// which may differ from the key the agent fetches.
func (e *e2eEnv) agentFor(t *testing.T, p Policy, paths []Path, pathsKeyFile, keyFile string) *exec.Cmd {
	t.Helper()
	doc, err := PathsJSON(paths, privateKeyFileFingerprint(t, pathsKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(e.base, "agents", p.Name)
	writeFile(t, filepath.Join(dir, "paths.json"), doc)
	writeFile(t, filepath.Join(dir, "agent.sh"), RenderAgentScript(p))
	cmd := exec.Command("bash", filepath.Join(dir, "agent.sh"))
	cmd.Env = append(os.Environ(),
		"CLONE_SYNC_PATHS_FILE="+filepath.Join(dir, "paths.json"),
		"CLONE_SYNC_KEY_FILE="+keyFile,
		"CLONE_SYNC_RUN_DIR="+filepath.Join(dir, "run"),
	)
	return cmd
}

func privateKeyFileFingerprint(t *testing.T, keyFile string) string {
	t.Helper()
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := PrivateKeyFingerprint(b)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

func runAgent(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("agent failed: %v\n%s", err, out)
	}
}

func readStatus(t *testing.T, p Policy) agentStatus {
	t.Helper()
	b, err := os.ReadFile(p.StatusFile)
	if err != nil {
		t.Fatalf("reading status file: %v", err)
	}
	var s agentStatus
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("status file %s: %v\n%s", p.StatusFile, err, b)
	}
	return s
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestAgentEndToEnd(t *testing.T) {
	e := startMaster(t)
	clone := filepath.Join(e.base, "clone")
	www := filepath.Join(e.root, "www")
	data := filepath.Join(e.root, "-d a$t*a [1]")
	writeFile(t, filepath.Join(www, "index.html"), "<h1>master</h1>\n")
	writeFile(t, filepath.Join(www, "sp ace 'q' $(x).txt"), "nasty name\n")
	writeFile(t, filepath.Join(www, "cache", "page.html"), "cached\n")
	writeFile(t, filepath.Join(www, "logs", "app.log"), "log\n")
	writeFile(t, filepath.Join(www, "logs", "keep.txt"), "keep\n")
	writeFile(t, filepath.Join(data, "file1"), "data 1\n")
	writeFile(t, filepath.Join(e.base, "outside", "secret.txt"), "secret\n")
	if err := os.Symlink(filepath.Join(e.base, "outside"), filepath.Join(e.root, "escape")); err != nil {
		t.Fatal(err)
	}

	paths := []Path{
		{Source: www, Destination: filepath.Join(clone, "www"), Exclude: []string{"/cache/", "*.log"}, Delete: true},
		{Source: data, Destination: filepath.Join(clone, "data")},
	}
	keyFile := e.authorize(t, "web", []string{www, data})
	p := e.policy("web")

	t.Run("copies new files and honours excludes", func(t *testing.T) {
		runAgent(t, e.agent(t, p, paths, keyFile))
		for _, f := range []string{"www/index.html", "www/sp ace 'q' $(x).txt", "www/logs/keep.txt", "data/file1"} {
			if !exists(filepath.Join(clone, f)) {
				t.Errorf("%s was not copied", f)
			}
		}
		for _, f := range []string{"www/cache", "www/logs/app.log"} {
			if exists(filepath.Join(clone, f)) {
				t.Errorf("excluded %s was copied", f)
			}
		}
		s := readStatus(t, p)
		if s.ExitCode != 0 || s.LastSuccess == nil || s.BytesTransferred <= 0 || s.Policy != "web" {
			t.Errorf("status after a successful sync: %+v", s)
		}
	})

	t.Run("deletes only where delete is true", func(t *testing.T) {
		for _, f := range []string{filepath.Join(www, "index.html"), filepath.Join(data, "file1")} {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		writeFile(t, filepath.Join(www, "new.txt"), "new\n")
		writeFile(t, filepath.Join(clone, "www", "cache", "local.tmp"), "clone-local, excluded\n")
		runAgent(t, e.agent(t, p, paths, keyFile))
		if exists(filepath.Join(clone, "www", "index.html")) {
			t.Error("www/index.html survived although delete is true")
		}
		if !exists(filepath.Join(clone, "data", "file1")) {
			t.Error("data/file1 was deleted although delete is false")
		}
		if !exists(filepath.Join(clone, "www", "cache", "local.tmp")) {
			t.Error("an excluded clone-local file was deleted")
		}
		if !exists(filepath.Join(clone, "www", "new.txt")) {
			t.Error("www/new.txt was not copied")
		}
	})

	t.Run("an interrupted transfer resumes", func(t *testing.T) {
		const size = 24 << 20
		big := make([]byte, size)
		if _, err := rand.Read(big); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(www, "big.bin"), big, 0o644); err != nil {
			t.Fatal(err)
		}
		slow := p
		slow.BandwidthLimitKbps = 16000
		cmd := e.agent(t, slow, paths, keyFile)
		var out boottest.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "a partial big.bin of 3 MiB", func() bool {
			tmp, _ := filepath.Glob(filepath.Join(clone, "www", ".big.bin.*"))
			for _, f := range tmp {
				if st, err := os.Stat(f); err == nil && st.Size() >= 3<<20 {
					return true
				}
			}
			return false
		})
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		dst := filepath.Join(clone, "www", "big.bin")
		eventually(t, 10*time.Second, "rsync to keep the partial file", func() bool {
			tmp, _ := filepath.Glob(filepath.Join(clone, "www", ".big.bin.*"))
			return exists(dst) && len(tmp) == 0
		})
		st, err := os.Stat(dst)
		if err != nil {
			t.Fatal(err)
		}
		partial := st.Size()
		if partial <= 0 || partial >= size {
			t.Fatalf("after the interruption big.bin has %d of %d bytes; want a partial file\n%s", partial, size, out.String())
		}

		runAgent(t, e.agent(t, p, paths, keyFile))
		if fileSum(t, dst) != sha256.Sum256(big) {
			t.Fatal("big.bin differs from the master after resuming")
		}
		s := readStatus(t, p)
		if s.ExitCode != 0 {
			t.Errorf("status after resuming: %+v", s)
		}
		if limit := int64(size) - partial/2; s.BytesTransferred >= limit {
			t.Errorf("resuming after %d bytes received %d bytes; want less than %d (the partial file must be reused)", partial, s.BytesTransferred, limit)
		}
	})

	t.Run("a single source is its own root", func(t *testing.T) {
		only := []Path{{Source: www, Destination: filepath.Join(clone, "www-only"), Exclude: []string{"big.bin"}}}
		key := e.authorize(t, "www", []string{www})
		runAgent(t, e.agent(t, e.policy("www"), only, key))
		if !exists(filepath.Join(clone, "www-only", "new.txt")) || exists(filepath.Join(clone, "www-only", "www")) {
			t.Error("the single-source sync did not mirror www into www-only")
		}
	})

	// A rotation that moves the root from e.root down to www: keyFile may
	// read all of e.root, the new key only www. The agent reads the path
	// list and the key at different moments, so it can pair either list
	// with either key.
	t.Run("a key and a path list from different rotations are refused", func(t *testing.T) {
		oldKey := keyFile
		newKey := e.authorize(t, "rotated", []string{www})
		newPaths := []Path{{Source: www, Destination: filepath.Join(clone, "rotated"), Exclude: []string{"big.bin"}}}
		oldPaths := []Path{
			{Source: www, Destination: filepath.Join(clone, "rotated-old"), Exclude: []string{"big.bin"}},
			{Source: data, Destination: filepath.Join(clone, "rotated-data")},
		}
		rp := e.policy("rotated")

		// What the agent must not do: the new list asks for "./" of the
		// key's root, which for the old key is all of e.root.
		hazard := filepath.Join(e.base, "hazard")
		if out, err := exec.Command("rsync", "-a", "--exclude=big.bin", "-e", "ssh -i "+oldKey+" -p "+strconv.Itoa(e.port)+
			" -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
			e.user+"@127.0.0.1:./", hazard+"/").CombinedOutput(); err != nil || !exists(filepath.Join(hazard, filepath.Base(data))) || !exists(filepath.Join(hazard, "www", "new.txt")) {
			t.Fatalf("the old key should reach all of its root (the hazard this test guards against): %v\n%s", err, out)
		}

		for name, c := range map[string]struct {
			paths             []Path
			pathsKey, wantKey string
		}{
			"new path list, old key": {newPaths, newKey, oldKey},
			"old path list, new key": {oldPaths, oldKey, newKey},
		} {
			logins := strings.Count(e.sshdLog.String(), "Accepted publickey")
			cmd := e.agentFor(t, rp, c.paths, c.pathsKey, c.wantKey)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 75 {
				t.Fatalf("%s: agent exited with %v, want 75\n%s", name, err, out)
			}
			const reason = "key and path list are from different rotations; retrying next run"
			if !strings.Contains(string(out), reason) {
				t.Errorf("%s: the agent's log does not give the reason:\n%s", name, out)
			}
			for _, dst := range []string{"rotated", "rotated-old", "rotated-data"} {
				if exists(filepath.Join(clone, dst)) {
					t.Errorf("%s: %s was written although the run was refused", name, dst)
				}
			}
			if n := strings.Count(e.sshdLog.String(), "Accepted publickey"); n != logins {
				t.Errorf("%s: the refused run logged in to the master (%d logins, %d before)", name, n, logins)
			}
			s := readStatus(t, rp)
			if s.ExitCode != 75 || s.Reason == nil || !strings.HasPrefix(*s.Reason, reason) || s.LifecycleHook == "completed" {
				t.Errorf("%s: status after a refused run: %+v", name, s)
			}
		}

		runAgent(t, e.agentFor(t, rp, newPaths, newKey, newKey))
		if !exists(filepath.Join(clone, "rotated", "new.txt")) {
			t.Error("the matching key and path list did not sync www")
		}
		if exists(filepath.Join(clone, "rotated", filepath.Base(data))) || exists(filepath.Join(clone, "rotated", "www")) {
			t.Error("the matching pair pulled more than www")
		}
		if s := readStatus(t, rp); s.ExitCode != 0 || s.Reason != nil || s.LastSuccess == nil {
			t.Errorf("status after the matching pair synced: %+v", s)
		}
	})

	t.Run("the failing run is recorded", func(t *testing.T) {
		missing := []Path{paths[0], {Source: filepath.Join(e.root, "missing"), Destination: filepath.Join(clone, "missing")}}
		cmd := e.agent(t, p, missing, keyFile)
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Fatalf("agent succeeded on a missing source\n%s", out)
		}
		s := readStatus(t, p)
		if s.ExitCode == 0 || s.LastSuccess == nil || s.Reason == nil || !strings.Contains(*s.Reason, "missing") {
			t.Errorf("status after a failed run keeps last_success and records the code and the reason: %+v", s)
		}
	})

	sshArgs := []string{"-i", keyFile, "-p", strconv.Itoa(e.port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"}
	rsh := "ssh " + strings.Join(sshArgs, " ")
	target := e.user + "@127.0.0.1"

	t.Run("the key gets no shell", func(t *testing.T) {
		for name, c := range map[string]struct {
			args []string
			want string
		}{
			"command":     {append(append([]string{}, sshArgs...), target, "sh", "-c", "id"), "does not run rsync"},
			"login shell": {append(append([]string{}, sshArgs...), target), "Not invoked via sshd"},
			"pty":         {append(append([]string{"-tt"}, sshArgs...), target), "PTY allocation request failed"},
		} {
			cmd := exec.Command("ssh", c.args...)
			cmd.Stdin = strings.NewReader("id\nexit\n")
			out, err := cmd.CombinedOutput()
			if err == nil || strings.Contains(string(out), "uid=") || !strings.Contains(string(out), c.want) {
				t.Errorf("%s: want rrsync to refuse with %q; err %v\n%s", name, c.want, err, out)
			}
		}
	})

	t.Run("the key cannot write", func(t *testing.T) {
		local := filepath.Join(e.base, "push.txt")
		writeFile(t, local, "pushed\n")
		for _, dest := range []string{"./pushed.txt", "./www/pushed.txt"} {
			out, err := exec.Command("rsync", "-e", rsh, local, target+":"+dest).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "read-only server") {
				t.Errorf("push to %s: want rrsync to refuse it as read-only; err %v\n%s", dest, err, out)
			}
		}
		if exists(filepath.Join(e.root, "pushed.txt")) || exists(filepath.Join(www, "pushed.txt")) {
			t.Error("a pushed file reached the master")
		}
		out, err := exec.Command("rsync", "-a", "--remove-source-files", "-e", rsh, target+":./www/new.txt", filepath.Join(e.base, "removed")).CombinedOutput()
		if err == nil || !exists(filepath.Join(www, "new.txt")) || !strings.Contains(string(out), "disabled") {
			t.Errorf("--remove-source-files was accepted or removed the master's file: %v\n%s", err, out)
		}
	})

	t.Run("the key cannot leave its root", func(t *testing.T) {
		for i, c := range []struct{ src, want string }{
			{"../outside/", "do not use .."},
			{"./www/../../outside/", "do not use .."},
			{"../../../../etc/passwd", "do not use .."},
			{"./escape/", "unsafe arg"},
			{"./escape/secret.txt", "unsafe arg"},
			{"/etc/passwd", "No such file"},
		} {
			src := c.src
			dst := filepath.Join(e.base, "escaped", strconv.Itoa(i))
			out, err := exec.Command("rsync", "-a", "-e", rsh, target+":"+src, dst+"/").CombinedOutput()
			if err == nil || !strings.Contains(string(out), c.want) {
				t.Errorf("pull of %s: want a refusal with %q; err %v\n%s", src, c.want, err, out)
			}
			for _, leaked := range []string{"secret.txt", "passwd"} {
				if exists(filepath.Join(dst, leaked)) {
					t.Errorf("pull of %s leaked %s", src, leaked)
				}
			}
		}
	})
}
