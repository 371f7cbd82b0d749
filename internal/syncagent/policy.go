package syncagent

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	DefaultSSHUser       = "clone-sync"
	DefaultSSHPort       = 22
	DefaultStatusFile    = "/var/lib/clone-sync/status.json"
	DefaultMasterEnvFile = "/etc/clone/master.env"
	MinInterval          = time.Minute

	// MinBandwidthLimitKbps is the smallest non-zero limit: rsync refuses
	// anything below 512 bytes per second.
	MinBandwidthLimitKbps = 5
)

// Path is one directory mirrored from the master to every clone: after a
// run, Destination on the clone holds the contents of Source on the master
// (rsync's "source/ destination/").
type Path struct {
	Source      string
	Destination string
	// Exclude holds rsync patterns, each applied as a literal exclude rule
	// ("--filter=- PATTERN"), so a pattern starting with "+ " or "! " is not
	// reinterpreted as another rule.
	Exclude []string
	// Delete removes files on the clone that no longer exist on the master.
	// Excluded files are never deleted.
	Delete bool
}

// Policy is everything the agent on a clone needs besides the path list,
// which it reads from PathsParameter on every run.
type Policy struct {
	Name string
	// MasterAddress is a host name or IP address. When empty the agent reads
	// MASTER_ADDRESS from MasterEnvFile on every run.
	MasterAddress string
	MasterEnvFile string
	SSHUser       string
	SSHPort       int
	Interval      time.Duration
	// BandwidthLimitKbps is in kilobits (1000 bits) per second; 0 means
	// unlimited.
	BandwidthLimitKbps int
	Paths              []Path
	// PathsParameter names the SSM parameter holding PathsJSON(Paths).
	PathsParameter string
	// KeyParameter names the SSM SecureString holding the private key.
	KeyParameter string
	StatusFile   string
	// LifecycleHookName and AutoScalingGroupName name the launch lifecycle
	// hook the agent completes after the first successful sync of a boot.
	// Leave both empty when the pool has no hook.
	LifecycleHookName    string
	AutoScalingGroupName string
}

var (
	namePattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	userPattern      = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	hostPattern      = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$`)
	parameterPattern = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`)
	plainPathPattern = regexp.MustCompile(`^(/[A-Za-z0-9_.-]+)+$`)
)

// ValidatePath checks a source or destination path. Besides the obvious
// (absolute, no ".."), it refuses control characters and whitespace other
// than plain spaces: rrsync on the master splits the forwarded rsync command
// at any whitespace rsync does not escape.
func ValidatePath(p string) error {
	switch {
	case p == "":
		return errors.New("path must not be empty")
	case !utf8.ValidString(p):
		return fmt.Errorf("path %q must be valid UTF-8", p)
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q must be absolute (start with /)", p)
	}
	for _, r := range p {
		if unicode.IsControl(r) || (unicode.IsSpace(r) && r != ' ') {
			return fmt.Errorf("path %q must not contain control characters (NUL, newline, carriage return, tab, ...) or whitespace other than spaces", p)
		}
	}
	elems := pathElems(p)
	for _, e := range strings.Split(p, "/") {
		if e == ".." {
			return fmt.Errorf("path %q must not contain a '..' element", p)
		}
	}
	if len(elems) == 0 {
		return fmt.Errorf("path %q must not be the root directory", p)
	}
	return nil
}

// ValidateExclude checks one exclude pattern. Patterns travel inside the
// rsync protocol, so only characters that end a filter rule are refused.
func ValidateExclude(p string) error {
	switch {
	case p == "":
		return errors.New("exclude pattern must not be empty")
	case !utf8.ValidString(p):
		return fmt.Errorf("exclude pattern %q must be valid UTF-8", p)
	case strings.ContainsAny(p, "\x00\n\r"):
		return fmt.Errorf("exclude pattern %q must not contain NUL, newline or carriage return", p)
	}
	return nil
}

// ValidateInterval checks the time between two syncs.
func ValidateInterval(d time.Duration) error {
	if d < MinInterval {
		return fmt.Errorf("interval %s is too short: the minimum is %s", d, MinInterval)
	}
	return nil
}

