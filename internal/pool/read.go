package pool

import (
	"context"
	"fmt"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

// Snapshot is the pool as AWS has it now.
type Snapshot struct {
	// Group is nil when the group is gone or being deleted.
	Group *Group
	// Template is the launch template version the group launches (or, the
	// group gone, the one state recorded); nil when it is gone.
	Template *Template
	// UserData is Template's user data split back into its parts.
	UserData userdata.Parsed
	// InstanceIDs are the group's clones in service, sorted; Healthy how
	// many of them every load balancer finds healthy; Outdated those that
	// do not run Template.
	InstanceIDs []string
	Healthy     int64
	Outdated    []string
	// GoneTargets are load balancers the group lists that no longer exist.
	GoneTargets []poolhealth.Target
	// Health is the registrations of every load balancer the group lists,
	// the master's among them.
	Health poolhealth.Report
	// SyncHookMissing says Template runs the sync agent but the group has
	// no first-sync hook (deleted out of band): a clone launched now would
	// serve before its first sync.
	SyncHookMissing bool
}

// Gone tells whether nothing of the pool is left.
func (s Snapshot) Gone() bool { return s.Group == nil && s.Template == nil }

// Read reads the pool named name: one DescribeAutoScalingGroups, one
// DescribeLaunchTemplateVersions, one health read per attached load
// balancer, one DescribeInstances, and one DescribeLifecycleHooks when the
// clones run the sync agent. templateID and version are the launch
// template version state holds, read when the group is gone.
func Read(ctx context.Context, c Cloud, name, templateID, version string) (Snapshot, error) {
	var s Snapshot
	g, err := c.FindGroup(ctx, NamesFor(name).Group)
	switch {
	case err == nil && !g.Deleting:
		s.Group = &g
		templateID, version = g.LaunchTemplateID, g.LaunchTemplateVersion
	case err != nil && !notfound.Is(err):
		return s, err
	}
	if templateID != "" {
		tmpl, err := c.FindTemplateVersion(ctx, templateID, version)
		switch {
		case err == nil:
			s.Template = &tmpl
			if s.UserData, err = userdata.Parse(tmpl.Spec.UserData); err != nil {
				return s, fmt.Errorf("launch template %s: %w", tmpl.ID, err)
			}
		case !notfound.Is(err):
			return s, err
		}
	}
	if s.Group == nil {
		return s, nil
	}
	report, err := c.Health(ctx, Targets(g.TargetGroupARNs, g.ClassicELBNames))
	if err != nil {
		return s, err
	}
	s.GoneTargets, s.Health = report.Gone, report
	s.InstanceIDs = g.ServingIDs()
	s.Healthy = int64(len(report.Healthy(s.InstanceIDs)))
	if s.Template != nil {
		if s.Outdated, err = c.OutdatedIDs(ctx, g, *s.Template); err != nil {
			return s, err
		}
	}
	if s.UserData.SyncAgent != "" {
		has, err := c.HasLifecycleHook(ctx, g.Name, FirstSyncHookName(g.Name))
		if err != nil {
			return s, err
		}
		s.SyncHookMissing = !has
	}
	return s, nil
}
