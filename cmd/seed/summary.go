package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/rollout"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

// printSummary writes what the pool poolName and the sync policy
// policyName (optional) look like in the cloud, a line per part of the
// pattern: clones and their health, image, write rule, recovery alarm, what
// the clones' user data disables, and the sync policy. Everything is read
// from the cloud, not from Terraform state.
func printSummary(ctx context.Context, c *conns.AWSClient, w *seed.World, poolName, policyName string, out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	names := pool.NamesFor(poolName)

	g, err := pool.FindGroup(ctx, c.AutoScaling, names.Group)
	if err != nil {
		return fmt.Errorf("finding the pool's Auto Scaling group: %w", err)
	}
	healthy, err := healthyEverywhere(ctx, c, g)
	if err != nil {
		return err
	}
	var inService []string
	for _, i := range g.Instances {
		if i.LifecycleState == rollout.LifecycleInService {
			inService = append(inService, i.ID)
		}
	}
	lbs := append(shortTargetGroups(g.TargetGroupARNs), prefixAll("classic ELB ", g.ClassicELBNames)...)
	fmt.Fprintf(tw, "clones\t%d in service, %d healthy in every load balancer (%s)\n", len(inService), len(healthy), strings.Join(lbs, ", "))

	tpl, err := pool.FindTemplateVersion(ctx, c.EC2, g.LaunchTemplateID, g.LaunchTemplateVersion)
	if err != nil {
		return err
	}
	fmt.Fprintf(tw, "image\t%s (launch template %s version %d)\n", tpl.Spec.ImageID, tpl.ID, tpl.Version)

	if err := writeRule(ctx, c, w, names.MasterTargetGroup, tw); err != nil {
		return err
	}
	if err := recoveryAlarm(ctx, c, names.RecoveryAlarm, tw); err != nil {
		return err
	}

	parsed, err := userdata.Parse(tpl.Spec.UserData)
	if err != nil {
		return fmt.Errorf("reading the clones' user data: %w", err)
	}
	disabled := "none"
	if len(parsed.DisableServices) > 0 {
		disabled = strings.Join(parsed.DisableServices, ", ")
	}
	env := ""
	if parsed.EnvFile != "" {
		env = "; the master's address in " + parsed.EnvFile
	}
	fmt.Fprintf(tw, "on clones\tservices disabled: %s%s\n", disabled, env)

	if policyName != "" {
		agent := "no: clones do not sync"
		if parsed.SyncAgent != "" {
			agent = "yes: a clone is in service only after its first sync"
		}
		if err := syncPolicy(ctx, c, policyName, agent, tw); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// healthyEverywhere returns the group's members healthy in every target
// group and InService in every classic ELB the group is attached to.
func healthyEverywhere(ctx context.Context, c *conns.AWSClient, g pool.Group) ([]string, error) {
	count := map[string]int{}
	for _, tg := range g.TargetGroupARNs {
		out, err := c.ELBV2.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		if err != nil {
			return nil, fmt.Errorf("describing health of %s: %w", tg, err)
		}
		for _, d := range out.TargetHealthDescriptions {
			if d.TargetHealth != nil && d.TargetHealth.State == elbv2types.TargetHealthStateEnumHealthy {
				count[aws.ToString(d.Target.Id)]++
			}
		}
	}
	for _, name := range g.ClassicELBNames {
		out, err := c.ELB.DescribeInstanceHealth(ctx, &elasticloadbalancing.DescribeInstanceHealthInput{LoadBalancerName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("describing health of classic ELB %s: %w", name, err)
		}
		for _, s := range out.InstanceStates {
			if aws.ToString(s.State) == "InService" {
				count[aws.ToString(s.InstanceId)]++
			}
		}
	}
	var ids []string
	for _, i := range g.Instances {
		if count[i.ID] == len(g.TargetGroupARNs)+len(g.ClassicELBNames) {
			ids = append(ids, i.ID)
		}
	}
	return ids, nil
}

// writeRule prints the listener rule that forwards to the pool's master
// target group as "/upload/* → master i-…".
func writeRule(ctx context.Context, c *conns.AWSClient, w *seed.World, tgName string, out io.Writer) error {
	tg, err := pool.FindTargetGroupByName(ctx, c.ELBV2, tgName)
	if notfound.Is(err) {
		fmt.Fprintln(out, "write rule\tnone (no write_paths in the master block)")
		return nil
	}
	if err != nil {
		return err
	}
	arn := aws.ToString(tg.TargetGroupArn)
	rule, err := pool.FindRuleForwardingTo(ctx, c.ELBV2, w.ListenerArn, arn)
	if notfound.Is(err) {
		fmt.Fprintf(out, "write rule\tnone: target group %s has no rule on listener %s\n", tgName, w.ListenerArn)
		return nil
	}
	if err != nil {
		return err
	}
	health, err := c.ELBV2.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("describing health of %s: %w", tgName, err)
	}
	var targets []string
	for _, d := range health.TargetHealthDescriptions {
		id := aws.ToString(d.Target.Id)
		role := "clone"
		if id == w.MasterInstanceID {
			role = "master"
		}
		state := "unknown"
		if d.TargetHealth != nil {
			state = string(d.TargetHealth.State)
		}
		targets = append(targets, fmt.Sprintf("%s %s (%s)", role, id, state))
	}
	slices.Sort(targets)
	if len(targets) == 0 {
		targets = []string{"no target"}
	}
	fmt.Fprintf(out, "write rule\t%s → %s, through listener rule priority %d and target group %s\n",
		strings.Join(rule.PathPatterns, ", "), strings.Join(targets, ", "), rule.Priority, tgName)
	return nil
}

// recoveryAlarm prints the master's auto-recovery alarm: its instance,
// state and action.
func recoveryAlarm(ctx context.Context, c *conns.AWSClient, name string, out io.Writer) error {
	res, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		return fmt.Errorf("describing alarm %s: %w", name, err)
	}
	for _, a := range res.MetricAlarms {
		if aws.ToString(a.AlarmName) != name {
			continue
		}
		instance := "?"
		for _, d := range a.Dimensions {
			if aws.ToString(d.Name) == "InstanceId" {
				instance = aws.ToString(d.Value)
			}
		}
		fmt.Fprintf(out, "recovery\talarm %s on %s of master %s: state %s, action %s\n",
			name, aws.ToString(a.MetricName), instance, a.StateValue, strings.Join(a.AlarmActions, ", "))
		return nil
	}
	fmt.Fprintln(out, "recovery\tno alarm (recovery_alarm = false)")
	return nil
}

// syncPolicy prints the sync policy as SSM holds it.
func syncPolicy(ctx context.Context, c *conns.AWSClient, name, agent string, out io.Writer) error {
	o, err := syncstore.Observe(ctx, c.SSM, name)
	if err != nil {
		return fmt.Errorf("reading sync policy %s: %w", name, err)
	}
	r := o.Record
	var paths []string
	if o.Paths != nil {
		for _, p := range o.Paths.Paths {
			paths = append(paths, p.Source)
		}
	}
	state := "in sync with its configuration"
	if len(o.Drift) > 0 {
		state = "drifted: " + strings.Join(o.Drift, "; ")
	}
	fmt.Fprintf(out, "sync\tpolicy %s: every %s from master %s (%s) as %s, paths %s, key %s, installed on the master: %s; %s\n",
		name, r.Interval, r.MasterInstanceID, r.MasterAddress, r.SSHUser, strings.Join(paths, ", "), r.KeyFingerprint,
		yesNo(r.InstallOnMaster), state)
	fmt.Fprintf(out, "sync agent\t%s\n", agent)
	return nil
}

func shortTargetGroups(arns []string) []string {
	out := make([]string, len(arns))
	for i, arn := range arns {
		// arn:…:targetgroup/NAME/ID
		parts := strings.Split(arn, "/")
		out[i] = arn
		if len(parts) >= 3 {
			out[i] = "target group " + parts[len(parts)-2]
		}
	}
	return out
}

func prefixAll(prefix string, items []string) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = prefix + s
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
