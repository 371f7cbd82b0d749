package imageset

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/aws-sdk-go-base/v2/tfawserr"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

// snapshotPoll paces the retries of a snapshot its just-deregistered image
// still holds; a variable so that tests can shorten it.
var snapshotPoll = wait.Options{Interval: 2 * time.Second, MaxInterval: 15 * time.Second}

// Destroy deletes every image of the set and every snapshot tagged with it,
// and is Converge's mirror:
//  1. It reads the whole set with one DescribeImages call; a set already
//     gone is nothing to do.
//  2. Each image is deregistered before its snapshots are deleted.
//  3. Last, snapshots tagged with the set that no image holds any more (left
//     by an out-of-band deregistration or an earlier failed run) are deleted.
//
// A run that fails part-way leaves what it did not delete tagged in the set,
// so the next run finds it and finishes.
func Destroy(ctx context.Context, api API, setID string, progress func(string)) error {
	set, err := FindSet(ctx, api, setID)
	if err != nil {
		return err
	}
	for _, img := range set.Images {
		report(progress, "deregistering image %s and deleting its snapshots %v", img.ID, img.SnapshotIDs)
		if err := Delete(ctx, api, img); err != nil {
			return err
		}
	}
	return deleteLeftoverSnapshots(ctx, api, Set{ID: setID}, progress)
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
	if err = notfound.FromCode(err, "image", img.ID, imageDeregisteredCodes...); err != nil && !notfound.Is(err) {
		return fmt.Errorf("deregistering image %s: %w", img.ID, err)
	}
	return deleteSnapshots(ctx, api, snapshots)
}

// deleteSnapshots deletes each snapshot, retrying briefly while the
// just-deregistered image still holds it.
func deleteSnapshots(ctx context.Context, api API, ids []string) error {
	for _, id := range ids {
		err := wait.For(ctx, snapshotPoll, func(ctx context.Context) (bool, string, error) {
			_, err := api.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
			err = notfound.FromCode(err, "snapshot", id, snapshotNotFoundCodes...)
			switch {
			case err == nil, notfound.Is(err):
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

// prune deletes the images of history beyond the first keep, in history
// order, and returns what it kept.
func prune(ctx context.Context, api API, history []Image, want Desired) (kept []Image, inUse map[string][]string, err error) {
	keep := want.RetainPrevious
	if len(history) <= keep {
		return history, nil, nil
	}
	kept = slices.Clone(history[:keep])
	beyond := history[keep:]
	users := map[string][]string{}
	if want.InUse != nil {
		ids := make([]string, len(beyond))
		for i, img := range beyond {
			ids[i] = img.ID
		}
		if users, err = want.InUse(ctx, ids); err != nil {
			return nil, nil, fmt.Errorf("finding who still uses images %v: %w", ids, err)
		}
	}
	for _, img := range beyond {
		if u := users[img.ID]; len(u) > 0 {
			report(want.Progress, "keeping image %s beyond retain_previous: still used by %s", img.ID, strings.Join(u, ", "))
			kept = append(kept, img)
			if inUse == nil {
				inUse = map[string][]string{}
			}
			inUse[img.ID] = u
			continue
		}
		report(want.Progress, "pruning image %s and its snapshots %v", img.ID, img.SnapshotIDs)
		if err := Delete(ctx, api, img); err != nil {
			return nil, nil, err
		}
	}
	return kept, inUse, nil
}

// deleteLeftoverSnapshots deletes the snapshots tagged with the set that no
// image of set uses (for example after an out-of-band deregistration).
func deleteLeftoverSnapshots(ctx context.Context, api API, set Set, progress func(string)) error {
	out, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters:  []ec2types.Filter{{Name: aws.String("tag:" + TagSet), Values: []string{set.ID}}},
	})
	if err != nil {
		return fmt.Errorf("describing snapshots of set %s: %w", set.ID, err)
	}
	inUse := set.SnapshotIDs()
	var left []string
	for _, s := range out.Snapshots {
		if id := aws.ToString(s.SnapshotId); !slices.Contains(inUse, id) {
			left = append(left, id)
		}
	}
	if len(left) > 0 {
		report(progress, "deleting snapshots no image of the set uses: %v", left)
	}
	return deleteSnapshots(ctx, api, left)
}

func report(progress func(string), format string, args ...any) {
	if progress != nil {
		progress(fmt.Sprintf(format, args...))
	}
}
