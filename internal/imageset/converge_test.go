package imageset

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

const testSetID = "cis-0123456789abcdef0"

// seedSet fills the fake with a set of n images, the newest current, and
// returns what state recorded of it: the others as history, newest first.
func seedSet(f *fakeEC2, n int, tags map[string]string) Prior {
	var ids []string
	for range n {
		ids = append(ids, f.seed(testSetID, tags).id)
	}
	slices.Reverse(ids)
	return Prior{ImageID: ids[0], PreviousImageIDs: ids[1:], Tags: tags}
}

func desired(rebake bool, retain int, tags map[string]string) Desired {
	return Desired{
		SetID: testSetID, SourceInstanceID: "i-0123456789abcdef0", NamePrefix: "web", NoReboot: true,
		Tags: tags, RetainPrevious: retain, Rebake: rebake,
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A create killed part-way (no cleanup, no state) leaves a set whose image
// is still tagged creating; the next create of the same master and name
// prefix destroys that set, image and snapshots, before it bakes. A set
// whose create finished, or of another master or prefix, is left alone.
func TestConvergeCreateDestroysWhatAnInterruptedCreateLeft(t *testing.T) {
	for _, killAt := range []string{"DescribeImages", "CreateTags", "DeleteTags"} {
		t.Run(killAt, func(t *testing.T) {
			f := newFake(t)
			finished := f.seed("set-finished", nil)
			other := desired(true, 2, nil)
			other.SetID, other.NamePrefix = "set-other-prefix", "api"
			if _, err := Converge(testContext(t), f, other, nil); err != nil {
				t.Fatal(err)
			}
			killed := desired(true, 2, nil)
			killed.SetID = "set-killed"
			seen := 0
			f.fail = func(c call) error {
				if c.Action == killAt && slices.Contains(f.actions()[:len(f.calls)-1], "CreateImage") {
					if seen++; seen == 1 {
						panic("killed")
					}
				}
				return nil
			}
			func() {
				defer func() { _ = recover() }()
				_, _ = Converge(testContext(t), f, killed, nil)
				t.Fatal("the kill did not happen")
			}()
			f.fail = nil

			got, err := Converge(testContext(t), f, desired(true, 2, nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			for id, img := range f.images {
				if img.tags[TagSet] == "set-killed" {
					t.Errorf("image %s of the interrupted create is still there", id)
				}
				if img.tags[TagCreating] != "" {
					t.Errorf("image %s still tagged %s", id, TagCreating)
				}
			}
			for id, tags := range f.snapshots {
				if tags[TagSet] == "set-killed" || tags[TagSet] == "" && !slices.ContainsFunc(slices.Collect(maps.Values(f.images)), func(img *fakeImage) bool { return slices.Contains(img.snapshots, id) }) {
					t.Errorf("snapshot %s of the interrupted create is still there", id)
				}
			}
			if _, ok := f.images[finished.id]; !ok {
				t.Error("the finished set's image was deleted")
			}
			if len(f.images) != 3 || got.Current.ID == "" {
				t.Errorf("images %d, want the finished set's, the other prefix's and the new one", len(f.images))
			}
		})
	}
}

func TestConvergeNewSetOnlyBakes(t *testing.T) {
	f := newFake(t)
	f.pendingPolls = 1
	var progress []string
	want := desired(true, 2, map[string]string{"env": "test"})
	want.Progress = func(s string) { progress = append(progress, s) }

	got, err := Converge(testContext(t), f, want, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"DescribeImages", "CreateImage", "DescribeImages", "DescribeImages", "CreateTags", "DeleteTags"}; !slices.Equal(f.actions(), want) {
		t.Errorf("calls %v, want %v", f.actions(), want)
	}
	if got.Current.State != "available" || len(got.History) != 0 || len(got.Current.SnapshotIDs) != 1 {
		t.Errorf("observed %+v, want one available image and no history", got)
	}
	snapTags := f.snapshots[got.Current.SnapshotIDs[0]]
	if snapTags[TagSet] != testSetID || snapTags["env"] != "test" || got.Current.Tags[TagSource] != "i-0123456789abcdef0" {
		t.Errorf("image tags %v, snapshot tags %v: want the set's and the user's on both", got.Current.Tags, snapTags)
	}
	if len(progress) < 3 || !strings.Contains(progress[0], "baking image web-") {
		t.Errorf("progress %q, want the bake and each state change", progress)
	}
}

// TestConvergeNewImageAvailableBeforePrune: nothing old is deregistered or
// deleted until the new image is available and its snapshots are tagged.
func TestConvergeNewImageAvailableBeforePrune(t *testing.T) {
	f := newFake(t)
	f.pendingPolls = 2
	prior := seedSet(f, 3, nil)

	got, err := Converge(testContext(t), f, desired(true, 0, nil), &prior)
	if err != nil {
		t.Fatal(err)
	}
	available := slices.IndexFunc(f.calls, func(c call) bool {
		return c.Action == "DescribeImages" && slices.Contains(c.IDs, got.Current.ID) && c.State == "available"
	})
	tagged := f.index("CreateTags", got.Current.SnapshotIDs[0])
	firstDelete := slices.IndexFunc(f.calls, func(c call) bool { return c.Action == "DeregisterImage" || c.Action == "DeleteSnapshot" })
	if available < 0 || tagged < available || firstDelete < tagged {
		t.Errorf("new image available at call %d, its snapshots tagged at %d, first deletion at %d; calls %v", available, tagged, firstDelete, f.calls)
	}
}

// TestConvergeHistoryOrder: the old current heads the history, then the
// images state recorded in its order, then any others newest first.
func TestConvergeHistoryOrder(t *testing.T) {
	f := newFake(t)
	stray := f.seed(testSetID, nil).id // in the set, not in state (a failed run's bake)
	prior := seedSet(f, 4, nil)
	// State recorded the history in an order other than creation time.
	prior.PreviousImageIDs = []string{prior.PreviousImageIDs[1], prior.PreviousImageIDs[0], prior.PreviousImageIDs[2]}

	got, err := Converge(testContext(t), f, desired(true, 10, nil), &prior)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]string{prior.ImageID}, prior.PreviousImageIDs...), stray)
	if !slices.Equal(got.HistoryIDs(), want) {
		t.Errorf("history %v, want %v", got.HistoryIDs(), want)
	}
	if len(f.mutations()) != 2 { // CreateImage, CreateTags on its snapshot, nothing pruned
		t.Errorf("mutations %v, want only the bake", f.mutations())
	}
}

// TestConvergeNeverPrunesCurrentOrKept: only the history beyond
// RetainPrevious is pruned; the current image and the kept ones never are.
func TestConvergeNeverPrunesCurrentOrKept(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rebake bool
		retain int
	}{
		{"re-bake keeping none", true, 0},
		{"re-bake keeping one", true, 1},
		{"re-bake keeping all", true, 3},
		{"re-bake keeping more than there are", true, 5},
		{"lower retain_previous only", false, 1},
		{"retain_previous 0 only", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			prior := seedSet(f, 4, nil)
			history := prior.PreviousImageIDs
			if tc.rebake {
				history = append([]string{prior.ImageID}, history...)
			}
			kept := history[:min(tc.retain, len(history))]

			got, err := Converge(testContext(t), f, desired(tc.rebake, tc.retain, nil), &prior)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.HistoryIDs(), kept) {
				t.Errorf("history %v, want %v", got.HistoryIDs(), kept)
			}
			var pruned []string
			for _, c := range f.calls {
				if c.Action == "DeregisterImage" {
					pruned = append(pruned, c.IDs...)
				}
			}
			if want := history[len(kept):]; !slices.Equal(pruned, want) {
				t.Errorf("pruned %v, want %v", pruned, want)
			}
			f.checkNothingOrphaned(t, testSetID, got)
		})
	}
}

