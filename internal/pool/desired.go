package pool

import (
	"time"

	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

// Desired is a pool as its configuration wants it, in plain values: the
// provider expands its plan into one, once, and hands it to Apply.
type Desired struct {
	Name     string
	Template TemplateInput
	// NewVersion says the launch template needs a new version (the plan
	// changed what a version holds). A pool without a template gets one
	// whatever NewVersion says.
	NewVersion bool
	// MinSize, MaxSize and DesiredCapacity are the group's sizes.
	MinSize, MaxSize, DesiredCapacity int64
	// ScalingOwnsCapacity keeps the desired capacity the group has now
	// (within the sizes): scaling policies and schedules set it, and the
	// configuration did not change it.
	ScalingOwnsCapacity bool
	SubnetIDs           []string
	TargetGroupARNs     []string // sorted
	ClassicELBNames     []string // sorted
	Master              *MasterSettings
	// SyncPolicyID names the pool's clone_sync_policy; empty for none.
	SyncPolicyID string
	// SyncAgent is the agent's cloud-init part rendered for this pool, set
	// when SyncPolicyID is and a new launch template version is made.
	SyncAgent *userdata.Part
	Scaling   *ScalingSettings
	Rolling   RollingSettings
	// Tags are tags_all: the configuration's and the provider's default tags.
	Tags map[string]string
	// WaitForHealthy waits for DesiredCapacity healthy clones in every load
	// balancer when the fleet changes.
	WaitForHealthy bool
	// RefreshFleet asks for the clones and their health in the result: the
	// plan did not know them.
	RefreshFleet bool
	// RecoverAction is the EC2 recover action's ARN for the master's alarm
	// (RecoverAction(partition, region)).
	RecoverAction string
}

// TemplateInput is what the configuration sets of a launch template
// version; Apply adds the image's root device and assembles the user data.
type TemplateInput struct {
	ImageID            string
	InstanceType       string
	KeyName            string
	IAMInstanceProfile string
	SecurityGroupIDs   []string // sorted
	// UserData is the user's own script or cloud-config, unencoded.
	UserData string
}

// MasterSettings are the master block.
type MasterSettings struct {
	InstanceID            string
	AttachToLoadBalancers bool
	// WritePaths, when not empty, are routed to the master by a listener
	// rule on ListenerARN at RulePriority; a zero RulePriority keeps the
	// rule's or takes the next free one on the listener.
	WritePaths      []string
	ListenerARN     string
	RulePriority    int64
	EnvFile         string
	DisableServices []string
	RecoveryAlarm   bool
}

// ScalingSettings are the scaling block: a target tracking policy on CPU
// (nil for none) and scheduled actions.
type ScalingSettings struct {
	TargetCPUPercent *float64
	Schedules        []Schedule
}

// RollingSettings are rolling_update with its defaults applied.
type RollingSettings struct {
	BatchSize         int
	MinHealthyPercent int
	HealthTimeout     time.Duration
	Rollback          bool
	// PollInterval is how often a rollout reads the fleet; zero means
	// DefaultRolloutPollInterval.
	PollInterval time.Duration
}

// DefaultRolloutPollInterval is how often a rollout reads the fleet.
const DefaultRolloutPollInterval = 2 * time.Second

// Prior is what the last apply left, as state holds it: the pool it
// applied and what it observed. Apply takes nil on create.
type Prior struct {
	Desired
	Observed
	// SyncHookMissing says the last read found the group without the
	// first-sync hook its clones need (Snapshot.SyncHookMissing): the
	// update puts it back before anything launches.
	SyncHookMissing bool
}

// Observed is what Apply made or found: the computed values of the pool.
type Observed struct {
	LaunchTemplateID      string
	LaunchTemplateVersion int64
	// DesiredCapacity is the capacity Apply gave the group.
	DesiredCapacity int64
	// FleetRead says InstanceIDs and HealthyCount were read, as
	// RefreshFleet asks.
	FleetRead    bool
	InstanceIDs  []string
	HealthyCount int64
	// OutdatedInstanceIDs are clones in service that do not run the
	// launch template version (after a rollout that did not complete).
	OutdatedInstanceIDs  []string
	MasterTargetGroupARN string
	WriteRuleARN         string
	// WriteRulePriority is the write rule's priority, chosen by Apply
	// when the master settings leave it zero.
	WriteRulePriority int64
	// Registrations are the load balancers the pool itself registered the
	// master in: destroy deregisters it only there.
	Registrations []Registration
	// GroupExists tells whether the Auto Scaling group exists, so that a
	// failed create still saves (and can destroy) what it made.
	GroupExists bool
}

// Registration is one load balancer the pool registered the master in.
type Registration struct {
	Kind       string `json:"kind"`
	Target     string `json:"target"`
	InstanceID string `json:"instance_id"`
}
