package provider

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

func (r *ClonePoolResource) createGroup(ctx context.Context, plan *clonePoolResourceModel, in poolInput, tags map[string]string) error {
	name := plan.Name.ValueString()
	input := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{
			LaunchTemplateId: aws.String(plan.LaunchTemplateID.ValueString()),
			Version:          aws.String(strconv.FormatInt(plan.LaunchTemplateVersion.ValueInt64(), 10)),
		},
		MinSize:                aws.Int32(int32(in.minSize)),
		MaxSize:                aws.Int32(int32(in.maxSize)),
		DesiredCapacity:        aws.Int32(int32(in.desired)),
		VPCZoneIdentifier:      aws.String(strings.Join(in.subnets, ",")),
		TargetGroupARNs:        in.targetGroups,
		LoadBalancerNames:      in.classicELBs,
		HealthCheckGracePeriod: aws.Int32(300),
		Tags:                   r.groupTags(name, plan.master(), plan.SyncPolicyID, tags),
	}
	if !plan.SyncPolicyID.IsNull() {
		input.LifecycleHookSpecificationList = []astypes.LifecycleHookSpecification{firstSyncHook(name)}
	}
	if len(in.targetGroups)+len(in.classicELBs) > 0 {
		input.HealthCheckType = aws.String("ELB")
	}
	if _, err := r.client.AutoScaling.CreateAutoScalingGroup(ctx, input); err != nil {
		return fmt.Errorf("creating Auto Scaling group %s: %w", name, err)
	}
	plan.DesiredCapacity = types.Int64Value(in.desired)
	return nil
}

