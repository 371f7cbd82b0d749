package seed

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/aws-sdk-go-base/v2/tfawserr"
)

func (s *seeder) elbv2Tags() []elbv2types.Tag {
	return []elbv2types.Tag{
		{Key: aws.String("Name"), Value: aws.String(s.name)},
		{Key: aws.String(TagSeed), Value: aws.String(s.name)},
	}
}

// DrainSeconds is the seeded target group's deregistration delay and the
// classic load balancer's connection-draining timeout.
const DrainSeconds = 10

func (s *seeder) ensureTargetGroup(ctx context.Context) error {
	s.w.TargetGroupName = resourceName(s.name, "tg")
	out, err := s.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{s.w.TargetGroupName}})
	switch {
	case err == nil && len(out.TargetGroups) > 0:
		s.w.TargetGroupArn = aws.ToString(out.TargetGroups[0].TargetGroupArn)
	case err == nil || tfawserr.ErrCodeEquals(err, "TargetGroupNotFound"):
		created, err := s.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name:                aws.String(s.w.TargetGroupName),
			Protocol:            elbv2types.ProtocolEnumHttp,
			Port:                aws.Int32(80),
			VpcId:               aws.String(s.w.VpcID),
			TargetType:          elbv2types.TargetTypeEnumInstance,
			HealthCheckProtocol: elbv2types.ProtocolEnumHttp,
			HealthCheckPath:     aws.String("/"),
			// The quickest health check AWS allows, so a new clone is
			// healthy after 2 × 5 s rather than the default 5 × 30 s.
			HealthCheckIntervalSeconds: aws.Int32(5),
			HealthCheckTimeoutSeconds:  aws.Int32(4),
			HealthyThresholdCount:      aws.Int32(2),
			Tags:                       s.elbv2Tags(),
		})
		if err != nil {
			return fmt.Errorf("creating target group %s: %w", s.w.TargetGroupName, err)
		}
		s.w.TargetGroupArn = aws.ToString(created.TargetGroups[0].TargetGroupArn)
		// A site that retires servers drains them briefly, not for the default 300 s.
		if _, err := s.elbv2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{
			TargetGroupArn: aws.String(s.w.TargetGroupArn),
			Attributes: []elbv2types.TargetGroupAttribute{{
				Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(strconv.Itoa(DrainSeconds)),
			}},
		}); err != nil {
			return fmt.Errorf("setting the deregistration delay of target group %s: %w", s.w.TargetGroupName, err)
		}
	default:
		return fmt.Errorf("finding target group %s: %w", s.w.TargetGroupName, err)
	}

	if _, err := s.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{
		TargetGroupArn: aws.String(s.w.TargetGroupArn),
		Targets:        []elbv2types.TargetDescription{{Id: aws.String(s.w.MasterInstanceID), Port: aws.Int32(80)}},
	}); err != nil {
		return fmt.Errorf("registering master (%s) with target group %s: %w", s.w.MasterInstanceID, s.w.TargetGroupName, err)
	}
	return nil
}

func (s *seeder) ensureLoadBalancer(ctx context.Context) error {
	lbName := resourceName(s.name, "alb")
	out, err := s.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{lbName}})
	var lb elbv2types.LoadBalancer
	switch {
	case err == nil && len(out.LoadBalancers) > 0:
		lb = out.LoadBalancers[0]
	case err == nil || tfawserr.ErrCodeEquals(err, "LoadBalancerNotFound"):
		created, err := s.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
			Name:           aws.String(lbName),
			Type:           elbv2types.LoadBalancerTypeEnumApplication,
			Scheme:         elbv2types.LoadBalancerSchemeEnumInternetFacing,
			Subnets:        s.w.SubnetIDs,
			SecurityGroups: []string{s.w.SecurityGroupID},
			Tags:           s.elbv2Tags(),
		})
		if err != nil {
			return fmt.Errorf("creating load balancer %s: %w", lbName, err)
		}
		lb = created.LoadBalancers[0]
	default:
		return fmt.Errorf("finding load balancer %s: %w", lbName, err)
	}
	s.w.LoadBalancerArn = aws.ToString(lb.LoadBalancerArn)
	s.w.LoadBalancerDNS = aws.ToString(lb.DNSName)

	if lb.State == nil || lb.State.Code != elbv2types.LoadBalancerStateEnumActive {
		waiter := elbv2.NewLoadBalancerAvailableWaiter(s.elbv2, func(o *elbv2.LoadBalancerAvailableWaiterOptions) {
			o.MinDelay, o.MaxDelay = pollMin, pollMax
		})
		if err := waiter.Wait(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{s.w.LoadBalancerArn}}, waitLimit); err != nil {
			return fmt.Errorf("waiting for load balancer %s to be active: %w", lbName, err)
		}
	}
	return nil
}

