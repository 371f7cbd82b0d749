package imageset

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

// fakeEC2 keeps images and snapshots in memory, answers as EC2 does for the
// calls imageset makes (including "snapshot in use" while a registered image
// holds it) and records every call in order.
type fakeEC2 struct {
	images    map[string]*fakeImage
	snapshots map[string]map[string]string // id → tags
	calls     []call
	seq       int
	clock     time.Time
	// pendingPolls is how many DescribeImages answers a new image stays
	// pending for.
	pendingPolls int
	// fail, when set, may fail a call before it takes effect.
	fail func(c call) error
	// created holds every CreateImage request.
	created []*ec2.CreateImageInput
}

type fakeImage struct {
	id, name, description, state string
	created                      time.Time
	snapshots                    []string
	tags                         map[string]string
	polls                        int
}

// call is one recorded API call: the action, the ids it names, and for
// DescribeImages by id the state it answered.
type call struct {
	Action string
	IDs    []string
	State  string
}

func (c call) String() string { return c.Action + strings.Join(c.IDs, ",") }

var mutating = []string{"CreateImage", "DeregisterImage", "DeleteSnapshot", "CreateTags", "DeleteTags"}

func newFake(t *testing.T) *fakeEC2 {
	t.Helper()
	fastPolls(t)
	return &fakeEC2{
		images:    map[string]*fakeImage{},
		snapshots: map[string]map[string]string{},
		clock:     time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC),
	}
}

// fastPolls makes the package's waits poll every millisecond.
func fastPolls(t *testing.T) {
	t.Helper()
	oldAvailable, oldSnapshot := availablePoll, snapshotPoll
	availablePoll = wait.Options{Interval: time.Millisecond}
	snapshotPoll = wait.Options{Interval: time.Millisecond}
	t.Cleanup(func() { availablePoll, snapshotPoll = oldAvailable, oldSnapshot })
}

