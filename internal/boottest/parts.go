//go:build linux

package boottest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CloudConfig is what a cloud-config part asks cloud-init to run or write,
// as cloud-init's own YAML loader reads it.
type CloudConfig struct {
	Bootcmd    []json.RawMessage `json:"bootcmd"`
	Runcmd     []json.RawMessage `json:"runcmd"`
	WriteFiles []struct {
		Path        string `json:"path"`
		Permissions string `json:"permissions"`
		Content     string `json:"content"`
	} `json:"write_files"`
}

// readCloudConfig loads a cloud-config file with cloud-init's own YAML
// loader and decodes write_files contents as cloud-init's write_files
// module does.
const readCloudConfig = `
import base64, gzip, json, sys
from cloudinit import util
cfg = util.load_yaml(open(sys.argv[1]).read()) or {}
out = {"bootcmd": cfg.get("bootcmd") or [], "runcmd": cfg.get("runcmd") or [], "write_files": []}
for f in cfg.get("write_files") or []:
    c = f.get("content", "")
    enc = (f.get("encoding") or "").lower()
    if enc in ("b64", "base64"):
        c = base64.b64decode(c).decode()
    elif enc in ("gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
        c = gzip.decompress(base64.b64decode(c)).decode()
    out["write_files"].append({"path": f["path"], "permissions": str(f.get("permissions", "")), "content": c})
json.dump(out, sys.stdout)
`

// Checker validates parts with the real tools, inside a sandbox, so
// nothing they write reaches the host.
type Checker struct {
	SB  *Sandbox
	n   int
	dir string
}

// NewChecker makes a scratch directory in the sandbox's /run.
func NewChecker(t testing.TB, sb *Sandbox) *Checker {
	t.Helper()
	c := &Checker{SB: sb, dir: "/run/boot-test-checks"}
	if err := os.MkdirAll(sb.Path(c.dir), 0o700); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *Checker) file(t testing.TB, name, content string) string {
	t.Helper()
	c.n++
	p := filepath.Join(c.dir, fmt.Sprintf("%02d-%s", c.n, name))
	if err := os.WriteFile(c.SB.Path(p), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// CloudConfig validates content against cloud-init's schema
// ("cloud-init schema --config-file") and returns what it holds.
func (c *Checker) CloudConfig(t testing.TB, name, content string) CloudConfig {
	t.Helper()
	f := c.file(t, name, content)
	out, err := c.SB.Run(t.Context(), nil, "cloud-init", "schema", "--config-file", f)
	if err != nil || !strings.Contains(out, "Valid cloud-config") {
		t.Errorf("cloud-init schema rejects part %s: %v\n%s", name, err, out)
	}
	js := c.SB.MustRun(t, nil, "python3", "-c", readCloudConfig, f)
	var cfg CloudConfig
	if err := json.Unmarshal([]byte(js), &cfg); err != nil {
		t.Fatalf("part %s: %v\n%s", name, err, js)
	}
	return cfg
}

// Shell runs shellcheck on a script; shell names the dialect when the
// script has no #! line ("sh" for a "sh -c" argument). Findings of
// severity warning and error fail the test; info and style notes (such as
// SC2015 on a deliberate "a && b || warn") do not.
func (c *Checker) Shell(t testing.TB, name, script, shell string) {
	t.Helper()
	f := c.file(t, name, script)
	args := []string{"shellcheck", "--norc", "--severity=warning"}
	if shell != "" {
		args = append(args, "--shell="+shell)
	}
	if out, err := c.SB.Run(t.Context(), nil, append(args, f)...); err != nil {
		t.Errorf("shellcheck finds problems in %s:\n%s\n--- %s ---\n%s", name, out, name, script)
	}
}

// Units runs "systemd-analyze verify" on unit files already in place in
// the sandbox (the programs their ExecStart names must exist).
func (c *Checker) Units(t testing.TB, paths ...string) {
	t.Helper()
	out, err := c.SB.Run(t.Context(), []string{"SYSTEMD_LOG_LEVEL=notice"}, append([]string{"systemd-analyze", "verify"}, paths...)...)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify %s: %v\n%s", strings.Join(paths, " "), err, out)
	}
}
