package syncagent

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

//go:embed agent.sh
var agentBody string

// ScriptPath is where RenderCloudInitPart installs the agent of policy name.
func ScriptPath(name string) string { return "/usr/local/sbin/clone-sync-" + name }

// UnitName is the systemd service (and, with ".timer", the timer) of policy
// name.
func UnitName(name string) string { return "clone-sync-" + name }

// RenderAgentScript renders the bash agent of p (after WithDefaults). The
// policy's settings are assigned to shell variables through ShellQuote; the
// path list and the key are read at run time and never become shell text.
// It panics on a policy that fails Validate: render only validated policies.
func RenderAgentScript(p Policy) string {
	p = mustValid(p)
	bw := int64(p.BandwidthLimitKbps) * 1000 / 8
	vars := []struct{ name, value string }{
		{"CS_NAME", p.Name},
		{"CS_MASTER_ADDRESS", p.MasterAddress},
		{"CS_MASTER_ENV_FILE", p.MasterEnvFile},
		{"CS_SSH_USER", p.SSHUser},
		{"CS_SSH_PORT", strconv.Itoa(p.SSHPort)},
		{"CS_BWLIMIT_BYTES", strconv.FormatInt(bw, 10)},
		{"CS_PATHS_PARAMETER", p.PathsParameter},
		{"CS_KEY_PARAMETER", p.KeyParameter},
		{"CS_STATUS_FILE", p.StatusFile},
		{"CS_LIFECYCLE_HOOK_NAME", p.LifecycleHookName},
		{"CS_AUTOSCALING_GROUP_NAME", p.AutoScalingGroupName},
	}
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&b, "# clone-sync agent of sync policy %s, rendered by terraform-provider-clone.\n", p.Name)
	b.WriteString("# It pulls the paths listed in the paths parameter from the master with rsync over ssh.\n")
	for _, v := range vars {
		fmt.Fprintf(&b, "%s=%s\n", v.name, ShellQuote(v.value))
	}
	b.WriteString("\n")
	b.WriteString(agentBody)
	return b.String()
}

// RenderCloudInitPart renders a "#cloud-config" document that installs the
// agent of p, a oneshot service and a timer running it every p.Interval, and
// starts the first sync at boot without waiting for the timer.
func RenderCloudInitPart(p Policy) string {
	p = mustValid(p)
	unit := UnitName(p.Name)
	secs := int64(p.Interval.Seconds())
	service := fmt.Sprintf(`[Unit]
Description=Sync files of policy %[1]s from the master
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=%[2]s
Nice=10
IOSchedulingClass=idle
`, p.Name, ScriptPath(p.Name))
	timer := fmt.Sprintf(`[Unit]
Description=Sync files of policy %[1]s from the master every %[2]ds

[Timer]
OnBootSec=%[2]ds
OnUnitActiveSec=%[2]ds
AccuracySec=5s
Unit=%[3]s.service

[Install]
WantedBy=timers.target
`, p.Name, secs, unit)

	var b strings.Builder
	b.WriteString("#cloud-config\n")
	b.WriteString("write_files:\n")
	writeFileEntry(&b, ScriptPath(p.Name), "0755", RenderAgentScript(p))
	writeFileEntry(&b, "/etc/systemd/system/"+unit+".service", "0644", service)
	writeFileEntry(&b, "/etc/systemd/system/"+unit+".timer", "0644", timer)
	b.WriteString("runcmd:\n")
	b.WriteString("  - [systemctl, daemon-reload]\n")
	fmt.Fprintf(&b, "  - [systemctl, enable, --now, %s.timer]\n", unit)
	fmt.Fprintf(&b, "  - [systemctl, start, --no-block, %s.service]\n", unit)
	return b.String()
}

// maxLineLen is the longest line a MIME part may carry as text (RFC 5322,
// 2.1.1); a part with a longer line must be base64-encoded as a whole.
const maxLineLen = 998

// contentIndent indents the lines of a write_files content block.
const contentIndent = "      "

// writeFileEntry renders one write_files entry. Content a YAML literal block can
// hold verbatim goes in as plain text, so the part stays readable, greppable
// and compressible, and no line gets longer than the content's own lines.
// Anything else goes in base64, folded to short lines (cloud-init's base64
// decoder skips the line breaks).
func writeFileEntry(b *strings.Builder, path, perm, content string) {
	fmt.Fprintf(b, "  - path: %s\n    owner: root:root\n    permissions: '%s'\n", path, perm)
	body, chomp := strings.CutSuffix(content, "\n")
	indicator := "|"
	if !chomp {
		indicator = "|-"
	}
	if !literalSafe(body) {
		b.WriteString("    encoding: b64\n")
		body = foldBase64(base64.StdEncoding.EncodeToString([]byte(content)))
		indicator = "|-"
	}
	fmt.Fprintf(b, "    content: %s\n", indicator)
	for line := range strings.SplitSeq(body, "\n") {
		if line != "" {
			b.WriteString(contentIndent)
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
}

// literalSafe tells whether body (content without its final line break)
// reads back unchanged from a literal block indented by contentIndent: not
// empty, printable ASCII and tabs only, its first line not starting with a
// space (that would change the block's indentation), no trailing empty line
// (the block's chomping would drop it) and no line too long for MIME text.
func literalSafe(body string) bool {
	if body == "" || body[0] == ' ' || body[0] == '\n' || strings.HasSuffix(body, "\n") {
		return false
	}
	lineLen := 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\n':
			lineLen = 0
			continue
		case c != '\t' && (c < 0x20 || c > 0x7e):
			return false
		}
		lineLen++
		if len(contentIndent)+lineLen > maxLineLen {
			return false
		}
	}
	return true
}

func foldBase64(s string) string {
	const width = 76
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width])
		b.WriteString("\n")
		s = s[width:]
	}
	b.WriteString(s)
	return b.String()
}

// RenderRunCommandDocument renders an SSM Command document (schema 2.2,
// aws:runShellScript) that runs the agent of p now, through its systemd
// unit when installed, so it never overlaps a timer run.
func RenderRunCommandDocument(p Policy) string {
	p = mustValid(p)
	unit := UnitName(p.Name) + ".service"
	doc := map[string]any{
		"schemaVersion": "2.2",
		"description":   "Sync now: run the clone-sync agent of policy " + p.Name + " on this clone.",
		"mainSteps": []any{map[string]any{
			"action": "aws:runShellScript",
			"name":   "syncNow",
			"inputs": map[string]any{
				"timeoutSeconds": "3600",
				"runCommand": []string{
					"set -e",
					"if systemctl cat " + unit + " >/dev/null 2>&1; then",
					"  systemctl start " + unit,
					"else",
					"  " + ScriptPath(p.Name),
					"fi",
				},
			},
		}},
	}
	var out strings.Builder
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		panic(fmt.Sprintf("encoding the run command document: %v", err))
	}
	return out.String()
}

func mustValid(p Policy) Policy {
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("syncagent: rendering invalid sync policy %q: %v", p.Name, err))
	}
	return p
}
