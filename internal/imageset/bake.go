package imageset

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloneserver/terraform-provider-clone/internal/awstags"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

// SetIDPrefix starts every image set id.
const SetIDPrefix = "cis-"

// availablePoll paces the wait for a new image; a variable so that tests
// can shorten it.
var availablePoll = wait.Options{Interval: 5 * time.Second, MaxInterval: 30 * time.Second}

// NewSetID returns a fresh image set id: cis- and 17 hex digits.
func NewSetID() (string, error) {
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating image set id: %w", err)
	}
	return SetIDPrefix + hex.EncodeToString(b)[:17], nil
}

// NewName appends a UTC timestamp with milliseconds to prefix, so images
// baked in the same second still sort by name in baking order
// (CreationDate has one-second resolution), and a random suffix against
// collisions.
func NewName(prefix string, now time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%s-%s", prefix, now.UTC().Format("20060102T150405.000Z"), hex.EncodeToString(b))
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
	// Creating tags the image (not its snapshots) TagCreating, which the
	// caller removes once the image is recorded.
	Creating bool
	// Progress receives state changes while the image becomes available.
	Progress func(string)
}

// Bake creates an image of the source instance, waits until it is
// available, and tags its snapshots with the set tags. If waiting or
// tagging fails the half-made image is deleted so nothing is orphaned.
func Bake(ctx context.Context, api API, in BakeInput) (Image, error) {
	tags := awstags.EC2(setTags(in.SetID, in.SourceInstanceID, in.NamePrefix, in.Tags))
	imageTags := tags
	if in.Creating {
		imageTags = append(slices.Clone(tags), ec2types.Tag{Key: aws.String(TagCreating), Value: aws.String("true")})
	}
	out, err := api.CreateImage(ctx, &ec2.CreateImageInput{
		InstanceId:  aws.String(in.SourceInstanceID),
		Name:        aws.String(in.Name),
		Description: optional(in.Description),
		NoReboot:    aws.Bool(in.NoReboot),
		// Snapshots are tagged after the image exists: tag specifications for
		// snapshots in CreateImage are not supported everywhere.
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: imageTags}},
	})
	if err != nil {
		return Image{}, fmt.Errorf("creating image %q from instance %s: %w", in.Name, in.SourceInstanceID, err)
	}
	id := aws.ToString(out.ImageId)

	img, err := waitAvailable(ctx, api, id, in.Progress)
	if err == nil && len(img.SnapshotIDs) > 0 {
		if _, terr := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: img.SnapshotIDs, Tags: tags}); terr != nil {
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

// waitAvailable polls the image until it is available, failed, or ctx ends.
func waitAvailable(ctx context.Context, api API, imageID string, progress func(string)) (Image, error) {
	var img Image
	opts := availablePoll
	opts.Progress = progress
	err := wait.For(ctx, opts, func(ctx context.Context) (bool, string, error) {
		found, err := FindImage(ctx, api, imageID)
		if notfound.Is(err) {
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

// optional leaves an unset (empty) description out of the request.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