func apiError(code, format string, args ...any) error {
	return &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (f *fakeEC2) record(c call) error {
	f.calls = append(f.calls, c)
	if f.fail != nil {
		return f.fail(c)
	}
	return nil
}

// seed adds an available image of the set with one tagged snapshot, created
// after every image seeded before it.
func (f *fakeEC2) seed(setID string, userTags map[string]string) *fakeImage {
	f.seq++
	f.clock = f.clock.Add(time.Minute)
	tags := setTags(setID, "i-0123456789abcdef0", "web", userTags)
	img := &fakeImage{
		id: fmt.Sprintf("ami-%017x", f.seq), name: fmt.Sprintf("web-%03d", f.seq), state: "available",
		created: f.clock, snapshots: []string{fmt.Sprintf("snap-%017x", f.seq)}, tags: tags,
	}
	f.images[img.id] = img
	f.snapshots[img.snapshots[0]] = maps.Clone(tags)
	return img
}

func (f *fakeEC2) CreateImage(_ context.Context, in *ec2.CreateImageInput, _ ...func(*ec2.Options)) (*ec2.CreateImageOutput, error) {
	f.seq++
	id := fmt.Sprintf("ami-%017x", f.seq)
	f.created = append(f.created, in)
	if err := f.record(call{Action: "CreateImage", IDs: []string{id}}); err != nil {
		return nil, err
	}
	f.clock = f.clock.Add(time.Minute)
	img := &fakeImage{
		id: id, name: aws.ToString(in.Name), description: aws.ToString(in.Description), state: "pending",
		created: f.clock, snapshots: []string{fmt.Sprintf("snap-%017x", f.seq)}, tags: map[string]string{},
	}
	for _, spec := range in.TagSpecifications {
		for _, tag := range spec.Tags {
			img.tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	}
	f.images[id] = img
	f.snapshots[img.snapshots[0]] = map[string]string{} // CreateImage leaves its snapshots untagged
	return &ec2.CreateImageOutput{ImageId: aws.String(id)}, nil
}

func (f *fakeEC2) DescribeImages(_ context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	c := call{Action: "DescribeImages", IDs: in.ImageIds}
	var match []*fakeImage
	for _, id := range in.ImageIds {
		img, ok := f.images[id]
		if !ok {
			if err := f.record(c); err != nil {
				return nil, err
			}
			return nil, apiError("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
		}
		if img.state == "pending" && img.polls >= f.pendingPolls {
			img.state = "available"
		}
		img.polls++
		c.State = img.state
		match = append(match, img)
	}
	if err := f.record(c); err != nil {
		return nil, err
	}
	if len(in.ImageIds) == 0 {
		match = f.filter(in.Filters)
	}
	out := &ec2.DescribeImagesOutput{}
	for _, img := range match {
		out.Images = append(out.Images, img.render())
	}
	return out, nil
}

func (f *fakeEC2) filter(filters []ec2types.Filter) []*fakeImage {
	var out []*fakeImage
	for _, id := range slices.Sorted(maps.Keys(f.images)) {
		img := f.images[id]
		ok := true
		for _, flt := range filters {
			name, want := aws.ToString(flt.Name), flt.Values[0]
			switch {
			case strings.HasPrefix(name, "tag:"):
				ok = ok && img.tags[strings.TrimPrefix(name, "tag:")] == want
			case name == "name":
				ok = ok && strings.HasPrefix(img.name, strings.TrimSuffix(want, "*"))
			}
		}
		if ok {
			out = append(out, img)
		}
	}
	return out
}

func (img *fakeImage) render() ec2types.Image {
	out := ec2types.Image{
		ImageId: aws.String(img.id), Name: aws.String(img.name), State: ec2types.ImageState(img.state),
		CreationDate: aws.String(img.created.Format(time.RFC3339)),
	}
	if img.description != "" {
		out.Description = aws.String(img.description)
	}
	for _, s := range img.snapshots {
		out.BlockDeviceMappings = append(out.BlockDeviceMappings, ec2types.BlockDeviceMapping{Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(s)}})
	}
	for k, v := range img.tags {
		out.Tags = append(out.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

func (f *fakeEC2) DeregisterImage(_ context.Context, in *ec2.DeregisterImageInput, _ ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error) {
	id := aws.ToString(in.ImageId)
	if err := f.record(call{Action: "DeregisterImage", IDs: []string{id}}); err != nil {
		return nil, err
	}
	if _, ok := f.images[id]; !ok {
		return nil, apiError("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	}
	delete(f.images, id)
	return &ec2.DeregisterImageOutput{}, nil
}

func (f *fakeEC2) DescribeSnapshots(_ context.Context, in *ec2.DescribeSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	if err := f.record(call{Action: "DescribeSnapshots"}); err != nil {
		return nil, err
	}
	out := &ec2.DescribeSnapshotsOutput{}
	for _, id := range slices.Sorted(maps.Keys(f.snapshots)) {
		ok := true
		for _, flt := range in.Filters {
			ok = ok && f.snapshots[id][strings.TrimPrefix(aws.ToString(flt.Name), "tag:")] == flt.Values[0]
		}
		if ok {
			out.Snapshots = append(out.Snapshots, ec2types.Snapshot{SnapshotId: aws.String(id)})
		}
	}
	return out, nil
}

func (f *fakeEC2) DeleteSnapshot(_ context.Context, in *ec2.DeleteSnapshotInput, _ ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	id := aws.ToString(in.SnapshotId)
	if err := f.record(call{Action: "DeleteSnapshot", IDs: []string{id}}); err != nil {
		return nil, err
	}
	if _, ok := f.snapshots[id]; !ok {
		return nil, apiError("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
	}
	for _, img := range f.images {
		if slices.Contains(img.snapshots, id) {
			return nil, apiError("InvalidSnapshot.InUse", "The snapshot %s is currently in use by %s", id, img.id)
		}
	}
	delete(f.snapshots, id)
	return &ec2.DeleteSnapshotOutput{}, nil
}

func (f *fakeEC2) CreateTags(_ context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	if err := f.record(call{Action: "CreateTags", IDs: in.Resources}); err != nil {
		return nil, err
	}
	for _, id := range in.Resources {
		tags := f.tagsOf(id)
		for _, tag := range in.Tags {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	}
	return &ec2.CreateTagsOutput{}, nil
}

func (f *fakeEC2) DeleteTags(_ context.Context, in *ec2.DeleteTagsInput, _ ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error) {
	if err := f.record(call{Action: "DeleteTags", IDs: in.Resources}); err != nil {
		return nil, err
	}
	for _, id := range in.Resources {
		tags := f.tagsOf(id)
		for _, tag := range in.Tags {
			delete(tags, aws.ToString(tag.Key))
		}
	}
	return &ec2.DeleteTagsOutput{}, nil
}

func (f *fakeEC2) tagsOf(id string) map[string]string {
	if img, ok := f.images[id]; ok {
		return img.tags
	}
	if tags, ok := f.snapshots[id]; ok {
		return tags
	}
	return map[string]string{}
}

// mutations lists the recorded calls that change something.
func (f *fakeEC2) mutations() []call {
	var out []call
	for _, c := range f.calls {
		if slices.Contains(mutating, c.Action) {
			out = append(out, c)
		}
	}
	return out
}

// actions lists the recorded actions in order.
func (f *fakeEC2) actions() []string {
	out := make([]string, 0, len(f.calls))
	for _, c := range f.calls {
		out = append(out, c.Action)
	}
	return out
}

// index is the position of the first call of action naming id, -1 if none.
func (f *fakeEC2) index(action, id string) int {
	return slices.IndexFunc(f.calls, func(c call) bool { return c.Action == action && slices.Contains(c.IDs, id) })
}

// checkNothingOrphaned fails unless the cloud holds exactly the images of
// want and every snapshot left backs one of them and carries the set tag.
func (f *fakeEC2) checkNothingOrphaned(t *testing.T, setID string, want Observed) {
	t.Helper()
	wantImages := append([]string{want.Current.ID}, want.HistoryIDs()...)
	if got := slices.Sorted(maps.Keys(f.images)); !slices.Equal(got, slices.Sorted(slices.Values(wantImages))) {
		t.Errorf("images in the cloud %v, want %v", got, wantImages)
	}
	for id, tags := range f.snapshots {
		held := false
		for _, img := range f.images {
			held = held || slices.Contains(img.snapshots, id)
		}
		if !held || tags[TagSet] != setID {
			t.Errorf("snapshot %s is orphaned (held by an image: %v, set tag %q)", id, held, tags[TagSet])
		}
	}
}
