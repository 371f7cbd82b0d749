package pool

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloneserver/terraform-provider-clone/internal/awstags"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

// TemplateSpec is what a launch template version of the pool holds.
type TemplateSpec struct {
	ImageID            string
	InstanceType       string
	KeyName            string
	IAMInstanceProfile string
	SecurityGroupIDs   []string
	// UserData is the user data as userdata.Render made it (the document,
	// gzip-compressed when the pool adds parts), not yet base64-encoded.
	UserData string
	// RootDeviceName of ImageID; its EBS volume is encrypted.
	RootDeviceName string
	// RootVolumeSize in GiB, the image's own; the emulator insists on one.
	RootVolumeSize int32
}

// Equal tells whether two specs launch the same clones; the security
// groups in any order.
func (s TemplateSpec) Equal(o TemplateSpec) bool {
	return s.ImageID == o.ImageID && s.InstanceType == o.InstanceType && s.KeyName == o.KeyName &&
		s.IAMInstanceProfile == o.IAMInstanceProfile && s.UserData == o.UserData &&
		s.RootDeviceName == o.RootDeviceName && s.RootVolumeSize == o.RootVolumeSize &&
		slices.Equal(slices.Sorted(slices.Values(s.SecurityGroupIDs)), slices.Sorted(slices.Values(o.SecurityGroupIDs)))
}

// Template is one version of the pool's launch template.
type Template struct {
	ID      string
	Version int64
	Spec    TemplateSpec
}

// ExpandTemplateData renders the spec as launch template data: IMDSv2
// required, the root volume encrypted.
func ExpandTemplateData(s TemplateSpec) *ec2types.RequestLaunchTemplateData {
	d := &ec2types.RequestLaunchTemplateData{
		ImageId:      aws.String(s.ImageID),
		InstanceType: ec2types.InstanceType(s.InstanceType),
		MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{
			HttpEndpoint:            ec2types.LaunchTemplateInstanceMetadataEndpointStateEnabled,
			HttpTokens:              ec2types.LaunchTemplateHttpTokensStateRequired,
			HttpPutResponseHopLimit: aws.Int32(2),
		},
	}
	if s.KeyName != "" {
		d.KeyName = aws.String(s.KeyName)
	}
	if p := s.IAMInstanceProfile; p != "" {
		if strings.HasPrefix(p, "arn:") {
			d.IamInstanceProfile = &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Arn: aws.String(p)}
		} else {
			d.IamInstanceProfile = &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String(p)}
		}
	}
	if len(s.SecurityGroupIDs) > 0 {
		d.SecurityGroupIds = slices.Clone(s.SecurityGroupIDs)
	}
	if s.UserData != "" {
		d.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(s.UserData)))
	}
	if s.RootDeviceName != "" {
		d.BlockDeviceMappings = []ec2types.LaunchTemplateBlockDeviceMappingRequest{{
			DeviceName: aws.String(s.RootDeviceName),
			Ebs:        &ec2types.LaunchTemplateEbsBlockDeviceRequest{Encrypted: aws.Bool(true)},
		}}
		if s.RootVolumeSize > 0 {
			d.BlockDeviceMappings[0].Ebs.VolumeSize = aws.Int32(s.RootVolumeSize)
		}
	}
	return d
}

// FlattenTemplateData reads a launch template version back into a spec.
func FlattenTemplateData(d *ec2types.ResponseLaunchTemplateData) (TemplateSpec, error) {
	if d == nil {
		return TemplateSpec{}, nil
	}
	s := TemplateSpec{
		ImageID:          aws.ToString(d.ImageId),
		InstanceType:     string(d.InstanceType),
		KeyName:          aws.ToString(d.KeyName),
		SecurityGroupIDs: slices.Clone(d.SecurityGroupIds),
	}
	if p := d.IamInstanceProfile; p != nil {
		s.IAMInstanceProfile = aws.ToString(p.Name)
		if s.IAMInstanceProfile == "" {
			s.IAMInstanceProfile = aws.ToString(p.Arn)
		}
	}
	if ud := aws.ToString(d.UserData); ud != "" {
		raw, err := base64.StdEncoding.DecodeString(ud)
		if err != nil {
			return s, fmt.Errorf("decoding user data: %w", err)
		}
		s.UserData = string(raw)
	}
	for _, m := range d.BlockDeviceMappings {
		if m.Ebs != nil && aws.ToBool(m.Ebs.Encrypted) {
			s.RootDeviceName = aws.ToString(m.DeviceName)
			s.RootVolumeSize = aws.ToInt32(m.Ebs.VolumeSize)
		}
	}
	return s, nil
}

