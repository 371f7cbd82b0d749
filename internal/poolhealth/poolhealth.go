// Package poolhealth tells how healthy a set of instances is across every
// load balancer a pool is attached to, from one batched describe call per
// target group or classic load balancer.
package poolhealth

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/aws-sdk-go-base/v2/tfawserr"
)

// Kinds of load balancer attachment.
const (
	KindTargetGroup = "target_group"
	KindClassicELB  = "classic_elb"
)

// Target is one load-balancer attachment of the pool.
type Target struct {
	Kind string
	ID   string
	Name string
}

func (t Target) displayName() string {
	if t.Name != "" {
		return t.Name
	}
	return t.ID
}

// ELBV2API is the part of the elasticloadbalancingv2 client Collect uses.
type ELBV2API interface {
	DescribeTargetHealth(ctx context.Context, params *elasticloadbalancingv2.DescribeTargetHealthInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTargetHealthOutput, error)
}

// ELBAPI is the part of the classic elasticloadbalancing client Collect uses.
type ELBAPI interface {
	DescribeInstanceHealth(ctx context.Context, params *elasticloadbalancing.DescribeInstanceHealthInput, optFns ...func(*elasticloadbalancing.Options)) (*elasticloadbalancing.DescribeInstanceHealthOutput, error)
}

// goneCodes are the error codes a describe call answers for a target group
// or classic load balancer that no longer exists: ELBv2's
// TargetGroupNotFound, classic's LoadBalancerNotFound (AccessPointNotFound
// in its API reference).
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html
// https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeInstanceHealth.html
var goneCodes = []string{"TargetGroupNotFound", "LoadBalancerNotFound", "AccessPointNotFound"}

// Collect reads the health of every instance registered with targets: one
// DescribeTargetHealth per target group and one DescribeInstanceHealth per
// classic load balancer, however many instances there are. Targets listed
// twice are read once. A target that no longer exists (deleted out of band
// while the group still lists it) is not an error: it goes to Report.Gone
// and counts nowhere else.
func Collect(ctx context.Context, v2 ELBV2API, classic ELBAPI, targets []Target) (Report, error) {
	targets, err := uniqueTargets(targets, v2 != nil, classic != nil)
	if err != nil {
		return Report{}, err
	}
	report := Report{Targets: make([]TargetHealth, 0, len(targets))}
	for _, t := range targets {
		var regs map[string][]State
		switch t.Kind {
		case KindTargetGroup:
			regs, err = describeTargetGroup(ctx, v2, t)
		case KindClassicELB:
			regs, err = describeClassic(ctx, classic, t)
		}
		if tfawserr.ErrCodeEquals(err, goneCodes...) {
			report.Gone = append(report.Gone, t)
			continue
		}
		if err != nil {
			return Report{}, err
		}
		th := TargetHealth{Target: t, Instances: make(map[string]State, len(regs))}
		for id, r := range regs {
			th.Instances[id] = combine(r)
		}
		report.Targets = append(report.Targets, th)
	}
	return report, nil
}

func uniqueTargets(targets []Target, haveV2, haveClassic bool) ([]Target, error) {
	out := make([]Target, 0, len(targets))
	seen := make(map[Target]bool, len(targets))
	for _, t := range targets {
		if t.ID == "" {
			return nil, fmt.Errorf("load balancer target %q of kind %q has no id", t.Name, t.Kind)
		}
		switch t.Kind {
		case KindTargetGroup:
			if !haveV2 {
				return nil, fmt.Errorf("target group %s: no elasticloadbalancingv2 client", t.displayName())
			}
		case KindClassicELB:
			if !haveClassic {
				return nil, fmt.Errorf("classic load balancer %s: no elasticloadbalancing client", t.displayName())
			}
		default:
			return nil, fmt.Errorf("load balancer target %s: unknown kind %q", t.displayName(), t.Kind)
		}
		key := Target{Kind: t.Kind, ID: t.ID}
		if !seen[key] {
			seen[key] = true
			out = append(out, t)
		}
	}
	return out, nil
}

func describeTargetGroup(ctx context.Context, client ELBV2API, t Target) (map[string][]State, error) {
	out, err := client.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{
		TargetGroupArn: aws.String(t.ID),
	})
	if err != nil {
		return nil, fmt.Errorf("describing target health of target group %s (%s): %w", t.displayName(), t.ID, err)
	}
	regs := make(map[string][]State)
	for _, d := range out.TargetHealthDescriptions {
		if d.Target == nil || aws.ToString(d.Target.Id) == "" {
			continue
		}
		id := aws.ToString(d.Target.Id)
		regs[id] = append(regs[id], stateFromV2(d.TargetHealth))
	}
	return regs, nil
}

func describeClassic(ctx context.Context, client ELBAPI, t Target) (map[string][]State, error) {
	out, err := client.DescribeInstanceHealth(ctx, &elasticloadbalancing.DescribeInstanceHealthInput{
		LoadBalancerName: aws.String(t.ID),
	})
	if err != nil {
		return nil, fmt.Errorf("describing instance health of classic load balancer %s: %w", t.ID, err)
	}
	regs := make(map[string][]State)
	for _, s := range out.InstanceStates {
		id := aws.ToString(s.InstanceId)
		if id == "" {
			continue
		}
		regs[id] = append(regs[id], stateFromClassic(aws.ToString(s.State), aws.ToString(s.ReasonCode)))
	}
	return regs, nil
}

func stateFromV2(h *elbv2types.TargetHealth) State {
	if h == nil || h.State == "" {
		return State{State: "unknown", Active: true}
	}
	switch h.State {
	case elbv2types.TargetHealthStateEnumHealthy:
		return State{State: string(h.State), Healthy: true, Active: true}
	case elbv2types.TargetHealthStateEnumDraining, elbv2types.TargetHealthStateEnumUnhealthyDraining, elbv2types.TargetHealthStateEnumUnused:
		return State{State: string(h.State), Reason: string(h.Reason)}
	default:
		return State{State: string(h.State), Reason: string(h.Reason), Active: true}
	}
}

func stateFromClassic(state, reason string) State {
	if state == "" {
		state = "Unknown"
	}
	if reason == "N/A" {
		reason = ""
	}
	return State{State: state, Reason: reason, Healthy: state == "InService", Active: true}
}
