package pool

import (
	"slices"
	"testing"
)

func TestRetirees(t *testing.T) {
	serving := []string{"i-1", "i-2", "i-3", "i-4"}
	images := map[string]string{"i-1": "ami-new", "i-2": "ami-old", "i-3": "ami-new", "i-4": "ami-new"}
	tests := []struct {
		n    int
		want []string
	}{
		{0, nil},
		{1, []string{"i-2"}},
		{2, []string{"i-2", "i-4"}},
		{3, []string{"i-2", "i-4", "i-3"}},
		{9, []string{"i-2", "i-4", "i-3", "i-1"}},
	}
	for _, tt := range tests {
		if got := Retirees(serving, images, "ami-new", tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("Retirees(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestServingIDs(t *testing.T) {
	g := Group{Instances: []Instance{
		{ID: "i-3", LifecycleState: "InService"},
		{ID: "i-1", LifecycleState: "Pending"},
		{ID: "i-2", LifecycleState: "Terminating"},
		{ID: "i-4", LifecycleState: "Detaching"},
		{ID: "i-5", LifecycleState: "Pending:Wait"},
	}}
	if got := g.ServingIDs(); !slices.Equal(got, []string{"i-1", "i-3", "i-5"}) {
		t.Errorf("ServingIDs = %v", got)
	}
}

func TestSplitSubnets(t *testing.T) {
	if got := SplitSubnets("subnet-a, subnet-b,,"); !slices.Equal(got, []string{"subnet-a", "subnet-b"}) {
		t.Errorf("SplitSubnets = %v", got)
	}
}

func TestTargets(t *testing.T) {
	tg := "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-web/0123456789abcdef"
	got := Targets([]string{tg}, []string{"elb-b", "elb-a"})
	if len(got) != 3 || got[0].Name != "tg-web" || got[1].ID != "elb-a" || got[2].ID != "elb-b" {
		t.Errorf("Targets = %+v", got)
	}
}

func TestHealthyErrorMessage(t *testing.T) {
	e := &HealthyError{Healthy: 2, Want: 5, After: 600e9, Launched: 5, Unhealthy: map[string][]string{
		"i-abc": {"tg-web: unhealthy (Target.Timeout)"},
	}}
	want := "2/5 clones healthy after 10m0s: i-abc unhealthy in tg-web: unhealthy (Target.Timeout)"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}

func TestAttachmentChanges(t *testing.T) {
	tests := []struct {
		name           string
		have, want     []string
		attach, detach []string
	}{
		{"none", nil, nil, nil, nil},
		{"same", []string{"a", "b"}, []string{"b", "a"}, nil, nil},
		{"attach all", nil, []string{"b", "a"}, []string{"a", "b"}, nil},
		{"detach all", []string{"b", "a"}, nil, nil, []string{"a", "b"}},
		{"both", []string{"a", "b", "c"}, []string{"d", "c", "a"}, []string{"d"}, []string{"b"}},
	}
	for _, tt := range tests {
		attach, detach := AttachmentChanges(tt.have, tt.want)
		if !slices.Equal(attach, tt.attach) || !slices.Equal(detach, tt.detach) {
			t.Errorf("%s: AttachmentChanges = %v, %v; want %v, %v", tt.name, attach, detach, tt.attach, tt.detach)
		}
	}
}
