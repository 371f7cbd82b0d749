package pool

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
	"github.com/cloneserver/terraform-provider-clone/internal/rollout"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

// Tags EC2 puts on every instance launched from a launch template: they
// record the version the instance was really launched from.
const (
	tagLaunchTemplateID      = "aws:ec2launchtemplate:id"
	tagLaunchTemplateVersion = "aws:ec2launchtemplate:version"
)

// Fleet is the pool's Auto Scaling group as the rollout orchestrator sees
// it (rollout.Fleet), backed by the SDK.
type Fleet struct {
	Clients
	FleetSpec
}

var _ rollout.Fleet = (*Fleet)(nil)

// Member is what DescribeInstances tells about one clone.
type Member struct {
	ImageID    string
	LaunchTime time.Time
	// TemplateVersion comes from the instance's aws:ec2launchtemplate:version
	// tag, and only when its aws:ec2launchtemplate:id tag names templateID.
	TemplateVersion string
	// FirstSync is the clone's TagFirstSync tag: why its first sync failed.
	FirstSync string
}

// TagFirstSync is the tag the sync agent puts on its clone when the first
// sync fails, valued with the reason (at most 256 characters).
const TagFirstSync = "clone:first-sync"

// DescribeMembers reads image, launch time and launch template version of
// ids with one (paginated) DescribeInstances call, retried while EC2 does
// not know one of the ids yet (freshIDWait).
func DescribeMembers(ctx context.Context, client *ec2.Client, templateID string, ids []string) (map[string]Member, error) {
	if len(ids) == 0 {
		return map[string]Member{}, nil
	}
	var out map[string]Member
	err := retryFresh(ctx, func() error {
		var err error
		out, err = describeMembers(ctx, client, templateID, ids)
		return err
	})
	return out, err
}

func describeMembers(ctx context.Context, client *ec2.Client, templateID string, ids []string) (map[string]Member, error) {
	out := make(map[string]Member, len(ids))
	p := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{InstanceIds: ids})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing clones %v: %w", ids, err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				m := Member{ImageID: aws.ToString(i.ImageId), LaunchTime: aws.ToTime(i.LaunchTime)}
				var ltID, ltVersion string
				for _, t := range i.Tags {
					switch aws.ToString(t.Key) {
					case tagLaunchTemplateID:
						ltID = aws.ToString(t.Value)
					case tagLaunchTemplateVersion:
						ltVersion = aws.ToString(t.Value)
					case TagFirstSync:
						m.FirstSync = aws.ToString(t.Value)
					}
				}
				if templateID != "" && ltID == templateID {
					m.TemplateVersion = ltVersion
				}
				out[aws.ToString(i.InstanceId)] = m
			}
		}
	}
	return out, nil
}

// RolloutInstances joins the group's members with what EC2 tells about them.
// The group's own per-instance launch template version is not used: the
// emulator reports the template's default there, not the launched one.
func RolloutInstances(g Group, members map[string]Member) []rollout.Instance {
	out := make([]rollout.Instance, 0, len(g.Instances))
	for _, i := range g.Instances {
		m := members[i.ID]
		out = append(out, rollout.Instance{
			ID:              i.ID,
			ImageID:         m.ImageID,
			TemplateVersion: m.TemplateVersion,
			Lifecycle:       i.LifecycleState,
			LaunchTime:      m.LaunchTime,
			FirstSync:       m.FirstSync,
		})
	}
	slices.SortFunc(out, func(a, b rollout.Instance) int { return a.LaunchTime.Compare(b.LaunchTime) })
	return out
}

// Instances lists the group's members: one DescribeAutoScalingGroups and
// one DescribeInstances.
func (f *Fleet) Instances(ctx context.Context) ([]rollout.Instance, error) {
	g, err := FindGroup(ctx, f.AutoScaling, f.Group)
	if err != nil {
		return nil, err
	}
	return f.InstancesOf(ctx, g)
}

// InstancesOf lists the members of g, a group already described, with one
// DescribeInstances.
func (f *Fleet) InstancesOf(ctx context.Context, g Group) ([]rollout.Instance, error) {
	ids := make([]string, 0, len(g.Instances))
	for _, i := range g.Instances {
		ids = append(ids, i.ID)
	}
	members, err := DescribeMembers(ctx, f.EC2, f.TemplateID, ids)
	if err != nil {
		return nil, err
	}
	return RolloutInstances(g, members), nil
}

