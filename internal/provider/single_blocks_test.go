package provider

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
)

// TestAccSingleBlocks_requiredInBlock checks, through the terraform CLI, the
// attributes a single block needs when it is there (master.instance_id,
// assume_role.role_arn, assume_role_with_web_identity.role_arn): left-out
// blocks plan, and a block without its attribute is a plan-time error naming
// it. They cannot be Required in the schema: Terraform sends an absent single
// block as an object of null attributes, and the framework then reports every
// Required attribute of it missing, so no configuration without the block
// would plan (terraform-plugin-framework issue 740).
func TestAccSingleBlocks_requiredInBlock(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	pool := func(provider, master string) string {
		return provider + `
resource "clone_pool" "test" {
  name          = "` + acctest.RandomName(8) + `"
  image_id      = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  subnet_ids    = ["subnet-0123456789abcdef0"]
  min_size      = 1
  max_size      = 2
` + master + `
}
`
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// No master, rolling_update, scaling, assume_role or
				// assume_role_with_web_identity block: a plan to create.
				Config:             pool(`provider "clone" {}`, ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:      pool(`provider "clone" {}`, "  master {\n    env_file = \"/etc/clone/master.env\"\n  }"),
				PlanOnly:    true,
				ExpectError: wrapped(`Attribute "master.instance_id" must be specified when "master" is specified`),
			},
			{
				Config:      pool("provider \"clone\" {\n  assume_role {\n    session_name = \"ci\"\n  }\n}", ""),
				PlanOnly:    true,
				ExpectError: wrapped(`Attribute "assume_role.role_arn" must be specified when "assume_role" is specified`),
			},
			{
				Config:      pool("provider \"clone\" {\n  assume_role_with_web_identity {\n    web_identity_token_file = \"/var/run/token\"\n  }\n}", ""),
				PlanOnly:    true,
				ExpectError: wrapped(`Attribute "assume_role_with_web_identity.role_arn" must be specified when "assume_role_with_web_identity" is specified`),
			},
		},
	})
}

// wrapped matches text as terraform prints it, wrapped at any space.
func wrapped(text string) *regexp.Regexp {
	words := strings.Fields(text)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	return regexp.MustCompile(strings.Join(words, `\s+`))
}
