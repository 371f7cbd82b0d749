// Package imageset bakes AMIs from a running instance and keeps a named set
// of them: the current image plus a bounded history, deleted together with
// their snapshots so nothing is orphaned.
package imageset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/aws-sdk-go-base/v2/tfawserr"

	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

// Tag keys the provider writes on every image and snapshot of a set.
const (
	TagSet        = "clone:image-set"
	TagSource     = "clone:source-instance"
	TagNamePrefix = "clone:name-prefix"
	TagManagedBy  = "clone:managed-by"
	ManagedBy     = "terraform-provider-clone"
)

// ErrNotFound is returned by finders when the object does not exist.
var ErrNotFound = errors.New("not found")

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

// FindSet reads the whole set with one tagged DescribeImages call.
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

// FindImage returns one image by id, or ErrNotFound when it does not exist
// or was deregistered.
func FindImage(ctx context.Context, api API, imageID string) (Image, error) {
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imageID}})
	if tfawserr.ErrCodeEquals(err, "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidAMIID.Malformed") {
		return Image{}, fmt.Errorf("image %s: %w", imageID, ErrNotFound)
	}
	if err != nil {
		return Image{}, fmt.Errorf("describing image %s: %w", imageID, err)
	}
	for _, img := range out.Images {
		if aws.ToString(img.ImageId) == imageID && img.State != ec2types.ImageStateDeregistered {
			return flatten(img), nil
		}
	}
	return Image{}, fmt.Errorf("image %s: %w", imageID, ErrNotFound)
}

// BakeInput describes one image to bake.
type BakeInput struct {
	SetID            string
	SourceInstanceID string
	Name             string
	NamePrefix       string
	Description      string
	NoReboot         bool
	Tags             map[string]string
	// Progress receives state changes while the image becomes available.
	Progress func(string)
}

// Bake creates an image of the source instance, waits until it is
// available, and tags its snapshots with the set tags. If waiting fails the
// half-made image is deleted so nothing is orphaned.
func Bake(ctx context.Context, api API, in BakeInput) (Image, error) {
	tags := setTags(in.SetID, in.SourceInstanceID, in.NamePrefix, in.Tags)
	out, err := api.CreateImage(ctx, &ec2.CreateImageInput{
		InstanceId:  aws.String(in.SourceInstanceID),
		Name:        aws.String(in.Name),
		Description: optional(in.Description),
		NoReboot:    aws.Bool(in.NoReboot),
		// Snapshots are tagged after the image exists: tag specifications for
		// snapshots in CreateImage are not supported everywhere.
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: ec2Tags(tags)}},
	})
	if err != nil {
		return Image{}, fmt.Errorf("creating image %q from instance %s: %w", in.Name, in.SourceInstanceID, err)
	}
	id := aws.ToString(out.ImageId)

	img, err := WaitAvailable(ctx, api, id, in.Progress)
	if err == nil && len(img.SnapshotIDs) > 0 {
		if _, terr := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: img.SnapshotIDs, Tags: ec2Tags(tags)}); terr != nil {
			err = fmt.Errorf("tagging snapshots of image %s: %w", id, terr)
		}
	}
	if err != nil {
		// Nothing half-made is left behind: the caller records no state for
		// a failed bake, so the image would be orphaned.
		cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if img.ID == "" {
			img = Image{ID: id}
		}
		if derr := Delete(cleanupCtx, api, img); derr != nil {
			return Image{}, errors.Join(err, fmt.Errorf("cleaning up image %s: %w", id, derr))
		}
		return Image{}, err
	}
	return img, nil
}

// WaitAvailable polls the image until it is available, failed, or ctx ends.
func WaitAvailable(ctx context.Context, api API, imageID string, progress func(string)) (Image, error) {
	var img Image
	err := wait.For(ctx, wait.Options{Interval: 5 * time.Second, MaxInterval: 30 * time.Second, Progress: progress}, func(ctx context.Context) (bool, string, error) {
		found, err := FindImage(ctx, api, imageID)
		if errors.Is(err, ErrNotFound) {
			// A new image can take a moment to become visible.
			return false, "not yet visible", nil
		}
		if err != nil {
			return false, "", err
		}
		img = found
		switch ec2types.ImageState(found.State) {
		case ec2types.ImageStateAvailable:
			return true, found.State, nil
		case ec2types.ImageStateFailed, ec2types.ImageStateError, ec2types.ImageStateInvalid:
			return false, found.State, fmt.Errorf("image %s entered state %s", imageID, found.State)
		}
		return false, found.State, nil
	})
	if err != nil {
		return img, fmt.Errorf("waiting for image %s to become available: %w", imageID, err)
	}
	return img, nil
}

// Delete deregisters the image, then deletes its snapshots. Deregistering
// does not delete snapshots everywhere, so they are always deleted
// explicitly. Missing objects count as deleted.
func Delete(ctx context.Context, api API, img Image) error {
	snapshots := img.SnapshotIDs
	if len(snapshots) == 0 {
		if found, err := FindImage(ctx, api, img.ID); err == nil {
			snapshots = found.SnapshotIDs
		}
	}
	_, err := api.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(img.ID)})
	if err != nil && !tfawserr.ErrCodeEquals(err, "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable") {
		return fmt.Errorf("deregistering image %s: %w", img.ID, err)
	}
	return DeleteSnapshots(ctx, api, snapshots)
}

