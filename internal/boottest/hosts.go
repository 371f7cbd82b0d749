//go:build linux

package boottest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// overlay mounts an overlay over dir whose changes land in base (a host
// directory of the test), as a line of a sandbox setup script.
func overlay(base, dir string) string {
	key := strings.ReplaceAll(strings.Trim(dir, "/"), "/", "_")
	up, work := filepath.Join(base, key, "upper"), filepath.Join(base, key, "work")
	return fmt.Sprintf("mkdir -p %s %s\nmount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s\n", up, work, dir, up, work, dir)
}

// Master is the master instance: sshd on port 22 in the master network
// namespace, with the sync account and a file system of its own: /srv is
// the test's directory (the web root lives below it) and the account
// exists only in the master's bind-mounted /etc/passwd.
type Master struct {
	SB   *Sandbox
	Srv  string // the host directory mounted at /srv on the master
	User string
	sshd *os.Process
	log  interface{ String() string }
}

// StartMaster prepares the master in network namespace ns with user (the
// sync policy's ssh_user) and a home below /srv; sshd is not started yet.
func StartMaster(t testing.TB, ns, user string) *Master {
	t.Helper()
	base := t.TempDir()
	m := &Master{Srv: filepath.Join(base, "srv"), User: user}
	home := filepath.Join(m.Srv, "home", user)
	for _, d := range []string{filepath.Join(home, ".ssh"), filepath.Join(base, "etc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{base, m.Srv, filepath.Join(m.Srv, "home")} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const uid = 64123
	if err := os.WriteFile(filepath.Join(home, ".ssh", "authorized_keys"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{home, filepath.Join(home, ".ssh"), filepath.Join(home, ".ssh", "authorized_keys")} {
		if err := os.Chown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	addLine := func(src, name, line string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, "etc", name), append(b, []byte(line+"\n")...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addLine("/etc/passwd", "passwd", fmt.Sprintf("%s:x:%d:%d::/srv/home/%s:/bin/sh", user, uid, uid, user))
	addLine("/etc/group", "group", fmt.Sprintf("%s:x:%d:", user, uid))
	addLine("/etc/shadow", "shadow", user+":*:20000:0:99999:7:::")
	if err := os.Chmod(filepath.Join(base, "etc", "shadow"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "etc", "sshd_config"), []byte(strings.Join([]string{
		"Port 22",
		"ListenAddress 0.0.0.0",
		"HostKey /run/master-ssh/ssh_host_ed25519_key",
		"PidFile /run/master-ssh/sshd.pid",
		"AuthorizedKeysFile .ssh/authorized_keys",
		"StrictModes yes",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin no",
		"UsePAM no",
		"AllowUsers " + user,
		"LogLevel VERBOSE",
		"",
	}, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	setup := fmt.Sprintf(`mount --bind %[1]s/srv /srv
for f in passwd group shadow; do mount --bind %[1]s/etc/$f /etc/$f; done
mount -t tmpfs tmpfs /run
mkdir -p /run/sshd /run/master-ssh
ssh-keygen -q -t ed25519 -N '' -f /run/master-ssh/ssh_host_ed25519_key
cp %[1]s/etc/sshd_config /run/master-ssh/sshd_config
`, base)
	m.SB = StartSandbox(t, "master", ns, setup)
	return m
}

// Authorize replaces the account's authorized_keys with lines.
func (m *Master) Authorize(t testing.TB, lines ...string) {
	t.Helper()
	p := filepath.Join(m.Srv, "home", m.User, ".ssh", "authorized_keys")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// WriteFile writes a file below the master's /srv (path is absolute on
// the master and must start with /srv/).
func (m *Master) WriteFile(t testing.TB, path, content string) {
	t.Helper()
	rel, ok := strings.CutPrefix(path, "/srv/")
	if !ok {
		t.Fatalf("master file %s is not below /srv", path)
	}
	p := filepath.Join(m.Srv, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// StartSSHD starts sshd in the master and waits until it listens.
func (m *Master) StartSSHD(t testing.TB) {
	t.Helper()
	log := NewLog()
	cmd := m.SB.Start(t, log, nil, "/usr/sbin/sshd", "-D", "-e", "-f", "/run/master-ssh/sshd_config")
	m.sshd, m.log = cmd.Process, log
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := m.SB.Run(context.Background(), nil, "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/22")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd on the master does not listen: %v %s\n%s", err, out, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SSHDLog is what sshd logged so far.
func (m *Master) SSHDLog() string {
	if m.log == nil {
		return ""
	}
	return m.log.String()
}

// Clone is a clone instance: a sandbox in the clone network namespace whose
// /etc, /var, /usr/local, /root, /home and /usr/lib/systemd/system are
// overlays over the host's (the image) and whose /run is a fresh tmpfs.
type Clone struct {
	SB *Sandbox
	// Upper is the host directory holding the overlays' upper directories:
	// everything the clone changed.
	Upper string
}

// Image prepares what the clone's image holds beyond this machine's file
// system, as a bash script run before the boot (for example a database
// unit, enabled, and files the master has since deleted).
type Image struct {
	Setup string
	// Hosts are lines appended to /etc/hosts.
	Hosts []string
	// CA is appended to the system CA bundle (/etc/ssl/certs/ca-certificates.crt).
	CA []byte
}

// StartClone prepares a clone in network namespace ns from img.
func StartClone(t testing.TB, ns string, img Image) *Clone {
	t.Helper()
	base := t.TempDir()
	c := &Clone{Upper: base}
	var setup strings.Builder
	for _, d := range []string{"/etc", "/var", "/usr/local", "/root", "/home", "/usr/lib/systemd/system"} {
		setup.WriteString(overlay(base, d))
	}
	setup.WriteString("mount -t tmpfs tmpfs /run\nhostname clone\n")
	// A fresh instance: no cloud-init state from this machine.
	setup.WriteString("rm -rf /var/lib/cloud /var/log/cloud-init.log /var/log/cloud-init-output.log\n")
	if err := os.WriteFile(filepath.Join(base, "ca.pem"), img.CA, 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&setup, "cat %s/ca.pem >>/etc/ssl/certs/ca-certificates.crt\n", base)
	for _, h := range img.Hosts {
		fmt.Fprintf(&setup, "echo %s >>/etc/hosts\n", ShellQuote(h))
	}
	setup.WriteString(img.Setup)
	// Last, as it hides the test's directories below /tmp from the clone.
	setup.WriteString("\nmount -t tmpfs tmpfs /tmp\n")
	c.SB = StartSandbox(t, "clone", ns, setup.String())
	return c
}

// Seed writes a NoCloud seed (https://cloudinit.readthedocs.io/en/latest/reference/datasources/nocloud.html)
// holding userData as is, and a drop-in that makes cloud-init use it. The
// drop-in keeps Debian's module lists (/etc/cloud/cloud.cfg) except for
// modules that would act on this machine's disks, mounts or locales, which
// no namespace isolates or this machine lacks: growpart, resizefs,
// disk_setup and mounts (init), keyboard, locale and grub-dpkg (config).
// Network configuration is disabled: the test sets up the namespace.
func (c *Clone) Seed(t testing.TB, instanceID string, userData []byte) {
	t.Helper()
	dir := c.SB.Path("/var/lib/cloud/seed/nocloud")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"user-data": userData,
		"meta-data": fmt.Appendf(nil, "instance-id: %s\nlocal-hostname: clone\n", instanceID),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const dropIn = `# Written by the boot test.
datasource_list: [NoCloud, None]
network: {config: disabled}
ssh_genkeytypes: [ed25519]
cloud_init_modules: [migrator, seed_random, bootcmd, write-files, set_hostname, update_hostname, update_etc_hosts, ca-certs, rsyslog, users-groups, ssh]
cloud_config_modules: [snap, ssh-import-id, set-passwords, apt-pipelining, apt-configure, ntp, timezone, disable-ec2-metadata, runcmd, byobu]
`
	if err := os.WriteFile(c.SB.Path("/etc/cloud/cloud.cfg.d/99-boot-test.cfg"), []byte(dropIn), 0o644); err != nil {
		t.Fatal(err)
	}
}

// BootEnv is the environment cloud-init runs with: systemd's PATH, and
// SYSTEMD_OFFLINE=1 because systemd is not PID 1 here (systemctl then edits
// unit files for real and ignores start, stop and daemon-reload).
var BootEnv = []string{"SYSTEMD_OFFLINE=1", "LANG=C.UTF-8"}

// Boot runs cloud-init's four boot stages in order, as systemd runs them
// on an instance (cloud-init-local, cloud-init, cloud-config, cloud-final),
// and returns their output. Each stage must succeed.
func (c *Clone) Boot(t testing.TB) string {
	t.Helper()
	var log strings.Builder
	for _, stage := range [][]string{
		{"cloud-init", "init", "--local"},
		{"cloud-init", "init"},
		{"cloud-init", "modules", "--mode", "config"},
		{"cloud-init", "modules", "--mode", "final"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		out, err := c.SB.Run(ctx, BootEnv, stage...)
		cancel()
		fmt.Fprintf(&log, "$ %s\n%s", strings.Join(stage, " "), out)
		if err != nil {
			t.Fatalf("%s failed: %v\n%s", strings.Join(stage, " "), err, log.String())
		}
	}
	return log.String()
}

var execStartRE = regexp.MustCompile(`(?m)^ExecStart=[-@:+!]*(.+)$`)

// ExecStart returns the ExecStart command line of the unit file at path
// in the clone, split at spaces (the units the pool renders quote nothing).
func (c *Clone) ExecStart(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(c.SB.Path(path))
	if err != nil {
		t.Fatal(err)
	}
	ms := execStartRE.FindAllStringSubmatch(string(b), -1)
	if len(ms) != 1 {
		t.Fatalf("unit %s: want one ExecStart, found %d\n%s", path, len(ms), b)
	}
	return strings.Fields(ms[0][1])
}

// RunService runs the ExecStart of the service unit at path as systemd
// would start it (a clean environment with systemd's PATH), standing in for
// systemd, which is not PID 1 here. It returns the output and exit code.
func (c *Clone) RunService(t testing.TB, path string) (string, int) {
	t.Helper()
	argv := c.ExecStart(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := c.SB.Run(ctx, []string{"LANG=C.UTF-8"}, argv...)
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(interface{ ExitCode() int }); ok {
			code = ee.ExitCode()
		}
	}
	return out, code
}

// ShellQuote quotes s for a POSIX shell.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
