// Package imageset bakes AMIs from a running instance and keeps a named set
// of them: the current image plus a bounded history, deleted together with
// their snapshots so nothing is orphaned.
//
// Converge is the one operation that creates or re-bakes a set and Destroy
// its mirror; the finders read a set without changing it.
package imageset

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

// Tag keys the provider writes on every image and snapshot of a set.
const (
	TagSet        = "clone:image-set"
	TagSource     = "clone:source-instance"
	TagNamePrefix = "clone:name-prefix"
	TagManagedBy  = "clone:managed-by"
	ManagedBy     = "terraform-provider-clone"
	// TagCreating marks the first image of a set until the create that
	// baked it has finished; the image only, not its snapshots.
	TagCreating = "clone:creating"
)

// AWS error codes that say an image or a snapshot does not exist. A
// malformed image id cannot be found either, but deregistering one is an
// error, not a success.
var (
	imageNotFoundCodes     = []string{"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidAMIID.Malformed"}
	imageDeregisteredCodes = []string{"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"}
	snapshotNotFoundCodes  = []string{"InvalidSnapshot.NotFound"}
)

// API is the part of the EC2 client the package uses.
type API interface {
	CreateImage(context.Context, *ec2.CreateImageInput, ...func(*ec2.Options)) (*ec2.CreateImageOutput, error)
	DescribeImages(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DeregisterImage(context.Context, *ec2.DeregisterImageInput, ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
	DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
	DeleteSnapshot(context.Context, *ec2.DeleteSnapshotInput, ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DeleteTags(context.Context, *ec2.DeleteTagsInput, ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
}

// Image is one AMI of a set.
type Image struct {
	ID          string
	Name        string
	Description string
	State       string
	CreatedAt   time.Time
	SnapshotIDs []string
	Tags        map[string]string
}

// SetID is the set the image belongs to, "" when clone_image did not bake it.
func (img Image) SetID() string { return img.Tags[TagSet] }

// SourceInstanceID is the instance the image was baked from.
func (img Image) SourceInstanceID() string { return img.Tags[TagSource] }

// NamePrefix is the name prefix the image was baked with.
func (img Image) NamePrefix() string { return img.Tags[TagNamePrefix] }

// Set is every image carrying one set id, newest first.
type Set struct {
	ID     string
	Images []Image
}

// SnapshotIDs lists the snapshots behind every image of the set.
func (s Set) SnapshotIDs() []string {
	var out []string
	for _, img := range s.Images {
		out = append(out, img.SnapshotIDs...)
	}
	return out
}

// Lookup returns the image with the given id.
func (s Set) Lookup(id string) (Image, bool) {
	for _, img := range s.Images {
		if img.ID == id {
			return img, true
		}
	}
	return Image{}, false
}

// FindSet reads the whole set with one tagged DescribeImages call. A set
// without images is an empty Set, not an error.
func FindSet(ctx context.Context, api API, setID string) (Set, error) {
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:  []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("tag:" + TagSet), Values: []string{setID}}},
	})
	if err != nil {
		return Set{}, fmt.Errorf("describing images of set %s: %w", setID, err)
	}
	set := Set{ID: setID}
	for _, img := range out.Images {
		if img.State == ec2types.ImageStateDeregistered {
			continue
		}
		set.Images = append(set.Images, flatten(img))
	}
	sortNewestFirst(set.Images)
	return set, nil
}

// FindImage returns one image by id, or a notfound error when it does not
// exist or was deregistered.
func FindImage(ctx context.Context, api API, imageID string) (Image, error) {
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imageID}})
	if err = notfound.FromCode(err, "image", imageID, imageNotFoundCodes...); err != nil {
		if notfound.Is(err) {
			return Image{}, err
		}
		return Image{}, fmt.Errorf("describing image %s: %w", imageID, err)
	}
	for _, img := range out.Images {
		if aws.ToString(img.ImageId) == imageID && img.State != ec2types.ImageStateDeregistered {
			return flatten(img), nil
		}
	}
	return Image{}, notfound.New("image", imageID)
}

// FindNewestByName returns the newest available image you own whose name
// starts with prefix, with one DescribeImages call; a notfound error when
// there is none.
func FindNewestByName(ctx context.Context, api API, prefix string) (Image, error) {
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:  []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{prefix + "*"}}},
	})
	if err != nil {
		return Image{}, fmt.Errorf("describing images whose name starts with %q: %w", prefix, err)
	}
	var images []Image
	for _, img := range out.Images {
		if img.State == ec2types.ImageStateAvailable {
			images = append(images, flatten(img))
		}
	}
	if len(images) == 0 {
		return Image{}, notfound.New("image whose name starts with", strconv.Quote(prefix))
	}
	sortNewestFirst(images)
	return images[0], nil
}

func flatten(img ec2types.Image) Image {
	out := Image{
		ID:          aws.ToString(img.ImageId),
		Name:        aws.ToString(img.Name),
		Description: aws.ToString(img.Description),
		State:       string(img.State),
		Tags:        map[string]string{},
	}
	if t, err := time.Parse(time.RFC3339, aws.ToString(img.CreationDate)); err == nil {
		out.CreatedAt = t
	}
	for _, bdm := range img.BlockDeviceMappings {
		if bdm.Ebs != nil && bdm.Ebs.SnapshotId != nil {
			out.SnapshotIDs = append(out.SnapshotIDs, aws.ToString(bdm.Ebs.SnapshotId))
		}
	}
	for _, t := range img.Tags {
		out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// sortNewestFirst orders by creation time, then by name, which embeds a
// sortable timestamp, so images baked within one second still order.
func sortNewestFirst(images []Image) {
	slices.SortStableFunc(images, func(a, b Image) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.Name, a.Name)
	})
}
