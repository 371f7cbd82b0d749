package pool

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/aws-sdk-go-base/v2/tfawserr"

	"github.com/cloneserver/terraform-provider-clone/internal/awstags"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/rollout"
	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

// Instance is one member of the group.
type Instance struct {
	ID             string
	LifecycleState string
}

// Group is the pool's Auto Scaling group as Read needs it.
type Group struct {
	Name                  string
	LaunchTemplateID      string
	LaunchTemplateVersion string
	MinSize               int64
	MaxSize               int64
	DesiredCapacity       int64
	SubnetIDs             []string
	TargetGroupARNs       []string
	ClassicELBNames       []string
	Instances             []Instance
	Tags                  map[string]string
	Deleting              bool
}

// ServingIDs returns, sorted, the members that are or will be in service:
// everything not on its way out.
func (g Group) ServingIDs() []string {
	var ids []string
	for _, i := range g.Instances {
		if rollout.Serving(i.LifecycleState) {
			ids = append(ids, i.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// FindGroup reads the group with one DescribeAutoScalingGroups call.
func FindGroup(ctx context.Context, client *autoscaling.Client, name string) (Group, error) {
	out, err := client.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{name},
	})
	if err != nil {
		return Group{}, fmt.Errorf("describing Auto Scaling group %s: %w", name, err)
	}
	for _, g := range out.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) == name {
			return flattenGroup(g), nil
		}
	}
	return Group{}, notfound.New("Auto Scaling group", name)
}

