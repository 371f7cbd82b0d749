package imageset

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

// Desired is what the configuration asks of a set.
type Desired struct {
	SetID            string
	SourceInstanceID string
	NamePrefix       string
	Description      string
	NoReboot         bool
	// Tags are the user's tags (default tags included) for every image and
	// snapshot of the set; the set's own clone:* tags are added.
	Tags map[string]string
	// RetainPrevious is how many earlier images the history keeps.
	RetainPrevious int
	// Rebake asks for a new current image.
	Rebake bool
	// Progress, when set, receives a line for each step and state change.
	Progress func(string)
	// InUse, when set, tells who still uses each of the images given
	// (Users); pruning keeps those that have users.
	InUse func(ctx context.Context, imageIDs []string) (map[string][]string, error)
}

// Prior is what the last apply recorded of the set.
type Prior struct {
	ImageID          string
	PreviousImageIDs []string
	Tags             map[string]string
}

// Observed is a set as an operation leaves or finds it: the current image
// and the history, newest first.
type Observed struct {
	// Current is the zero Image when Observe found the current image gone.
	Current Image
	History []Image
	// InUse are the images of the history kept beyond RetainPrevious
	// because something still uses them, with their users.
	InUse map[string][]string
}

// HistoryIDs lists the ids of the history, in order.
func (o Observed) HistoryIDs() []string {
	ids := make([]string, 0, len(o.History))
	for _, img := range o.History {
		ids = append(ids, img.ID)
	}
	return ids
}

// SnapshotIDs lists the snapshots of the current image, then those of the
// history.
func (o Observed) SnapshotIDs() []string {
	return o.set("").SnapshotIDs()
}

func (o Observed) set(id string) Set {
	set := Set{ID: id}
	if o.Current.ID != "" {
		set.Images = append(set.Images, o.Current)
	}
	set.Images = append(set.Images, o.History...)
	return set
}

// Converge makes the set want.SetID what want asks for and returns it.
// prior is what the last apply recorded, nil for a set that does not exist
// yet: then Converge only bakes the first image. Otherwise, in this order:
//
//  1. It reads the whole set with one DescribeImages call.
//  2. When the tags changed, it retags every image and snapshot of the set,
//     writing only what changed; the clone:* tags are never removed.
//  3. When want.Rebake, it bakes: CreateImage from the source instance, wait
//     until the image is available, tag its snapshots. A failed bake
//     deletes what it made and returns before anything old is touched.
//  4. The former current image, if it still exists, becomes the head of the
//     history; then come the images prior recorded as history, in that
//     order, then any other image of the set, newest first.
//  5. Only then is the history beyond want.RetainPrevious pruned. The
//     current image (new or not) and the first RetainPrevious images of the
//     history are never pruned; each pruned image is deregistered before
//     its snapshots are deleted. An image beyond them that an instance or
//     an Auto Scaling group still uses (want.InUse) is kept too, and
//     reported in Observed.InUse; a later Converge prunes it once unused.
//  6. Last, snapshots tagged with the set that no kept image uses (left by
//     an out-of-band deregistration or a failed run) are deleted.
//
// A new image carries the set tag from CreateImage on, its snapshots from
// the moment it is available, and a bake that fails in between deletes both
// (or says in its error that it could not). So a run that fails part-way
// orphans nothing: the next run finds what is left in the set and
// converges. A run with nothing to change makes no call that mutates.
func Converge(ctx context.Context, api API, want Desired, prior *Prior) (Observed, error) {
	if prior == nil {
		return create(ctx, api, want)
	}
	set, err := FindSet(ctx, api, want.SetID)
	if err != nil {
		return Observed{}, err
	}
	if err := retag(ctx, api, set, prior.Tags, want.Tags); err != nil {
		return Observed{}, err
	}
	current, haveCurrent := set.Lookup(prior.ImageID)
	history := History(set, current.ID, prior.PreviousImageIDs)
	if want.Rebake {
		baked, err := bake(ctx, api, want)
		if err != nil {
			return Observed{}, fmt.Errorf("baking a new image from %s: %w", want.SourceInstanceID, err)
		}
		if haveCurrent {
			history = append([]Image{current}, history...)
		}
		current, haveCurrent = baked, true
	}
	if !haveCurrent {
		return Observed{}, fmt.Errorf("the current image is gone and no re-bake was asked for: %w", notfound.New("image", prior.ImageID))
	}
	kept, inUse, err := prune(ctx, api, history, want)
	if err != nil {
		return Observed{}, fmt.Errorf("pruning image history: %w", err)
	}
	out := Observed{Current: current, History: kept, InUse: inUse}
	if err := deleteLeftoverSnapshots(ctx, api, out.set(want.SetID), want.Progress); err != nil {
		return Observed{}, err
	}
	return out, nil
}