// RootDevice looks up the root device name and volume size of an image.
func RootDevice(ctx context.Context, client *ec2.Client, imageID string) (string, int32, error) {
	out, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imageID}})
	if err != nil {
		if gone(err) {
			return "", 0, notfound.New("image", imageID)
		}
		return "", 0, fmt.Errorf("describing image %s: %w", imageID, err)
	}
	if len(out.Images) == 0 {
		return "", 0, notfound.New("image", imageID)
	}
	img := out.Images[0]
	name := aws.ToString(img.RootDeviceName)
	for _, m := range img.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == name && m.Ebs != nil {
			return name, aws.ToInt32(m.Ebs.VolumeSize), nil
		}
	}
	return name, 0, nil
}

func templateTags(tags map[string]string) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeLaunchTemplate, Tags: awstags.EC2(tags)}}
}

// CreateTemplate creates the pool's launch template with its first version.
func CreateTemplate(ctx context.Context, client *ec2.Client, name string, spec TemplateSpec, tags map[string]string) (Template, error) {
	out, err := client.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: ExpandTemplateData(spec),
		TagSpecifications:  templateTags(tags),
		VersionDescription: aws.String("clone_pool " + name),
	})
	if err != nil {
		return Template{}, fmt.Errorf("creating launch template %s: %w", name, err)
	}
	lt := out.LaunchTemplate
	return Template{ID: aws.ToString(lt.LaunchTemplateId), Version: aws.ToInt64(lt.LatestVersionNumber), Spec: spec}, nil
}

// CreateTemplateVersion adds a version and makes it the default one. A
// missing template is a notfound.Error.
func CreateTemplateVersion(ctx context.Context, client *ec2.Client, id string, spec TemplateSpec) (Template, error) {
	out, err := client.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   aws.String(id),
		LaunchTemplateData: ExpandTemplateData(spec),
	})
	if gone(err) {
		return Template{}, notfound.New("launch template", id)
	}
	if err != nil {
		return Template{}, fmt.Errorf("creating a version of launch template %s: %w", id, err)
	}
	v := aws.ToInt64(out.LaunchTemplateVersion.VersionNumber)
	_, err = client.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{
		LaunchTemplateId: aws.String(id),
		DefaultVersion:   aws.String(strconv.FormatInt(v, 10)),
	})
	if err != nil {
		return Template{}, fmt.Errorf("making version %d the default of launch template %s: %w", v, id, err)
	}
	return Template{ID: id, Version: v, Spec: spec}, nil
}

// FindTemplateVersion reads one version of a launch template.
func FindTemplateVersion(ctx context.Context, client *ec2.Client, id, version string) (Template, error) {
	out, err := client.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(id),
		Versions:         []string{version},
	})
	if err != nil {
		if gone(err) {
			return Template{}, notfound.New("launch template", id)
		}
		return Template{}, fmt.Errorf("describing launch template %s version %s: %w", id, version, err)
	}
	if len(out.LaunchTemplateVersions) == 0 {
		return Template{}, notfound.New("launch template", id+" version "+version)
	}
	v := out.LaunchTemplateVersions[0]
	spec, err := FlattenTemplateData(v.LaunchTemplateData)
	if err != nil {
		return Template{}, fmt.Errorf("launch template %s: %w", id, err)
	}
	return Template{ID: aws.ToString(v.LaunchTemplateId), Version: aws.ToInt64(v.VersionNumber), Spec: spec}, nil
}

// FindTemplateByName finds a launch template by name: its id and tags.
func FindTemplateByName(ctx context.Context, client *ec2.Client, name string) (string, map[string]string, error) {
	out, err := client.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{name}})
	if err != nil {
		if gone(err) {
			return "", nil, notfound.New("launch template", name)
		}
		return "", nil, fmt.Errorf("describing launch template %s: %w", name, err)
	}
	if len(out.LaunchTemplates) == 0 {
		return "", nil, notfound.New("launch template", name)
	}
	lt := out.LaunchTemplates[0]
	tags := make(map[string]string, len(lt.Tags))
	for _, t := range lt.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return aws.ToString(lt.LaunchTemplateId), tags, nil
}

// DeleteTemplate deletes the launch template with id; a missing one is fine.
func DeleteTemplate(ctx context.Context, client *ec2.Client, id string) error {
	_, err := client.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(id)})
	if err != nil && !gone(err) {
		return fmt.Errorf("deleting launch template %s: %w", id, err)
	}
	return nil
}

// RetagTemplate replaces the launch template's tags.
func RetagTemplate(ctx context.Context, client *ec2.Client, id string, had, want map[string]string) error {
	set, remove := awstags.Changes(had, want)
	if len(remove) > 0 {
		gone := make([]ec2types.Tag, 0, len(remove))
		for _, k := range remove {
			gone = append(gone, ec2types.Tag{Key: aws.String(k)})
		}
		if _, err := client.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: gone}); err != nil {
			return fmt.Errorf("removing tags from launch template %s: %w", id, err)
		}
	}
	if len(set) > 0 {
		if _, err := client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: awstags.EC2(set)}); err != nil {
			return fmt.Errorf("tagging launch template %s: %w", id, err)
		}
	}
	return nil
}
