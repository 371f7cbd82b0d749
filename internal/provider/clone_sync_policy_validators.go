package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
)

// The clone_sync_policy's validators. Single values are checked by the
// syncagent and syncstore functions the apply relies on; what needs
// several attributes is checked by validateSyncPolicyConfig.

func syncPolicyNameValidators() []validator.String {
	return []validator.String{stringCheck{"Invalid sync policy name", "must be a valid sync policy name", syncagent.ValidateName}}
}

func syncMasterInstanceIDValidators() []validator.String {
	return []validator.String{stringvalidator.RegexMatches(instanceIDRegexp, "must be an EC2 instance id such as i-0123456789abcdef0")}
}

func syncPathsValidators() []validator.List {
	return []validator.List{listvalidator.SizeBetween(1, 64)}
}

func syncPathValidators() []validator.String {
	return []validator.String{stringCheck{"Invalid sync path", "must be an absolute path without '..', control characters, shell or glob characters", validateSyncPath}}
}

func syncExcludeValidators() []validator.List {
	return []validator.List{
		listvalidator.SizeAtMost(100),
		listvalidator.ValueStringsAre(stringCheck{"Invalid exclude pattern", "must be a non-empty pattern without NUL, newline, carriage return or shell characters", validateSyncExclude}),
	}
}

// Characters a POSIX shell gives a meaning (command substitution, lists,
// pipes, redirection, quoting, grouping), and the glob characters.
const (
	shellChars = "`$;|&<>\\\"'(){}"
	globChars  = "*?["
)

// validateSyncPath is syncagent.ValidatePath, and refuses shell and glob
// characters. The agent passes paths as arguments and the master's forced
// command quotes its root, so none of them reaches a shell as text; a
// directory to mirror needs none of them, and refusing them keeps it so.
// A glob would be taken literally, not expanded.
func validateSyncPath(p string) error {
	if err := syncagent.ValidatePath(p); err != nil {
		return err
	}
	if i := strings.IndexAny(p, shellChars+globChars); i >= 0 {
		return fmt.Errorf("path %q must not contain %q: shell and glob characters are refused in sync paths", p, p[i:i+1])
	}
	return nil
}

// validateSyncExclude is syncagent.ValidateExclude, and refuses the shell
// characters that do not occur in rsync patterns (backslash, quotes,
// parentheses and braces may name files, and globs are what patterns are for).
func validateSyncExclude(p string) error {
	if err := syncagent.ValidateExclude(p); err != nil {
		return err
	}
	if i := strings.IndexAny(p, "`$;|&<>"); i >= 0 {
		return fmt.Errorf("exclude pattern %q must not contain %q: shell characters are refused in exclude patterns", p, p[i:i+1])
	}
	return nil
}

func syncIntervalValidators() []validator.String {
	return []validator.String{durationBetween(syncagent.MinInterval, 0)}
}

func syncBandwidthValidators() []validator.Int64 {
	return []validator.Int64{int64validator.Any(
		int64validator.OneOf(0),
		int64validator.Between(syncagent.MinBandwidthLimitKbps, 100_000_000),
	)}
}

func syncSSHUserValidators() []validator.String {
	return []validator.String{stringCheck{"Invalid SSH user", "must be a POSIX user name", syncagent.ValidateSSHUser}}
}

func syncSSHPortValidators() []validator.Int64 {
	return []validator.Int64{int64validator.Between(1, 65535)}
}

func syncKMSKeyValidators() []validator.String {
	return []validator.String{stringCheck{"Invalid KMS key", "must be a KMS key id, alias or ARN", syncstore.ValidateKMSKeyID}}
}

// validateSyncPolicyConfig checks what single attributes cannot: that the
// sources share a root, and that the whole policy renders. Values that
// fail their own validators are left to those.
func validateSyncPolicyConfig(ctx context.Context, cfg cloneSyncPolicyResourceModel) diag.Diagnostics {
	paths, known, diags := expandSyncPaths(ctx, cfg.Paths)
	if !known || diags.HasError() || len(paths) == 0 {
		return diags
	}
	for _, p := range paths {
		if validateSyncPath(p.Source) != nil || validateSyncPath(p.Destination) != nil {
			return diags
		}
		for _, e := range p.Exclude {
			if validateSyncExclude(e) != nil {
				return diags
			}
		}
	}
	if err := syncagent.ValidatePaths(paths); err != nil {
		diags.AddAttributeError(path.Root("paths"), "Invalid sync paths", fmt.Sprintf("paths: %s.", err))
		return diags
	}

	p, ok := cfg.agentPolicy("")
	if !ok {
		return diags
	}
	if syncagent.ValidateName(p.Name) != nil || syncagent.ValidateSSHUser(p.SSHUser) != nil ||
		syncagent.ValidateInterval(p.Interval) != nil {
		return diags
	}
	if err := p.Validate(); err != nil {
		diags.AddError(fmt.Sprintf("Invalid Clone Sync Policy (%s)", p.Name), err.Error())
	}
	return diags
}
