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

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

// Scaling policies and scheduled actions are named after the pool: Auto
// Scaling (and the emulator) key them by name, and the emulator keeps them
// after the group is deleted, so the pool deletes them itself.

// CPUPolicyName names the pool's target tracking policy.
func CPUPolicyName(pool string) string { return pool + "-cpu-target" }

// ScheduleName names one scheduled action of the pool.
func ScheduleName(pool, key string) string { return pool + "-schedule-" + key }

// CPUPolicy is the pool's target tracking policy on average CPU.
type CPUPolicy struct {
	Name          string
	TargetPercent float64
}

// FindCPUPolicy reads the pool's target tracking policy.
func FindCPUPolicy(ctx context.Context, client *autoscaling.Client, group, name string) (CPUPolicy, error) {
	out, err := client.DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{
		AutoScalingGroupName: aws.String(group),
		PolicyNames:          []string{name},
	})
	if err != nil {
		if groupGone(err) {
			return CPUPolicy{}, notfound.New("scaling policy", name)
		}
		return CPUPolicy{}, fmt.Errorf("describing scaling policy %s: %w", name, err)
	}
	for _, p := range out.ScalingPolicies {
		if aws.ToString(p.PolicyName) != name {
			continue
		}
		cp := CPUPolicy{Name: name}
		if c := p.TargetTrackingConfiguration; c != nil {
			cp.TargetPercent = aws.ToFloat64(c.TargetValue)
		}
		return cp, nil
	}
	return CPUPolicy{}, notfound.New("scaling policy", name)
}

// ListPolicyNames returns, sorted, the names of the group's scaling policies.
func ListPolicyNames(ctx context.Context, client *autoscaling.Client, group string) ([]string, error) {
	var out []string
	p := autoscaling.NewDescribePoliciesPaginator(client, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String(group)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if groupGone(err) {
				return out, nil
			}
			return nil, fmt.Errorf("describing scaling policies of Auto Scaling group %s: %w", group, err)
		}
		for _, sp := range page.ScalingPolicies {
			if g := aws.ToString(sp.AutoScalingGroupName); g == "" || g == group {
				out = append(out, aws.ToString(sp.PolicyName))
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// PutCPUPolicy creates or updates the target tracking policy.
func PutCPUPolicy(ctx context.Context, client *autoscaling.Client, group string, p CPUPolicy) error {
	_, err := client.PutScalingPolicy(ctx, &autoscaling.PutScalingPolicyInput{
		AutoScalingGroupName: aws.String(group),
		PolicyName:           aws.String(p.Name),
		PolicyType:           aws.String("TargetTrackingScaling"),
		TargetTrackingConfiguration: &astypes.TargetTrackingConfiguration{
			PredefinedMetricSpecification: &astypes.PredefinedMetricSpecification{
				PredefinedMetricType: astypes.MetricTypeASGAverageCPUUtilization,
			},
			TargetValue: aws.Float64(p.TargetPercent),
		},
	})
	if err != nil {
		return fmt.Errorf("putting scaling policy %s on Auto Scaling group %s: %w", p.Name, group, err)
	}
	return nil
}

// DeletePolicy deletes a scaling policy; a missing one is fine.
func DeletePolicy(ctx context.Context, client *autoscaling.Client, group, name string) error {
	_, err := client.DeletePolicy(ctx, &autoscaling.DeletePolicyInput{
		AutoScalingGroupName: aws.String(group),
		PolicyName:           aws.String(name),
	})
	if err != nil && !groupGone(err) {
		return fmt.Errorf("deleting scaling policy %s: %w", name, err)
	}
	return nil
}

// Schedule is one scheduled action of the pool. A negative size is unset.
type Schedule struct {
	Name       string
	Recurrence string
	MinSize    int64
	MaxSize    int64
	Desired    int64
}

// FindSchedules reads the pool's scheduled actions among names, by name.
func FindSchedules(ctx context.Context, client *autoscaling.Client, group string, names []string) (map[string]Schedule, error) {
	out := map[string]Schedule{}
	if len(names) == 0 {
		return out, nil
	}
	all, err := describeSchedules(ctx, client, group, names)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		if slices.Contains(names, s.Name) {
			out[s.Name] = s
		}
	}
	return out, nil
}

// ListSchedules reads the group's scheduled actions whose name starts with
// prefix, sorted by name.
func ListSchedules(ctx context.Context, client *autoscaling.Client, group, prefix string) ([]Schedule, error) {
	all, err := describeSchedules(ctx, client, group, nil)
	if err != nil {
		return nil, err
	}
	var out []Schedule
	for _, s := range all {
		if strings.HasPrefix(s.Name, prefix) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Schedule) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func describeSchedules(ctx context.Context, client *autoscaling.Client, group string, names []string) ([]Schedule, error) {
	var out []Schedule
	p := autoscaling.NewDescribeScheduledActionsPaginator(client, &autoscaling.DescribeScheduledActionsInput{
		AutoScalingGroupName: aws.String(group),
		ScheduledActionNames: names,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if groupGone(err) {
				return out, nil
			}
			return nil, fmt.Errorf("describing scheduled actions of Auto Scaling group %s: %w", group, err)
		}
		for _, a := range page.ScheduledUpdateGroupActions {
			if aws.ToString(a.AutoScalingGroupName) != "" && aws.ToString(a.AutoScalingGroupName) != group {
				continue
			}
			out = append(out, Schedule{
				Name:       aws.ToString(a.ScheduledActionName),
				Recurrence: aws.ToString(a.Recurrence),
				MinSize:    size(a.MinSize),
				MaxSize:    size(a.MaxSize),
				Desired:    size(a.DesiredCapacity),
			})
		}
	}
	return out, nil
}

func size(v *int32) int64 {
	if v == nil {
		return -1
	}
	return int64(*v)
}

func optionalSize(v int64) *int32 {
	if v < 0 {
		return nil
	}
	return aws.Int32(int32(v))
}

// PutSchedule creates or updates a scheduled action.
func PutSchedule(ctx context.Context, client *autoscaling.Client, group string, s Schedule) error {
	_, err := client.PutScheduledUpdateGroupAction(ctx, &autoscaling.PutScheduledUpdateGroupActionInput{
		AutoScalingGroupName: aws.String(group),
		ScheduledActionName:  aws.String(s.Name),
		Recurrence:           aws.String(s.Recurrence),
		MinSize:              optionalSize(s.MinSize),
		MaxSize:              optionalSize(s.MaxSize),
		DesiredCapacity:      optionalSize(s.Desired),
	})
	if err != nil {
		return fmt.Errorf("putting scheduled action %s on Auto Scaling group %s: %w", s.Name, group, err)
	}
	return nil
}

// DeleteSchedule deletes a scheduled action; a missing one is fine.
func DeleteSchedule(ctx context.Context, client *autoscaling.Client, group, name string) error {
	_, err := client.DeleteScheduledAction(ctx, &autoscaling.DeleteScheduledActionInput{
		AutoScalingGroupName: aws.String(group),
		ScheduledActionName:  aws.String(name),
	})
	if err != nil && !groupGone(err) {
		return fmt.Errorf("deleting scheduled action %s: %w", name, err)
	}
	return nil
}

// ScheduleKey is how a schedule is named inside the pool: its name, or its
// position when it has none.
func ScheduleKey(name string, index int) string {
	if name != "" {
		return name
	}
	return strconv.Itoa(index)
}
