package provider

import (
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
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
