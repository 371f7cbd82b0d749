package pool

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/aws-sdk-go-base/v2/tfawserr"

	"github.com/cloneserver/terraform-provider-clone/internal/awstags"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

// FindTargetGroupByName reads a target group by name.
func FindTargetGroupByName(ctx context.Context, client *elasticloadbalancingv2.Client, name string) (elbv2types.TargetGroup, error) {
	out, err := client.DescribeTargetGroups(ctx, &elasticloadbalancingv2.DescribeTargetGroupsInput{Names: []string{name}})
	if err != nil {
		if gone(err) {
			return elbv2types.TargetGroup{}, notfound.New("target group", name)
		}
		return elbv2types.TargetGroup{}, fmt.Errorf("describing target group %s: %w", name, err)
	}
	if len(out.TargetGroups) == 0 {
		return elbv2types.TargetGroup{}, notfound.New("target group", name)
	}
	return out.TargetGroups[0], nil
}

// TargetGroupTags reads a target group's tags.
func TargetGroupTags(ctx context.Context, client *elasticloadbalancingv2.Client, arn string) (map[string]string, error) {
	out, err := client.DescribeTags(ctx, &elasticloadbalancingv2.DescribeTagsInput{ResourceArns: []string{arn}})
	if err != nil {
		if gone(err) {
			return nil, notfound.New("target group", arn)
		}
		return nil, fmt.Errorf("describing the tags of target group %s: %w", arn, err)
	}
	tags := map[string]string{}
	for _, d := range out.TagDescriptions {
		for _, t := range d.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}

// FindTargetGroup reads a target group by ARN.
func FindTargetGroup(ctx context.Context, client *elasticloadbalancingv2.Client, arn string) (elbv2types.TargetGroup, error) {
	out, err := client.DescribeTargetGroups(ctx, &elasticloadbalancingv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}})
	if err != nil {
		if gone(err) {
			return elbv2types.TargetGroup{}, notfound.New("target group", arn)
		}
		return elbv2types.TargetGroup{}, fmt.Errorf("describing target group %s: %w", arn, err)
	}
	if len(out.TargetGroups) == 0 {
		return elbv2types.TargetGroup{}, notfound.New("target group", arn)
	}
	return out.TargetGroups[0], nil
}

// MasterTargetGroupInput describes the master-only target group. Protocol,
// port and health check are copied from Like when there is one.
type MasterTargetGroupInput struct {
	Name  string
	VpcID string
	Like  *elbv2types.TargetGroup
	Tags  map[string]string
}

// CreateMasterTargetGroup creates the master-only target group.
func CreateMasterTargetGroup(ctx context.Context, client *elasticloadbalancingv2.Client, in MasterTargetGroupInput) (string, error) {
	req := &elasticloadbalancingv2.CreateTargetGroupInput{
		Name:       aws.String(in.Name),
		VpcId:      aws.String(in.VpcID),
		TargetType: elbv2types.TargetTypeEnumInstance,
		Protocol:   elbv2types.ProtocolEnumHttp,
		Port:       aws.Int32(80),
		Tags:       awstags.ELBV2(in.Tags),
	}
	if l := in.Like; l != nil {
		req.Protocol = l.Protocol
		req.Port = l.Port
		req.HealthCheckProtocol = l.HealthCheckProtocol
		req.HealthCheckPath = l.HealthCheckPath
		req.HealthCheckPort = l.HealthCheckPort
		req.HealthCheckIntervalSeconds = l.HealthCheckIntervalSeconds
		req.HealthCheckTimeoutSeconds = l.HealthCheckTimeoutSeconds
		req.HealthyThresholdCount = l.HealthyThresholdCount
		req.UnhealthyThresholdCount = l.UnhealthyThresholdCount
		req.Matcher = l.Matcher
	}
	out, err := client.CreateTargetGroup(ctx, req)
	if err != nil {
		return "", fmt.Errorf("creating master target group %s: %w", in.Name, err)
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn), nil
}

// DeleteTargetGroup deletes a target group; a missing one is fine.
func DeleteTargetGroup(ctx context.Context, client *elasticloadbalancingv2.Client, arn string) error {
	_, err := client.DeleteTargetGroup(ctx, &elasticloadbalancingv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)})
	if err != nil && !gone(err) {
		return fmt.Errorf("deleting master target group %s: %w", arn, err)
	}
	return nil
}