// TestConvergeKeepsImagesInUse: an image beyond retain_previous that an
// instance or a group still uses is kept and reported with its users; a
// later Converge prunes it once nothing uses it.
func TestConvergeKeepsImagesInUse(t *testing.T) {
	f := newFake(t)
	prior := seedSet(f, 3, nil) // current, then two in the history
	pinned := prior.PreviousImageIDs[1]
	users := map[string][]string{pinned: {"Auto Scaling group shop (launch template lt-1 version 1)"}}
	var asked []string
	want := desired(true, 1, nil)
	want.InUse = func(_ context.Context, ids []string) (map[string][]string, error) {
		asked = append(asked, ids...)
		out := map[string][]string{}
		for _, id := range ids {
			if u, ok := users[id]; ok {
				out[id] = u
			}
		}
		return out, nil
	}
	got, err := Converge(testContext(t), f, want, &prior)
	if err != nil {
		t.Fatal(err)
	}
	// History was [old current, previous[0], pinned]; retain 1 keeps the
	// old current, previous[0] is pruned, pinned is kept for its user.
	if wantHist := []string{prior.ImageID, pinned}; !slices.Equal(got.HistoryIDs(), wantHist) {
		t.Errorf("history %v, want %v", got.HistoryIDs(), wantHist)
	}
	if !slices.Equal(asked, prior.PreviousImageIDs) {
		t.Errorf("asked about %v, want only the images beyond retain_previous %v", asked, prior.PreviousImageIDs)
	}
	if !slices.Equal(got.InUse[pinned], users[pinned]) || len(got.InUse) != 1 {
		t.Errorf("InUse = %v, want %s with its user", got.InUse, pinned)
	}
	for _, c := range f.mutations() {
		if slices.Contains(c.IDs, pinned) {
			t.Errorf("%v touched the image in use", c)
		}
	}
	f.checkNothingOrphaned(t, testSetID, got)

	// Once unused, the next Converge prunes it.
	delete(users, pinned)
	next := Prior{ImageID: got.Current.ID, PreviousImageIDs: got.HistoryIDs()}
	want.Rebake, asked = false, nil
	again, err := Converge(testContext(t), f, want, &next)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.InUse) != 0 || slices.Contains(again.HistoryIDs(), pinned) {
		t.Errorf("after its user went: history %v, in use %v; want %s pruned", again.HistoryIDs(), again.InUse, pinned)
	}
	if !slices.Equal(asked, []string{pinned}) {
		t.Errorf("asked about %v, want %s", asked, pinned)
	}
}

