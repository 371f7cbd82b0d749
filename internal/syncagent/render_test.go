package syncagent

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestGenerateKey(t *testing.T) {
	priv, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(priv), "-----BEGIN OPENSSH PRIVATE KEY-----\n") {
		t.Errorf("private key is not an OpenSSH PEM block:\n%s", priv)
	}
	signer, err := ssh.ParsePrivateKey(priv)
	if err != nil {
		t.Fatalf("parsing the private key: %v", err)
	}
	parsed, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil || len(rest) != 0 {
		t.Fatalf("parsing the public key %q: %v", pub, err)
	}
	if parsed.Type() != ssh.KeyAlgoED25519 || string(parsed.Marshal()) != string(signer.PublicKey().Marshal()) {
		t.Error("the public key does not belong to the private key")
	}
}

func TestAuthorizedKeyLine(t *testing.T) {
	const pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKrIcs1sNKTjkJzrZ7F7z6zFsNLqNqBSlpSXnsyvEZzw"
	for _, c := range []struct {
		sources []string
		command string
	}{
		{[]string{"/var/www/html"}, `rrsync -ro /var/www/html`},
		{[]string{"/var/www/html", "/var/www/static/"}, `rrsync -ro /var/www`},
		{[]string{"/srv/it's \"here\"/a"}, `rrsync -ro '/srv/it'\''s \"here\"/a'`},
	} {
		got := AuthorizedKeyLine(pub+" old-comment\n", c.sources)
		want := `command="` + c.command + `",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc ` + pub + ` clone-sync`
		if got != want {
			t.Errorf("AuthorizedKeyLine(%q):\n got %s\nwant %s", c.sources, got, want)
		}
		if _, _, opts, _, err := ssh.ParseAuthorizedKey([]byte(got)); err != nil || len(opts) != 6 {
			t.Errorf("authorized_keys parser: %v, options %q", err, opts)
		}
	}
	if got := AuthorizedKeyLine(pub, []string{"/a", "/b"}); !strings.Contains(got, "/nonexistent/") {
		t.Errorf("invalid sources must not widen the root: %s", got)
	}
}

func TestRenderAgentScriptQuotesSettings(t *testing.T) {
	requireTools(t, "bash")
	p := validPolicy()
	p.LifecycleHookName = `hook'$(touch /tmp/pwned)`
	p.AutoScalingGroupName = "pool `id` \"x\""
	script := RenderAgentScript(p)
	if !strings.HasPrefix(script, "#!/bin/bash\n") {
		t.Error("the script has no bash shebang")
	}
	check := script[:strings.Index(script, "\nset -u")] + "\nprintf '%s\\n' \"$CS_LIFECYCLE_HOOK_NAME\" \"$CS_AUTOSCALING_GROUP_NAME\" \"$CS_BWLIMIT_BYTES\"\n"
	out, err := exec.Command("bash", "-c", check).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := p.LifecycleHookName + "\n" + p.AutoScalingGroupName + "\n0\n"; string(out) != want {
		t.Errorf("settings read back as %q, want %q", out, want)
	}
	if err := exec.Command("bash", "-n", "-c", script).Run(); err != nil {
		t.Errorf("bash -n: %v", err)
	}
	p.BandwidthLimitKbps = 1000
	if !strings.Contains(RenderAgentScript(p), "\nCS_BWLIMIT_BYTES=125000\n") {
		t.Error("1000 kbps must become 125000 bytes per second")
	}
}

func TestRenderPanicsOnInvalidPolicy(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "interval") {
			t.Errorf("recovered %v, want a panic naming the interval", r)
		}
	}()
	p := validPolicy()
	p.Interval = 0
	RenderAgentScript(p)
}

