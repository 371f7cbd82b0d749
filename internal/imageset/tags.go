package imageset

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloneserver/terraform-provider-clone/internal/awstags"
)

// ownTagPrefix starts the keys of the tags the provider writes itself.
const ownTagPrefix = "clone:"

// UserTags strips the provider's own clone: tags.
func UserTags(tags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tags {
		if !strings.HasPrefix(k, ownTagPrefix) {
			out[k] = v
		}
	}
	return out
}

// setTags are the tags of every image and snapshot of a set: the user's,
// then the set's own, which win.
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

// retagChanges is what turns the user tags had into want: the tags to set
// and the keys to remove, never one of the provider's own.
func retagChanges(had, want map[string]string) (map[string]string, []string) {
	set, remove := awstags.Changes(had, want)
	remove = slices.DeleteFunc(remove, func(k string) bool { return strings.HasPrefix(k, ownTagPrefix) })
	return set, remove
}

// retag changes the user tags of every image and snapshot of the set from
// had to want: one DeleteTags call for the removed keys and one CreateTags
// call for the new and changed ones, each only when needed.
func retag(ctx context.Context, api API, set Set, had, want map[string]string) error {
	add, remove := retagChanges(had, want)
	var ids []string
	for _, img := range set.Images {
		ids = append(ids, img.ID)
		ids = append(ids, img.SnapshotIDs...)
	}
	if len(ids) == 0 {
		return nil
	}
	if len(remove) > 0 {
		keys := make([]ec2types.Tag, 0, len(remove))
		for _, k := range remove {
			keys = append(keys, ec2types.Tag{Key: aws.String(k)})
		}
		if _, err := api.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids, Tags: keys}); err != nil {
			return fmt.Errorf("removing tags from set %s: %w", set.ID, err)
		}
	}
	if len(add) > 0 {
		if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: awstags.EC2(add)}); err != nil {
			return fmt.Errorf("tagging set %s: %w", set.ID, err)
		}
	}
	return nil
}
