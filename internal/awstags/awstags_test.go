package awstags

import (
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestEC2KeyOrder(t *testing.T) {
	got := EC2(map[string]string{"b": "2", "a": "1", "c": "3"})
	var keys []string
	for _, tag := range got {
		keys = append(keys, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
	}
	if want := []string{"a=1", "b=2", "c=3"}; !slices.Equal(keys, want) {
		t.Fatalf("EC2 = %v, want %v", keys, want)
	}
	if EC2(nil) != nil {
		t.Fatal("no tags must render as nil, which the SDK omits")
	}
}

func TestAutoScalingPropagation(t *testing.T) {
	for _, propagate := range []bool{true, false} {
		for _, tag := range AutoScaling("web", map[string]string{"k": "v"}, propagate) {
			if aws.ToBool(tag.PropagateAtLaunch) != propagate || aws.ToString(tag.ResourceId) != "web" {
				t.Fatalf("tag %+v for propagate=%v", tag, propagate)
			}
		}
	}
}

func TestChanges(t *testing.T) {
	set, remove := Changes(
		map[string]string{"keep": "1", "change": "old", "drop": "x", "drop2": "y"},
		map[string]string{"keep": "1", "change": "new", "add": "z"},
	)
	if want := map[string]string{"change": "new", "add": "z"}; !maps.Equal(set, want) {
		t.Fatalf("set = %v, want %v", set, want)
	}
	if want := []string{"drop", "drop2"}; !slices.Equal(remove, want) {
		t.Fatalf("remove = %v, want %v", remove, want)
	}
}
