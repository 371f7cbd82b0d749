package seed

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// waitLimit bounds each wait for a seeded object. pollMin and pollMax replace
// the SDK waiters' 15 s first delay: a seed waits for a VPC, an instance and
// a load balancer, and on the emulator each is ready within seconds, so the
// default cost 15 s per wait (about 45 s per seeded world).
const (
	waitLimit = 10 * time.Minute
	pollMin   = time.Second
	pollMax   = 10 * time.Second
)

// imageNamePatterns are tried in order; moto's default image set has all of them.
var imageNamePatterns = []string{
	"al2023-ami-2023.*-x86_64",
	"amzn2-ami-hvm-*-x86_64-gp2",
}

func (s *seeder) ensureMaster(ctx context.Context) error {
	out, err := s.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []types.Filter{
			filter("tag:"+TagSeed, s.name),
			filter("tag:"+TagRole, "master"),
			filter("instance-state-name", "pending", "running", "stopping", "stopped"),
		},
	})
	if err != nil {
		return fmt.Errorf("finding master instance: %w", err)
	}
	var found []types.Instance
	for _, r := range out.Reservations {
		found = append(found, r.Instances...)
	}
	if len(found) > 0 {
		slices.SortFunc(found, func(a, b types.Instance) int {
			return aws.ToTime(a.LaunchTime).Compare(aws.ToTime(b.LaunchTime))
		})
		return s.useMaster(ctx, found[0])
	}

	imageID, err := s.findImage(ctx)
	if err != nil {
		return err
	}
	run, err := s.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId:          aws.String(imageID),
		InstanceType:     types.InstanceTypeT3Micro,
		MinCount:         aws.Int32(1),
		MaxCount:         aws.Int32(1),
		SubnetId:         aws.String(s.w.SubnetIDs[0]),
		SecurityGroupIds: []string{s.w.SecurityGroupID},
		UserData:         aws.String(base64.StdEncoding.EncodeToString([]byte(s.userData()))),
		TagSpecifications: s.tags(types.ResourceTypeInstance, s.name+"-master",
			types.Tag{Key: aws.String(TagRole), Value: aws.String("master")}),
	})
	if err != nil {
		return fmt.Errorf("launching master instance from %s: %w", imageID, err)
	}
	return s.useMaster(ctx, run.Instances[0])
}

func (s *seeder) useMaster(ctx context.Context, inst types.Instance) error {
	id := aws.ToString(inst.InstanceId)
	if inst.State == nil || inst.State.Name != types.InstanceStateNameRunning {
		waiter := ec2.NewInstanceRunningWaiter(s.ec2, func(o *ec2.InstanceRunningWaiterOptions) {
			o.MinDelay, o.MaxDelay = pollMin, pollMax
		})
		if err := waiter.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, waitLimit); err != nil {
			return fmt.Errorf("waiting for master instance (%s) to run: %w", id, err)
		}
	}
	s.w.MasterInstanceID = id
	s.w.MasterPrivateIP = aws.ToString(inst.PrivateIpAddress)
	return nil
}

// findImage picks the newest Amazon Linux image the endpoint knows, so no
// image id is hard-coded.
func (s *seeder) findImage(ctx context.Context) (string, error) {
	for _, pattern := range imageNamePatterns {
		out, err := s.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{
			Owners: []string{"amazon"},
			Filters: []types.Filter{
				filter("name", pattern),
				filter("architecture", "x86_64"),
				filter("state", "available"),
				filter("root-device-type", "ebs"),
			},
		})
		if err != nil {
			return "", fmt.Errorf("finding an Amazon Linux image: %w", err)
		}
		if len(out.Images) == 0 {
			continue
		}
		newest := slices.MaxFunc(out.Images, func(a, b types.Image) int {
			if c := strings.Compare(aws.ToString(a.CreationDate), aws.ToString(b.CreationDate)); c != 0 {
				return c
			}
			return strings.Compare(aws.ToString(a.Name), aws.ToString(b.Name))
		})
		return aws.ToString(newest.ImageId), nil
	}
	return "", fmt.Errorf("no Amazon-owned x86_64 image matches %s in %s", strings.Join(imageNamePatterns, " or "), s.w.Region)
}

func (s *seeder) userData() string {
	return fmt.Sprintf(`#!/bin/bash
set -euo pipefail
if command -v dnf >/dev/null; then dnf install -y httpd; else yum install -y httpd; fi
echo "<h1>%s master: $(hostname)</h1>" > /var/www/html/index.html
systemctl enable --now httpd
`, s.name)
}
