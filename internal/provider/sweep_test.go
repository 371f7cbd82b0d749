package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
)

// Sweepers delete what interrupted acceptance runs left behind, and only
// objects named with acctest.NamePrefix. Run: go test ./internal/provider -sweep=us-east-1
func init() {
	resource.AddTestSweepers("clone_image", &resource.Sweeper{Name: "clone_image", F: sweepImages})
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
