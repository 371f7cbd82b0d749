package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/hashicorp/aws-sdk-go-base/v2/tfawserr"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
)

// Sweepers delete what interrupted acceptance runs left behind, and only
// objects whose own name starts with acctest.NamePrefix (images: whose name
// and clone:name-prefix tag do). `make sweep` runs them against the local
// emulator; by hand: `go test ./internal/provider -v -sweep=us-east-1` with
// AWS_ENDPOINT_URL (or real AWS credentials) set.
//
// Order: scaling policies and scheduled actions (the emulator keeps them
// after their group is gone), then groups, launch templates, alarms, master
// target groups with their listener rules; then images and snapshots, and
// sync policies (SSM parameters and documents).
func init() {
	resource.AddTestSweepers("clone_pool_scaling", &resource.Sweeper{Name: "clone_pool_scaling", F: sweepScaling})
	resource.AddTestSweepers("clone_pool", &resource.Sweeper{Name: "clone_pool", F: sweepPools, Dependencies: []string{"clone_pool_scaling"}})
	resource.AddTestSweepers("clone_image", &resource.Sweeper{Name: "clone_image", F: sweepImages, Dependencies: []string{"clone_pool"}})
	resource.AddTestSweepers("clone_sync_policy", &resource.Sweeper{Name: "clone_sync_policy", F: sweepSyncPolicies, Dependencies: []string{"clone_pool"}})
}

func sweepClient(region string) (*conns.AWSClient, error) {
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("loading AWS config: %w", err)
	}
	return conns.New(cfg, conns.Endpoints{}, nil), nil
}

func isTestName(name string) bool { return strings.HasPrefix(name, acctest.NamePrefix) }

// swept says what a sweeper deleted, so a sweep run shows its work.
func swept(kind, name string) { fmt.Printf("[sweep] deleted %s %s\n", kind, name) }

// sweepScaling deletes test pools' scaling policies and scheduled actions,
// listed across every group: the emulator keys them by name and keeps them
// after their group is deleted.
func sweepScaling(region string) error {
	ctx := context.Background()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	policies := autoscaling.NewDescribePoliciesPaginator(client.AutoScaling, &autoscaling.DescribePoliciesInput{})
	for policies.HasMorePages() {
		page, err := policies.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing scaling policies: %w", err)
		}
		for _, p := range page.ScalingPolicies {
			if name := aws.ToString(p.PolicyName); isTestName(name) {
				if err := pool.DeletePolicy(ctx, client.AutoScaling, aws.ToString(p.AutoScalingGroupName), name); err != nil {
					return err
				}
				swept("scaling policy", name)
			}
		}
	}
	actions := autoscaling.NewDescribeScheduledActionsPaginator(client.AutoScaling, &autoscaling.DescribeScheduledActionsInput{})
	for actions.HasMorePages() {
		page, err := actions.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing scheduled actions: %w", err)
		}
		for _, a := range page.ScheduledUpdateGroupActions {
			if name := aws.ToString(a.ScheduledActionName); isTestName(name) {
				if err := pool.DeleteSchedule(ctx, client.AutoScaling, aws.ToString(a.AutoScalingGroupName), name); err != nil {
					return err
				}
				swept("scheduled action", name)
			}
		}
	}
	return nil
}

func sweepPools(region string) error {
	ctx := context.Background()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	for _, sweep := range []func(context.Context, *conns.AWSClient) error{
		sweepGroups, sweepTemplates, sweepAlarms, sweepMasterTargetGroups,
	} {
		if err := sweep(ctx, client); err != nil {
			return err
		}
	}
	return nil
}

// sweepGroups force-deletes test Auto Scaling groups (their lifecycle hooks
// go with them) and waits until their clones are terminated.
func sweepGroups(ctx context.Context, client *conns.AWSClient) error {
	groups := autoscaling.NewDescribeAutoScalingGroupsPaginator(client.AutoScaling, &autoscaling.DescribeAutoScalingGroupsInput{})
	for groups.HasMorePages() {
		page, err := groups.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing Auto Scaling groups: %w", err)
		}
		for _, g := range page.AutoScalingGroups {
			if name := aws.ToString(g.AutoScalingGroupName); isTestName(name) {
				if err := pool.DeleteGroup(ctx, client.AutoScaling, client.EC2, name, nil); err != nil {
					return err
				}
				swept("Auto Scaling group", name)
			}
		}
	}
	return nil
}

func sweepTemplates(ctx context.Context, client *conns.AWSClient) error {
	templates := ec2.NewDescribeLaunchTemplatesPaginator(client.EC2, &ec2.DescribeLaunchTemplatesInput{
		Filters: []ec2types.Filter{{Name: aws.String("launch-template-name"), Values: []string{acctest.NamePrefix + "*"}}},
	})
	for templates.HasMorePages() {
		page, err := templates.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing launch templates: %w", err)
		}
		for _, lt := range page.LaunchTemplates {
			if name := aws.ToString(lt.LaunchTemplateName); isTestName(name) {
				if err := pool.DeleteTemplate(ctx, client.EC2, aws.ToString(lt.LaunchTemplateId)); err != nil {
					return err
				}
				swept("launch template", name)
			}
		}
	}
	return nil
}