// ValidateName checks a policy name; it becomes part of file and systemd
// unit names on the clone.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("name %q must be 1-64 characters of letters, digits, '.', '_' and '-', starting with a letter or digit", name)
	}
	return nil
}

// ValidateMasterAddress checks a host name or an IPv4/IPv6 address.
func ValidateMasterAddress(addr string) error {
	if net.ParseIP(addr) != nil || (len(addr) <= 253 && hostPattern.MatchString(addr)) {
		return nil
	}
	return fmt.Errorf("master address %q must be a host name or an IP address", addr)
}

// ValidateSSHUser checks a POSIX account name.
func ValidateSSHUser(user string) error {
	if !userPattern.MatchString(user) {
		return fmt.Errorf("ssh user %q must be a POSIX user name (lower-case letters, digits, '_' and '-', at most 32 characters)", user)
	}
	return nil
}

// ValidatePaths checks every path and exclude and that the sources share a
// directory below "/" (see SyncRoot).
func ValidatePaths(paths []Path) error {
	_, err := pathsRoot(paths)
	return err
}

// pathsRoot validates paths like ValidatePaths and returns their SyncRoot.
func pathsRoot(paths []Path) (string, error) {
	if len(paths) == 0 {
		return "", errors.New("at least one path is required")
	}
	for i, p := range paths {
		if err := ValidatePath(p.Source); err != nil {
			return "", fmt.Errorf("paths[%d].source: %w", i, err)
		}
		if err := ValidatePath(p.Destination); err != nil {
			return "", fmt.Errorf("paths[%d].destination: %w", i, err)
		}
		for j, e := range p.Exclude {
			if err := ValidateExclude(e); err != nil {
				return "", fmt.Errorf("paths[%d].exclude[%d]: %w", i, j, err)
			}
		}
	}
	return SyncRoot(Sources(paths))
}

// Sources returns the source of every path, in order.
func Sources(paths []Path) []string {
	sources := make([]string, 0, len(paths))
	for _, p := range paths {
		sources = append(sources, p.Source)
	}
	return sources
}

// WithDefaults returns p with empty optional fields set to their defaults.
func (p Policy) WithDefaults() Policy {
	if p.SSHUser == "" {
		p.SSHUser = DefaultSSHUser
	}
	if p.SSHPort == 0 {
		p.SSHPort = DefaultSSHPort
	}
	if p.StatusFile == "" {
		p.StatusFile = DefaultStatusFile
	}
	if p.MasterEnvFile == "" {
		p.MasterEnvFile = DefaultMasterEnvFile
	}
	return p
}

// Validate checks a policy after WithDefaults. Paths may be empty: the agent
// reads them from PathsParameter, not from the rendered script.
func (p Policy) Validate() error {
	if err := ValidateName(p.Name); err != nil {
		return err
	}
	if p.MasterAddress != "" {
		if err := ValidateMasterAddress(p.MasterAddress); err != nil {
			return err
		}
	}
	if err := ValidateSSHUser(p.SSHUser); err != nil {
		return err
	}
	if p.SSHPort < 1 || p.SSHPort > 65535 {
		return fmt.Errorf("ssh port %d must be between 1 and 65535", p.SSHPort)
	}
	if err := ValidateInterval(p.Interval); err != nil {
		return err
	}
	if p.BandwidthLimitKbps < 0 || (p.BandwidthLimitKbps > 0 && p.BandwidthLimitKbps < MinBandwidthLimitKbps) {
		return fmt.Errorf("bandwidth limit %d kbps must be 0 (unlimited) or at least %d", p.BandwidthLimitKbps, MinBandwidthLimitKbps)
	}
	if len(p.Paths) > 0 {
		if err := ValidatePaths(p.Paths); err != nil {
			return err
		}
	}
	for what, v := range map[string]string{"paths parameter": p.PathsParameter, "key parameter": p.KeyParameter} {
		if len(v) > 2048 || !parameterPattern.MatchString(v) {
			return fmt.Errorf("%s %q must be an SSM parameter name (letters, digits, '_', '.', '-', '/')", what, v)
		}
	}
	for what, v := range map[string]string{"status file": p.StatusFile, "master env file": p.MasterEnvFile} {
		if !plainPathPattern.MatchString(v) || strings.Contains(v, "/../") || strings.HasSuffix(v, "/..") {
			return fmt.Errorf("%s %q must be an absolute path of letters, digits, '_', '.' and '-' without '..'", what, v)
		}
	}
	if (p.LifecycleHookName == "") != (p.AutoScalingGroupName == "") {
		return errors.New("lifecycle hook name and auto scaling group name must be set together")
	}
	for what, v := range map[string]string{"lifecycle hook name": p.LifecycleHookName, "auto scaling group name": p.AutoScalingGroupName} {
		if strings.ContainsAny(v, "\x00\n\r") || !utf8.ValidString(v) {
			return fmt.Errorf("%s %q must not contain NUL, newline or carriage return", what, v)
		}
	}
	return nil
}