// create bakes a new set's first image. A create killed part-way (terraform
// SIGKILLed, so no cleanup ran and no state was saved) leaves an image
// still tagged TagCreating that no state knows: first, every such set of
// the same master and name prefix is destroyed. The new image carries the
// mark until it is available and its snapshots are tagged, then loses it
// with the create's last call.
func create(ctx context.Context, api API, want Desired) (Observed, error) {
	if err := destroyInterrupted(ctx, api, want); err != nil {
		return Observed{}, err
	}
	img, err := bakeImage(ctx, api, want, true)
	if err != nil {
		return Observed{}, err
	}
	if _, err := api.DeleteTags(ctx, &ec2.DeleteTagsInput{
		Resources: []string{img.ID},
		Tags:      []ec2types.Tag{{Key: aws.String(TagCreating)}},
	}); err != nil {
		return Observed{}, fmt.Errorf("marking image %s created (removing its %s tag): %w", img.ID, TagCreating, err)
	}
	delete(img.Tags, TagCreating)
	return Observed{Current: img}, nil
}

// destroyInterrupted destroys the sets whose create was interrupted: images
// of want's master and name prefix still tagged TagCreating.
func destroyInterrupted(ctx context.Context, api API, want Desired) error {
	filters := []ec2types.Filter{
		{Name: aws.String("tag:" + TagCreating), Values: []string{"true"}},
		{Name: aws.String("tag:" + TagSource), Values: []string{want.SourceInstanceID}},
	}
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: filters})
	if err != nil {
		return fmt.Errorf("describing images left by an interrupted create: %w", err)
	}
	sets := map[string]bool{}
	for _, raw := range out.Images {
		img := flatten(raw)
		if img.NamePrefix() != want.NamePrefix || img.SetID() == "" || sets[img.SetID()] {
			continue
		}
		sets[img.SetID()] = true
		report(want.Progress, "destroying image set %s (image %s), left by an interrupted create from the master %s", img.SetID(), img.ID, want.SourceInstanceID)
		if err := Destroy(ctx, api, img.SetID(), want.Progress); err != nil {
			return fmt.Errorf("destroying image set %s, left by an interrupted create: %w", img.SetID(), err)
		}
	}
	return nil
}

func bake(ctx context.Context, api API, want Desired) (Image, error) {
	return bakeImage(ctx, api, want, false)
}

func bakeImage(ctx context.Context, api API, want Desired, creating bool) (Image, error) {
	name := NewName(want.NamePrefix, time.Now())
	report(want.Progress, "baking image %s from the master %s", name, want.SourceInstanceID)
	return Bake(ctx, api, BakeInput{
		SetID:            want.SetID,
		SourceInstanceID: want.SourceInstanceID,
		Name:             name,
		NamePrefix:       want.NamePrefix,
		Description:      want.Description,
		NoReboot:         want.NoReboot,
		Tags:             want.Tags,
		Creating:         creating,
		Progress: func(state string) {
			report(want.Progress, "waiting for image %s to become available: %s", name, state)
		},
	})
}

// Observe reads the set with one DescribeImages call and orders it as
// Converge does: the image prior recorded as current, then the history in
// the order prior recorded, then any other image of the set, newest first.
// When the current image is gone, Current is the zero Image and the history
// holds every image of the set.
func Observe(ctx context.Context, api API, setID string, prior Prior) (Observed, error) {
	set, err := FindSet(ctx, api, setID)
	if err != nil {
		return Observed{}, err
	}
	current, ok := set.Lookup(prior.ImageID)
	if !ok {
		known := append([]string{prior.ImageID}, prior.PreviousImageIDs...)
		return Observed{History: History(set, "", known)}, nil
	}
	return Observed{Current: current, History: History(set, current.ID, prior.PreviousImageIDs)}, nil
}

// Latest reads the set with one DescribeImages call and takes its newest
// image as current, the others as history; a notfound error when the set
// has no image.
func Latest(ctx context.Context, api API, setID string) (Observed, error) {
	set, err := FindSet(ctx, api, setID)
	if err != nil {
		return Observed{}, err
	}
	if len(set.Images) == 0 {
		return Observed{}, notfound.New("image set", setID)
	}
	current := set.Images[0]
	return Observed{Current: current, History: History(set, current.ID, nil)}, nil
}

// SetOf returns the id of the set the image belongs to.
func SetOf(ctx context.Context, api API, imageID string) (string, error) {
	img, err := FindImage(ctx, api, imageID)
	if err != nil {
		return "", err
	}
	if img.SetID() == "" {
		return "", fmt.Errorf("image %s was not baked by clone_image: it has no %s tag", imageID, TagSet)
	}
	return img.SetID(), nil
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
