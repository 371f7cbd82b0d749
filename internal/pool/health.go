package pool

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
	"github.com/cloneserver/terraform-provider-clone/internal/rollout"
	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

// Clients are the service clients the pool's waits, registrations and
// retirements use.
type Clients struct {
	AutoScaling *autoscaling.Client
	EC2         *ec2.Client
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
	// Held are the unhealthy clones a launch lifecycle hook still held
	// (Pending:Wait), with what each reported about its first sync.
	Held     map[string]string
	Launched int
	Err      error
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
		if reported, held := e.Held[id]; held {
			fmt.Fprintf(&b, " (%s)", strings.Join(rollout.HeldReasons(rollout.LifecyclePendingWait, reported), "; "))
		}
	}
	if e.Err != nil {
		fmt.Fprintf(&b, " (%s)", e.Err)
	}
	if len(e.Held) > 0 {
		b.WriteString(". " + rollout.FirstSyncHint)
	}
	return b.String()
}

func (e *HealthyError) Unwrap() error { return e.Err }

// WaitHealthy waits until the group has want serving members and each is
// healthy in every target. It registers nothing: Auto Scaling registers a
// member with the group's load balancers when it enters InService, after its
// launch hooks completed, so a clone held for its first sync never serves
// (https://docs.aws.amazon.com/autoscaling/ec2/userguide/attach-load-balancer-asg.html).
// It returns the serving members and the healthy ones as last seen.
func (c Clients) WaitHealthy(ctx context.Context, group string, targets []poolhealth.Target, want int, progress func(string)) (ids, healthy []string, err error) {
	start := time.Now()
	var report poolhealth.Report
	var last Group
	err = wait.For(ctx, wait.Options{Interval: 2 * time.Second, MaxInterval: 15 * time.Second, Progress: progress}, func(ctx context.Context) (bool, string, error) {
		g, err := FindGroup(ctx, c.AutoScaling, group)
		if err != nil {
			return false, "", err
		}
		last = g
		ids = g.ServingIDs()
		if len(ids) < want {
			return false, fmt.Sprintf("%d/%d clones launched", len(ids), want), nil
		}
		report, err = c.Health(ctx, targets)
		if err != nil {
			return false, "", err
		}
		healthy = report.Healthy(ids)
		return len(healthy) >= want, strings.Join(report.Progress(ids), "; "), nil
	})
	if err != nil {
		if wait.IsTimeout(err) {
			unhealthy := report.Unhealthy(ids)
			return ids, healthy, &HealthyError{Healthy: len(healthy), Want: want, After: time.Since(start), Unhealthy: unhealthy,
				Held: c.held(context.WithoutCancel(ctx), last, unhealthy), Launched: len(ids), Err: ctx.Err()}
		}
		return ids, healthy, err
	}
	return ids, healthy, nil
}