// TestConvergeDeletesSnapshotsAfterTheirImage: a pruned image is
// deregistered before any of its snapshots is deleted.
func TestConvergeDeletesSnapshotsAfterTheirImage(t *testing.T) {
	f := newFake(t)
	prior := seedSet(f, 4, nil)
	owner := map[string]string{}
	for _, img := range f.images {
		for _, s := range img.snapshots {
			owner[s] = img.id
		}
	}

	if _, err := Converge(testContext(t), f, desired(true, 0, nil), &prior); err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for i, c := range f.calls {
		if c.Action != "DeleteSnapshot" {
			continue
		}
		deleted++
		if dereg := f.index("DeregisterImage", owner[c.IDs[0]]); dereg < 0 || dereg > i {
			t.Errorf("snapshot %s deleted at call %d, its image %s deregistered at %d", c.IDs[0], i, owner[c.IDs[0]], dereg)
		}
		if slices.ContainsFunc(f.calls[:i], func(p call) bool { return p.Action == "DeleteSnapshot" && p.IDs[0] == c.IDs[0] }) {
			t.Errorf("snapshot %s was tried more than once: it was still in use", c.IDs[0])
		}
	}
	if deleted != 4 {
		t.Errorf("%d snapshots deleted, want the 4 of the pruned images", deleted)
	}
}

