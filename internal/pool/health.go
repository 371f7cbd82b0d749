package pool

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

// Clients are the service clients the pool's waits and registrations use.
type Clients struct {
	AutoScaling *autoscaling.Client
	ELBV2       *elasticloadbalancingv2.Client
	ELB         *elasticloadbalancing.Client
}

// Targets lists the load balancers a pool is attached to, target groups
// first, each in sorted order.
func Targets(targetGroupARNs, classicELBNames []string) []poolhealth.Target {
	tgs, elbs := slices.Sorted(slices.Values(targetGroupARNs)), slices.Sorted(slices.Values(classicELBNames))
	out := make([]poolhealth.Target, 0, len(tgs)+len(elbs))
	for _, arn := range tgs {
		out = append(out, poolhealth.Target{Kind: poolhealth.KindTargetGroup, ID: arn, Name: TargetGroupName(arn)})
	}
	for _, n := range elbs {
		out = append(out, poolhealth.Target{Kind: poolhealth.KindClassicELB, ID: n, Name: n})
	}
	return out
}

// TargetGroupName is the name part of a target group ARN.
func TargetGroupName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":targetgroup/")
	if !ok {
		return arn
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// Health reads the health of ids in every target with one call per target.
func (c Clients) Health(ctx context.Context, targets []poolhealth.Target) (poolhealth.Report, error) {
	if len(targets) == 0 {
		return poolhealth.Report{}, nil
	}
	return poolhealth.Collect(ctx, c.ELBV2, c.ELB, targets)
}

// HealthyError tells which clones were not healthy where when a wait ended.
type HealthyError struct {
	Healthy, Want int
	After         time.Duration
	Unhealthy     map[string][]string
	Launched      int
	Err           error
}

func (e *HealthyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d clones healthy after %s", e.Healthy, e.Want, e.After.Round(time.Second))
	if e.Launched < e.Want {
		fmt.Fprintf(&b, " (only %d launched)", e.Launched)
	}
	ids := make([]string, 0, len(e.Unhealthy))
	for id := range e.Unhealthy {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i, id := range ids {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s unhealthy in %s", id, strings.Join(e.Unhealthy[id], ", "))
	}
	if e.Err != nil {
		fmt.Fprintf(&b, " (%s)", e.Err)
	}
	return b.String()
}

func (e *HealthyError) Unwrap() error { return e.Err }

// WaitHealthy waits until the group has want serving members and each is
// healthy in every target. Members missing from a classic load balancer
// are registered with it. It returns the serving members and the healthy
// ones as last seen.
func (c Clients) WaitHealthy(ctx context.Context, group string, targets []poolhealth.Target, want int, progress func(string)) (ids, healthy []string, err error) {
	start := time.Now()
	var report poolhealth.Report
	err = wait.For(ctx, wait.Options{Interval: 2 * time.Second, Progress: progress}, func(ctx context.Context) (bool, string, error) {
		g, err := FindGroup(ctx, c.AutoScaling, group)
		if err != nil {
			return false, "", err
		}
		ids = g.ServingIDs()
		if len(ids) < want {
			return false, fmt.Sprintf("%d/%d clones launched", len(ids), want), nil
		}
		report, err = c.Health(ctx, targets)
		if err != nil {
			return false, "", err
		}
		if err := c.registerMissingClassic(ctx, report, ids); err != nil {
			return false, "", err
		}
		healthy = report.Healthy(ids)
		return len(healthy) >= want, strings.Join(report.Progress(ids), "; "), nil
	})
	if err != nil {
		if wait.IsTimeout(err) {
			unhealthy := report.Unhealthy(ids)
			return ids, healthy, &HealthyError{Healthy: len(healthy), Want: want, After: time.Since(start), Unhealthy: unhealthy, Launched: len(ids), Err: ctx.Err()}
		}
		return ids, healthy, err
	}
	return ids, healthy, nil
}

func (c Clients) registerMissingClassic(ctx context.Context, report poolhealth.Report, ids []string) error {
	for _, t := range report.Targets {
		if t.Target.Kind != poolhealth.KindClassicELB {
			continue
		}
		var missing []string
		for _, id := range ids {
			if _, ok := t.Instances[id]; !ok {
				missing = append(missing, id)
			}
		}
		if err := c.registerClassic(ctx, t.Target.ID, missing); err != nil {
			return err
		}
	}
	return nil
}

// WaitAbsent waits until none of ids is actively registered with any target.
func (c Clients) WaitAbsent(ctx context.Context, targets []poolhealth.Target, ids []string, progress func(string)) error {
	if len(targets) == 0 || len(ids) == 0 {
		return nil
	}
	return wait.For(ctx, wait.Options{Interval: 2 * time.Second, Progress: progress}, func(ctx context.Context) (bool, string, error) {
		report, err := c.Health(ctx, targets)
		if err != nil {
			return false, "", err
		}
		if report.Absent(ids) {
			return true, fmt.Sprintf("%d retired clones out of every load balancer", len(ids)), nil
		}
		var still []string
		for _, id := range ids {
			for _, t := range report.Targets {
				if t.Instances[id].Active {
					still = append(still, id+" in "+t.Target.Name)
				}
			}
		}
		return false, "retired clones still registered: " + strings.Join(still, ", "), nil
	})
}

// Register adds ids to every target.
func (c Clients) Register(ctx context.Context, targets []poolhealth.Target, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	for _, t := range targets {
		var err error
		switch t.Kind {
		case poolhealth.KindTargetGroup:
			_, err = c.ELBV2.RegisterTargets(ctx, &elasticloadbalancingv2.RegisterTargetsInput{
				TargetGroupArn: aws.String(t.ID), Targets: targetDescriptions(ids),
			})
			if err != nil {
				err = fmt.Errorf("registering %v with target group %s: %w", ids, t.Name, err)
			}
		case poolhealth.KindClassicELB:
			err = c.registerClassic(ctx, t.ID, ids)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c Clients) registerClassic(ctx context.Context, name string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := c.ELB.RegisterInstancesWithLoadBalancer(ctx, &elasticloadbalancing.RegisterInstancesWithLoadBalancerInput{
		LoadBalancerName: aws.String(name), Instances: classicInstances(ids),
	})
	if err != nil {
		return fmt.Errorf("registering %v with classic load balancer %s: %w", ids, name, err)
	}
	return nil
}

// Deregister removes ids from every target they are actively registered
// with; a target that no longer exists is skipped.
func (c Clients) Deregister(ctx context.Context, targets []poolhealth.Target, ids []string) error {
	if len(ids) == 0 || len(targets) == 0 {
		return nil
	}
	for _, t := range targets {
		report, err := c.Health(ctx, []poolhealth.Target{t})
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		th := report.Targets[0]
		var registered []string
		for _, id := range ids {
			if th.Instances[id].Active {
				registered = append(registered, id)
			}
		}
		if len(registered) == 0 {
			continue
		}
		switch t.Kind {
		case poolhealth.KindTargetGroup:
			_, err = c.ELBV2.DeregisterTargets(ctx, &elasticloadbalancingv2.DeregisterTargetsInput{
				TargetGroupArn: aws.String(t.ID), Targets: targetDescriptions(registered),
			})
		case poolhealth.KindClassicELB:
			_, err = c.ELB.DeregisterInstancesFromLoadBalancer(ctx, &elasticloadbalancing.DeregisterInstancesFromLoadBalancerInput{
				LoadBalancerName: aws.String(t.ID), Instances: classicInstances(registered),
			})
		}
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("deregistering %v from %s: %w", registered, t.Name, err)
		}
	}
	return nil
}

// Retire takes ids out of every target and the group: deregister, wait
// until the target groups drained them, terminate with decrement,
// deregister again (classic load balancers may drop a clone only once it is
// out of the group, and the emulator re-registers the group's remaining
// members on every termination) and wait until they are out everywhere.
func (c Clients) Retire(ctx context.Context, targets []poolhealth.Target, ids []string, progress func(string)) error {
	if err := c.Deregister(ctx, targets, ids); err != nil {
		return err
	}
	if err := c.WaitAbsent(ctx, TargetGroupsOnly(targets), ids, progress); err != nil {
		return fmt.Errorf("waiting for %v to drain from the target groups: %w", ids, err)
	}
	if err := Terminate(ctx, c.AutoScaling, ids); err != nil {
		return err
	}
	if err := c.Deregister(ctx, targets, ids); err != nil {
		return err
	}
	if err := c.WaitAbsent(ctx, targets, ids, progress); err != nil {
		return fmt.Errorf("waiting for %v to leave the load balancers: %w", ids, err)
	}
	return nil
}

// TargetGroupsOnly keeps the target groups of targets.
func TargetGroupsOnly(targets []poolhealth.Target) []poolhealth.Target {
	var out []poolhealth.Target
	for _, t := range targets {
		if t.Kind == poolhealth.KindTargetGroup {
			out = append(out, t)
		}
	}
	return out
}

func targetDescriptions(ids []string) []elbv2types.TargetDescription {
	out := make([]elbv2types.TargetDescription, 0, len(ids))
	for _, id := range ids {
		out = append(out, elbv2types.TargetDescription{Id: aws.String(id)})
	}
	return out
}

func classicInstances(ids []string) []elbtypes.Instance {
	out := make([]elbtypes.Instance, 0, len(ids))
	for _, id := range ids {
		out = append(out, elbtypes.Instance{InstanceId: aws.String(id)})
	}
	return out
}