// held returns the members of g in unhealthy that a launch lifecycle hook
// holds, with what each reported about its first sync (one
// DescribeInstances, after the wait ran out; its failure only loses the
// reports).
func (c Clients) held(ctx context.Context, g Group, unhealthy map[string][]string) map[string]string {
	var ids []string
	for _, i := range g.Instances {
		if _, ok := unhealthy[i.ID]; ok && i.LifecycleState == rollout.LifecyclePendingWait {
			ids = append(ids, i.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	out := make(map[string]string, len(ids))
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	members, _ := DescribeMembers(ctx, c.EC2, "", ids)
	for _, id := range ids {
		out[id] = members[id].FirstSync
	}
	return out
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
// with; a target that no longer exists is skipped. It does not wait for the
// connections to drain (Drain does).
func (c Clients) Deregister(ctx context.Context, targets []poolhealth.Target, ids []string) error {
	_, err := c.deregister(ctx, targets, ids)
	return err
}

// deregister removes ids from every target they are actively registered
// with and returns, for each target that still lists any of them (active or
// draining), when they were deregistered from it: after the
// deregistration call returned, or, for ids that were already draining,
// now, since when they were deregistered is unknown.
func (c Clients) deregister(ctx context.Context, targets []poolhealth.Target, ids []string) ([]drain, error) {
	if len(ids) == 0 || len(targets) == 0 {
		return nil, nil
	}
	var drains []drain
	for _, t := range targets {
		report, err := c.Health(ctx, []poolhealth.Target{t})
		if err != nil {
			return nil, err
		}
		if len(report.Gone) > 0 {
			continue
		}
		th := report.Targets[0]
		var registered []string
		for _, id := range ids {
			if th.Instances[id].Active {
				registered = append(registered, id)
			}
		}
		if len(registered) > 0 {
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
			if gone(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("deregistering %v from %s: %w", registered, t.Name, err)
			}
		}
		if still := listed(th, ids); len(still) > 0 {
			drains = append(drains, drain{target: t, ids: still, since: time.Now()})
		}
	}
	return drains, nil
}

// What AWS does with a deregistered instance, and what Drain waits out:
//
//   - A target group keeps a deregistered target `draining` for its
//     deregistration_delay.timeout_seconds (default 300) so in-flight
//     requests complete, then stops listing it; asked about it by id, it
//     answers `unused` (Target.NotRegistered).
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
//   - A classic load balancer with ConnectionDraining enabled keeps a
//     deregistered instance for its Timeout (default 300), reported
//     InService with the description "Instance deregistration currently in
//     progress.", then stops listing it. Without connection draining it
//     drops the instance at once.
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/config-conn-drain.html
const (
	attrDeregistrationDelay = "deregistration_delay.timeout_seconds"
	// defaultDrainDelay is AWS's default for both.
	defaultDrainDelay = 300 * time.Second
	drainPollInterval = 2 * time.Second
)

// drain is one load balancer's part of a Drain: the ids it still lists,
// when they were deregistered from it, and how long it keeps draining them.
type drain struct {
	target poolhealth.Target
	ids    []string
	since  time.Time
	delay  time.Duration
}

// deadline is when the load balancer has let go of the ids whatever it
// reports: their deregistration plus its delay.
func (d drain) deadline() time.Time { return d.since.Add(d.delay) }

func (d drain) String() string {
	kind := "target group"
	if d.target.Kind == poolhealth.KindClassicELB {
		kind = "classic load balancer"
	}
	return fmt.Sprintf("waiting up to %s for %d %s to drain from %s %s",
		d.delay.Round(time.Second), len(d.ids), plural(len(d.ids), "clone", "clones"), kind, d.target.Name)
}

// listed returns the ids th still lists, as registered or as draining. A
// target group's `unused` target is gone: not registered, or in nothing
// that routes to it.
func listed(th poolhealth.TargetHealth, ids []string) []string {
	var out []string
	for _, id := range ids {
		s, ok := th.Instances[id]
		if !ok || (th.Target.Kind == poolhealth.KindTargetGroup && s.State == string(elbv2types.TargetHealthStateEnumUnused)) {
			continue
		}
		out = append(out, id)
	}
	return out
}

// TargetGroupDelay reads a target group's deregistration delay from its
// attributes; AWS's default when they do not name it.
func TargetGroupDelay(attrs []elbv2types.TargetGroupAttribute) (time.Duration, error) {
	for _, a := range attrs {
		if aws.ToString(a.Key) != attrDeregistrationDelay {
			continue
		}
		secs, err := strconv.Atoi(aws.ToString(a.Value))
		if err != nil || secs < 0 {
			return 0, fmt.Errorf("attribute %s = %q is not a number of seconds", attrDeregistrationDelay, aws.ToString(a.Value))
		}
		return time.Duration(secs) * time.Second, nil
	}
	return defaultDrainDelay, nil
}

// ClassicDrainTimeout reads a classic load balancer's connection-draining
// timeout from its attributes: zero when draining is off, AWS's default
// when it is on without a timeout.
func ClassicDrainTimeout(attrs *elbtypes.LoadBalancerAttributes) time.Duration {
	if attrs == nil || attrs.ConnectionDraining == nil || !attrs.ConnectionDraining.Enabled {
		return 0
	}
	if t := attrs.ConnectionDraining.Timeout; t != nil {
		return time.Duration(max(*t, 0)) * time.Second
	}
	return defaultDrainDelay
}

// drainDelay reads how long t keeps draining a deregistered instance: one
// describe-attributes call per load balancer, whatever the number of
// clones. A load balancer gone meanwhile drains nothing.
func (c Clients) drainDelay(ctx context.Context, t poolhealth.Target) (time.Duration, error) {
	switch t.Kind {
	case poolhealth.KindTargetGroup:
		out, err := c.ELBV2.DescribeTargetGroupAttributes(ctx, &elasticloadbalancingv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(t.ID)})
		if gone(err) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("reading the deregistration delay of target group %s: %w", t.Name, err)
		}
		d, err := TargetGroupDelay(out.Attributes)
		if err != nil {
			return 0, fmt.Errorf("target group %s: %w", t.Name, err)
		}
		return d, nil
	case poolhealth.KindClassicELB:
		out, err := c.ELB.DescribeLoadBalancerAttributes(ctx, &elasticloadbalancing.DescribeLoadBalancerAttributesInput{LoadBalancerName: aws.String(t.ID)})
		if gone(err) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("reading connection draining of classic load balancer %s: %w", t.Name, err)
		}
		return ClassicDrainTimeout(out.LoadBalancerAttributes), nil
	}
	return 0, nil
}

// Drain takes ids out of every target and waits until no target lists them
// any more, registered or draining, or until each target's own drain
// delay (deregistration delay, connection-draining timeout) has passed
// since it let them go, whichever comes first. Only then may they be
// terminated without cutting in-flight requests. ctx, the operation's
// timeout, bounds the wait; running out of it is an error.
func (c Clients) Drain(ctx context.Context, targets []poolhealth.Target, ids []string, progress func(string)) error {
	drains, err := c.deregister(ctx, targets, ids)
	if err != nil {
		return err
	}
	for i := range drains {
		if drains[i].delay, err = c.drainDelay(ctx, drains[i].target); err != nil {
			return err
		}
		if progress != nil && drains[i].delay > 0 {
			progress(drains[i].String())
		}
	}
	return c.waitDrained(ctx, drains, progress)
}

// waitDrained waits until every drain is over: its load balancer lists none
// of its ids, or its deadline passed.
func (c Clients) waitDrained(ctx context.Context, drains []drain, progress func(string)) error {
	var last time.Time
	for _, d := range drains {
		if d.deadline().After(last) {
			last = d.deadline()
		}
	}
	if len(drains) == 0 || !time.Now().Before(last) {
		return nil
	}
	done := make([]bool, len(drains))
	first := true
	wctx, cancel := context.WithDeadline(ctx, last)
	defer cancel()
	err := wait.For(wctx, wait.Options{Interval: drainPollInterval, MaxInterval: 15 * time.Second, Progress: progress}, func(context.Context) (bool, string, error) {
		if first {
			// Right after deregistration every load balancer with a
			// delay still lists the clones: look from the second check.
			first = false
			return false, "", nil
		}
		// Each read runs on ctx, not the wait's own context, so the drain
		// deadline ends the wait, never a describe call half way.
		now := time.Now()
		var pending []string
		for i, d := range drains {
			if done[i] || !now.Before(d.deadline()) {
				done[i] = true
				continue
			}
			report, err := c.Health(ctx, []poolhealth.Target{d.target})
			if err != nil {
				return false, "", err
			}
			if len(report.Gone) > 0 {
				done[i] = true
				continue
			}
			still := listed(report.Targets[0], d.ids)
			if len(still) == 0 {
				done[i] = true
				continue
			}
			pending = append(pending, fmt.Sprintf("%d draining from %s (%s left)", len(still), d.target.Name, d.deadline().Sub(now).Round(time.Second)))
		}
		if len(pending) == 0 {
			return true, "retired clones drained from every load balancer", nil
		}
		return false, "retired clones still draining: " + strings.Join(pending, ", "), nil
	})
	switch {
	case err == nil:
		return nil
	case wait.IsTimeout(err) && ctx.Err() == nil:
		if progress != nil {
			progress("drain delays passed: retired clones no longer receive traffic")
		}
		return nil
	}
	var ids []string
	for _, d := range drains {
		ids = append(ids, d.ids...)
	}
	slices.Sort(ids)
	return fmt.Errorf("waiting for clones %v to drain from the load balancers: %w", slices.Compact(ids), err)
}

// Retire takes ids out of every target and the group: deregister and wait
// until every load balancer drained them (Drain), then terminate with
// decrement. Auto Scaling registers only members in service, so nothing
// puts a retired clone back.
func (c Clients) Retire(ctx context.Context, group string, targets []poolhealth.Target, ids []string, progress func(string)) error {
	if err := c.Drain(ctx, targets, ids, progress); err != nil {
		return err
	}
	if err := Terminate(ctx, c.AutoScaling, c.EC2, group, ids); err != nil {
		return err
	}
	if progress != nil {
		progress(fmt.Sprintf("%d retired %s out of every load balancer", len(ids), plural(len(ids), "clone", "clones")))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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
