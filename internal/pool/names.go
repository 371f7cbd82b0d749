// Package pool finds, creates, waits for and deletes the AWS objects a clone
// pool is made of: the launch template, the Auto Scaling group, the
// master-only target group with its listener rule, and the master's recovery
// alarm. It knows nothing about Terraform.
package pool

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Tags the pool puts on what it creates.
const (
	TagPool   = "clone:pool"
	TagMaster = "clone:master"
)

// maxNameLen keeps every derived name within the limits of the services:
// target group names are the shortest at 32 characters.
const (
	MaxNameLen       = 64
	maxTargetNameLen = 32
)

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$`)

// ValidateName checks a pool name can name every object the pool creates.
func ValidateName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLen || !nameRE.MatchString(name) {
		return fmt.Errorf("pool name %q: use 1-%d letters, digits and hyphens, not starting or ending with a hyphen", name, MaxNameLen)
	}
	return nil
}

// Names are the deterministic names of the objects a pool owns.
type Names struct {
	Group             string
	LaunchTemplate    string
	MasterTargetGroup string
	RecoveryAlarm     string
}

// NamesFor derives every object name from the pool name.
func NamesFor(pool string) Names {
	return Names{
		Group:             pool,
		LaunchTemplate:    pool,
		MasterTargetGroup: shortName(pool, "master", maxTargetNameLen),
		RecoveryAlarm:     pool + "-master-recovery",
	}
}

// shortName returns name-suffix when it fits in limit, otherwise a cut name
// with a hash of the full one, so two long pool names never collide.
func shortName(name, suffix string, limit int) string {
	if n := name + "-" + suffix; len(n) <= limit {
		return n
	}
	sum := sha256.Sum256([]byte(name))
	hash := hex.EncodeToString(sum[:])[:8]
	keep := limit - len(suffix) - len(hash) - 2
	return strings.TrimRight(name[:keep], "-") + "-" + hash + "-" + suffix
}
