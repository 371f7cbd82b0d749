package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

// TestAccClonePoolDataSource_basic reads a pool with scaling, then the same
// pool left mixed by an interrupted rollout: the data source names the
// outdated clone until the next apply finishes the rollout.
func TestAccClonePoolDataSource_basic(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-data")
	oldImage := testAccMasterImage(t, world)
	newImage := testAccImage(t, world, name)
	cfg := func(image string) string {
		c := testAccClonePoolConfig(t, name, world, 2, testAccScaling)
		c = strings.Replace(c, `image_id           = "`+oldImage+`"`, `image_id           = "`+image+`"`, 1)
		return c + `
data "clone_pool" "test" {
  name = clone_pool.test.name
}
`
	}
	names := func(items ...string) knownvalue.Check {
		checks := make([]knownvalue.Check, len(items))
		for i, s := range items {
			checks[i] = knownvalue.StringExact(s)
		}
		return knownvalue.ListExact(checks)
	}
	sameAsPool := func(attr string) statecheck.StateCheck {
		return statecheck.CompareValuePairs("clone_pool.test", tfjsonpath.New(attr), "data.clone_pool.test", tfjsonpath.New(attr), compare.ValuesSame())
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: cfg(oldImage),
				ConfigStateChecks: []statecheck.StateCheck{
					sameAsPool("instance_ids"),
					sameAsPool("launch_template_id"),
					sameAsPool("launch_template_version"),
					statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("healthy_count"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("healthy_instance_ids"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("unhealthy"), knownvalue.MapSizeExact(0)),
					statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("classic_elb_names"), names(world.ClassicELBName)),
					statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("outdated_instance_ids"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("scaling_policy_names"), names(pool.CPUPolicyName(name))),
					statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("scheduled_action_names"),
						names(pool.ScheduleName(name, "1"), pool.ScheduleName(name, "night"))),
				},
				Check:              func(*terraform.State) error { return testAccHalfRollout(t, name, newImage) },
				ExpectNonEmptyPlan: true,
			},
			{
				// data.clone_pool.mixed depends on nothing: it is read while
				// planning, before the apply finishes the rollout;
				// data.clone_pool.test waits for the pool's update.
				Config: cfg(newImage) + fmt.Sprintf("\ndata \"clone_pool\" \"mixed\" {\n  name = %q\n}\n", name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolRuns(t, name, newImage, 2),
					func(s *terraform.State) error {
						mixed := s.RootModule().Resources["data.clone_pool.mixed"].Primary.Attributes
						if mixed["outdated_instance_ids.#"] != "1" || mixed["launch_template_version"] != "2" {
							return fmt.Errorf("before the apply the data source saw %s outdated clones on version %s, want 1 on version 2",
								mixed["outdated_instance_ids.#"], mixed["launch_template_version"])
						}
						pa := s.RootModule().Resources["clone_pool.test"].Primary.Attributes
						for i := range 2 {
							if pa[fmt.Sprintf("instance_ids.%d", i)] == mixed["outdated_instance_ids.0"] {
								return fmt.Errorf("outdated clone %s still in the pool after the rollout", mixed["outdated_instance_ids.0"])
							}
						}
						return nil
					},
				),
				ConfigStateChecks: []statecheck.StateCheck{
					sameAsPool("instance_ids"),
					statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("outdated_instance_ids"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("launch_template_version"), knownvalue.Int64Exact(2)),
					sameAsPool("launch_template_version"),
				},
			},
		},
	})
}

func TestTemplateVersionNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want types.Int64
	}{
		{"7", types.Int64Value(7)},
		{"1", types.Int64Value(1)},
		{"$Latest", types.Int64Null()},
		{"$Default", types.Int64Null()},
		{"", types.Int64Null()},
	} {
		if got := templateVersionNumber(tc.in); !got.Equal(tc.want) {
			t.Errorf("templateVersionNumber(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
