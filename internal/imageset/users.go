package imageset

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// UsersEC2 is the part of the EC2 client Users needs.
type UsersEC2 interface {
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeLaunchTemplateVersions(context.Context, *ec2.DescribeLaunchTemplateVersionsInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
}

// UsersAutoScaling is the part of the Auto Scaling client Users needs.
type UsersAutoScaling interface {
	DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	DescribeLaunchConfigurations(context.Context, *autoscaling.DescribeLaunchConfigurationsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeLaunchConfigurationsOutput, error)
}

// Users tells, for each of imageIDs still in use, who uses it: instances
// not terminated that were launched from it, and Auto Scaling groups whose
// launch template version (or launch configuration) launches it. An image
// with users must not be deregistered: a group could no longer launch, and
// EC2 refuses to delete the snapshot of a registered image anyway.
//
// Calls: one DescribeInstances filtered by image id (paged), the groups
// (100 per DescribeAutoScalingGroups page), one DescribeLaunchTemplateVersions
// per launch template the groups use, and one DescribeLaunchConfigurations
// per 50 launch configurations.
func Users(ctx context.Context, ec2API UsersEC2, asAPI UsersAutoScaling, imageIDs []string) (map[string][]string, error) {
	users := map[string][]string{}
	if len(imageIDs) == 0 {
		return users, nil
	}
	if err := instanceUsers(ctx, ec2API, imageIDs, users); err != nil {
		return nil, err
	}
	if err := groupUsers(ctx, ec2API, asAPI, imageIDs, users); err != nil {
		return nil, err
	}
	for id := range users {
		slices.Sort(users[id])
	}
	return users, nil
}

func instanceUsers(ctx context.Context, api UsersEC2, imageIDs []string, users map[string][]string) error {
	pages := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("image-id"), Values: imageIDs},
			{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}},
		},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describing the instances launched from images %v: %w", imageIDs, err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				if img := aws.ToString(in.ImageId); slices.Contains(imageIDs, img) {
					users[img] = append(users[img], "instance "+aws.ToString(in.InstanceId))
				}
			}
		}
	}
	return nil
}

// templateUse is one Auto Scaling group's launch template version.
type templateUse struct {
	group, version string
}

func groupUsers(ctx context.Context, ec2API UsersEC2, asAPI UsersAutoScaling, imageIDs []string, users map[string][]string) error {
	byTemplate := map[string][]templateUse{}
	configs := map[string][]string{}
	pages := autoscaling.NewDescribeAutoScalingGroupsPaginator(asAPI, &autoscaling.DescribeAutoScalingGroupsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describing Auto Scaling groups: %w", err)
		}
		for _, g := range page.AutoScalingGroups {
			name := aws.ToString(g.AutoScalingGroupName)
			if lt := groupTemplate(g); lt != nil {
				id := aws.ToString(lt.LaunchTemplateId)
				byTemplate[id] = append(byTemplate[id], templateUse{group: name, version: versionOr(lt.Version)})
			}
			if lc := aws.ToString(g.LaunchConfigurationName); lc != "" {
				configs[lc] = append(configs[lc], name)
			}
		}
	}
	for id, uses := range byTemplate {
		versions := make([]string, 0, len(uses))
		for _, u := range uses {
			if !slices.Contains(versions, u.version) {
				versions = append(versions, u.version)
			}
		}
		out, err := ec2API.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: versions})
		if err != nil {
			return fmt.Errorf("describing versions %v of launch template %s: %w", versions, id, err)
		}
		var latest int64
		for _, v := range out.LaunchTemplateVersions {
			latest = max(latest, aws.ToInt64(v.VersionNumber))
		}
		for _, v := range out.LaunchTemplateVersions {
			img := ""
			if v.LaunchTemplateData != nil {
				img = aws.ToString(v.LaunchTemplateData.ImageId)
			}
			if !slices.Contains(imageIDs, img) {
				continue
			}
			for _, u := range uses {
				if matchesVersion(u.version, v, latest) {
					users[img] = append(users[img], fmt.Sprintf("Auto Scaling group %s (launch template %s version %d)", u.group, id, aws.ToInt64(v.VersionNumber)))
				}
			}
		}
	}
	return configUsers(ctx, asAPI, configs, imageIDs, users)
}

func configUsers(ctx context.Context, api UsersAutoScaling, configs map[string][]string, imageIDs []string, users map[string][]string) error {
	names := make([]string, 0, len(configs))
	for name := range configs {
		names = append(names, name)
	}
	slices.Sort(names)
	for chunk := range slices.Chunk(names, 50) {
		out, err := api.DescribeLaunchConfigurations(ctx, &autoscaling.DescribeLaunchConfigurationsInput{LaunchConfigurationNames: chunk})
		if err != nil {
			return fmt.Errorf("describing launch configurations %v: %w", chunk, err)
		}
		for _, lc := range out.LaunchConfigurations {
			img := aws.ToString(lc.ImageId)
			if !slices.Contains(imageIDs, img) {
				continue
			}
			for _, g := range configs[aws.ToString(lc.LaunchConfigurationName)] {
				users[img] = append(users[img], fmt.Sprintf("Auto Scaling group %s (launch configuration %s)", g, aws.ToString(lc.LaunchConfigurationName)))
			}
		}
	}
	return nil
}

func groupTemplate(g astypes.AutoScalingGroup) *astypes.LaunchTemplateSpecification {
	if g.LaunchTemplate != nil {
		return g.LaunchTemplate
	}
	if p := g.MixedInstancesPolicy; p != nil && p.LaunchTemplate != nil {
		return p.LaunchTemplate.LaunchTemplateSpecification
	}
	return nil
}

// versionOr is a group's launch template version; a group that names none
// launches the default version.
func versionOr(v *string) string {
	if s := aws.ToString(v); s != "" {
		return s
	}
	return "$Default"
}

// matchesVersion tells whether v is the version want names; latest is the
// highest version number DescribeLaunchTemplateVersions answered, which
// includes the latest when $Latest was asked.
func matchesVersion(want string, v ec2types.LaunchTemplateVersion, latest int64) bool {
	switch want {
	case "$Default":
		return aws.ToBool(v.DefaultVersion)
	case "$Latest":
		return aws.ToInt64(v.VersionNumber) == latest
	}
	return strings.TrimSpace(want) == fmt.Sprint(aws.ToInt64(v.VersionNumber))
}
