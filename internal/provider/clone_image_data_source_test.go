package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
)

func TestAccCloneImageDataSource_basic(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-images")
	cfg := func(release string) string {
		return testAccCloneImageConfig(name, world.MasterInstanceID, release, 1, `app = "web"`) + fmt.Sprintf(`
data "clone_image" "by_set" {
  set_id = clone_image.test.id
}

data "clone_image" "by_prefix" {
  name_prefix = %q
  depends_on  = [clone_image.test]
}
`, name)
	}
	same := func(attr string) statecheck.StateCheck {
		return statecheck.CompareValuePairs("clone_image.test", tfjsonpath.New("image_id"), attr, tfjsonpath.New("image_id"), compare.ValuesSame())
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{
			{
				Config: cfg("v1"),
				ConfigStateChecks: []statecheck.StateCheck{
					same("data.clone_image.by_set"),
					same("data.clone_image.by_prefix"),
					statecheck.ExpectKnownValue("data.clone_image.by_set", tfjsonpath.New("source_instance_id"), knownvalue.StringExact(world.MasterInstanceID)),
					statecheck.ExpectKnownValue("data.clone_image.by_set", tfjsonpath.New("snapshot_ids"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue("data.clone_image.by_prefix", tfjsonpath.New("tags"), knownvalue.MapPartial(map[string]knownvalue.Check{
						"app": knownvalue.StringExact("web"),
					})),
				},
			},
			{
				// After a re-bake both lookups return the new image, not the old one.
				Config: cfg("v2"),
				ConfigStateChecks: []statecheck.StateCheck{
					same("data.clone_image.by_set"),
					same("data.clone_image.by_prefix"),
				},
			},
		},
	})
}

func TestAccCloneImageDataSource_noMatch(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	prefix := acctest.RandomName(8)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             acctest.CheckDestroy,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("data \"clone_image\" \"x\" {\n  name_prefix = %q\n}\n", prefix),
			// The prefix quoted once, with no glob star after it.
			ExpectError: regexp.MustCompile(`No matching Clone Image(?s:.*)Found no available image you own whose\s+name\s+starts\s+with\s+"` + regexp.QuoteMeta(prefix) + `"\.`),
		}},
	})
}

func TestAccCloneImageDataSource_invalid(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      `data "clone_image" "x" {}`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Missing Attribute Configuration.*set_id.*name_prefix`),
			},
			{
				Config:      "data \"clone_image\" \"x\" {\n  set_id = \"ami-0123\"\n}\n",
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)set_id.*must be an image set id`),
			},
		},
	})
}