// RetagELBV2 replaces the tags of target groups and rules.
func RetagELBV2(ctx context.Context, client *elasticloadbalancingv2.Client, arns []string, had, want map[string]string) error {
	if len(arns) == 0 {
		return nil
	}
	set, remove := awstags.Changes(had, want)
	if len(remove) > 0 {
		if _, err := client.RemoveTags(ctx, &elasticloadbalancingv2.RemoveTagsInput{ResourceArns: arns, TagKeys: remove}); err != nil {
			return fmt.Errorf("removing tags from %v: %w", arns, err)
		}
	}
	if len(set) > 0 {
		if _, err := client.AddTags(ctx, &elasticloadbalancingv2.AddTagsInput{ResourceArns: arns, Tags: awstags.ELBV2(set)}); err != nil {
			return fmt.Errorf("tagging %v: %w", arns, err)
		}
	}
	return nil
}

// Rule is the listener rule sending writes to the master.
type Rule struct {
	ARN            string
	ListenerARN    string
	Priority       int64
	PathPatterns   []string
	TargetGroupARN string
}

// ExpandRuleConditions renders the write paths as one path-pattern condition.
func ExpandRuleConditions(paths []string) []elbv2types.RuleCondition {
	return []elbv2types.RuleCondition{{
		Field:             aws.String("path-pattern"),
		PathPatternConfig: &elbv2types.PathPatternConditionConfig{Values: slices.Clone(paths)},
	}}
}

func forwardTo(tgARN string) []elbv2types.Action {
	return []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}
}

// FlattenRule reads a listener rule.
func FlattenRule(r elbv2types.Rule, listenerARN string) Rule {
	out := Rule{ARN: aws.ToString(r.RuleArn), ListenerARN: listenerARN}
	out.Priority, _ = strconv.ParseInt(aws.ToString(r.Priority), 10, 64)
	for _, c := range r.Conditions {
		if aws.ToString(c.Field) != "path-pattern" {
			continue
		}
		if c.PathPatternConfig != nil && len(c.PathPatternConfig.Values) > 0 {
			out.PathPatterns = append(out.PathPatterns, c.PathPatternConfig.Values...)
		} else {
			out.PathPatterns = append(out.PathPatterns, c.Values...)
		}
	}
	for _, a := range r.Actions {
		if a.Type != elbv2types.ActionTypeEnumForward {
			continue
		}
		out.TargetGroupARN = aws.ToString(a.TargetGroupArn)
		if out.TargetGroupARN == "" && a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			out.TargetGroupARN = aws.ToString(a.ForwardConfig.TargetGroups[0].TargetGroupArn)
		}
	}
	return out
}

// FindRule reads a listener rule by ARN.
func FindRule(ctx context.Context, client *elasticloadbalancingv2.Client, arn, listenerARN string) (Rule, error) {
	out, err := client.DescribeRules(ctx, &elasticloadbalancingv2.DescribeRulesInput{RuleArns: []string{arn}})
	if err != nil {
		if gone(err) {
			return Rule{}, notfound.New("listener rule", arn)
		}
		return Rule{}, fmt.Errorf("describing listener rule %s: %w", arn, err)
	}
	if len(out.Rules) == 0 {
		return Rule{}, notfound.New("listener rule", arn)
	}
	return FlattenRule(out.Rules[0], listenerARN), nil
}

// FindRuleForwardingTo finds the rule of a listener forwarding to tgARN;
// import uses it.
func FindRuleForwardingTo(ctx context.Context, client *elasticloadbalancingv2.Client, listenerARN, tgARN string) (Rule, error) {
	out, err := client.DescribeRules(ctx, &elasticloadbalancingv2.DescribeRulesInput{ListenerArn: aws.String(listenerARN)})
	if err != nil {
		return Rule{}, fmt.Errorf("describing rules of listener %s: %w", listenerARN, err)
	}
	for _, r := range out.Rules {
		if aws.ToBool(r.IsDefault) {
			continue
		}
		if fr := FlattenRule(r, listenerARN); fr.TargetGroupARN == tgARN {
			return fr, nil
		}
	}
	return Rule{}, notfound.New("listener rule forwarding to", tgARN)
}