// DeleteSnapshots deletes each snapshot, retrying briefly while the
// just-deregistered image still holds it.
func DeleteSnapshots(ctx context.Context, api API, ids []string) error {
	for _, id := range ids {
		err := wait.For(ctx, wait.Options{Interval: 2 * time.Second, MaxInterval: 15 * time.Second}, func(ctx context.Context) (bool, string, error) {
			_, err := api.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
			switch {
			case err == nil, tfawserr.ErrCodeEquals(err, "InvalidSnapshot.NotFound"):
				return true, "deleted", nil
			case tfawserr.ErrCodeEquals(err, "InvalidSnapshot.InUse"):
				return false, "in use", nil
			}
			return false, "", err
		})
		if err != nil {
			return fmt.Errorf("deleting snapshot %s: %w", id, err)
		}
	}
	return nil
}

// FindLeftoverSnapshots lists snapshots tagged with the set that no image of
// the set uses any more (for example after an out-of-band deregistration).
func FindLeftoverSnapshots(ctx context.Context, api API, set Set) ([]string, error) {
	out, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters:  []ec2types.Filter{{Name: aws.String("tag:" + TagSet), Values: []string{set.ID}}},
	})
	if err != nil {
		return nil, fmt.Errorf("describing snapshots of set %s: %w", set.ID, err)
	}
	inUse := set.SnapshotIDs()
	var left []string
	for _, s := range out.Snapshots {
		if id := aws.ToString(s.SnapshotId); !slices.Contains(inUse, id) {
			left = append(left, id)
		}
	}
	return left, nil
}

// History orders the set's images other than currentID: first those listed
// in known (the order recorded in state), then any others, newest first.
func History(set Set, currentID string, known []string) []Image {
	var out []Image
	seen := map[string]bool{currentID: true}
	for _, id := range known {
		if img, ok := set.Lookup(id); ok && !seen[id] {
			out = append(out, img)
			seen[id] = true
		}
	}
	for _, img := range set.Images {
		if !seen[img.ID] {
			out = append(out, img)
			seen[img.ID] = true
		}
	}
	return out
}

// Prune deletes the images of history beyond the first keep and returns
// what it kept.
func Prune(ctx context.Context, api API, history []Image, keep int) ([]Image, error) {
	if len(history) <= keep {
		return history, nil
	}
	for _, img := range history[keep:] {
		if err := Delete(ctx, api, img); err != nil {
			return nil, err
		}
	}
	return history[:keep], nil
}

// Retag makes the tags of every image and snapshot of the set equal want
// (plus the set's own tags), removing tags that are no longer wanted.
func Retag(ctx context.Context, api API, set Set, want, old map[string]string) error {
	var ids []string
	for _, img := range set.Images {
		ids = append(ids, img.ID)
		ids = append(ids, img.SnapshotIDs...)
	}
	if len(ids) == 0 {
		return nil
	}
	var remove []ec2types.Tag
	for k := range old {
		if _, ok := want[k]; !ok && !strings.HasPrefix(k, "clone:") {
			remove = append(remove, ec2types.Tag{Key: aws.String(k)})
		}
	}
	if len(remove) > 0 {
		if _, err := api.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids, Tags: remove}); err != nil {
			return fmt.Errorf("removing tags from set %s: %w", set.ID, err)
		}
	}
	if len(want) > 0 {
		if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: ec2Tags(want)}); err != nil {
			return fmt.Errorf("tagging set %s: %w", set.ID, err)
		}
	}
	return nil
}

// UserTags strips the provider's own clone: tags.
func UserTags(tags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tags {
		if !strings.HasPrefix(k, "clone:") {
			out[k] = v
		}
	}
	return out
}

func setTags(setID, source, namePrefix string, user map[string]string) map[string]string {
	tags := map[string]string{}
	for k, v := range user {
		tags[k] = v
	}
	tags[TagSet] = setID
	tags[TagSource] = source
	tags[TagManagedBy] = ManagedBy
	if namePrefix != "" {
		tags[TagNamePrefix] = namePrefix
	}
	return tags
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

func ec2Tags(m map[string]string) []ec2types.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	tags := make([]ec2types.Tag, 0, len(keys))
	for _, k := range keys {
		tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// FindNewestByName returns the newest available image you own whose name
// starts with prefix, with one DescribeImages call.
func FindNewestByName(ctx context.Context, api API, prefix string) (Image, error) {
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:  []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{prefix + "*"}}},
	})
	if err != nil {
		return Image{}, fmt.Errorf("describing images named %q*: %w", prefix, err)
	}
	var images []Image
	for _, img := range out.Images {
		if img.State == ec2types.ImageStateAvailable {
			images = append(images, flatten(img))
		}
	}
	if len(images) == 0 {
		return Image{}, fmt.Errorf("image named %q*: %w", prefix, ErrNotFound)
	}
	sortNewestFirst(images)
	return images[0], nil
}