func flattenGroup(g astypes.AutoScalingGroup) Group {
	out := Group{
		Name:            aws.ToString(g.AutoScalingGroupName),
		MinSize:         int64(aws.ToInt32(g.MinSize)),
		MaxSize:         int64(aws.ToInt32(g.MaxSize)),
		DesiredCapacity: int64(aws.ToInt32(g.DesiredCapacity)),
		SubnetIDs:       SplitSubnets(aws.ToString(g.VPCZoneIdentifier)),
		TargetGroupARNs: slices.Clone(g.TargetGroupARNs),
		ClassicELBNames: slices.Clone(g.LoadBalancerNames),
		Tags:            map[string]string{},
		Deleting:        aws.ToString(g.Status) != "",
	}
	if lt := g.LaunchTemplate; lt != nil {
		out.LaunchTemplateID = aws.ToString(lt.LaunchTemplateId)
		out.LaunchTemplateVersion = aws.ToString(lt.Version)
	}
	for _, i := range g.Instances {
		out.Instances = append(out.Instances, Instance{
			ID:             aws.ToString(i.InstanceId),
			LifecycleState: string(i.LifecycleState),
		})
	}
	for _, t := range g.Tags {
		out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// SplitSubnets splits a VPCZoneIdentifier into subnet ids.
func SplitSubnets(zoneIdentifier string) []string {
	var out []string
	for _, s := range strings.Split(zoneIdentifier, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// UpdateGroupTags sets want, rendered with their propagation, on the group
// and removes the keys of had that want lacks.
func UpdateGroupTags(ctx context.Context, client *autoscaling.Client, name string, had map[string]string, want []astypes.Tag) error {
	wanted := make(map[string]string, len(want))
	for _, t := range want {
		wanted[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	_, remove := awstags.Changes(had, wanted)
	if len(remove) > 0 {
		gone := make([]astypes.Tag, 0, len(remove))
		for _, k := range remove {
			gone = append(gone, astypes.Tag{ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group"), Key: aws.String(k)})
		}
		if _, err := client.DeleteTags(ctx, &autoscaling.DeleteTagsInput{Tags: gone}); err != nil {
			return fmt.Errorf("removing tags from Auto Scaling group %s: %w", name, err)
		}
	}
	if len(want) > 0 {
		if _, err := client.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: want}); err != nil {
			return fmt.Errorf("tagging Auto Scaling group %s: %w", name, err)
		}
	}
	return nil
}

// AttachmentChanges returns the load balancers of want the group lacks
// (attach) and those it has that want drops (detach), each sorted.
func AttachmentChanges(have, want []string) (attach, detach []string) {
	for _, w := range want {
		if !slices.Contains(have, w) {
			attach = append(attach, w)
		}
	}
	for _, h := range have {
		if !slices.Contains(want, h) {
			detach = append(detach, h)
		}
	}
	slices.Sort(attach)
	slices.Sort(detach)
	return attach, detach
}

// Retirees picks which n members to remove on scale-in: members not running
// currentImage first (they are leftovers of an earlier launch template),
// then the highest ids, so the choice is deterministic.
func Retirees(serving []string, imageOf map[string]string, currentImage string, n int) []string {
	if n <= 0 {
		return nil
	}
	ordered := slices.Clone(serving)
	slices.SortFunc(ordered, func(a, b string) int {
		oa, ob := imageOf[a] != currentImage, imageOf[b] != currentImage
		switch {
		case oa && !ob:
			return -1
		case ob && !oa:
			return 1
		}
		return strings.Compare(b, a)
	})
	return ordered[:min(n, len(ordered))]
}

// InstanceImages returns the image id of each instance, from one
// DescribeInstances call (DescribeMembers).
func InstanceImages(ctx context.Context, client *ec2.Client, ids []string) (map[string]string, error) {
	members, err := DescribeMembers(ctx, client, "", ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(members))
	for id, m := range members {
		out[id] = m.ImageID
	}
	return out, nil
}

// Per-call limits of the calls that retire clones.
const (
	// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DetachInstances.html
	detachBatch = 20
	// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html
	terminateBatch = 1000
)

// Terminate takes ids out of the group without replacement and terminates
// them: DetachInstances with ShouldDecrementDesiredCapacity, 20 ids a call
// (the API's limit), then TerminateInstances, 1,000 ids a call, so the
// calls grow with ceil(n/20), not with n; a single clone takes one
// TerminateInstanceInAutoScalingGroup. A batch Auto Scaling refuses as
// a whole (an id no longer in the group, or not yet in service) is retired
// one clone at a time with TerminateInstanceInAutoScalingGroup, which
// skips what is gone. Callers drain the clones first (Clients.Retire).
func Terminate(ctx context.Context, asg *autoscaling.Client, ec2c *ec2.Client, group string, ids []string) error {
	if len(ids) == 1 {
		// One clone: one TerminateInstanceInAutoScalingGroup, not a detach
		// and a terminate.
		return terminateEach(ctx, asg, ids)
	}
	var detached []string
	for batch := range slices.Chunk(ids, detachBatch) {
		_, err := asg.DetachInstances(ctx, &autoscaling.DetachInstancesInput{
			AutoScalingGroupName:           aws.String(group),
			InstanceIds:                    batch,
			ShouldDecrementDesiredCapacity: aws.Bool(true),
		})
		switch {
		case err == nil:
			detached = append(detached, batch...)
		case groupGone(err):
			if err := terminateEach(ctx, asg, batch); err != nil {
				return err
			}
		default:
			return fmt.Errorf("detaching clones %v from their Auto Scaling group: %w", batch, err)
		}
	}
	for batch := range slices.Chunk(detached, terminateBatch) {
		if _, err := ec2c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: batch}); err != nil {
			return fmt.Errorf("terminating detached clones %v: %w", batch, err)
		}
	}
	return nil
}

// terminateEach retires ids one call each, lowering desired capacity so
// no replacement is launched; a clone already gone is skipped.
func terminateEach(ctx context.Context, client *autoscaling.Client, ids []string) error {
	for _, id := range ids {
		_, err := client.TerminateInstanceInAutoScalingGroup(ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
			InstanceId:                     aws.String(id),
			ShouldDecrementDesiredCapacity: aws.Bool(true),
		})
		if err != nil && !groupGone(err) {
			return fmt.Errorf("terminating clone %s: %w", id, err)
		}
	}
	return nil
}

// PutLifecycleHook creates or updates one lifecycle hook of the group.
func PutLifecycleHook(ctx context.Context, client *autoscaling.Client, group string, h astypes.LifecycleHookSpecification) error {
	_, err := client.PutLifecycleHook(ctx, &autoscaling.PutLifecycleHookInput{
		AutoScalingGroupName: aws.String(group), LifecycleHookName: h.LifecycleHookName,
		LifecycleTransition: h.LifecycleTransition, DefaultResult: h.DefaultResult, HeartbeatTimeout: h.HeartbeatTimeout,
		NotificationMetadata: h.NotificationMetadata, NotificationTargetARN: h.NotificationTargetARN, RoleARN: h.RoleARN,
	})
	if err != nil {
		return fmt.Errorf("putting lifecycle hook %s on Auto Scaling group %s: %w", aws.ToString(h.LifecycleHookName), group, err)
	}
	return nil
}

// HasLifecycleHook tells whether the group has the lifecycle hook name
// (one DescribeLifecycleHooks; a missing hook is an empty list, not an
// error:
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeLifecycleHooks.html).
func HasLifecycleHook(ctx context.Context, client *autoscaling.Client, group, name string) (bool, error) {
	out, err := client.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{
		AutoScalingGroupName: aws.String(group), LifecycleHookNames: []string{name},
	})
	if err != nil {
		return false, fmt.Errorf("reading lifecycle hook %s of Auto Scaling group %s: %w", name, group, err)
	}
	for _, h := range out.LifecycleHooks {
		if aws.ToString(h.LifecycleHookName) == name {
			return true, nil
		}
	}
	return false, nil
}

// DeleteLifecycleHook deletes one lifecycle hook of the group; a missing
// one is fine.
func DeleteLifecycleHook(ctx context.Context, client *autoscaling.Client, group, name string) error {
	_, err := client.DeleteLifecycleHook(ctx, &autoscaling.DeleteLifecycleHookInput{
		AutoScalingGroupName: aws.String(group), LifecycleHookName: aws.String(name),
	})
	if err != nil && !groupGone(err) {
		return fmt.Errorf("deleting lifecycle hook %s of Auto Scaling group %s: %w", name, group, err)
	}
	return nil
}

// DeleteGroup force-deletes the group by name (DeleteFoundGroup); a missing
// one is fine.
func DeleteGroup(ctx context.Context, asg *autoscaling.Client, ec2c *ec2.Client, name string, progress func(string)) error {
	g, err := FindGroup(ctx, asg, name)
	if notfound.Is(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return DeleteFoundGroup(ctx, asg, ec2c, g, progress)
}

// DeleteFoundGroup force-deletes g, a group already described, then waits
// until it is gone and its instances are terminated. Force deletion
// terminates the clones at once: callers that care about in-flight
// requests take them out of the load balancers first (Clients.Drain).
func DeleteFoundGroup(ctx context.Context, asg *autoscaling.Client, ec2c *ec2.Client, g Group, progress func(string)) error {
	name := g.Name
	instances := make([]string, 0, len(g.Instances))
	for _, i := range g.Instances {
		instances = append(instances, i.ID)
	}
	if !g.Deleting {
		_, err := asg.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(name),
			ForceDelete:          aws.Bool(true),
		})
		if err != nil && !groupGone(err) {
			return fmt.Errorf("deleting Auto Scaling group %s: %w", name, err)
		}
	}
	err := wait.For(ctx, wait.Options{Progress: progress}, func(ctx context.Context) (bool, string, error) {
		_, err := FindGroup(ctx, asg, name)
		switch {
		case err == nil:
			return false, "Auto Scaling group " + name + " deleting", nil
		case !notfound.Is(err):
			return false, "", err
		}
		left, err := liveInstances(ctx, ec2c, instances)
		if err != nil {
			return false, "", err
		}
		if len(left) > 0 {
			return false, fmt.Sprintf("%d clones still terminating: %s", len(left), strings.Join(left, ", ")), nil
		}
		return true, "Auto Scaling group deleted and its clones terminated", nil
	})
	if err != nil {
		return fmt.Errorf("waiting for Auto Scaling group %s to be deleted: %w", name, err)
	}
	return nil
}