func sweepAlarms(ctx context.Context, client *conns.AWSClient) error {
	alarms := cloudwatch.NewDescribeAlarmsPaginator(client.CloudWatch, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(acctest.NamePrefix)})
	for alarms.HasMorePages() {
		page, err := alarms.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing alarms: %w", err)
		}
		for _, a := range page.MetricAlarms {
			if name := aws.ToString(a.AlarmName); isTestName(name) {
				if err := pool.DeleteAlarm(ctx, client.CloudWatch, name); err != nil {
					return err
				}
				swept("alarm", name)
			}
		}
	}
	return nil
}

// sweepMasterTargetGroups deletes test pools' master-only target groups,
// after the listener rules that forward to them.
func sweepMasterTargetGroups(ctx context.Context, client *conns.AWSClient) error {
	tgs := elasticloadbalancingv2.NewDescribeTargetGroupsPaginator(client.ELBV2, &elasticloadbalancingv2.DescribeTargetGroupsInput{})
	for tgs.HasMorePages() {
		page, err := tgs.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing target groups: %w", err)
		}
		for _, tg := range page.TargetGroups {
			name := aws.ToString(tg.TargetGroupName)
			if !isTestName(name) || !strings.HasSuffix(name, "-master") {
				continue
			}
			if err := sweepRulesTo(ctx, client, tg.LoadBalancerArns, aws.ToString(tg.TargetGroupArn)); err != nil {
				return err
			}
			if err := pool.DeleteTargetGroup(ctx, client.ELBV2, aws.ToString(tg.TargetGroupArn)); err != nil {
				return err
			}
			swept("target group", name)
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
				if aws.ToBool(r.IsDefault) || !slices.ContainsFunc(r.Actions, func(a elbv2types.Action) bool { return aws.ToString(a.TargetGroupArn) == tgARN }) {
					continue
				}
				if err := pool.DeleteRule(ctx, client.ELBV2, aws.ToString(r.RuleArn)); err != nil {
					return err
				}
				swept("listener rule", aws.ToString(r.RuleArn))
			}
		}
	}
	return nil
}

// sweepImages deletes test image sets' images with their snapshots, then
// any snapshot of a test set that no image uses any more.
func sweepImages(region string) error {
	ctx := context.Background()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	testSets := []ec2types.Filter{
		{Name: aws.String("tag:" + imageset.TagNamePrefix), Values: []string{acctest.NamePrefix + "*"}},
		{Name: aws.String("tag:" + imageset.TagManagedBy), Values: []string{imageset.ManagedBy}},
	}
	out, err := client.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: testSets})
	if err != nil {
		return fmt.Errorf("listing test images: %w", err)
	}
	for _, img := range out.Images {
		if !isTestName(aws.ToString(img.Name)) {
			continue
		}
		found, err := imageset.FindImage(ctx, client.EC2, aws.ToString(img.ImageId))
		if err != nil {
			continue
		}
		if err := imageset.Delete(ctx, client.EC2, found); err != nil {
			return err
		}
		swept("image", aws.ToString(img.ImageId)+" ("+aws.ToString(img.Name)+") and its snapshots")
	}
	return sweepLeftoverSnapshots(ctx, client, testSets)
}

func sweepLeftoverSnapshots(ctx context.Context, client *conns.AWSClient, testSets []ec2types.Filter) error {
	inUse := map[string]bool{}
	images, err := client.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil {
		return fmt.Errorf("listing images: %w", err)
	}
	for _, img := range images.Images {
		for _, bdm := range img.BlockDeviceMappings {
			if bdm.Ebs != nil {
				inUse[aws.ToString(bdm.Ebs.SnapshotId)] = true
			}
		}
	}
	snapshots := ec2.NewDescribeSnapshotsPaginator(client.EC2, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: testSets})
	for snapshots.HasMorePages() {
		page, err := snapshots.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing test snapshots: %w", err)
		}
		for _, s := range page.Snapshots {
			id := aws.ToString(s.SnapshotId)
			if inUse[id] {
				continue
			}
			_, err := client.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
			if err != nil && !tfawserr.ErrCodeEquals(err, "InvalidSnapshot.NotFound") {
				return fmt.Errorf("deleting snapshot %s: %w", id, err)
			}
			swept("snapshot", id)
		}
	}
	return nil
}

// sweepSyncPolicies deletes every test sync policy found by its SSM
// parameters or by its Run Command document, whichever survived.
func sweepSyncPolicies(region string) error {
	ctx := context.Background()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	params := ssm.NewDescribeParametersPaginator(client.SSM, &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{
			Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{"/clone-sync/" + acctest.NamePrefix},
		}},
	})
	for params.HasMorePages() {
		page, err := params.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing SSM parameters: %w", err)
		}
		for _, p := range page.Parameters {
			rest, _ := strings.CutPrefix(aws.ToString(p.Name), "/clone-sync/")
			if name, _, ok := strings.Cut(rest, "/"); ok && isTestName(name) {
				names[name] = true
			}
		}
	}
	docs := ssm.NewListDocumentsPaginator(client.SSM, &ssm.ListDocumentsInput{
		Filters:    []ssmtypes.DocumentKeyValuesFilter{{Key: aws.String("Owner"), Values: []string{"Self"}}},
		MaxResults: aws.Int32(50),
	})
	for docs.HasMorePages() {
		page, err := docs.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing SSM documents: %w", err)
		}
		for _, d := range page.DocumentIdentifiers {
			if name, ok := strings.CutPrefix(aws.ToString(d.Name), "clone-sync-"); ok && isTestName(name) {
				names[name] = true
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		if err := syncstore.Delete(ctx, client.SSM, name); err != nil {
			return err
		}
		swept("sync policy", name+" (its SSM parameters and document)")
	}
	return nil
}
