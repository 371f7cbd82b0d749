package syncagent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cloneserver/terraform-provider-clone/internal/testlock"
)

func TestParsePathsJSON(t *testing.T) {
	paths := []Path{
		{Source: "/srv/app/www", Destination: "/var/www", Exclude: []string{"*.tmp", "cache/"}, Delete: true},
		{Source: "/srv/app/uploads", Destination: "/srv/uploads"},
	}
	doc, err := PathsJSON(paths, testFingerprint)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePathsJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Root != "/srv/app" || got.KeyFingerprint != testFingerprint || len(got.Paths) != 2 || got.Paths[0].Exclude[1] != "cache/" ||
		!got.Paths[0].Delete || got.Paths[1].Delete || len(got.Paths[1].Exclude) != 0 {
		t.Errorf("round trip: %+v", got)
	}

	v1, err := ParsePathsJSON(`{"version":1,"root":"/a","paths":[{"source":"/a","destination":"/b","exclude":[],"delete":false}]}`)
	if err != nil || v1.KeyFingerprint != "" || v1.Root != "/a" || len(v1.Paths) != 1 {
		t.Errorf("version 1 document: %+v, %v", v1, err)
	}

	fp := `"key_fingerprint":"` + testFingerprint + `",`
	for name, doc := range map[string]string{
		"not json":           `{`,
		"version":            `{"version":3,"root":"/a",` + fp + `"paths":[{"source":"/a","destination":"/b"}]}`,
		"v2 without key":     `{"version":2,"root":"/a","paths":[{"source":"/a","destination":"/b"}]}`,
		"v2 bad fingerprint": `{"version":2,"root":"/a","key_fingerprint":"SHA256:x","paths":[{"source":"/a","destination":"/b"}]}`,
		"v1 with key":        `{"version":1,"root":"/a",` + fp + `"paths":[{"source":"/a","destination":"/b"}]}`,
		"unknown field":      `{"version":2,"root":"/a",` + fp + `"paths":[],"x":1}`,
		"no paths":           `{"version":2,"root":"/a",` + fp + `"paths":[]}`,
		"relative":           `{"version":2,"root":"/a",` + fp + `"paths":[{"source":"a","destination":"/b"}]}`,
		"wider root":         `{"version":2,"root":"/srv",` + fp + `"paths":[{"source":"/srv/a","destination":"/b"}]}`,
		"newline":            `{"version":2,"root":"/a",` + fp + `"paths":[{"source":"/a","destination":"/b","exclude":["x\ny"]}]}`,
	} {
		if _, err := ParsePathsJSON(doc); err == nil {
			t.Errorf("%s: ParsePathsJSON(%s) succeeded", name, doc)
		}
	}
}

// TestFingerprintsMatchSSHKeygen proves the fingerprints computed in Go are
// the ones the agent computes with ssh-keygen on a clone.
func TestFingerprintsMatchSSHKeygen(t *testing.T) {
	requireTools(t, "ssh-keygen")
	priv, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	derived, err := exec.Command("ssh-keygen", "-y", "-P", "", "-f", keyFile).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -y: %v", err)
	}
	if err := os.WriteFile(keyFile+".pub", derived, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh-keygen", "-l", "-E", "sha256", "-f", keyFile+".pub").Output()
	if err != nil {
		t.Fatalf("ssh-keygen -l: %v", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 2 {
		t.Fatalf("ssh-keygen -l printed %q", out)
	}
	fromPub, err := KeyFingerprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	fromPriv, err := PrivateKeyFingerprint(priv)
	if err != nil {
		t.Fatal(err)
	}
	if fromPub != fields[1] || fromPriv != fields[1] || ValidateKeyFingerprint(fromPub) != nil {
		t.Errorf("KeyFingerprint %s, PrivateKeyFingerprint %s, ssh-keygen %s", fromPub, fromPriv, fields[1])
	}
	if fp, err := KeyFingerprint(testPublicKey); err != nil || fp != testFingerprint {
		t.Errorf("KeyFingerprint(testPublicKey) = %s, %v; want %s", fp, err, testFingerprint)
	}
	if _, err := PrivateKeyFingerprint([]byte("not a key")); err == nil {
		t.Error("PrivateKeyFingerprint accepted garbage")
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
	testlock.HostUsers(t, false)
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
