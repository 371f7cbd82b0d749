package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
)

// Sweepers delete what interrupted acceptance runs left behind, and only
// objects named with acctest.NamePrefix. Run them with
// `go test ./internal/provider -sweep=us-east-1`.
func init() {
	resource.AddTestSweepers("clone_image", &resource.Sweeper{Name: "clone_image", F: sweepImages, Dependencies: []string{"clone_pool"}})
	resource.AddTestSweepers("clone_pool", &resource.Sweeper{Name: "clone_pool", F: sweepPools})
	resource.AddTestSweepers("clone_sync_policy", &resource.Sweeper{Name: "clone_sync_policy", F: sweepSyncPolicies, Dependencies: []string{"clone_pool"}})
}

func sweepPools(region string) error {
	ctx := context.Background()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	groups := autoscaling.NewDescribeAutoScalingGroupsPaginator(client.AutoScaling, &autoscaling.DescribeAutoScalingGroupsInput{})
	for groups.HasMorePages() {
		page, err := groups.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing Auto Scaling groups: %w", err)
		}
		for _, g := range page.AutoScalingGroups {
			name := aws.ToString(g.AutoScalingGroupName)
			if !strings.HasPrefix(name, acctest.NamePrefix) {
				continue
			}
			if err := pool.DeleteGroup(ctx, client.AutoScaling, client.EC2, name, nil); err != nil {
				return err
			}
		}
	}
	templates, err := client.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{
		Filters: []ec2types.Filter{{Name: aws.String("launch-template-name"), Values: []string{acctest.NamePrefix + "*"}}},
	})
	if err != nil {
		return fmt.Errorf("listing launch templates: %w", err)
	}
	for _, lt := range templates.LaunchTemplates {
		if _, err := client.EC2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: lt.LaunchTemplateId}); err != nil {
			return fmt.Errorf("deleting launch template %s: %w", aws.ToString(lt.LaunchTemplateName), err)
		}
	}
	alarms, err := client.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(acctest.NamePrefix)})
	if err != nil {
		return fmt.Errorf("listing alarms: %w", err)
	}
	var alarmNames []string
	for _, a := range alarms.MetricAlarms {
		alarmNames = append(alarmNames, aws.ToString(a.AlarmName))
	}
	if len(alarmNames) > 0 {
		if _, err := client.CloudWatch.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: alarmNames}); err != nil {
			return fmt.Errorf("deleting alarms %v: %w", alarmNames, err)
		}
	}
	tgs, err := client.ELBV2.DescribeTargetGroups(ctx, &elasticloadbalancingv2.DescribeTargetGroupsInput{})
	if err != nil {
		return fmt.Errorf("listing target groups: %w", err)
	}
	for _, tg := range tgs.TargetGroups {
		name := aws.ToString(tg.TargetGroupName)
		if !strings.HasPrefix(name, acctest.NamePrefix) || !strings.HasSuffix(name, "-master") {
			continue
		}
		if err := sweepRulesTo(ctx, client, tg.LoadBalancerArns, aws.ToString(tg.TargetGroupArn)); err != nil {
			return err
		}
		if _, err := client.ELBV2.DeleteTargetGroup(ctx, &elasticloadbalancingv2.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn}); err != nil {
			return fmt.Errorf("deleting target group %s: %w", name, err)
		}
	}
	return nil
}

// sweepRulesTo deletes the listener rules that forward to a test's master
// target group, so the group can be deleted.
func sweepRulesTo(ctx context.Context, client *conns.AWSClient, lbARNs []string, tgARN string) error {
	for _, lb := range lbARNs {
		listeners, err := client.ELBV2.DescribeListeners(ctx, &elasticloadbalancingv2.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
		if err != nil {
			return fmt.Errorf("listing listeners of %s: %w", lb, err)
		}
		for _, l := range listeners.Listeners {
			rules, err := client.ELBV2.DescribeRules(ctx, &elasticloadbalancingv2.DescribeRulesInput{ListenerArn: l.ListenerArn})
			if err != nil {
				return fmt.Errorf("listing rules of %s: %w", aws.ToString(l.ListenerArn), err)
			}
			for _, r := range rules.Rules {
				if aws.ToBool(r.IsDefault) {
					continue
				}
				for _, a := range r.Actions {
					if aws.ToString(a.TargetGroupArn) != tgARN {
						continue
					}
					if _, err := client.ELBV2.DeleteRule(ctx, &elasticloadbalancingv2.DeleteRuleInput{RuleArn: r.RuleArn}); err != nil {
						return fmt.Errorf("deleting rule %s: %w", aws.ToString(r.RuleArn), err)
					}
					break
				}
			}
		}
	}
	return nil
}

func sweepSyncPolicies(region string) error {
	ctx := context.Background()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	docs, err := client.SSM.ListDocuments(ctx, &ssm.ListDocumentsInput{
		Filters: []ssmtypes.DocumentKeyValuesFilter{{Key: aws.String("Owner"), Values: []string{"Self"}}},
	})
	if err != nil {
		return fmt.Errorf("listing SSM documents: %w", err)
	}
	for _, d := range docs.DocumentIdentifiers {
		name, ok := strings.CutPrefix(aws.ToString(d.Name), "clone-sync-")
		if !ok || !strings.HasPrefix(name, acctest.NamePrefix) {
			continue
		}
		if err := syncstore.Delete(ctx, client.SSM, name); err != nil {
			return err
		}
	}
	return nil
}

func sweepClient(region string) (*conns.AWSClient, error) {
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("loading AWS config: %w", err)
	}
	return conns.New(cfg, conns.Endpoints{}, nil), nil
}

func sweepImages(region string) error {
	ctx := context.Background()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	out, err := client.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:  []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("tag:" + imageset.TagNamePrefix), Values: []string{acctest.NamePrefix + "*"}}},
	})
	if err != nil {
		return fmt.Errorf("listing test images: %w", err)
	}
	for _, img := range out.Images {
		if !strings.HasPrefix(aws.ToString(img.Name), acctest.NamePrefix) {
			continue
		}
		found, err := imageset.FindImage(ctx, client.EC2, aws.ToString(img.ImageId))
		if err != nil {
			continue
		}
		if err := imageset.Delete(ctx, client.EC2, found); err != nil {
			return err
		}
	}
	return nil
}
