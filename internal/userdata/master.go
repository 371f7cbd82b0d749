package userdata

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strings"
)

// MasterPartFilename names the cloud-config part MasterParts renders.
const MasterPartFilename = "clone-master.cfg"

// MasterSettings tells clones where their master is and which of the
// master's services they must not run.
type MasterSettings struct {
	Address         string
	InstanceID      string
	EnvFile         string
	DisableServices []string
}

var (
	instanceIDRE  = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)
	serviceNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9:_.@-]*$`)
)

const maxUnitNameLen = 255

// disableServiceScript stops, disables and masks the unit named $1 on a
// clone, every boot, and never fails the boot:
//   - an alias (mysql.service linking to mariadb.service) is resolved to
//     its real unit through the alias symlink in the unit directories:
//     masking the alias name fails ("already exists and is a symlink") and
//     leaves the real unit enabled;
//   - when a unit file of that name in /etc blocks the mask ("already
//     exists"), a runtime drop-in makes the unit refuse to start for this
//     boot, re-applied on every boot.
//
// https://www.freedesktop.org/software/systemd/man/latest/systemctl.html#mask%20UNIT%E2%80%A6
// https://www.freedesktop.org/software/systemd/man/latest/systemd.unit.html#ConditionArchitecture=
const disableServiceScript = `n=$1; case $n in *.*) ;; *) n=$n.service;; esac
u=$n
for d in /etc/systemd/system /run/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
if [ -L "$d/$n" ]; then t=$(readlink "$d/$n"); [ "$t" = /dev/null ] || u=${t##*/}; break; fi
[ -e "$d/$n" ] && break
done
systemctl disable --now -- "$u" >/dev/null 2>&1
if ! systemctl mask -- "$u" 2>/dev/null; then
d=/run/systemd/system/$u.d; mkdir -p "$d"
printf '[Unit]\nRefuseManualStart=yes\nConditionNull=false\n' >"$d/50-clone-disable.conf"
systemctl daemon-reload >/dev/null 2>&1
fi
exit 0`

// MasterParts renders the cloud-config part that writes the master's address
// to EnvFile and disables and masks DisableServices on every boot. It returns
// no part when there is nothing to render.
func MasterParts(m MasterSettings) ([]Part, error) {
	services, err := validateServices(m.DisableServices)
	if err != nil {
		return nil, err
	}
	if m.EnvFile != "" {
		if err := validateEnvFile(m.EnvFile); err != nil {
			return nil, err
		}
		if _, err := netip.ParseAddr(m.Address); err != nil {
			return nil, fmt.Errorf("master address %q is not an IP address", m.Address)
		}
		if !instanceIDRE.MatchString(m.InstanceID) {
			return nil, fmt.Errorf("master instance id %q is not an EC2 instance id", m.InstanceID)
		}
	}
	if m.EnvFile == "" && len(services) == 0 {
		return nil, nil
	}

	var b strings.Builder
	b.WriteString("#cloud-config\n")
	if len(services) > 0 {
		b.WriteString("bootcmd:\n")
		for _, s := range services {
			fmt.Fprintf(&b, "  - [sh, -c, %s, disable-service, %s]\n", quote(disableServiceScript), quote(s))
		}
	}
	if m.EnvFile != "" {
		env := fmt.Sprintf("MASTER_ADDRESS=%s\nMASTER_INSTANCE_ID=%s\n", m.Address, m.InstanceID)
		b.WriteString("write_files:\n")
		fmt.Fprintf(&b, "  - path: %s\n", quote(m.EnvFile))
		b.WriteString("    owner: \"root:root\"\n")
		b.WriteString("    permissions: \"0644\"\n")
		fmt.Fprintf(&b, "    content: %s\n", quote(env))
	}
	return []Part{{Filename: MasterPartFilename, ContentType: ContentTypeCloudConfig, Content: b.String()}}, nil
}

func validateServices(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if len(n) > maxUnitNameLen || !serviceNameRE.MatchString(n) {
			return nil, fmt.Errorf("invalid systemd unit name %q: use letters, digits, ':', '_', '.', '@' and '-', not starting with '-' or '.'", n)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

func validateEnvFile(p string) error {
	switch {
	case !path.IsAbs(p):
		return fmt.Errorf("env file %q must be an absolute path", p)
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("env file %q must not contain control characters", p)
	case path.Clean(p) != p || p == "/":
		return fmt.Errorf("env file %q must be a clean path to a file, without '..', '//' or a trailing '/'", p)
	}
	return nil
}

// quote renders s as a YAML double-quoted scalar; JSON strings are valid ones.
func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

var (
	envFilePathRE = regexp.MustCompile(`(?m)^  - path: (".*")$`)
	disabledRE    = regexp.MustCompile(`(?m), disable-service, (".*")\]$`)
)

// parseMasterPart reads back the env file and the disabled services from a
// part MasterParts rendered.
func parseMasterPart(content string) (envFile string, services []string) {
	if m := envFilePathRE.FindStringSubmatch(content); m != nil {
		_ = json.Unmarshal([]byte(m[1]), &envFile)
	}
	for _, m := range disabledRE.FindAllStringSubmatch(content, -1) {
		var s string
		if json.Unmarshal([]byte(m[1]), &s) == nil {
			services = append(services, s)
		}
	}
	return envFile, services
}