// ListenersOf lists the listeners of the load balancers a target group is used by.
func ListenersOf(ctx context.Context, client *elasticloadbalancingv2.Client, lbARNs []string) ([]string, error) {
	var out []string
	for _, lb := range lbARNs {
		ls, err := client.DescribeListeners(ctx, &elasticloadbalancingv2.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
		if err != nil {
			return nil, fmt.Errorf("describing listeners of %s: %w", lb, err)
		}
		for _, l := range ls.Listeners {
			out = append(out, aws.ToString(l.ListenerArn))
		}
	}
	return out, nil
}

// Listener rule priorities, as ELBv2 accepts them for a rule that is not
// the default one.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html
const (
	MinRulePriority = 1
	MaxRulePriority = 50000
)

// RulePriorities lists the priorities of a listener's rules, every page,
// the default rule left out.
func RulePriorities(ctx context.Context, client *elasticloadbalancingv2.Client, listenerARN string) ([]int64, error) {
	var out []int64
	pages := elasticloadbalancingv2.NewDescribeRulesPaginator(client, &elasticloadbalancingv2.DescribeRulesInput{ListenerArn: aws.String(listenerARN), PageSize: aws.Int32(400)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing rules of listener %s: %w", listenerARN, err)
		}
		for _, r := range page.Rules {
			if aws.ToBool(r.IsDefault) {
				continue
			}
			if p, err := strconv.ParseInt(aws.ToString(r.Priority), 10, 64); err == nil {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// NextRulePriority is the priority a new rule takes on a listener whose
// rules have the priorities used: one above the highest, as hashicorp/aws's
// aws_lb_listener_rule picks it, so the new rule is evaluated after every
// existing one; the lowest free priority when the highest is taken.
func NextRulePriority(used []int64) (int64, error) {
	if len(used) == 0 {
		return MinRulePriority, nil
	}
	if highest := slices.Max(used); highest < MaxRulePriority {
		return max(highest+1, MinRulePriority), nil
	}
	for p := int64(MinRulePriority); p <= MaxRulePriority; p++ {
		if !slices.Contains(used, p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("every rule priority from %d to %d is taken", MinRulePriority, MaxRulePriority)
}

// PriorityInUse tells whether err is ELBv2 refusing a rule priority that
// another rule of the listener has.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html#API_CreateRule_Errors
func PriorityInUse(err error) bool {
	return tfawserr.ErrCodeEquals(err, "PriorityInUse")
}

// CreateRule creates the write rule.
func CreateRule(ctx context.Context, client *elasticloadbalancingv2.Client, r Rule, tags map[string]string) (string, error) {
	out, err := client.CreateRule(ctx, &elasticloadbalancingv2.CreateRuleInput{
		ListenerArn: aws.String(r.ListenerARN),
		Priority:    aws.Int32(int32(r.Priority)),
		Conditions:  ExpandRuleConditions(r.PathPatterns),
		Actions:     forwardTo(r.TargetGroupARN),
		Tags:        awstags.ELBV2(tags),
	})
	if err != nil {
		return "", fmt.Errorf("creating listener rule (priority %d) on %s: %w", r.Priority, r.ListenerARN, err)
	}
	return aws.ToString(out.Rules[0].RuleArn), nil
}

// ModifyRule sets the paths, target and priority of an existing rule.
func ModifyRule(ctx context.Context, client *elasticloadbalancingv2.Client, r Rule, priorityChanged bool) error {
	_, err := client.ModifyRule(ctx, &elasticloadbalancingv2.ModifyRuleInput{
		RuleArn:    aws.String(r.ARN),
		Conditions: ExpandRuleConditions(r.PathPatterns),
		Actions:    forwardTo(r.TargetGroupARN),
	})
	if err != nil {
		return fmt.Errorf("modifying listener rule %s: %w", r.ARN, err)
	}
	if priorityChanged {
		_, err = client.SetRulePriorities(ctx, &elasticloadbalancingv2.SetRulePrioritiesInput{
			RulePriorities: []elbv2types.RulePriorityPair{{RuleArn: aws.String(r.ARN), Priority: aws.Int32(int32(r.Priority))}},
		})
		if err != nil {
			return fmt.Errorf("setting priority %d of listener rule %s: %w", r.Priority, r.ARN, err)
		}
	}
	return nil
}

// DeleteRule deletes a listener rule; a missing one is fine.
func DeleteRule(ctx context.Context, client *elasticloadbalancingv2.Client, arn string) error {
	_, err := client.DeleteRule(ctx, &elasticloadbalancingv2.DeleteRuleInput{RuleArn: aws.String(arn)})
	if err != nil && !gone(err) {
		return fmt.Errorf("deleting listener rule %s: %w", arn, err)
	}
	return nil
}

// RecoveryAlarm is the EC2 auto-recovery alarm on the master.
type RecoveryAlarm struct {
	Name       string
	InstanceID string
	Action     string
	// InstanceType is the master's, named in errors: CloudWatch's refusal
	// of the recover action names neither instance nor type.
	InstanceType string
}

// RecoverAction is the alarm action that recovers an EC2 instance.
func RecoverAction(partition, region string) string {
	return fmt.Sprintf("arn:%s:automate:%s:ec2:recover", partition, region)
}

// ExpandAlarm renders the alarm: two failed system status checks in a row
// recover the instance.
func ExpandAlarm(a RecoveryAlarm, tags map[string]string) *cloudwatch.PutMetricAlarmInput {
	keys := slices.Sorted(maps.Keys(tags))
	cwTags := make([]cwtypes.Tag, 0, len(keys))
	for _, k := range keys {
		cwTags = append(cwTags, cwtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(a.Name),
		AlarmDescription:   aws.String("Recovers the clone pool's master " + a.InstanceID + " when its system status check fails"),
		Namespace:          aws.String("AWS/EC2"),
		MetricName:         aws.String("StatusCheckFailed_System"),
		Dimensions:         []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(a.InstanceID)}},
		Statistic:          cwtypes.StatisticMaximum,
		Period:             aws.Int32(60),
		EvaluationPeriods:  aws.Int32(2),
		Threshold:          aws.Float64(0),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		AlarmActions:       []string{a.Action},
		ActionsEnabled:     aws.Bool(true),
		Tags:               cwTags,
	}
}

// PutAlarm creates or overwrites the recovery alarm.
func PutAlarm(ctx context.Context, client *cloudwatch.Client, a RecoveryAlarm, tags map[string]string) error {
	if _, err := client.PutMetricAlarm(ctx, ExpandAlarm(a, tags)); err != nil {
		return fmt.Errorf("putting recovery alarm %s (action %s) for the master %s, instance type %s: %w", a.Name, a.Action, a.InstanceID, a.InstanceType, err)
	}
	return nil
}

// FindAlarm reads the recovery alarm.
func FindAlarm(ctx context.Context, client *cloudwatch.Client, name string) (RecoveryAlarm, error) {
	out, err := client.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		return RecoveryAlarm{}, fmt.Errorf("describing alarm %s: %w", name, err)
	}
	for _, m := range out.MetricAlarms {
		if aws.ToString(m.AlarmName) != name {
			continue
		}
		a := RecoveryAlarm{Name: name}
		for _, d := range m.Dimensions {
			if aws.ToString(d.Name) == "InstanceId" {
				a.InstanceID = aws.ToString(d.Value)
			}
		}
		if len(m.AlarmActions) > 0 {
			a.Action = m.AlarmActions[0]
		}
		return a, nil
	}
	return RecoveryAlarm{}, notfound.New("alarm", name)
}

// AlarmTags finds a metric alarm by name and returns its ARN and tags.
func AlarmTags(ctx context.Context, client *cloudwatch.Client, name string) (string, map[string]string, error) {
	out, err := client.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		return "", nil, fmt.Errorf("describing alarm %s: %w", name, err)
	}
	var arn string
	for _, m := range out.MetricAlarms {
		if aws.ToString(m.AlarmName) == name {
			arn = aws.ToString(m.AlarmArn)
		}
	}
	if arn == "" {
		return "", nil, notfound.New("alarm", name)
	}
	tl, err := client.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		return "", nil, fmt.Errorf("listing the tags of alarm %s: %w", name, err)
	}
	tags := make(map[string]string, len(tl.Tags))
	for _, t := range tl.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return arn, tags, nil
}

// DeleteAlarm deletes the recovery alarm; a missing one is fine.
func DeleteAlarm(ctx context.Context, client *cloudwatch.Client, name string) error {
	if _, err := client.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{name}}); err != nil && !gone(err) {
		return fmt.Errorf("deleting alarm %s: %w", name, err)
	}
	return nil
}
