package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
)

var reservedTagKey = regexp.MustCompile(`^(?i:aws:|clone:)`)

// tagsValidators rejects tag keys AWS or the provider reserve, and sizes AWS rejects.
func tagsValidators() []validator.Map {
	return []validator.Map{
		mapvalidator.SizeAtMost(40),
		mapvalidator.KeysAre(
			stringvalidator.LengthBetween(1, 128),
			stringvalidator.RegexMatches(regexp.MustCompile(`^[^\x00-\x1f]*$`), "must not contain control characters"),
			noReservedPrefix{},
		),
		mapvalidator.ValueStringsAre(stringvalidator.LengthAtMost(256)),
	}
}

func timeoutsAttrTypes() map[string]attr.Type {
	return map[string]attr.Type{"create": types.StringType, "update": types.StringType, "delete": types.StringType}
}

// plannedTagsAll is what tags_all becomes on apply: the resource's tags
// merged over the provider's default_tags, unknown while tags are.
func plannedTagsAll(ctx context.Context, client *conns.AWSClient, tags types.Map) (types.Map, diag.Diagnostics) {
	if tags.IsUnknown() {
		return types.MapUnknown(types.StringType), nil
	}
	own, diags := stringMap(ctx, tags)
	return mapValue(client.AllTags(own)), diags
}

// splitTags turns the tags read from AWS (without the provider's clone:*
// keys) into tags_all and tags. A key that only default_tags sets, with the
// same value and not in the configured tags, stays out of tags; tags stays
// null when it was null and nothing of its own is left.
func splitTags(ctx context.Context, client *conns.AWSClient, all map[string]string, configured types.Map) (tagsAll, tags types.Map) {
	inConfig, _ := stringMap(ctx, configured)
	own := map[string]string{}
	for k, v := range all {
		if dv, isDefault := client.DefaultTags[k]; isDefault && dv == v {
			if _, ok := inConfig[k]; !ok {
				continue
			}
		}
		own[k] = v
	}
	tags = configured
	if len(own) > 0 || !configured.IsNull() {
		tags = mapValue(own)
	}
	return mapValue(all), tags
}

// withoutReservedTags drops the keys AWS and this provider reserve (aws:*,
// clone:*), leaving the tags a user can configure.
func withoutReservedTags(tags map[string]string) map[string]string {
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		if !reservedTagKey.MatchString(k) {
			out[k] = v
		}
	}
	return out
}
