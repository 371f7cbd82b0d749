package pool

import (
	"context"
	"fmt"
	"maps"
	"strconv"

	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/cloneserver/terraform-provider-clone/internal/awstags"
	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
)

// Tags of the group that record the master; they do not propagate.
const (
	TagSyncPolicy     = "clone:sync-policy"
	TagMasterAttached = "clone:master-attached"
)

// Apply converges AWS onto d and returns what the pool is now. prior is
// nil on create. Logs go to progress.
//
// The order, each step a rule the unit tests hold:
//  0. the names of the objects the pool is about to create are claimed:
//     an object by such a name that the pool did not create is a
//     ForeignError before anything is changed (claimNames);
//  1. the launch template version, before the group that launches it;
//  2. the group: created with its first-sync hook in its creation call,
//     or updated — a rollout first (the fleet puts or deletes the hook
//     before the group launches a version that needs it or not), then
//     attachments (attach before detach; detached clones drain), then a
//     scale-in that retires outdated clones first, then sizes, then tags;
//  3. scaling policies and schedules, once the group exists;
//  4. the master: registrations, then its target group, its registration
//     there and the write rule (the target group before the rule that
//     forwards to it), then the recovery alarm;
//  5. the wait for healthy clones, last.
//
// A failure returns what was done so far: Registrations, and GroupExists
// so that a partial create is saved and can be destroyed.
func Apply(ctx context.Context, c Cloud, d Desired, prior *Prior, progress func(string)) (Observed, error) {
	a := applier{c: c, d: d, prior: prior, log: logger(progress), tags: OwnTags(d.Name, d.Tags)}
	if prior != nil {
		a.obs.Registrations = prior.Registrations
		a.obs.LaunchTemplateID, a.obs.LaunchTemplateVersion = prior.LaunchTemplateID, prior.LaunchTemplateVersion
		a.obs.MasterTargetGroupARN, a.obs.WriteRuleARN = prior.MasterTargetGroupARN, prior.WriteRuleARN
	}
	err := a.apply(ctx)
	return a.obs, err
}

type applier struct {
	c      Cloud
	d      Desired
	prior  *Prior
	log    func(string)
	tags   map[string]string
	master *Master
	obs    Observed
}

func logger(progress func(string)) func(string) {
	if progress == nil {
		return func(string) {}
	}
	return progress
}

func (a *applier) apply(ctx context.Context) error {
	if err := a.claimNames(ctx); err != nil {
		return err
	}
	if m := a.d.Master; m != nil {
		found, err := a.c.FindMaster(ctx, m.InstanceID)
		if err != nil {
			return err
		}
		a.master = &found
	}
	if a.prior == nil || a.d.NewVersion || a.obs.LaunchTemplateID == "" {
		if err := a.putTemplate(ctx); err != nil {
			return err
		}
	}
	if err := a.applyGroup(ctx); err != nil {
		return err
	}
	a.obs.GroupExists = true
	if err := a.applyScaling(ctx); err != nil {
		return err
	}
	if err := a.applyMaster(ctx); err != nil {
		return err
	}
	return a.observeFleet(ctx)
}

// OwnTags are tags_all plus the pool's own marker.
func OwnTags(name string, tagsAll map[string]string) map[string]string {
	out := maps.Clone(tagsAll)
	if out == nil {
		out = map[string]string{}
	}
	out[TagPool] = name
	return out
}

// GroupTagsOf renders the group's tags for d: tags (propagated to the
// clones) with the sync policy id, and the master bookkeeping tags, which
// do not propagate.
func GroupTagsOf(d Desired, tags map[string]string) []astypes.Tag {
	if d.SyncPolicyID != "" {
		tags = maps.Clone(tags)
		tags[TagSyncPolicy] = d.SyncPolicyID
	}
	out := awstags.AutoScaling(d.Name, tags, true)
	if m := d.Master; m != nil {
		own := map[string]string{TagMaster: m.InstanceID}
		if m.AttachToLoadBalancers {
			own[TagMasterAttached] = "true"
		}
		out = append(out, awstags.AutoScaling(d.Name, own, false)...)
	}
	return out
}

func (a *applier) targets() []poolhealth.Target {
	return Targets(a.d.TargetGroupARNs, a.d.ClassicELBNames)
}

func (a *applier) tagsChanged() bool {
	return a.prior != nil && !maps.Equal(a.prior.Tags, a.d.Tags)
}

// observeFleet waits for the clones to be healthy, or reads them, when the
// plan did not know them.
func (a *applier) observeFleet(ctx context.Context) error {
	if !a.d.RefreshFleet {
		return nil
	}
	name := a.d.Name
	if a.d.WaitForHealthy {
		ids, healthy, err := a.c.WaitHealthy(ctx, name, a.targets(), int(a.obs.DesiredCapacity), a.log)
		if err != nil {
			return fmt.Errorf("waiting for Clone Pool (%s) healthy: %w", name, err)
		}
		// The wait's last look is the pool as it is now.
		a.obs.FleetRead, a.obs.InstanceIDs, a.obs.HealthyCount = true, ids, int64(len(healthy))
		return nil
	}
	g, err := a.c.FindGroup(ctx, name)
	if err != nil {
		return err
	}
	report, err := a.c.Health(ctx, a.targets())
	if err != nil {
		return err
	}
	ids := g.ServingIDs()
	a.obs.FleetRead, a.obs.InstanceIDs, a.obs.HealthyCount = true, ids, int64(len(report.Healthy(ids)))
	return nil
}

func version(v int64) string { return strconv.FormatInt(v, 10) }
