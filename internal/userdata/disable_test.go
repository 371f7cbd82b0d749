package userdata

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDisableServiceScriptWithSystemctl runs disableServiceScript with
// Debian's real systemctl, offline (SYSTEMD_OFFLINE=1, as systemd does not
// run as PID 1 here), in a private mount namespace whose unit directories
// are those of a test root:
//   - disable_services = ["mysql"], where mysql.service is the alias the
//     mariadb package enables: mariadb.service ends masked (masking the
//     alias name alone fails and leaves mariadb enabled);
//   - a unit file of the same name in /etc: the boot command exits 0 and a
//     runtime drop-in makes the unit refuse to start.
func TestDisableServiceScriptWithSystemctl(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a private mount namespace (unshare -m)")
	}
	for _, tool := range []string{"unshare", "systemctl", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
	root := t.TempDir()
	for _, d := range []string{"etc/systemd/system", "lib/systemd/system"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, content string) {
		if err := os.WriteFile(filepath.Join(root, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lib/systemd/system/mariadb.service", "[Unit]\nDescription=MariaDB\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\nAlias=mysql.service\n")
	write("etc/systemd/system/memcached.service", "[Unit]\nDescription=site-local memcached\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n")
	for _, unit := range []string{"mariadb.service", "memcached.service"} {
		if out, err := exec.Command("systemctl", "--root="+root, "enable", unit).CombinedOutput(); err != nil {
			t.Fatalf("enabling %s: %v\n%s", unit, err, out)
		}
	}
	// Inside the namespace: the test root's unit directories over the
	// host's, an empty /run/systemd, the script once per service as
	// bootcmd runs it, then what systemctl and the drop-in say.
	inside := `set -e
mount --make-rprivate /
mount --bind "$ROOT/etc/systemd/system" /etc/systemd/system
mount --bind "$ROOT/lib/systemd/system" /lib/systemd/system
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/system
for s in mysql memcached; do
	SYSTEMD_OFFLINE=1 sh -c "$SCRIPT" disable-service "$s"
	echo "exit $s $?"
done
echo "mariadb $(SYSTEMD_OFFLINE=1 systemctl is-enabled mariadb.service || true)"
echo "dropin $(cat /run/systemd/system/memcached.service.d/50-clone-disable.conf 2>/dev/null | tr '\n' ' ')"
`
	cmd := exec.Command("unshare", "-m", "bash", "-c", inside)
	cmd.Env = append(os.Environ(), "ROOT="+root, "SCRIPT="+disableServiceScript)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("running the script in a private mount namespace: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		"exit mysql 0\n",
		"exit memcached 0\n",
		"mariadb masked\n",
		"dropin [Unit] RefuseManualStart=yes ConditionNull=false \n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
