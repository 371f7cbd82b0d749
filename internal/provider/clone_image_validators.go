package provider

import (
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// The id and name shapes clone_image checks; clone_pool and
// clone_sync_policy check instance and image ids with them too.
var (
	instanceIDRegexp = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	imageIDRegexp    = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	imageSetIDRegexp = regexp.MustCompile(`^cis-[0-9a-f]{17}$`)
	// AMI names allow letters, digits, spaces and the characters ()[]./-'@_.
	amiNamePrefixRegexp = regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./'@_-]+$`)
)

func cloneImageSourceInstanceIDValidators() []validator.String {
	return []validator.String{stringvalidator.RegexMatches(instanceIDRegexp, "must be an EC2 instance id such as i-0123456789abcdef0")}
}

func cloneImageNamePrefixValidators() []validator.String {
	return []validator.String{
		stringvalidator.LengthBetween(1, 100),
		stringvalidator.RegexMatches(amiNamePrefixRegexp, "may contain only letters, digits, spaces and ( ) [ ] . / - ' @ _ (the characters AMI names allow)"),
	}
}

func cloneImageDescriptionValidators() []validator.String {
	return []validator.String{stringvalidator.LengthAtMost(255)}
}

func cloneImageRetainPreviousValidators() []validator.Int64 {
	return []validator.Int64{int64validator.Between(0, 50)}
}

func cloneImageDataSourceSetIDValidators() []validator.String {
	return []validator.String{stringvalidator.RegexMatches(imageSetIDRegexp, "must be an image set id such as cis-0123456789abcdef0")}
}

func cloneImageDataSourceNamePrefixValidators() []validator.String {
	return []validator.String{
		stringvalidator.LengthBetween(1, 128),
		stringvalidator.RegexMatches(amiNamePrefixRegexp, "may contain only the characters AMI names allow"),
	}
}
