package seed

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

const anywhere = "0.0.0.0/0"

func (s *seeder) tags(resource types.ResourceType, name string, extra ...types.Tag) []types.TagSpecification {
	tags := append([]types.Tag{
		{Key: aws.String("Name"), Value: aws.String(name)},
		{Key: aws.String(TagSeed), Value: aws.String(s.name)},
	}, extra...)
	return []types.TagSpecification{{ResourceType: resource, Tags: tags}}
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// vpcOctet spreads seeds over 10.1.0.0/16 … 10.254.0.0/16.
func (s *seeder) vpcOctet() int {
	sum := sha256.Sum256([]byte(s.name))
	return 1 + int(sum[0])%254
}

func (s *seeder) ensureVpc(ctx context.Context) error {
	out, err := s.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{
		Filters: []types.Filter{filter("tag:"+TagSeed, s.name)},
	})
	if err != nil {
		return fmt.Errorf("finding VPC: %w", err)
	}
	if len(out.Vpcs) > 0 {
		slices.SortFunc(out.Vpcs, func(a, b types.Vpc) int { return compare(a.VpcId, b.VpcId) })
		s.w.VpcID = aws.ToString(out.Vpcs[0].VpcId)
		return nil
	}
	created, err := s.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock:         aws.String(fmt.Sprintf("10.%d.0.0/16", s.vpcOctet())),
		TagSpecifications: s.tags(types.ResourceTypeVpc, s.name),
	})
	if err != nil {
		return fmt.Errorf("creating VPC: %w", err)
	}
	s.w.VpcID = aws.ToString(created.Vpc.VpcId)
	if err := ec2.NewVpcAvailableWaiter(s.ec2, func(o *ec2.VpcAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = pollMin, pollMax
	}).Wait(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{s.w.VpcID}}, waitLimit); err != nil {
		return fmt.Errorf("waiting for VPC (%s): %w", s.w.VpcID, err)
	}
	return nil
}

// ensureInternetRoute gives the VPC the internet gateway an internet-facing
// load balancer needs.
func (s *seeder) ensureInternetRoute(ctx context.Context) error {
	igws, err := s.ec2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{
		Filters: []types.Filter{filter("attachment.vpc-id", s.w.VpcID)},
	})
	if err != nil {
		return fmt.Errorf("finding internet gateway of VPC (%s): %w", s.w.VpcID, err)
	}
	var igwID string
	if len(igws.InternetGateways) > 0 {
		igwID = aws.ToString(igws.InternetGateways[0].InternetGatewayId)
	} else {
		created, err := s.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
			TagSpecifications: s.tags(types.ResourceTypeInternetGateway, s.name),
		})
		if err != nil {
			return fmt.Errorf("creating internet gateway: %w", err)
		}
		igwID = aws.ToString(created.InternetGateway.InternetGatewayId)
		if _, err := s.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{
			InternetGatewayId: aws.String(igwID), VpcId: aws.String(s.w.VpcID),
		}); err != nil {
			return fmt.Errorf("attaching internet gateway (%s) to VPC (%s): %w", igwID, s.w.VpcID, err)
		}
	}

	tables, err := s.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
		Filters: []types.Filter{filter("vpc-id", s.w.VpcID), filter("association.main", "true")},
	})
	if err != nil {
		return fmt.Errorf("finding main route table of VPC (%s): %w", s.w.VpcID, err)
	}
	if len(tables.RouteTables) == 0 {
		return fmt.Errorf("VPC (%s) has no main route table", s.w.VpcID)
	}
	table := tables.RouteTables[0]
	for _, r := range table.Routes {
		if aws.ToString(r.DestinationCidrBlock) == anywhere {
			return nil
		}
	}
	if _, err := s.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{
		RouteTableId:         table.RouteTableId,
		DestinationCidrBlock: aws.String(anywhere),
		GatewayId:            aws.String(igwID),
	}); err != nil {
		return fmt.Errorf("adding default route to route table (%s): %w", aws.ToString(table.RouteTableId), err)
	}
	return nil
}

