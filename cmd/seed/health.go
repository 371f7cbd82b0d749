package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

// printHealth writes every target of every load balancer of the seeded
// system, with its role (master or clone) and its state.
func printHealth(ctx context.Context, cfg aws.Config, w *seed.World, out io.Writer) error {
	v2 := elasticloadbalancingv2.NewFromConfig(cfg)
	classic := elasticloadbalancing.NewFromConfig(cfg)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOAD BALANCER\tTARGET\tROLE\tIMAGE\tSTATE")

	images, err := instanceImages(ctx, ec2.NewFromConfig(cfg), w.VpcID)
	if err != nil {
		return err
	}
	role := func(id string) string {
		r := "clone"
		if id == w.MasterInstanceID {
			r = "master"
		}
		return r + "\t" + images[id]
	}
	groups, err := v2.DescribeTargetGroups(ctx, &elasticloadbalancingv2.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(w.LoadBalancerArn)})
	if err != nil {
		return fmt.Errorf("describing target groups of %s: %w", w.LoadBalancerArn, err)
	}
	for _, tg := range groups.TargetGroups {
		health, err := v2.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
		if err != nil {
			return fmt.Errorf("describing health of %s: %w", aws.ToString(tg.TargetGroupName), err)
		}
		rows := make([]string, 0, len(health.TargetHealthDescriptions))
		for _, d := range health.TargetHealthDescriptions {
			id := aws.ToString(d.Target.Id)
			state := "unknown"
			if d.TargetHealth != nil {
				state = string(d.TargetHealth.State)
			}
			rows = append(rows, fmt.Sprintf("target group %s\t%s\t%s\t%s", aws.ToString(tg.TargetGroupName), id, role(id), state))
		}
		slices.Sort(rows)
		for _, r := range rows {
			fmt.Fprintln(tw, r)
		}
	}
	elb, err := classic.DescribeInstanceHealth(ctx, &elasticloadbalancing.DescribeInstanceHealthInput{LoadBalancerName: aws.String(w.ClassicELBName)})
	if err != nil {
		return fmt.Errorf("describing health of classic ELB %s: %w", w.ClassicELBName, err)
	}
	var rows []string
	for _, s := range elb.InstanceStates {
		id := aws.ToString(s.InstanceId)
		rows = append(rows, fmt.Sprintf("classic ELB %s\t%s\t%s\t%s", w.ClassicELBName, id, role(id), aws.ToString(s.State)))
	}
	slices.Sort(rows)
	for _, r := range slices.Compact(rows) {
		fmt.Fprintln(tw, r)
	}
	return tw.Flush()
}

func instanceImages(ctx context.Context, api *ec2.Client, vpcID string) (map[string]string, error) {
	images := map[string]string{}
	p := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing instances in %s: %w", vpcID, err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				images[aws.ToString(i.InstanceId)] = aws.ToString(i.ImageId)
			}
		}
	}
	return images, nil
}