func TestRenderCloudInitPart(t *testing.T) {
	p := validPolicy()
	p.LifecycleHookName, p.AutoScalingGroupName = "web-first-sync", "web"
	part := RenderCloudInitPart(p)
	if !strings.HasPrefix(part, "#cloud-config\n") {
		t.Fatalf("not a cloud-config part:\n%s", part)
	}
	files := writeFilesOf(t, part)
	if len(files) != 3 {
		t.Fatalf("write_files holds %d files, want 3", len(files))
	}
	if files["/usr/local/sbin/clone-sync-web"] != RenderAgentScript(p) {
		t.Error("the installed script differs from RenderAgentScript")
	}
	timer := files["/etc/systemd/system/clone-sync-web.timer"]
	for _, want := range []string{"OnBootSec=300s", "OnUnitActiveSec=300s", "Unit=clone-sync-web.service", "WantedBy=timers.target"} {
		if !strings.Contains(timer, want) {
			t.Errorf("timer lacks %q:\n%s", want, timer)
		}
	}
	if service := files["/etc/systemd/system/clone-sync-web.service"]; !strings.Contains(service, "Type=oneshot") || !strings.Contains(service, "ExecStart=/usr/local/sbin/clone-sync-web\n") {
		t.Errorf("service:\n%s", service)
	}
	for _, want := range []string{"  - [systemctl, enable, --now, clone-sync-web.timer]\n", "  - [systemctl, start, --no-block, clone-sync-web.service]\n"} {
		if !strings.Contains(part, want) {
			t.Errorf("runcmd lacks %q", want)
		}
	}
	// The part is plain text: nothing in it is base64, no line is too long
	// for MIME text, and the clone stand-in of the test cloud finds the
	// agent by its hook setting.
	if strings.Contains(part, "encoding: b64") {
		t.Error("the part base64-encodes a file it could carry as text")
	}
	for i, line := range strings.Split(part, "\n") {
		if len(line) > maxLineLen {
			t.Errorf("line %d is %d characters long, more than MIME text allows", i+1, len(line))
		}
	}
	if !strings.Contains(part, "\n"+contentIndent+"CS_LIFECYCLE_HOOK_NAME=web-first-sync\n") {
		t.Error("the hook setting is not plain text in the part")
	}
}

// TestWriteFileRoundTrip proves every content reads back unchanged from its
// write_files entry, as plain text when it can be, in base64 otherwise,
// and that no entry has a line too long for MIME text.
func TestWriteFileRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name    string
		content string
		plain   bool
	}{
		{"script", "#!/bin/bash\nset -e\n\n\tif true; then\n\t\techo 'a: b' # c\n\tfi\n", true},
		{"no final newline", "a\nb", true},
		{"document markers", "---\n...\n%YAML 1.2\n", true},
		{"trailing spaces", "a  \n  b\t\n", true},
		{"blank line with spaces", "a\n   \nb\n", true},
		{"single line", "x\n", true},
		{"empty", "", false},
		{"only a newline", "\n", false},
		{"two final newlines", "a\n\n", false},
		{"leading newline", "\na\n", false},
		{"leading space", " a\nb\n", false},
		{"non-ASCII", "caf\u00e9\n", false},
		{"control character", "a\x01b\n", false},
		{"carriage return", "a\r\nb\r\n", false},
		{"line too long", strings.Repeat("x", maxLineLen) + "\n", false},
		{"longest plain line", strings.Repeat("x", maxLineLen-len(contentIndent)) + "\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("#cloud-config\nwrite_files:\n")
			writeFileEntry(&b, "/etc/f", "0644", c.content)
			doc := b.String()
			if got := writeFilesOf(t, doc)["/etc/f"]; got != c.content {
				t.Errorf("read back %q, want %q:\n%s", got, c.content, doc)
			}
			if plain := !strings.Contains(doc, "encoding: b64"); plain != c.plain {
				t.Errorf("plain = %v, want %v:\n%s", plain, c.plain, doc)
			}
			for i, line := range strings.Split(doc, "\n") {
				if len(line) > maxLineLen {
					t.Errorf("line %d is %d characters long", i+1, len(line))
				}
			}
		})
	}
}