func (r *ClonePoolResource) updateGroup(ctx context.Context, g pool.Group, plan, prior *clonePoolResourceModel, in poolInput, tags map[string]string) error {
	name := g.Name
	c := r.clients()
	version := strconv.FormatInt(plan.LaunchTemplateVersion.ValueInt64(), 10)
	unfinished := prior != nil && len(prior.OutdatedInstanceIDs.Elements()) > 0
	if g.LaunchTemplateID != plan.LaunchTemplateID.ValueString() || g.LaunchTemplateVersion != version || unfinished {
		if err := r.rollOut(ctx, g, plan, prior, in); err != nil {
			return err
		}
		var err error
		if g, err = pool.FindGroup(ctx, r.client.AutoScaling, name); err != nil {
			return err
		}
	}

	// rollOut put or deleted the first-sync hook before pointing the group
	// at the new version (pool.Fleet.SyncHook); a sync_policy_id change
	// always makes a new version.
	if err := r.updateAttachments(ctx, g, in); err != nil {
		return err
	}

	targets := pool.Targets(in.targetGroups, in.classicELBs)
	serving := g.ServingIDs()
	update := &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name),
		MinSize:              aws.Int32(int32(in.minSize)),
		MaxSize:              aws.Int32(int32(in.maxSize)),
		DesiredCapacity:      aws.Int32(int32(in.desired)),
		VPCZoneIdentifier:    aws.String(strings.Join(in.subnets, ",")),
	}
	if len(in.targetGroups)+len(in.classicELBs) > 0 {
		update.HealthCheckType = aws.String("ELB")
	} else {
		update.HealthCheckType = aws.String("EC2")
	}
	if retire := len(serving) - int(in.desired); retire > 0 {
		images, err := pool.InstanceImages(ctx, r.client.EC2, serving)
		if err != nil {
			return err
		}
		retirees := pool.Retirees(serving, images, plan.ImageID.ValueString(), retire)
		tflog.Info(ctx, fmt.Sprintf("scaling in: retiring %d of %d clones", len(retirees), len(serving)), map[string]any{"instance_ids": retirees})
		if _, err := r.client.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(name),
			MinSize:              aws.Int32(int32(in.minSize)),
			MaxSize:              aws.Int32(int32(max(in.maxSize, int64(len(serving))))),
		}); err != nil {
			return fmt.Errorf("updating Auto Scaling group %s: %w", name, err)
		}
		if err := c.Retire(ctx, targets, retirees, progress(ctx, "retired clones out of every load balancer")); err != nil {
			return fmt.Errorf("scaling in Clone Pool (%s): %w", name, err)
		}
	}
	if _, err := r.client.AutoScaling.UpdateAutoScalingGroup(ctx, update); err != nil {
		return fmt.Errorf("updating Auto Scaling group %s: %w", name, err)
	}

	wantTags := r.groupTags(name, plan.master(), plan.SyncPolicyID, tags)
	want := make(map[string]string, len(wantTags))
	for _, t := range wantTags {
		want[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if !maps.Equal(g.Tags, want) {
		if err := pool.UpdateGroupTags(ctx, r.client.AutoScaling, name, g.Tags, wantTags); err != nil {
			return err
		}
	}
	if prior != nil && !prior.TagsAll.Equal(plan.TagsAll) && !plan.LaunchTemplateID.IsNull() {
		oldTags := r.ownTags(name, mustStringMap(ctx, prior.TagsAll))
		if err := pool.RetagTemplate(ctx, r.client.EC2, plan.LaunchTemplateID.ValueString(), oldTags, tags); err != nil {
			return err
		}
	}
	return nil
}

func (r *ClonePoolResource) groupTags(name string, pm *clonePoolMasterModel, syncPolicy types.String, tags map[string]string) []astypes.Tag {
	if id := syncPolicy.ValueString(); id != "" {
		tags = maps.Clone(tags)
		tags[tagSyncPolicy] = id
	}
	return append(pool.GroupTags(name, tags), masterGroupTags(name, pm)...)
}

// masterGroupTags are the group's bookkeeping tags about the master; they do
// not propagate to the clones.
func masterGroupTags(name string, pm *clonePoolMasterModel) []astypes.Tag {
	if pm == nil {
		return nil
	}
	out := []astypes.Tag{{
		ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group"),
		Key: aws.String(pool.TagMaster), Value: aws.String(pm.InstanceID.ValueString()), PropagateAtLaunch: aws.Bool(false),
	}}
	if pm.AttachToLoadBalancers.ValueBool() {
		out = append(out, astypes.Tag{
			ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group"),
			Key: aws.String(tagMasterAttached), Value: aws.String("true"), PropagateAtLaunch: aws.Bool(false),
		})
	}
	return out
}

func (r *ClonePoolResource) updateAttachments(ctx context.Context, g pool.Group, in poolInput) error {
	name := g.Name
	addTG, dropTG := pool.AttachmentChanges(g.TargetGroupARNs, in.targetGroups)
	addELB, dropELB := pool.AttachmentChanges(g.ClassicELBNames, in.classicELBs)
	if len(addTG) > 0 {
		tflog.Info(ctx, "attaching target groups", map[string]any{"target_group_arns": addTG})
		if _, err := r.client.AutoScaling.AttachLoadBalancerTargetGroups(ctx, &autoscaling.AttachLoadBalancerTargetGroupsInput{
			AutoScalingGroupName: aws.String(name), TargetGroupARNs: addTG,
		}); err != nil {
			return fmt.Errorf("attaching target groups %v to Auto Scaling group %s: %w", addTG, name, err)
		}
	}
	if len(addELB) > 0 {
		tflog.Info(ctx, "attaching classic load balancers", map[string]any{"classic_elb_names": addELB})
		if _, err := r.client.AutoScaling.AttachLoadBalancers(ctx, &autoscaling.AttachLoadBalancersInput{
			AutoScalingGroupName: aws.String(name), LoadBalancerNames: addELB,
		}); err != nil {
			return fmt.Errorf("attaching classic load balancers %v to Auto Scaling group %s: %w", addELB, name, err)
		}
	}
	if len(dropTG) > 0 {
		tflog.Info(ctx, "detaching target groups", map[string]any{"target_group_arns": dropTG})
		if _, err := r.client.AutoScaling.DetachLoadBalancerTargetGroups(ctx, &autoscaling.DetachLoadBalancerTargetGroupsInput{
			AutoScalingGroupName: aws.String(name), TargetGroupARNs: dropTG,
		}); err != nil && !pool.IsNotFound(err) {
			return fmt.Errorf("detaching target groups %v from Auto Scaling group %s: %w", dropTG, name, err)
		}
	}
	if len(dropELB) > 0 {
		tflog.Info(ctx, "detaching classic load balancers", map[string]any{"classic_elb_names": dropELB})
		if _, err := r.client.AutoScaling.DetachLoadBalancers(ctx, &autoscaling.DetachLoadBalancersInput{
			AutoScalingGroupName: aws.String(name), LoadBalancerNames: dropELB,
		}); err != nil && !pool.IsNotFound(err) {
			return fmt.Errorf("detaching classic load balancers %v from Auto Scaling group %s: %w", dropELB, name, err)
		}
	}
	if dropped := pool.Targets(dropTG, dropELB); len(dropped) > 0 {
		// Detaching deregisters the clones, and they drain: the apply ends
		// only when a detached load balancer no longer routes to any of
		// them, so a destroy or retire that follows cuts no request.
		if err := r.clients().Drain(ctx, dropped, g.ServingIDs(), progress(ctx, "clones out of detached load balancers")); err != nil {
			return fmt.Errorf("waiting for clones of Clone Pool (%s) to drain from detached load balancers: %w", name, err)
		}
	}
	return nil
}

func firstSyncHookName(poolName string) string {
	return poolName + "-first-sync"
}

// firstSyncHook keeps a new clone in Pending:Wait until its agent's first
// sync completes the action; without that it is abandoned.
func firstSyncHook(poolName string) astypes.LifecycleHookSpecification {
	return astypes.LifecycleHookSpecification{
		LifecycleHookName:   aws.String(firstSyncHookName(poolName)),
		LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_LAUNCHING"),
		DefaultResult:       aws.String("ABANDON"),
		HeartbeatTimeout:    aws.Int32(900),
	}
}