func (s *seeder) ensureSubnets(ctx context.Context) error {
	zones, err := s.ec2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{
		Filters: []types.Filter{filter("state", "available"), filter("zone-type", "availability-zone")},
	})
	if err != nil {
		return fmt.Errorf("listing availability zones: %w", err)
	}
	names := make([]string, 0, len(zones.AvailabilityZones))
	for _, z := range zones.AvailabilityZones {
		names = append(names, aws.ToString(z.ZoneName))
	}
	slices.Sort(names)
	if len(names) < 2 {
		return fmt.Errorf("region %s has %d availability zones, need 2", s.w.Region, len(names))
	}

	// Two /20 subnets hold 8,182 instances: a pool of 1,000 clones, rolled
	// with surge, fits with room (the emulator gives every clone an address
	// of its subnet, as EC2 does).
	s.w.SubnetIDs = nil
	for i, zone := range names[:2] {
		id, err := s.ensureSubnet(ctx, zone, fmt.Sprintf("10.%d.%d.0/20", s.vpcOctet(), (i+1)*16))
		if err != nil {
			return err
		}
		s.w.SubnetIDs = append(s.w.SubnetIDs, id)
	}
	return nil
}

func (s *seeder) ensureSubnet(ctx context.Context, zone, cidr string) (string, error) {
	out, err := s.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{
		Filters: []types.Filter{filter("vpc-id", s.w.VpcID), filter("availability-zone", zone)},
	})
	if err != nil {
		return "", fmt.Errorf("finding subnet in %s: %w", zone, err)
	}
	if len(out.Subnets) > 0 {
		slices.SortFunc(out.Subnets, func(a, b types.Subnet) int { return compare(a.SubnetId, b.SubnetId) })
		return aws.ToString(out.Subnets[0].SubnetId), nil
	}
	created, err := s.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{
		VpcId:             aws.String(s.w.VpcID),
		CidrBlock:         aws.String(cidr),
		AvailabilityZone:  aws.String(zone),
		TagSpecifications: s.tags(types.ResourceTypeSubnet, s.name),
	})
	if err != nil {
		return "", fmt.Errorf("creating subnet %s in %s: %w", cidr, zone, err)
	}
	return aws.ToString(created.Subnet.SubnetId), nil
}

func (s *seeder) ensureSecurityGroup(ctx context.Context) error {
	groupName := s.name + "-web"
	out, err := s.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{filter("vpc-id", s.w.VpcID), filter("group-name", groupName)},
	})
	if err != nil {
		return fmt.Errorf("finding security group %s: %w", groupName, err)
	}
	var existing []types.IpPermission
	if len(out.SecurityGroups) > 0 {
		s.w.SecurityGroupID = aws.ToString(out.SecurityGroups[0].GroupId)
		existing = out.SecurityGroups[0].IpPermissions
	} else {
		created, err := s.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName:         aws.String(groupName),
			Description:       aws.String("Web server of " + s.name + ": HTTP and SSH"),
			VpcId:             aws.String(s.w.VpcID),
			TagSpecifications: s.tags(types.ResourceTypeSecurityGroup, s.name),
		})
		if err != nil {
			return fmt.Errorf("creating security group %s: %w", groupName, err)
		}
		s.w.SecurityGroupID = aws.ToString(created.GroupId)
	}

	var missing []types.IpPermission
	for _, port := range []int32{80, 22} {
		if !allowsTCPFromAnywhere(existing, port) {
			missing = append(missing, types.IpPermission{
				IpProtocol: aws.String("tcp"),
				FromPort:   aws.Int32(port),
				ToPort:     aws.Int32(port),
				IpRanges:   []types.IpRange{{CidrIp: aws.String(anywhere)}},
			})
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := s.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId:       aws.String(s.w.SecurityGroupID),
		IpPermissions: missing,
	}); err != nil {
		return fmt.Errorf("allowing HTTP and SSH into security group (%s): %w", s.w.SecurityGroupID, err)
	}
	return nil
}

func allowsTCPFromAnywhere(perms []types.IpPermission, port int32) bool {
	for _, p := range perms {
		if aws.ToString(p.IpProtocol) != "tcp" || aws.ToInt32(p.FromPort) > port || aws.ToInt32(p.ToPort) < port {
			continue
		}
		for _, r := range p.IpRanges {
			if aws.ToString(r.CidrIp) == anywhere {
				return true
			}
		}
	}
	return false
}

func compare(a, b *string) int {
	switch x, y := aws.ToString(a), aws.ToString(b); {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
