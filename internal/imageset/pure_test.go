package imageset

import (
	"maps"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestSetTags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		namePrefix string
		user       map[string]string
		want       map[string]string
	}{
		{"no user tags", "web", nil, map[string]string{
			TagSet: "cis-1", TagSource: "i-1", TagManagedBy: ManagedBy, TagNamePrefix: "web",
		}},
		{"user tags kept", "web", map[string]string{"env": "test"}, map[string]string{
			"env": "test", TagSet: "cis-1", TagSource: "i-1", TagManagedBy: ManagedBy, TagNamePrefix: "web",
		}},
		{"the set's own tags win", "web", map[string]string{TagSet: "cis-other"}, map[string]string{
			TagSet: "cis-1", TagSource: "i-1", TagManagedBy: ManagedBy, TagNamePrefix: "web",
		}},
		{"no name prefix, no prefix tag", "", nil, map[string]string{
			TagSet: "cis-1", TagSource: "i-1", TagManagedBy: ManagedBy,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := setTags("cis-1", "i-1", tc.namePrefix, tc.user); !maps.Equal(got, tc.want) {
				t.Errorf("setTags = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUserTags(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]string
		want map[string]string
	}{
		{"nil", nil, map[string]string{}},
		{"only own", map[string]string{TagSet: "cis-1", TagManagedBy: ManagedBy}, map[string]string{}},
		{"mixed", map[string]string{TagSet: "cis-1", "env": "test", "clone": "x"}, map[string]string{"env": "test", "clone": "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := UserTags(tc.in); !maps.Equal(got, tc.want) {
				t.Errorf("UserTags = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRetagChanges(t *testing.T) {
	for _, tc := range []struct {
		name       string
		had, want  map[string]string
		wantSet    map[string]string
		wantRemove []string
	}{
		{"unchanged", map[string]string{"a": "1"}, map[string]string{"a": "1"}, map[string]string{}, nil},
		{"added and changed", map[string]string{"a": "1"}, map[string]string{"a": "2", "b": "3"}, map[string]string{"a": "2", "b": "3"}, nil},
		{"removed, sorted", map[string]string{"b": "1", "a": "1", "c": "1"}, map[string]string{"c": "1"}, map[string]string{}, []string{"a", "b"}},
		{"own tags never removed", map[string]string{TagSet: "cis-1", "a": "1"}, nil, map[string]string{}, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, remove := retagChanges(tc.had, tc.want)
			if !maps.Equal(set, tc.wantSet) || !slices.Equal(remove, tc.wantRemove) {
				t.Errorf("retagChanges = %v, %v; want %v, %v", set, remove, tc.wantSet, tc.wantRemove)
			}
		})
	}
}

// amiName is what EC2 accepts as an image name: 3 to 128 letters, digits
// and ( ) [ ] space . / - ' @ _.
var amiName = regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./'@_-]{3,128}$`)

func TestNewName(t *testing.T) {
	base := time.Date(2026, 11, 27, 10, 15, 0, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name   string
		prefix string
		now    time.Time
		want   *regexp.Regexp
	}{
		{"UTC timestamp with milliseconds", "web", base, regexp.MustCompile(`^web-20261127T091500\.000Z-[0-9a-f]{4}$`)},
		{"prefix kept as is", "shop (v2)", base.Add(1500 * time.Millisecond), regexp.MustCompile(`^shop \(v2\)-20261127T091501\.500Z-[0-9a-f]{4}$`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NewName(tc.prefix, tc.now)
			if !tc.want.MatchString(got) || !amiName.MatchString(got) {
				t.Errorf("NewName = %q, want it to match %s and be a valid AMI name", got, tc.want)
			}
		})
	}
	var names []string
	for _, offset := range []time.Duration{0, time.Millisecond, 999 * time.Millisecond, time.Second, time.Minute, 24 * time.Hour} {
		names = append(names, NewName("web", base.Add(offset)))
	}
	if !slices.IsSorted(names) {
		t.Errorf("names do not sort in baking order: %v", names)
	}
}

func TestNewSetID(t *testing.T) {
	a, err := NewSetID()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSetID()
	if !regexp.MustCompile(`^cis-[0-9a-f]{17}$`).MatchString(a) || a == b {
		t.Errorf("NewSetID = %q then %q, want two distinct cis- and 17 hex digits", a, b)
	}
}

func TestHistory(t *testing.T) {
	set := Set{ID: "cis-1", Images: []Image{{ID: "ami-5"}, {ID: "ami-4"}, {ID: "ami-3"}, {ID: "ami-2"}, {ID: "ami-1"}}}
	for _, tc := range []struct {
		name    string
		current string
		known   []string
		want    []string
	}{
		{"nothing known: newest first", "ami-5", nil, []string{"ami-4", "ami-3", "ami-2", "ami-1"}},
		{"known order first", "ami-5", []string{"ami-2", "ami-4"}, []string{"ami-2", "ami-4", "ami-3", "ami-1"}},
		{"known but gone is skipped", "ami-5", []string{"ami-9", "ami-3"}, []string{"ami-3", "ami-4", "ami-2", "ami-1"}},
		{"current never in the history", "ami-3", []string{"ami-3", "ami-1"}, []string{"ami-1", "ami-5", "ami-4", "ami-2"}},
		{"no current: every image", "", []string{"ami-9", "ami-4"}, []string{"ami-4", "ami-5", "ami-3", "ami-2", "ami-1"}},
		{"duplicates once", "ami-5", []string{"ami-4", "ami-4"}, []string{"ami-4", "ami-3", "ami-2", "ami-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Observed{History: History(set, tc.current, tc.known)}.HistoryIDs()
			if !slices.Equal(got, tc.want) {
				t.Errorf("History = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSortNewestFirst(t *testing.T) {
	sec := time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)
	images := []Image{
		{ID: "old", CreatedAt: sec.Add(-time.Hour), Name: "web-z"},
		{ID: "same-second-first", CreatedAt: sec, Name: "web-20261127T101500.100Z"},
		{ID: "new", CreatedAt: sec.Add(time.Hour), Name: "web-a"},
		{ID: "same-second-second", CreatedAt: sec, Name: "web-20261127T101500.900Z"},
	}
	sortNewestFirst(images)
	got := Observed{History: images}.HistoryIDs()
	if want := []string{"new", "same-second-second", "same-second-first", "old"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestObservedSnapshotIDs(t *testing.T) {
	o := Observed{
		Current: Image{ID: "ami-3", SnapshotIDs: []string{"snap-3a", "snap-3b"}},
		History: []Image{{ID: "ami-2", SnapshotIDs: []string{"snap-2"}}, {ID: "ami-1"}},
	}
	if got, want := o.SnapshotIDs(), []string{"snap-3a", "snap-3b", "snap-2"}; !slices.Equal(got, want) {
		t.Errorf("SnapshotIDs = %v, want %v", got, want)
	}
	o.Current = Image{}
	if got, want := o.SnapshotIDs(), []string{"snap-2"}; !slices.Equal(got, want) {
		t.Errorf("without a current image SnapshotIDs = %v, want %v", got, want)
	}
}

// TestOptional: only an empty string is left out of a request; any other,
// blank or not, is sent.
func TestOptional(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *string
	}{
		{"", nil},
		{"release 7", aws.String("release 7")},
		{" ", aws.String(" ")},
	} {
		if got := optional(tc.in); (got == nil) != (tc.want == nil) || aws.ToString(got) != aws.ToString(tc.want) {
			t.Errorf("optional(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