// TestConvergeFailedBakeTouchesNothingOld: when the bake fails after the
// image exists, the half-made image and its snapshot are deleted and no old
// image is touched.
func TestConvergeFailedBakeTouchesNothingOld(t *testing.T) {
	f := newFake(t)
	prior := seedSet(f, 3, nil)
	before := slices.Sorted(maps.Keys(f.images))
	injected := apiError("UnauthorizedOperation", "injected")
	f.fail = func(c call) error {
		if c.Action == "CreateTags" && strings.HasPrefix(c.IDs[0], "snap-") {
			return injected
		}
		return nil
	}

	_, err := Converge(testContext(t), f, desired(true, 0, nil), &prior)
	if !errors.Is(err, injected) || !strings.Contains(err.Error(), "tagging snapshots of image ami-") {
		t.Fatalf("err = %v, want the tagging failure", err)
	}
	if got := slices.Sorted(maps.Keys(f.images)); !slices.Equal(got, before) {
		t.Errorf("images after a failed bake %v, want those before %v", got, before)
	}
	if len(f.snapshots) != 3 {
		t.Errorf("snapshots after a failed bake %v, want the 3 of the old images", slices.Sorted(maps.Keys(f.snapshots)))
	}
	for _, id := range before {
		if f.index("DeregisterImage", id) >= 0 {
			t.Errorf("old image %s was deregistered by a failed bake", id)
		}
	}
}

// TestConvergeFailedPruneConverges: a prune that fails half-way leaves
// every image and snapshot in the set, and the next run, from the state the
// failed one left unchanged, converges with nothing orphaned.
func TestConvergeFailedPruneConverges(t *testing.T) {
	f := newFake(t)
	prior := seedSet(f, 4, nil)
	firstPruned := prior.PreviousImageIDs[0]
	failed := false
	f.fail = func(c call) error {
		if c.Action == "DeleteSnapshot" && !failed {
			failed = true
			return apiError("InternalError", "injected")
		}
		return nil
	}

	if _, err := Converge(testContext(t), f, desired(true, 1, nil), &prior); err == nil {
		t.Fatal("want the injected failure")
	}
	for id, tags := range f.snapshots {
		if tags[TagSet] != testSetID {
			t.Errorf("after the failure snapshot %s lacks the set tag: it would be orphaned", id)
		}
	}
	if _, ok := f.images[firstPruned]; ok {
		t.Fatalf("want the run to have failed after deregistering %s, before deleting its snapshot", firstPruned)
	}

	got, err := Converge(testContext(t), f, desired(true, 1, nil), &prior)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.History) != 1 || got.History[0].ID != prior.ImageID {
		t.Errorf("history %v, want the former current %s", got.HistoryIDs(), prior.ImageID)
	}
	f.checkNothingOrphaned(t, testSetID, got)
}

// TestConvergeIdempotent: re-running with what the last run recorded makes
// no call that mutates, and only the two reads.
func TestConvergeIdempotent(t *testing.T) {
	f := newFake(t)
	tags := map[string]string{"env": "test"}
	prior := seedSet(f, 4, tags)
	first, err := Converge(testContext(t), f, desired(true, 2, tags), &prior)
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil

	recorded := Prior{ImageID: first.Current.ID, PreviousImageIDs: first.HistoryIDs(), Tags: tags}
	second, err := Converge(testContext(t), f, desired(false, 2, tags), &recorded)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"DescribeImages", "DescribeSnapshots"}; !slices.Equal(f.actions(), want) {
		t.Errorf("re-run calls %v, want %v", f.actions(), want)
	}
	if second.Current.ID != first.Current.ID || !slices.Equal(second.HistoryIDs(), first.HistoryIDs()) {
		t.Errorf("re-run observed %v %v, want %v %v", second.Current.ID, second.HistoryIDs(), first.Current.ID, first.HistoryIDs())
	}
}