// writeFilesOf returns path -> content of the write_files of a cloud-config
// document, read as cloud-init reads them: with PyYAML when python3 has it,
// and always with a reader of the two block forms writeFileEntry renders, and
// fails the test when the two disagree.
func writeFilesOf(t *testing.T, doc string) map[string]string {
	t.Helper()
	files := map[string]string{}
	var path, content string
	var b64, in bool
	flush := func() {
		if path == "" {
			return
		}
		if b64 {
			dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(content, "\n", ""))
			if err != nil {
				t.Fatalf("content of %s: %v", path, err)
			}
			content = string(dec)
		}
		files[path] = content
		path, content, b64, in = "", "", false, false
	}
	var chomp string
	for _, line := range strings.Split(strings.TrimSuffix(doc, "\n"), "\n") {
		if in {
			if v, ok := strings.CutPrefix(line, contentIndent); ok || line == "" {
				content += v + "\n"
				continue
			}
			if chomp == "|-" {
				content = strings.TrimSuffix(content, "\n")
			}
			in = false
		}
		switch {
		case strings.HasPrefix(line, "  - path: "):
			flush()
			path = strings.TrimPrefix(line, "  - path: ")
		case line == "    encoding: b64":
			b64 = true
		case strings.HasPrefix(line, "    content: "):
			chomp, in = strings.TrimPrefix(line, "    content: "), true
		case !strings.HasPrefix(line, "    "):
			flush()
		}
	}
	if in && chomp == "|-" {
		content = strings.TrimSuffix(content, "\n")
	}
	flush()

	if _, err := exec.LookPath("python3"); err != nil {
		return files
	}
	const script = `
import base64, json, sys
try:
    import yaml
except ImportError:
    print("null"); sys.exit(0)
d = yaml.safe_load(sys.stdin)
out = {}
for f in d["write_files"]:
    c = f["content"]
    if f.get("encoding") == "b64":
        c = base64.b64decode(c).decode("utf-8")
    out[f["path"]] = c
print(json.dumps(out))
`
	cmd := exec.Command("python3", "-c", script)
	cmd.Stdin = strings.NewReader(doc)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("PyYAML cannot read the document: %v\n%s", err, doc)
	}
	var py map[string]string
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatal(err)
	}
	if py != nil && !maps.Equal(py, files) {
		t.Fatalf("PyYAML reads %q, the test's reader %q", py, files)
	}
	return files
}

func TestRenderRunCommandDocument(t *testing.T) {
	var doc struct {
		SchemaVersion string `json:"schemaVersion"`
		MainSteps     []struct {
			Action string `json:"action"`
			Inputs struct {
				RunCommand []string `json:"runCommand"`
			} `json:"inputs"`
		} `json:"mainSteps"`
	}
	if err := json.Unmarshal([]byte(RenderRunCommandDocument(validPolicy())), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != "2.2" || len(doc.MainSteps) != 1 || doc.MainSteps[0].Action != "aws:runShellScript" {
		t.Fatalf("document: %+v", doc)
	}
	script := strings.Join(doc.MainSteps[0].Inputs.RunCommand, "\n")
	for _, want := range []string{"systemctl start clone-sync-web.service", "/usr/local/sbin/clone-sync-web"} {
		if !strings.Contains(script, want) {
			t.Errorf("runCommand lacks %q:\n%s", want, script)
		}
	}
}

// fakeClone is a clone as the agent sees it in AWS mode: a fake aws CLI,
// a fake rsync and a fake instance metadata service, no file overrides.
type fakeClone struct {
	dir, awsLog, rsyncLog string
	key                   []byte
	pub                   string
	p                     Policy
	env                   []string
}

// newFakeClone writes the fakes; rsync runs rsyncBody after logging its
// argv.
func newFakeClone(t *testing.T, rsyncBody string) *fakeClone {
	t.Helper()
	requireTools(t, "bash", "python3", "curl", "ssh-keygen")
	dir := plainTempDir(t)
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			_, _ = w.Write([]byte("tok"))
		case r.Header.Get("X-aws-ec2-metadata-token") != "tok":
			http.Error(w, "no token", http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/instance-id":
			_, _ = w.Write([]byte("i-0123456789abcdef0"))
		case r.URL.Path == "/latest/meta-data/placement/region":
			_, _ = w.Write([]byte("eu-west-1"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(imds.Close)
	key, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeClone{dir: dir, awsLog: filepath.Join(dir, "aws.log"), rsyncLog: filepath.Join(dir, "rsync.log"), key: key, pub: pub}
	writeTestFile(t, filepath.Join(dir, "key.pem"), string(key), 0o600)
	writeTestFile(t, filepath.Join(dir, "master.env"), "MASTER_INSTANCE_ID=i-1\nMASTER_ADDRESS=10.9.8.7\n", 0o644)
	bin := filepath.Join(dir, "bin")
	writeTestFile(t, filepath.Join(bin, "aws"), `#!/bin/sh
printf '%s ' "$@" >>`+c.awsLog+`
echo >>`+c.awsLog+`
case " $* " in
*" get-parameter --name /clone/web/paths "*) cat `+filepath.Join(dir, "paths.json")+` ;;
*" get-parameter --name /clone/web/key "*) cat `+filepath.Join(dir, "key.pem")+` ;;
*" complete-lifecycle-action "*) ;;
*) exit 1 ;;
esac
`, 0o700)
	writeTestFile(t, filepath.Join(bin, "rsync"), `#!/bin/sh
printf '%s\n' "$@" >>`+c.rsyncLog+`
`+rsyncBody, 0o700)

	c.p = validPolicy()
	c.p.MasterAddress = ""
	c.p.MasterEnvFile = filepath.Join(dir, "master.env")
	c.p.StatusFile = filepath.Join(dir, "state", "status.json")
	c.p.LifecycleHookName, c.p.AutoScalingGroupName = "launch", "web-pool"
	writeTestFile(t, filepath.Join(dir, "agent.sh"), RenderAgentScript(c.p), 0o700)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "CLONE_SYNC_") && !strings.HasPrefix(kv, "PATH=") {
			c.env = append(c.env, kv)
		}
	}
	c.env = append(c.env, "PATH="+bin+":"+os.Getenv("PATH"), "CLONE_SYNC_IMDS_ENDPOINT="+imds.URL, "CLONE_SYNC_RUN_DIR="+filepath.Join(dir, "run"))
	c.writePaths(t, pub)
	return c
}

// writePaths writes the path list for the key whose public half is pub.
func (c *fakeClone) writePaths(t *testing.T, pub string) {
	t.Helper()
	fp, err := KeyFingerprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := PathsJSON([]Path{{Source: "/srv/app/www", Destination: filepath.Join(c.dir, "www")}}, fp)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(c.dir, "paths.json"), doc, 0o600)
}

// run runs the agent once and returns its exit code and output.
func (c *fakeClone) run(t *testing.T) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(c.dir, "agent.sh"))
	cmd.Env = c.env
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

