// Package awstags renders a tag map into each service's tag type, in key
// order so that requests are deterministic, and computes what a retag
// changes. It is the project's one tag renderer.
package awstags

import (
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func render[T any](tags map[string]string, tag func(k, v *string) T) []T {
	if len(tags) == 0 {
		return nil
	}
	out := make([]T, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, tag(aws.String(k), aws.String(tags[k])))
	}
	return out
}

// EC2 renders tags for EC2 (images, snapshots, launch templates); nil for none.
func EC2(tags map[string]string) []ec2types.Tag {
	return render(tags, func(k, v *string) ec2types.Tag { return ec2types.Tag{Key: k, Value: v} })
}

// ELBV2 renders tags for Elastic Load Balancing v2 (target groups, rules).
func ELBV2(tags map[string]string) []elbv2types.Tag {
	return render(tags, func(k, v *string) elbv2types.Tag { return elbv2types.Tag{Key: k, Value: v} })
}

// SSM renders tags for Systems Manager (parameters, documents).
func SSM(tags map[string]string) []ssmtypes.Tag {
	return render(tags, func(k, v *string) ssmtypes.Tag { return ssmtypes.Tag{Key: k, Value: v} })
}

// AutoScaling renders tags of the Auto Scaling group named group; propagate
// says whether the group copies them to the instances it launches.
func AutoScaling(group string, tags map[string]string, propagate bool) []astypes.Tag {
	return render(tags, func(k, v *string) astypes.Tag {
		return astypes.Tag{
			ResourceId: aws.String(group), ResourceType: aws.String("auto-scaling-group"),
			Key: k, Value: v, PropagateAtLaunch: aws.Bool(propagate),
		}
	})
}

// Changes is what turns the tags had into want: the tags to set (new keys
// and changed values) and the keys to remove, sorted.
func Changes(had, want map[string]string) (set map[string]string, remove []string) {
	set = map[string]string{}
	for k, v := range want {
		if old, ok := had[k]; !ok || old != v {
			set[k] = v
		}
	}
	for k := range had {
		if _, ok := want[k]; !ok {
			remove = append(remove, k)
		}
	}
	slices.Sort(remove)
	return set, remove
}