// filterValuesLimit is the most values DescribeInstances takes in its
// filters.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
const filterValuesLimit = 200

// liveInstances returns, sorted, those of ids not terminated yet: one
// paginated DescribeInstances per 200 ids.
func liveInstances(ctx context.Context, client *ec2.Client, ids []string) ([]string, error) {
	var left []string
	for batch := range slices.Chunk(ids, filterValuesLimit-5) {
		p := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{
			Filters: []ec2types.Filter{
				{Name: aws.String("instance-id"), Values: batch},
				{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "shutting-down", "stopping", "stopped"}},
			},
			MaxResults: aws.Int32(1000),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describing clones %v: %w", batch, err)
			}
			for _, r := range page.Reservations {
				for _, i := range r.Instances {
					left = append(left, aws.ToString(i.InstanceId))
				}
			}
		}
	}
	slices.Sort(left)
	return left, nil
}

// notFoundCodes are the error codes AWS answers for an object that does not
// exist, by service.
var notFoundCodes = []string{
	// EC2
	"InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException",
	"InvalidLaunchTemplateId.VersionNotFound", "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable",
	"InvalidAMIID.Malformed", "InvalidInstanceID.NotFound",
	// Elastic Load Balancing (v2 and classic)
	"TargetGroupNotFound", "RuleNotFound", "ListenerNotFound", "LoadBalancerNotFound", "AccessPointNotFound",
	// CloudWatch
	"ResourceNotFound",
}

// gone tells whether err is AWS saying the object does not exist, by its
// error code.
func gone(err error) bool {
	return tfawserr.ErrCodeEquals(err, notFoundCodes...)
}

// groupGone is gone for Auto Scaling calls on a group, policy, scheduled
// action, hook or instance the pool named: Auto Scaling has no not-found
// code and answers ValidationError ("... not found"), which for such a
// call can mean nothing else.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html
func groupGone(err error) bool {
	return tfawserr.ErrCodeEquals(err, "ValidationError")
}