func (c *fakeClone) status(t *testing.T) (agentStatus, []byte) {
	t.Helper()
	s, err := os.ReadFile(c.p.StatusFile)
	if err != nil {
		t.Fatal(err)
	}
	var status agentStatus
	if err := json.Unmarshal(s, &status); err != nil {
		t.Fatal(err)
	}
	return status, s
}

const completeHook = "--region eu-west-1 autoscaling complete-lifecycle-action --lifecycle-hook-name launch --auto-scaling-group-name web-pool --lifecycle-action-result CONTINUE --instance-id i-0123456789abcdef0 \n"

// TestAgentAWSMode runs the agent without file overrides against a fake aws
// CLI, a fake rsync and a fake instance metadata service: first with a key
// from another rotation than the path list, which must sync nothing and
// leave the lifecycle hook alone, then with the matching key.
func TestAgentAWSMode(t *testing.T) {
	c := newFakeClone(t, `echo "Total bytes received: 1,234"
`)
	_, otherPub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	getParameters := "--region eu-west-1 ssm get-parameter --name /clone/web/paths --with-decryption --query Parameter.Value --output text \n" +
		"--region eu-west-1 ssm get-parameter --name /clone/web/key --with-decryption --query Parameter.Value --output text \n"

	c.writePaths(t, otherPub)
	if code, out := c.run(t); code != 75 {
		t.Fatalf("agent with a key of another rotation exited %d, want 75\n%s", code, out)
	}
	// The refused run reads the parameters, then tags the instance with
	// why its first sync failed, for the apply waiting on it.
	tagReason := getParameters + `--region eu-west-1 ec2 create-tags --resources i-0123456789abcdef0 --tags [{"Key": "clone:first-sync", "Value": "key and path list are from different rotations; retrying next run`
	if calls, _ := os.ReadFile(c.awsLog); !strings.HasPrefix(string(calls), tagReason) || strings.Count(string(calls), "\n") != 3 {
		t.Errorf("aws calls of the refused run:\n%s\nwant:\n%s...", calls, tagReason)
	}
	if _, err := os.Stat(c.rsyncLog); !os.IsNotExist(err) {
		t.Errorf("the refused run invoked rsync: %v", err)
	}
	if status, s := c.status(t); status.ExitCode != 75 || status.LastSuccess != nil || status.LifecycleHook == "completed" ||
		status.Reason == nil || !strings.HasPrefix(*status.Reason, "key and path list are from different rotations; retrying next run") {
		t.Errorf("status of the refused run: %s", s)
	}
	for _, f := range []string{"key", "key.pub", "paths.fields", "paths.fingerprint"} {
		if _, err := os.Stat(filepath.Join(c.dir, "run", f)); !os.IsNotExist(err) {
			t.Errorf("%s outlived the refused run: %v", f, err)
		}
	}

	c.writePaths(t, c.pub)
	if err := os.Remove(c.awsLog); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if code, out := c.run(t); code != 0 {
			t.Fatalf("agent exited %d\n%s", code, out)
		}
	}

	calls, _ := os.ReadFile(c.awsLog)
	if wantCalls := getParameters + completeHook + getParameters; string(calls) != wantCalls {
		t.Errorf("aws calls:\n%s\nwant:\n%s", calls, wantCalls)
	}
	argv, _ := os.ReadFile(c.rsyncLog)
	if !strings.Contains(string(argv), "\nclone-sync@10.9.8.7:./\n"+filepath.Join(c.dir, "www")+"/\n") {
		t.Errorf("rsync did not pull from the env file's master address:\n%s", argv)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "run", "key")); !os.IsNotExist(err) {
		t.Errorf("the private key outlived the run: %v", err)
	}
	if status, s := c.status(t); status.ExitCode != 0 || status.BytesTransferred != 1234 || status.LifecycleHook != "completed" ||
		status.LastSuccess == nil || status.Reason != nil {
		t.Errorf("status: %s", s)
	}
}