// TestConvergeCallBudget: a re-bake costs what it did before Converge: one
// read of the set, the bake, one deregistration and one deletion per pruned
// image and snapshot, one read of the set's snapshots.
func TestConvergeCallBudget(t *testing.T) {
	f := newFake(t)
	prior := seedSet(f, 3, nil)
	if _, err := Converge(testContext(t), f, desired(true, 1, nil), &prior); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"DescribeImages",
		"CreateImage", "DescribeImages", "CreateTags",
		"DeregisterImage", "DeleteSnapshot", "DeregisterImage", "DeleteSnapshot",
		"DescribeSnapshots",
	}
	if !slices.Equal(f.actions(), want) {
		t.Errorf("calls %v, want %v", f.actions(), want)
	}
}

// TestConvergeDeletesLeftoverSnapshotsLast: a snapshot of the set that no
// kept image uses (its image was deregistered out of band) is deleted after
// everything else.
func TestConvergeDeletesLeftoverSnapshotsLast(t *testing.T) {
	f := newFake(t)
	prior := seedSet(f, 3, nil)
	gone := f.images[prior.PreviousImageIDs[0]]
	delete(f.images, gone.id)

	got, err := Converge(testContext(t), f, desired(true, 0, nil), &prior)
	if err != nil {
		t.Fatal(err)
	}
	mutations := f.mutations()
	if last := mutations[len(mutations)-1]; last.Action != "DeleteSnapshot" || last.IDs[0] != gone.snapshots[0] {
		t.Errorf("last mutation %v, want the deletion of the leftover snapshot %s", last, gone.snapshots[0])
	}
	f.checkNothingOrphaned(t, testSetID, got)
}

// TestConvergeRetagsBeforeBaking: changed tags are written to every image
// and snapshot of the set before the bake; only what changed is written and
// the set's own tags stay.
func TestConvergeRetagsBeforeBaking(t *testing.T) {
	f := newFake(t)
	had := map[string]string{"env": "test", "team": "web", "app": "shop"}
	want := map[string]string{"env": "prod", "app": "shop"}
	prior := seedSet(f, 2, had)

	got, err := Converge(testContext(t), f, desired(true, 5, want), &prior)
	if err != nil {
		t.Fatal(err)
	}
	wantActions := []string{"DescribeImages", "DeleteTags", "CreateTags", "CreateImage"}
	if !slices.Equal(f.actions()[:4], wantActions) {
		t.Errorf("calls %v, want them to start with %v", f.actions(), wantActions)
	}
	if n := len(f.calls[1].IDs); n != 4 {
		t.Errorf("DeleteTags named %d resources, want the 2 images and 2 snapshots", n)
	}
	for _, img := range append([]Image{got.Current}, got.History...) {
		for _, id := range append([]string{img.ID}, img.SnapshotIDs...) {
			tags := f.tagsOf(id)
			if !maps.Equal(UserTags(tags), want) || tags[TagSet] != testSetID {
				t.Errorf("%s tags %v, want %v and the set tag", id, tags, want)
			}
		}
	}
}

// TestConvergeCurrentGoneWithoutRebake: when the current image is gone and
// no re-bake was asked for, Converge says so and changes nothing.
func TestConvergeCurrentGoneWithoutRebake(t *testing.T) {
	f := newFake(t)
	prior := seedSet(f, 3, nil)
	delete(f.images, prior.ImageID)

	_, err := Converge(testContext(t), f, desired(false, 0, nil), &prior)
	if !notfound.Is(err) {
		t.Fatalf("err = %v, want a not-found error", err)
	}
	if len(f.mutations()) != 0 {
		t.Errorf("mutations %v, want none", f.mutations())
	}
}

// TestConvergeDescription: an unset description is left out of the
// request, a set one is sent.
func TestConvergeDescription(t *testing.T) {
	for _, description := range []string{"", "release 7"} {
		f := newFake(t)
		want := desired(true, 0, nil)
		want.Description = description
		got, err := Converge(testContext(t), f, want, nil)
		if err != nil {
			t.Fatal(err)
		}
		sent := f.created[0].Description
		if (description == "") != (sent == nil) || got.Current.Description != description {
			t.Errorf("description %q: sent %v, image has %q", description, sent, got.Current.Description)
		}
	}
}

