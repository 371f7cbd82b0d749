package provider

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
)

var reservedTagKey = regexp.MustCompile(`^(?i:aws:|clone:)`)

// AWS's tag limits, the same for every service the provider tags (EC2,
// Auto Scaling, ELBv2, CloudWatch, SSM): keys of 1-128 and values of up to
// 256 Unicode characters, 50 tags a resource
// (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions).
// maxTags leaves 10 of the 50 to the provider's own clone:* keys.
const (
	maxTagKeyLen   = 128
	maxTagValueLen = 256
	maxTags        = 40
)

// tagsLimitsDescription states tagsValidators' rules for the docs of every
// tags attribute.
var tagsLimitsDescription = fmt.Sprintf("At most %d tags after the merge: AWS allows 50 a resource "+
	"([tag restrictions](https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions)) and the "+
	"provider keeps %d for its own `clone:*` tags. Keys of 1 to %d and values of up to %d characters, letters, digits, "+
	"spaces and `_ . : / = + - @`; keys must not start with `aws:` or `clone:`.", maxTags, 50-maxTags, maxTagKeyLen, maxTagValueLen)

// tagCharsRegexp is the character set ELBv2
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Tag.html),
// SSM (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Tag.html)
// and CloudWatch accept in tag keys and values: letters, digits, spaces and
// _ . : / = + - @. Tags reach them from every resource through default_tags,
// so the provider holds every tag to it.
var tagCharsRegexp = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// tagsValidators rejects what AWS refuses in a tag map: too many tags, keys
// and values too long or with characters outside tagCharsRegexp, and keys
// AWS or the provider reserve.
func tagsValidators() []validator.Map {
	return []validator.Map{
		mapvalidator.SizeAtMost(maxTags),
		mapvalidator.KeysAre(tagKeyValidator{}),
		mapvalidator.ValueStringsAre(tagValueValidator{}),
	}
}

// tagKeyValidator and tagValueValidator check lengths in Unicode
// characters, as AWS counts them (stringvalidator counts bytes), and name
// the tag in their errors.
type tagKeyValidator struct{}

func (tagKeyValidator) Description(context.Context) string {
	return fmt.Sprintf("must be 1-%d characters of letters, digits, spaces and _ . : / = + - @, not starting with aws: or clone:", maxTagKeyLen)
}
func (v tagKeyValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (v tagKeyValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	key := req.ConfigValue.ValueString()
	if reservedTagKey.MatchString(key) {
		resp.Diagnostics.AddAttributeError(req.Path, "Reserved tag key",
			fmt.Sprintf("%s: tag key %q %s.", req.Path, key, noReservedPrefix{}.Description(ctx)))
		return
	}
	if err := checkTagString(key, 1, maxTagKeyLen); err != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid tag key",
			fmt.Sprintf("%s: tag key %q %s: AWS allows 1-%d characters of letters, digits, spaces and _ . : / = + - @.", req.Path, key, err, maxTagKeyLen))
	}
}

type tagValueValidator struct{}

func (tagValueValidator) Description(context.Context) string {
	return fmt.Sprintf("must be at most %d characters of letters, digits, spaces and _ . : / = + - @", maxTagValueLen)
}
func (v tagValueValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (v tagValueValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := checkTagString(req.ConfigValue.ValueString(), 0, maxTagValueLen); err != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid tag value",
			fmt.Sprintf("%s: tag value %q %s: AWS allows up to %d characters of letters, digits, spaces and _ . : / = + - @.", req.Path, req.ConfigValue.ValueString(), err, maxTagValueLen))
	}
}

// checkTagString says what is wrong with a tag key or value, "" when nothing.
func checkTagString(s string, minLen, maxLen int) string {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case n < minLen || n > maxLen:
		return fmt.Sprintf("has %d characters", n)
	case !tagCharsRegexp.MatchString(s):
		return "has characters AWS refuses in tags"
	}
	return ""
}

func timeoutsAttrTypes() map[string]attr.Type {
	return map[string]attr.Type{"create": types.StringType, "update": types.StringType, "delete": types.StringType}
}

// plannedTagsAll is what tags_all becomes on apply: the resource's tags
// merged over the provider's default_tags. It is unknown while the tags or
// the default_tags are not wholly known (as hashicorp/aws plans it), and an
// error on tags when the merged map has more tags than AWS allows.
func plannedTagsAll(ctx context.Context, client *conns.AWSClient, tags types.Map) (types.Map, diag.Diagnostics) {
	if !mapKnown(tags) || defaultTagsUnknown(client) {
		return types.MapUnknown(types.StringType), nil
	}
	own, diags := stringMap(ctx, tags)
	all := client.AllTags(own)
	if len(all) > maxTags {
		diags.AddAttributeError(path.Root("tags"), "Too many tags",
			fmt.Sprintf("tags merged over the provider's default_tags make %d tags; the provider allows %d, AWS's limit of 50 a resource "+
				"less 10 for the provider's own clone:* tags (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions).",
				len(all), maxTags))
	}
	return mapValue(all), diags
}

// mapKnown tells whether a map and every element of it are known.
func mapKnown(m types.Map) bool {
	if m.IsUnknown() {
		return false
	}
	for _, v := range m.Elements() {
		if v.IsUnknown() {
			return false
		}
	}
	return true
}

// defaultTagsPending holds the clients Configure built while default_tags
// was not known yet: a plan whose default_tags come from another resource.
// Terraform configures the provider again with the known values before it
// applies. conns.AWSClient has no field for it, so the provider keeps it.
var defaultTagsPending sync.Map // *conns.AWSClient -> struct{}

func defaultTagsUnknown(client *conns.AWSClient) bool {
	_, pending := defaultTagsPending.Load(client)
	return pending
}

// splitTags turns the tags read from AWS (without the provider's clone:*
// keys) into tags_all and tags. A key default_tags sets stays out of tags
// unless the configured tags (prior state) hold it, whatever its value: a
// changed default tag is a change of tags_all only, and an out-of-band
// change of it shows as drift of tags_all. tags stays null when it was null
// and nothing of its own is left. While default_tags are unknown, tags
// keeps its prior value.
func splitTags(ctx context.Context, client *conns.AWSClient, all map[string]string, configured types.Map) (tagsAll, tags types.Map) {
	if defaultTagsUnknown(client) {
		return mapValue(all), configured
	}
	inConfig, _ := stringMap(ctx, configured)
	own := map[string]string{}
	for k, v := range all {
		if _, isDefault := client.DefaultTags[k]; isDefault {
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