// TestAgentVanishedFilesCompleteTheHook: on a live site rsync's exit 24
// ("some files vanished before they could be transferred") is routine. The
// first sync that ends with it succeeds, completes the lifecycle hook, and
// says so as a warning in the status file.
func TestAgentVanishedFilesCompleteTheHook(t *testing.T) {
	c := newFakeClone(t, `echo "file has vanished: \"/srv/app/www/tmp/upload.part\"" >&2
echo "Total bytes received: 99"
exit 24
`)
	if code, out := c.run(t); code != 0 {
		t.Fatalf("agent exited %d after rsync's exit 24, want 0\n%s", code, out)
	}
	if calls, _ := os.ReadFile(c.awsLog); !strings.Contains(string(calls), completeHook) {
		t.Errorf("the lifecycle hook was not completed; aws calls:\n%s", calls)
	}
	status, s := c.status(t)
	if status.ExitCode != 0 || status.LifecycleHook != "completed" || status.LastSuccess == nil || status.BytesTransferred != 99 ||
		len(status.Warnings) != 1 || !strings.Contains(status.Warnings[0], "vanished") {
		t.Errorf("status: %s", s)
	}
}

type agentStatus struct {
	Policy           string   `json:"policy"`
	LastRun          string   `json:"last_run"`
	LastSuccess      *string  `json:"last_success"`
	ExitCode         int      `json:"exit_code"`
	BytesTransferred int64    `json:"bytes_transferred"`
	LifecycleHook    string   `json:"lifecycle_hook"`
	Reason           *string  `json:"reason"`
	Warnings         []string `json:"warnings"`
}

func writeTestFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// TestAgentNamesMissingTools: on an image without rsync or the AWS CLI the
// agent stops at once, names each missing tool, and leaves the hook alone.
func TestAgentNamesMissingTools(t *testing.T) {
	c := newFakeClone(t, "exit 0\n")
	// A PATH holding only what the agent's shell itself runs, python3 and
	// curl: no rsync, ssh, ssh-keygen or aws.
	bin := filepath.Join(c.dir, "bare")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// python3 may be a version manager's shim that needs more on PATH:
	// link the interpreter itself.
	python, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(strings.TrimSpace(string(python)), filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"mkdir", "rm", "cat", "flock", "curl"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			continue
		}
		if err := os.Symlink(path, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	for i, kv := range c.env {
		if strings.HasPrefix(kv, "PATH=") {
			c.env[i] = "PATH=" + bin
		}
	}
	cmd := exec.Command("/bin/bash", filepath.Join(c.dir, "agent.sh"))
	cmd.Env = c.env
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 {
		t.Fatalf("agent exited %d, want 2\n%s", code, out)
	}
	status, s := c.status(t)
	if status.Reason == nil || !strings.Contains(*status.Reason, "missing tools on this image: rsync ssh ssh-keygen aws") || status.LifecycleHook == "completed" {
		t.Errorf("status: %s", s)
	}
	if _, err := os.Stat(c.awsLog); !os.IsNotExist(err) {
		t.Errorf("the agent called the AWS CLI: %v", err)
	}
}