// SetTemplateVersion points the group at version and makes it the
// template's default, so what EC2 records on new instances agrees with
// what the group launches everywhere (the emulator tags new instances with
// the default version). The first-sync hook (SyncHook) is put or deleted
// first, as version needs.
func (f *Fleet) SetTemplateVersion(ctx context.Context, version string) error {
	if err := f.syncHookFor(ctx, version); err != nil {
		return err
	}
	if err := SetDefaultTemplateVersion(ctx, f.EC2, f.TemplateID, version); err != nil {
		return err
	}
	_, err := f.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(f.Group),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{
			LaunchTemplateId: aws.String(f.TemplateID),
			Version:          aws.String(version),
		},
	})
	if err != nil {
		return fmt.Errorf("setting launch template %s version %s on Auto Scaling group %s: %w", f.TemplateID, version, f.Group, err)
	}
	return nil
}

// syncHookFor puts the first-sync hook when the clones of version run the
// sync agent and deletes it when they do not.
func (f *Fleet) syncHookFor(ctx context.Context, version string) error {
	if f.SyncHook == nil {
		return nil
	}
	agent, known := f.AgentVersions[version]
	if !known {
		t, err := FindTemplateVersion(ctx, f.EC2, f.TemplateID, version)
		if err != nil {
			return err
		}
		parts, err := userdata.Parse(t.Spec.UserData)
		if err != nil {
			return fmt.Errorf("launch template %s version %s: %w", f.TemplateID, version, err)
		}
		agent = parts.SyncAgent != ""
	}
	name := aws.ToString(f.SyncHook.LifecycleHookName)
	if agent {
		f.progress(fmt.Sprintf("putting lifecycle hook %s before the group launches version %s, whose clones run the sync agent", name, version))
		return PutLifecycleHook(ctx, f.AutoScaling, f.Group, *f.SyncHook)
	}
	f.progress(fmt.Sprintf("deleting lifecycle hook %s before the group launches version %s, whose clones run no sync agent", name, version))
	return DeleteLifecycleHook(ctx, f.AutoScaling, f.Group, name)
}

func (f *Fleet) progress(msg string) {
	if f.Progress != nil {
		f.Progress(msg)
	}
}

// SetCapacity sets desired capacity and max size in one call.
func (f *Fleet) SetCapacity(ctx context.Context, desired, maxSize int) error {
	_, err := f.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(f.Group),
		DesiredCapacity:      aws.Int32(int32(desired)),
		MaxSize:              aws.Int32(int32(maxSize)),
	})
	if err != nil {
		return fmt.Errorf("setting desired capacity of Auto Scaling group %s to %d: %w", f.Group, desired, err)
	}
	return nil
}

// Health reads every attached load balancer once. It registers nothing
// (see WaitHealthy): Auto Scaling does, when a clone enters InService.
func (f *Fleet) Health(ctx context.Context, _ []string) (poolhealth.Report, error) {
	return f.Clients.Health(ctx, f.Targets)
}

// Retire takes ids out of every load balancer and the group (Clients.Retire).
func (f *Fleet) Retire(ctx context.Context, ids []string) error {
	return f.Clients.Retire(ctx, f.Group, f.Targets, ids, f.Progress)
}

// SetDefaultTemplateVersion makes version the launch template's default.
func SetDefaultTemplateVersion(ctx context.Context, client *ec2.Client, id, version string) error {
	if _, err := strconv.ParseInt(version, 10, 64); err != nil {
		return fmt.Errorf("launch template %s: version %q is not a number", id, version)
	}
	_, err := client.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{
		LaunchTemplateId: aws.String(id),
		DefaultVersion:   aws.String(version),
	})
	if err != nil {
		return fmt.Errorf("making version %s the default of launch template %s: %w", version, id, err)
	}
	return nil
}

// OutdatedIDs lists, sorted, the members of g in service that do not run
// tmpl: neither its image nor, where EC2 recorded it, its version.
func OutdatedIDs(ctx context.Context, client *ec2.Client, g Group, tmpl Template) ([]string, error) {
	ids := g.ServingIDs()
	if len(ids) == 0 {
		return nil, nil
	}
	members, err := DescribeMembers(ctx, client, tmpl.ID, ids)
	if err != nil {
		return nil, err
	}
	to := rollout.Target{ImageID: tmpl.Spec.ImageID, TemplateVersion: strconv.FormatInt(tmpl.Version, 10)}
	var out []string
	for _, inst := range rollout.Outdated(RolloutInstances(g, members), to) {
		out = append(out, inst.ID)
	}
	slices.Sort(out)
	return out, nil
}