// TestDestroy: Destroy leaves no image and no snapshot of the set, deletes
// each snapshot after its image and leftovers last; a set already gone is
// done.
func TestDestroy(t *testing.T) {
	f := newFake(t)
	seedSet(f, 3, nil)
	other := f.seed("cis-0000000000000000f", nil)
	var leftover string
	for id, img := range f.images {
		if id != other.id {
			leftover = img.snapshots[0]
			delete(f.images, id) // deregistered out of band
			break
		}
	}

	if err := Destroy(testContext(t), f, testSetID, nil); err != nil {
		t.Fatal(err)
	}
	if len(f.images) != 1 || len(f.snapshots) != 1 || f.images[other.id] == nil {
		t.Errorf("left images %v and snapshots %v, want only the other set's", slices.Sorted(maps.Keys(f.images)), slices.Sorted(maps.Keys(f.snapshots)))
	}
	mutations := f.mutations()
	if last := mutations[len(mutations)-1]; last.IDs[0] != leftover {
		t.Errorf("last mutation %v, want the leftover snapshot %s", last, leftover)
	}
	for i, c := range mutations {
		if c.Action == "DeleteSnapshot" && c.IDs[0] != leftover && (i == 0 || mutations[i-1].Action != "DeregisterImage") {
			t.Errorf("snapshot %s deleted without its image deregistered just before: %v", c.IDs[0], mutations)
		}
	}

	f.calls = nil
	if err := Destroy(testContext(t), f, testSetID, nil); err != nil || len(f.mutations()) != 0 {
		t.Errorf("destroying a gone set: err %v, mutations %v; want nil and none", err, f.mutations())
	}
}

// TestDestroyPartialFailureConverges: a destroy that fails half-way is
// finished by the next one.
func TestDestroyPartialFailureConverges(t *testing.T) {
	f := newFake(t)
	seedSet(f, 3, nil)
	failures := 0
	f.fail = func(c call) error {
		if c.Action == "DeleteSnapshot" && failures == 0 {
			failures++
			return apiError("InternalError", "injected")
		}
		return nil
	}
	if err := Destroy(testContext(t), f, testSetID, nil); err == nil {
		t.Fatal("want the injected failure")
	}
	if err := Destroy(testContext(t), f, testSetID, nil); err != nil {
		t.Fatal(err)
	}
	if len(f.images) != 0 || len(f.snapshots) != 0 {
		t.Errorf("left images %v and snapshots %v, want none", slices.Sorted(maps.Keys(f.images)), slices.Sorted(maps.Keys(f.snapshots)))
	}
}

func TestObserve(t *testing.T) {
	f := newFake(t)
	prior := seedSet(f, 3, nil)

	got, err := Observe(testContext(t), f, testSetID, prior)
	if err != nil {
		t.Fatal(err)
	}
	if got.Current.ID != prior.ImageID || !slices.Equal(got.HistoryIDs(), prior.PreviousImageIDs) {
		t.Errorf("observed %s %v, want %s %v", got.Current.ID, got.HistoryIDs(), prior.ImageID, prior.PreviousImageIDs)
	}

	delete(f.images, prior.ImageID)
	f.calls = nil
	got, err = Observe(testContext(t), f, testSetID, prior)
	if err != nil {
		t.Fatal(err)
	}
	if got.Current.ID != "" || !slices.Equal(got.HistoryIDs(), prior.PreviousImageIDs) || len(got.SnapshotIDs()) != 2 {
		t.Errorf("current gone: observed %q %v, want no current and the history %v", got.Current.ID, got.HistoryIDs(), prior.PreviousImageIDs)
	}
	if want := []string{"DescribeImages"}; !slices.Equal(f.actions(), want) {
		t.Errorf("calls %v, want %v", f.actions(), want)
	}
}

