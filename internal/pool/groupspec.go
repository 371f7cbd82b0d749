package pool

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
)

// GroupSpec is a new Auto Scaling group of the pool.
type GroupSpec struct {
	Name                              string
	TemplateID                        string
	TemplateVersion                   int64
	MinSize, MaxSize, DesiredCapacity int64
	SubnetIDs                         []string
	TargetGroupARNs, ClassicELBNames  []string
	Tags                              []astypes.Tag
	// FirstSyncHook creates the group with its first-sync launch hook, so
	// the hook holds the very first clones (LifecycleHookSpecificationList).
	FirstSyncHook bool
}

// healthCheckType is ELB when the group has load balancers: a clone they
// find unhealthy is replaced.
func healthCheckType(targetGroups, classicELBs []string) string {
	if len(targetGroups)+len(classicELBs) > 0 {
		return "ELB"
	}
	return "EC2"
}

// CreateGroup creates the group with one CreateAutoScalingGroup.
func CreateGroup(ctx context.Context, client *autoscaling.Client, s GroupSpec) error {
	input := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(s.Name),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{
			LaunchTemplateId: aws.String(s.TemplateID),
			Version:          aws.String(strconv.FormatInt(s.TemplateVersion, 10)),
		},
		MinSize:                aws.Int32(int32(s.MinSize)),
		MaxSize:                aws.Int32(int32(s.MaxSize)),
		DesiredCapacity:        aws.Int32(int32(s.DesiredCapacity)),
		VPCZoneIdentifier:      aws.String(strings.Join(s.SubnetIDs, ",")),
		TargetGroupARNs:        s.TargetGroupARNs,
		LoadBalancerNames:      s.ClassicELBNames,
		HealthCheckGracePeriod: aws.Int32(300),
		Tags:                   s.Tags,
	}
	if s.FirstSyncHook {
		input.LifecycleHookSpecificationList = []astypes.LifecycleHookSpecification{FirstSyncHook(s.Name)}
	}
	if t := healthCheckType(s.TargetGroupARNs, s.ClassicELBNames); t == "ELB" {
		input.HealthCheckType = aws.String(t)
	}
	if _, err := client.CreateAutoScalingGroup(ctx, input); err != nil {
		return fmt.Errorf("creating Auto Scaling group %s: %w", s.Name, err)
	}
	return nil
}

// GroupUpdate is one UpdateAutoScalingGroup: a nil size, nil SubnetIDs or
// empty HealthCheckType leaves that setting as it is.
type GroupUpdate struct {
	Name                              string
	MinSize, MaxSize, DesiredCapacity *int64
	SubnetIDs                         []string
	HealthCheckType                   string
}

// UpdateGroup applies u with one UpdateAutoScalingGroup.
func UpdateGroup(ctx context.Context, client *autoscaling.Client, u GroupUpdate) error {
	size := func(v *int64) *int32 {
		if v == nil {
			return nil
		}
		return aws.Int32(int32(*v))
	}
	input := &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(u.Name),
		MinSize:              size(u.MinSize),
		MaxSize:              size(u.MaxSize),
		DesiredCapacity:      size(u.DesiredCapacity),
	}
	if u.SubnetIDs != nil {
		input.VPCZoneIdentifier = aws.String(strings.Join(u.SubnetIDs, ","))
	}
	if u.HealthCheckType != "" {
		input.HealthCheckType = aws.String(u.HealthCheckType)
	}
	if _, err := client.UpdateAutoScalingGroup(ctx, input); err != nil {
		return fmt.Errorf("updating Auto Scaling group %s: %w", u.Name, err)
	}
	return nil
}

// maxAttachPerCall is how many target groups or classic load balancers
// one attach or detach call takes
// (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AttachLoadBalancerTargetGroups.html,
// API_AttachLoadBalancers.html and their Detach pages: "up to 10").
const maxAttachPerCall = 10

// AttachTargets attaches target groups, then classic load balancers, to the
// group, at most maxAttachPerCall per call.
func AttachTargets(ctx context.Context, client *autoscaling.Client, group string, targets []poolhealth.Target) error {
	tgs, elbs := splitTargets(targets)
	for chunk := range slices.Chunk(tgs, maxAttachPerCall) {
		if _, err := client.AttachLoadBalancerTargetGroups(ctx, &autoscaling.AttachLoadBalancerTargetGroupsInput{
			AutoScalingGroupName: aws.String(group), TargetGroupARNs: chunk,
		}); err != nil {
			return fmt.Errorf("attaching target groups %v to Auto Scaling group %s: %w", chunk, group, err)
		}
	}
	for chunk := range slices.Chunk(elbs, maxAttachPerCall) {
		if _, err := client.AttachLoadBalancers(ctx, &autoscaling.AttachLoadBalancersInput{
			AutoScalingGroupName: aws.String(group), LoadBalancerNames: chunk,
		}); err != nil {
			return fmt.Errorf("attaching classic load balancers %v to Auto Scaling group %s: %w", chunk, group, err)
		}
	}
	return nil
}

// DetachTargets detaches target groups, then classic load balancers, from
// the group, at most maxAttachPerCall per call. Auto Scaling deregisters
// the clones; they drain (Clients.Drain waits for it).
func DetachTargets(ctx context.Context, client *autoscaling.Client, group string, targets []poolhealth.Target) error {
	tgs, elbs := splitTargets(targets)
	for chunk := range slices.Chunk(tgs, maxAttachPerCall) {
		if _, err := client.DetachLoadBalancerTargetGroups(ctx, &autoscaling.DetachLoadBalancerTargetGroupsInput{
			AutoScalingGroupName: aws.String(group), TargetGroupARNs: chunk,
		}); err != nil {
			return fmt.Errorf("detaching target groups %v from Auto Scaling group %s: %w", chunk, group, err)
		}
	}
	for chunk := range slices.Chunk(elbs, maxAttachPerCall) {
		if _, err := client.DetachLoadBalancers(ctx, &autoscaling.DetachLoadBalancersInput{
			AutoScalingGroupName: aws.String(group), LoadBalancerNames: chunk,
		}); err != nil {
			return fmt.Errorf("detaching classic load balancers %v from Auto Scaling group %s: %w", chunk, group, err)
		}
	}
	return nil
}

func splitTargets(targets []poolhealth.Target) (tgs, elbs []string) {
	for _, t := range targets {
		if t.Kind == poolhealth.KindClassicELB {
			elbs = append(elbs, t.ID)
		} else {
			tgs = append(tgs, t.ID)
		}
	}
	return tgs, elbs
}

// FirstSyncHookName is the name of the pool's first-sync launch hook.
func FirstSyncHookName(group string) string {
	return group + "-first-sync"
}

// FirstSyncHook keeps a new clone in Pending:Wait until its sync agent's
// first sync completes the action; without that it is abandoned after 15
// minutes.
func FirstSyncHook(group string) astypes.LifecycleHookSpecification {
	return astypes.LifecycleHookSpecification{
		LifecycleHookName:   aws.String(FirstSyncHookName(group)),
		LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_LAUNCHING"),
		DefaultResult:       aws.String("ABANDON"),
		HeartbeatTimeout:    aws.Int32(900),
	}
}