func (s *seeder) ensureListener(ctx context.Context) error {
	out, err := s.elbv2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(s.w.LoadBalancerArn)})
	if err != nil {
		return fmt.Errorf("listing listeners of %s: %w", s.w.LoadBalancerArn, err)
	}
	for _, l := range out.Listeners {
		if aws.ToInt32(l.Port) == 80 {
			s.w.ListenerArn = aws.ToString(l.ListenerArn)
			return nil
		}
	}
	created, err := s.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: aws.String(s.w.LoadBalancerArn),
		Protocol:        elbv2types.ProtocolEnumHttp,
		Port:            aws.Int32(80),
		DefaultActions: []elbv2types.Action{{
			Type:           elbv2types.ActionTypeEnumForward,
			TargetGroupArn: aws.String(s.w.TargetGroupArn),
		}},
		Tags: s.elbv2Tags(),
	})
	if err != nil {
		return fmt.Errorf("creating HTTP:80 listener on %s: %w", s.w.LoadBalancerArn, err)
	}
	s.w.ListenerArn = aws.ToString(created.Listeners[0].ListenerArn)
	return nil
}

func (s *seeder) ensureClassicELB(ctx context.Context) error {
	s.w.ClassicELBName = resourceName(s.name, "elb")
	out, err := s.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{s.w.ClassicELBName}})
	var registered []elbtypes.Instance
	switch {
	case err == nil:
		if len(out.LoadBalancerDescriptions) > 0 {
			registered = out.LoadBalancerDescriptions[0].Instances
		}
	case tfawserr.ErrCodeEquals(err, "LoadBalancerNotFound"):
		if _, err := s.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
			LoadBalancerName: aws.String(s.w.ClassicELBName),
			Listeners: []elbtypes.Listener{{
				Protocol:         aws.String("HTTP"),
				LoadBalancerPort: 80,
				InstanceProtocol: aws.String("HTTP"),
				InstancePort:     aws.Int32(80),
			}},
			Subnets:        s.w.SubnetIDs,
			SecurityGroups: []string{s.w.SecurityGroupID},
			Tags: []elbtypes.Tag{
				{Key: aws.String("Name"), Value: aws.String(s.name)},
				{Key: aws.String(TagSeed), Value: aws.String(s.name)},
			},
		}); err != nil {
			return fmt.Errorf("creating classic load balancer %s: %w", s.w.ClassicELBName, err)
		}
	default:
		return fmt.Errorf("finding classic load balancer %s: %w", s.w.ClassicELBName, err)
	}

	if _, err := s.elb.ConfigureHealthCheck(ctx, &elb.ConfigureHealthCheckInput{
		LoadBalancerName: aws.String(s.w.ClassicELBName),
		HealthCheck: &elbtypes.HealthCheck{
			Target:             aws.String("HTTP:80/"),
			Interval:           aws.Int32(5),
			Timeout:            aws.Int32(4),
			HealthyThreshold:   aws.Int32(2),
			UnhealthyThreshold: aws.Int32(2),
		},
	}); err != nil {
		return fmt.Errorf("configuring health check of classic load balancer %s: %w", s.w.ClassicELBName, err)
	}
	if _, err := s.elb.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{
		LoadBalancerName: aws.String(s.w.ClassicELBName),
		LoadBalancerAttributes: &elbtypes.LoadBalancerAttributes{
			ConnectionDraining: &elbtypes.ConnectionDraining{Enabled: true, Timeout: aws.Int32(DrainSeconds)},
		},
	}); err != nil {
		return fmt.Errorf("enabling connection draining on classic load balancer %s: %w", s.w.ClassicELBName, err)
	}
	// moto lists an instance once per registration, so register only once.
	for _, inst := range registered {
		if aws.ToString(inst.InstanceId) == s.w.MasterInstanceID {
			return nil
		}
	}
	if _, err := s.elb.RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{
		LoadBalancerName: aws.String(s.w.ClassicELBName),
		Instances:        []elbtypes.Instance{{InstanceId: aws.String(s.w.MasterInstanceID)}},
	}); err != nil {
		return fmt.Errorf("registering master (%s) with classic load balancer %s: %w", s.w.MasterInstanceID, s.w.ClassicELBName, err)
	}
	return nil
}