func TestLatestAndSetOf(t *testing.T) {
	f := newFake(t)
	if _, err := Latest(testContext(t), f, testSetID); !notfound.Is(err) {
		t.Errorf("Latest of an empty set: err = %v, want not found", err)
	}
	prior := seedSet(f, 3, nil)
	got, err := Latest(testContext(t), f, testSetID)
	if err != nil || got.Current.ID != prior.ImageID || !slices.Equal(got.HistoryIDs(), prior.PreviousImageIDs) {
		t.Errorf("Latest = %s %v, %v; want %s %v", got.Current.ID, got.HistoryIDs(), err, prior.ImageID, prior.PreviousImageIDs)
	}

	if set, err := SetOf(testContext(t), f, prior.PreviousImageIDs[1]); err != nil || set != testSetID {
		t.Errorf("SetOf = %q, %v; want %s", set, err, testSetID)
	}
	foreign := f.seed(testSetID, nil)
	delete(foreign.tags, TagSet)
	if _, err := SetOf(testContext(t), f, foreign.id); err == nil || !strings.Contains(err.Error(), "not baked by clone_image") {
		t.Errorf("SetOf an image without the set tag: err = %v", err)
	}
	if _, err := SetOf(testContext(t), f, "ami-0000000000000dead"); !notfound.Is(err) {
		t.Errorf("SetOf a missing image: err = %v, want not found", err)
	}
}

// TestFindImageClassifiesByCode: only EC2's not-found codes make a
// not-found error, whatever another error's message says.
func TestFindImageClassifiesByCode(t *testing.T) {
	for _, tc := range []struct {
		code string
		want bool
	}{
		{"InvalidAMIID.NotFound", true},
		{"InvalidAMIID.Unavailable", true},
		{"InvalidAMIID.Malformed", true},
		{"UnauthorizedOperation", false},
	} {
		t.Run(tc.code, func(t *testing.T) {
			f := newFake(t)
			f.fail = func(call) error { return apiError(tc.code, "image not found") }
			_, err := FindImage(testContext(t), f, "ami-0123456789abcdef0")
			if notfound.Is(err) != tc.want {
				t.Errorf("FindImage with %s: err = %v, not found %v, want %v", tc.code, err, notfound.Is(err), tc.want)
			}
		})
	}
}

// TestDeleteGoneImage: an image already deregistered counts as deleted and
// its snapshots are still deleted; a malformed id is an error.
func TestDeleteGoneImage(t *testing.T) {
	for _, tc := range []struct {
		code    string
		wantErr bool
	}{
		{"InvalidAMIID.NotFound", false},
		{"InvalidAMIID.Unavailable", false},
		{"InvalidAMIID.Malformed", true},
	} {
		t.Run(tc.code, func(t *testing.T) {
			f := newFake(t)
			img := f.seed(testSetID, nil)
			delete(f.images, img.id)
			f.fail = func(c call) error {
				if c.Action == "DeregisterImage" {
					return apiError(tc.code, "injected")
				}
				return nil
			}
			err := Delete(testContext(t), f, Image{ID: img.id, SnapshotIDs: img.snapshots})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Delete: err = %v, want error %v", err, tc.wantErr)
			}
			if gone := len(f.snapshots) == 0; gone == tc.wantErr {
				t.Errorf("snapshots left %v", slices.Sorted(maps.Keys(f.snapshots)))
			}
		})
	}
}

func TestFindNewestByNameNotFound(t *testing.T) {
	f := newFake(t)
	_, err := FindNewestByName(testContext(t), f, "web-")
	if !notfound.Is(err) {
		t.Fatalf("FindNewestByName on no images: err = %v, want not found", err)
	}
	// The prefix quoted once, not followed by a glob star.
	if want := `image whose name starts with "web-" not found`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
