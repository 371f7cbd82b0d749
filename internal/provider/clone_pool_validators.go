package provider

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

// The clone_pool resource's validators: the patterns of its single
// attributes, the names checked by the packages that own them, and the
// checks across attributes ValidateConfig runs.

// Auto Scaling's fixed quotas of load balancers one group may have attached:
// 50 Elastic Load Balancing target groups and 50 Classic Load Balancers
// (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-quotas.html).
const (
	maxPoolTargetGroups = 50
	maxPoolClassicELBs  = 50
)

var (
	subnetIDRegexp       = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	securityGroupRegexp  = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	instanceTypeRegexp   = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)
	targetGroupARNRegexp = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[a-zA-Z0-9-]{1,32}/[0-9a-f]{16}$`)
	// The write rule routes by path, which only Application Load Balancer
	// listeners do: a Network Load Balancer listener has no rules
	// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html).
	listenerARNRegexp = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener/app/[a-zA-Z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}$`)
	// sha256HexRegexp is a hex SHA-256, as clone_sync_policy's agent_sha256.
	sha256HexRegexp      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	classicELBNameRegexp = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)
	profileRegexp        = regexp.MustCompile(`^(arn:aws[a-z-]*:iam::\d{12}:instance-profile/[\w+=,.@/-]+|[\w+=,.@-]{1,128})$`)
	// An ALB path pattern: up to 128 of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + &
	// and the wildcards * and ?
	// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html#path-conditions).
	pathPatternRegexp = regexp.MustCompile(`^[A-Za-z0-9_\-.$/~"'@:+&*?]{1,128}$`)
	// absolutePathRegexp is a clean absolute path to a file, as
	// internal/userdata renders the env file: no empty, "." or ".."
	// element and no trailing "/".
	absolutePathRegexp = regexp.MustCompile(`^(/([^/.\x00-\x1f\x7f][^/\x00-\x1f\x7f]*|\.[^/.\x00-\x1f\x7f][^/\x00-\x1f\x7f]*|\.\.[^/\x00-\x1f\x7f]+))+$`)
	unitNameRegexp     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9:_.@-]{0,254}$`)
	scheduleNameRegexp = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?$`)
	// A Unix cron expression of five fields, as Auto Scaling's Recurrence
	// takes it: digits, names (MON, JAN), and * , - /
	// (https://docs.aws.amazon.com/autoscaling/ec2/userguide/scheduled-scaling-recurring-schedules.html).
	recurrenceRegexp = regexp.MustCompile(`^[0-9A-Za-z*,/-]+( +[0-9A-Za-z*,/-]+){4}$`)
)

// poolNameCheck and syncPolicyIDCheck are the name rules of internal/pool
// and internal/syncagent, so a plan accepts exactly what they do; a pool
// name also needs the 3 characters a launch template name takes at least.
var (
	poolNameCheck     = stringCheck{"Invalid Clone Pool name", "must be 3-64 letters, digits and hyphens, not starting or ending with a hyphen", validatePoolName}
	syncPolicyIDCheck = stringCheck{"Invalid sync policy id", "must be a clone_sync_policy id", syncagent.ValidateName}
)

// minPoolNameLen: the launch template is named after the pool, and a launch
// template name takes 3-128 characters
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html).
const minPoolNameLen = 3

func validatePoolName(name string) error {
	if err := pool.ValidateName(name); err != nil {
		return err
	}
	if len(name) < minPoolNameLen {
		return fmt.Errorf("pool name %q names the pool's launch template, and a launch template name has at least %d characters", name, minPoolNameLen)
	}
	return nil
}

type attrError struct {
	path path.Path
	msg  string
}

// validateSizes checks min <= max and min <= desired <= max for the known values.
func validateSizes(minSize, maxSize, desired types.Int64) []attrError {
	var errs []attrError
	known := func(v types.Int64) bool { return !v.IsNull() && !v.IsUnknown() }
	if known(minSize) && known(maxSize) && minSize.ValueInt64() > maxSize.ValueInt64() {
		errs = append(errs, attrError{path.Root("min_size"),
			fmt.Sprintf("min_size (%d) must not exceed max_size (%d).", minSize.ValueInt64(), maxSize.ValueInt64())})
	}
	if known(desired) {
		d := desired.ValueInt64()
		if (known(minSize) && d < minSize.ValueInt64()) || (known(maxSize) && d > maxSize.ValueInt64()) {
			errs = append(errs, attrError{path.Root("desired_capacity"),
				fmt.Sprintf("desired_capacity (%d) must lie within [min_size, max_size] = [%s, %s].", d, minSize, maxSize)})
		}
	}
	return errs
}

// validateSchedules checks min <= desired <= max within each schedule and
// that no two schedules get the same scheduled action name.
func validateSchedules(scaling *clonePoolScalingModel) []attrError {
	if scaling == nil {
		return nil
	}
	var errs []attrError
	seen := map[string]int{}
	for i, sc := range scaling.Schedule {
		at := path.Root("scaling").AtName("schedule").AtListIndex(i)
		for _, e := range validateSizes(sc.MinSize, sc.MaxSize, sc.DesiredCapacity) {
			errs = append(errs, attrError{at.AtName(e.path.String()), e.msg})
		}
		if sc.MinSize.IsNull() && sc.MaxSize.IsNull() && sc.DesiredCapacity.IsNull() {
			errs = append(errs, attrError{at, "A schedule sets at least one of min_size, max_size and desired_capacity."})
		}
		if sc.Name.IsUnknown() {
			continue
		}
		key := pool.ScheduleKey(sc.Name.ValueString(), i)
		if j, dup := seen[key]; dup {
			errs = append(errs, attrError{at.AtName("name"),
				fmt.Sprintf("schedules %d and %d would both be named %q; give each schedule a distinct name.", j, i, key)})
		}
		seen[key] = i
	}
	return errs
}
