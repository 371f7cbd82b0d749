package syncagent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestParsePathsJSON(t *testing.T) {
	paths := []Path{
		{Source: "/srv/app/www", Destination: "/var/www", Exclude: []string{"*.tmp", "cache/"}, Delete: true},
		{Source: "/srv/app/uploads", Destination: "/srv/uploads"},
	}
	doc, err := PathsJSON(paths)
	if err != nil {
		t.Fatal(err)
	}
	got, root, err := ParsePathsJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	if root != "/srv/app" || len(got) != 2 || got[0].Exclude[1] != "cache/" || !got[0].Delete || got[1].Delete || len(got[1].Exclude) != 0 {
		t.Errorf("round trip: root %q, paths %+v", root, got)
	}

	for name, doc := range map[string]string{
		"not json":      `{`,
		"version":       `{"version":2,"root":"/a","paths":[{"source":"/a","destination":"/b"}]}`,
		"unknown field": `{"version":1,"root":"/a","paths":[],"x":1}`,
		"no paths":      `{"version":1,"root":"/a","paths":[]}`,
		"relative":      `{"version":1,"root":"/a","paths":[{"source":"a","destination":"/b"}]}`,
		"wider root":    `{"version":1,"root":"/srv","paths":[{"source":"/srv/a","destination":"/b"}]}`,
		"newline":       `{"version":1,"root":"/a","paths":[{"source":"/a","destination":"/b","exclude":["x\ny"]}]}`,
	} {
		if _, _, err := ParsePathsJSON(doc); err == nil {
			t.Errorf("%s: ParsePathsJSON(%s) succeeded", name, doc)
		}
	}
}

func TestKeyFingerprintAndBlob(t *testing.T) {
	_, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	fp, err := KeyFingerprint(pub)
	if err != nil || !strings.HasPrefix(fp, "SHA256:") || len(fp) != len("SHA256:")+43 {
		t.Errorf("KeyFingerprint = %q, %v", fp, err)
	}
	blob, err := KeyBlob(pub)
	if err != nil || !strings.HasPrefix(blob, "AAAAC3NzaC1lZDI1NTE5") {
		t.Errorf("KeyBlob = %q, %v", blob, err)
	}
	if b2, _ := KeyBlob(AuthorizedKeyLine(pub, []string{"/srv"})); b2 != blob {
		t.Errorf("blob of the authorized_keys line %q differs from the key's %q", b2, blob)
	}
	if fp2, _ := KeyFingerprint(AuthorizedKeyLine(pub, []string{"/srv"})); fp2 != fp {
		t.Errorf("fingerprint of the authorized_keys line %q differs from the key's %q", fp2, fp)
	}
	for _, bad := range []string{"", "ssh-ed25519", "ssh-ed25519 'x'"} {
		if _, err := KeyBlob(bad); err == nil {
			t.Errorf("KeyBlob(%q) succeeded", bad)
		}
	}
}

func TestRenderInstallKeyScriptRefuses(t *testing.T) {
	_, pub, _ := GenerateKey()
	line := AuthorizedKeyLine(pub, []string{"/srv"})
	for name, c := range map[string]struct {
		user, line string
		revoke     []string
	}{
		"bad user":      {"Root;x", line, nil},
		"nothing":       {"sync", "", nil},
		"two lines":     {"sync", line + "\n" + line, nil},
		"garbage line":  {"sync", "not a key", nil},
		"injected blob": {"sync", line, []string{"AAAA'; rm -rf /; '"}},
	} {
		if _, err := RenderInstallKeyScript(c.user, c.line, c.revoke); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}

// TestInstallKeyScript runs the script as the master would: as root,
// against a real account.
func TestInstallKeyScript(t *testing.T) {
	requireTools(t, "bash", "useradd", "usermod", "userdel", "getent", "rrsync")
	if os.Geteuid() != 0 {
		t.Skip("skipping: installing a key for another account needs root")
	}
	base := plainTempDir(t)
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	user := fmt.Sprintf("csinst%d", os.Getpid()%1000000)
	home := filepath.Join(base, "home")
	run(t, "useradd", "-M", "-d", home, "-s", "/bin/sh", user)
	t.Cleanup(func() { _ = exec.Command("userdel", user).Run() })
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKrIcs1sNKTjkJzrZ7F7z6zFsNLqNqBSlpSXnsyvEZzw someone-else"
	keys := filepath.Join(home, ".ssh", "authorized_keys")
	writeFile(t, keys, other+"\n")

	_, pub1, _ := GenerateKey()
	_, pub2, _ := GenerateKey()
	line1 := AuthorizedKeyLine(pub1, []string{"/srv/it's/www"})
	line2 := AuthorizedKeyLine(pub2, []string{"/srv/it's"})
	blob1, _ := KeyBlob(pub1)
	blob2, _ := KeyBlob(pub2)

	apply := func(line string, revoke ...string) {
		t.Helper()
		script, err := RenderInstallKeyScript(user, line, revoke)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("bash", "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("install script: %v\n%s\n%s", err, out, script)
		}
	}
	expect := func(lines ...string) {
		t.Helper()
		b, err := os.ReadFile(keys)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(b), strings.Join(lines, "\n")+"\n"; got != want {
			t.Fatalf("authorized_keys:\n%s\nwant:\n%s", got, want)
		}
		st, err := os.Stat(keys)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("authorized_keys mode %v, want 0600", st.Mode().Perm())
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); !ok || sys.Uid == 0 {
			t.Error("authorized_keys is owned by root, not by the sync user")
		}
	}

	apply(line1)
	expect(other, line1)
	apply(line1)
	expect(other, line1)
	apply(line2, blob1)
	expect(other, line2)
	apply("", blob2)
	expect(other)

	fresh := fmt.Sprintf("csnew%d", os.Getpid()%1000000)
	t.Cleanup(func() { _ = exec.Command("userdel", "-r", fresh).Run() })
	script, err := RenderInstallKeyScript(fresh, line1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("install script for a new account: %v\n%s", err, out)
	}
	out, err := exec.Command("getent", "passwd", fresh).Output()
	if err != nil {
		t.Fatalf("account %s was not created: %v", fresh, err)
	}
	freshHome := strings.Split(strings.TrimSpace(string(out)), ":")[5]
	if b, err := os.ReadFile(filepath.Join(freshHome, ".ssh", "authorized_keys")); err != nil || string(b) != line1+"\n" {
		t.Errorf("new account's authorized_keys = %q, %v", b, err)
	}
}