// SyncRoot returns the directory the master's rrsync is confined to: the
// deepest directory containing every source. A single source is its own
// root. Sources whose only common ancestor is "/" are refused, because the
// key would then read the whole file system.
func SyncRoot(sources []string) (string, error) {
	if len(sources) == 0 {
		return "", errors.New("at least one source is required")
	}
	var common []string
	for i, s := range sources {
		if err := ValidatePath(s); err != nil {
			return "", err
		}
		elems := pathElems(s)
		if i == 0 {
			common = elems
			continue
		}
		n := 0
		for n < len(common) && n < len(elems) && common[n] == elems[n] {
			n++
		}
		common = common[:n]
	}
	if len(common) == 0 {
		return "", fmt.Errorf("sources %q share no directory below /: the read-only key would expose the whole file system of the master; put them under one directory", sources)
	}
	return "/" + strings.Join(common, "/"), nil
}

func pathElems(p string) []string {
	var elems []string
	for _, e := range strings.Split(p, "/") {
		if e != "" && e != "." {
			elems = append(elems, e)
		}
	}
	return elems
}

// PathsVersion is the version of the path document PathsJSON writes.
// Version 1 had no key fingerprint; ParsePathsJSON still reads it, the
// agent refuses it.
const PathsVersion = 2

var fingerprintPattern = regexp.MustCompile(`^SHA256:[A-Za-z0-9+/]{43}$`)

// ValidateKeyFingerprint checks a fingerprint as KeyFingerprint returns it.
func ValidateKeyFingerprint(fp string) error {
	if !fingerprintPattern.MatchString(fp) {
		return fmt.Errorf("key fingerprint %q must be a SHA256 fingerprint as ssh-keygen -l prints it (SHA256: and 43 base64 characters)", fp)
	}
	return nil
}

// pathsDocument is the JSON stored in the paths parameter. Root must equal
// the rrsync root of the authorized key on the master, and KeyFingerprint
// is that key's: a clone holding another key refuses to sync.
type pathsDocument struct {
	Version        int        `json:"version"`
	Root           string     `json:"root"`
	KeyFingerprint string     `json:"key_fingerprint,omitempty"`
	Paths          []pathJSON `json:"paths"`
}

type pathJSON struct {
	Source      string   `json:"source"`
	Destination string   `json:"destination"`
	Exclude     []string `json:"exclude"`
	Delete      bool     `json:"delete"`
}

// PathsJSON validates paths and renders the document the agent reads from
// the paths parameter: {"version":2,"root":...,"key_fingerprint":...,
// "paths":[...]}. keyFingerprint is KeyFingerprint of the public key
// installed for SyncRoot of the sources; the agent syncs only with the
// private key of that fingerprint.
func PathsJSON(paths []Path, keyFingerprint string) (string, error) {
	root, err := pathsRoot(paths)
	if err != nil {
		return "", err
	}
	if err := ValidateKeyFingerprint(keyFingerprint); err != nil {
		return "", err
	}
	doc := pathsDocument{Version: PathsVersion, Root: root, KeyFingerprint: keyFingerprint}
	for _, p := range paths {
		exclude := p.Exclude
		if exclude == nil {
			exclude = []string{}
		}
		doc.Paths = append(doc.Paths, pathJSON{Source: p.Source, Destination: p.Destination, Exclude: exclude, Delete: p.Delete})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("encoding the path list: %w", err)
	}
	return string(b), nil
}
