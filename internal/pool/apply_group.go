package pool

import (
	"context"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

// applyGroup creates the group, or updates the one there is.
func (a *applier) applyGroup(ctx context.Context) error {
	d := a.d
	desired := d.DesiredCapacity
	g, err := a.c.FindGroup(ctx, d.Name)
	if notfound.Is(err) {
		a.log(fmt.Sprintf("creating Auto Scaling group %s with %d clones", d.Name, desired))
		a.obs.DesiredCapacity = desired
		return a.c.CreateGroup(ctx, GroupSpec{
			Name: d.Name, TemplateID: a.obs.LaunchTemplateID, TemplateVersion: a.obs.LaunchTemplateVersion,
			MinSize: d.MinSize, MaxSize: d.MaxSize, DesiredCapacity: desired,
			SubnetIDs: d.SubnetIDs, TargetGroupARNs: d.TargetGroupARNs, ClassicELBNames: d.ClassicELBNames,
			Tags: GroupTagsOf(d, a.tags), FirstSyncHook: d.SyncPolicyID != "",
		})
	}
	if err != nil {
		return err
	}
	a.obs.GroupExists = true
	if a.scalingOwnsCapacity() {
		desired = min(max(g.DesiredCapacity, d.MinSize), d.MaxSize)
		a.log(fmt.Sprintf("scaling owns desired capacity: keeping the group's %d", desired))
	}
	a.obs.DesiredCapacity = desired
	return a.updateGroup(ctx, g, desired)
}

// scalingOwnsCapacity tells whether an update keeps the desired capacity the
// group has: the scaling block moves it, and the configuration did not
// change desired_capacity since the last apply.
func (a *applier) scalingOwnsCapacity() bool {
	if a.prior == nil {
		return false
	}
	return a.d.ScalingOwnsCapacity || a.d.Scaling != nil && a.d.DesiredCapacity == a.prior.Desired.DesiredCapacity
}

// updateGroup rolls the group onto the launch template version when it
// launches another or the last rollout did not complete, then updates
// attachments, sizes and tags.
func (a *applier) updateGroup(ctx context.Context, g Group, desired int64) error {
	d := a.d
	if a.prior != nil && a.prior.SyncHookMissing && d.SyncPolicyID != "" {
		hook := FirstSyncHook(g.Name)
		a.log(fmt.Sprintf("putting back lifecycle hook %s, deleted out of band, before the group launches anything", aws.ToString(hook.LifecycleHookName)))
		if err := a.c.PutLifecycleHook(ctx, g.Name, hook); err != nil {
			return err
		}
	}
	unfinished := a.prior != nil && len(a.prior.OutdatedInstanceIDs) > 0
	if g.LaunchTemplateID != a.obs.LaunchTemplateID || g.LaunchTemplateVersion != version(a.obs.LaunchTemplateVersion) || unfinished {
		if err := a.rollOut(ctx, g); err != nil {
			return err
		}
		var err error
		if g, err = a.c.FindGroup(ctx, d.Name); err != nil {
			return err
		}
	}
	if err := a.updateAttachments(ctx, g); err != nil {
		return err
	}
	if err := a.scaleIn(ctx, g, desired); err != nil {
		return err
	}
	if err := a.c.UpdateGroup(ctx, GroupUpdate{
		Name: d.Name, MinSize: aws.Int64(d.MinSize), MaxSize: aws.Int64(d.MaxSize), DesiredCapacity: aws.Int64(desired),
		SubnetIDs: d.SubnetIDs, HealthCheckType: healthCheckType(d.TargetGroupARNs, d.ClassicELBNames),
	}); err != nil {
		return err
	}
	wantTags := GroupTagsOf(d, a.tags)
	want := make(map[string]string, len(wantTags))
	for _, t := range wantTags {
		want[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if !maps.Equal(g.Tags, want) {
		if err := a.c.UpdateGroupTags(ctx, d.Name, g.Tags, wantTags); err != nil {
			return err
		}
	}
	if a.tagsChanged() && a.obs.LaunchTemplateID != "" {
		return a.c.RetagTemplate(ctx, a.obs.LaunchTemplateID, OwnTags(d.Name, a.prior.Tags), a.tags)
	}
	return nil
}

// scaleIn retires the clones above desired, outdated ones first: out of
// every load balancer, drained, then terminated without replacement. Max
// size is raised to the clones there are meanwhile, so the group does not
// terminate any on its own.
func (a *applier) scaleIn(ctx context.Context, g Group, desired int64) error {
	d := a.d
	serving := g.ServingIDs()
	retire := len(serving) - int(desired)
	if retire <= 0 {
		return nil
	}
	images, err := a.c.InstanceImages(ctx, serving)
	if err != nil {
		return err
	}
	retirees := Retirees(serving, images, d.Template.ImageID, retire)
	a.log(fmt.Sprintf("scaling in: retiring %d of %d clones: %v", len(retirees), len(serving), retirees))
	if err := a.c.UpdateGroup(ctx, GroupUpdate{
		Name: d.Name, MinSize: aws.Int64(d.MinSize), MaxSize: aws.Int64(max(d.MaxSize, int64(len(serving)))),
	}); err != nil {
		return err
	}
	if err := a.c.Retire(ctx, d.Name, a.targets(), retirees, a.log); err != nil {
		return fmt.Errorf("scaling in Clone Pool (%s): %w", d.Name, err)
	}
	return nil
}

// updateAttachments attaches the load balancers the group lacks, then
// detaches those it should not have and waits until they no longer route
// to any clone, so a destroy or retire that follows cuts no request.
func (a *applier) updateAttachments(ctx context.Context, g Group) error {
	addTG, dropTG := AttachmentChanges(g.TargetGroupARNs, a.d.TargetGroupARNs)
	addELB, dropELB := AttachmentChanges(g.ClassicELBNames, a.d.ClassicELBNames)
	if add := Targets(addTG, addELB); len(add) > 0 {
		a.log(fmt.Sprintf("attaching load balancers %v", append(addTG, addELB...)))
		if err := a.c.AttachTargets(ctx, g.Name, add); err != nil {
			return err
		}
	}
	dropped := Targets(dropTG, dropELB)
	if len(dropped) == 0 {
		return nil
	}
	a.log(fmt.Sprintf("detaching load balancers %v", append(dropTG, dropELB...)))
	if err := a.c.DetachTargets(ctx, g.Name, dropped); err != nil {
		return err
	}
	if err := a.c.Drain(ctx, dropped, g.ServingIDs(), a.log); err != nil {
		return fmt.Errorf("waiting for clones of Clone Pool (%s) to drain from detached load balancers: %w", g.Name, err)
	}
	return nil
}
