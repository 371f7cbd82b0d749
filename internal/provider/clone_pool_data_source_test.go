package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
)

func TestAccClonePoolDataSource_basic(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-data")
	cfg := testAccClonePoolConfig(t, name, world, 2, "") + `
data "clone_pool" "test" {
  name = clone_pool.test.name
}
`
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.CompareValuePairs("clone_pool.test", tfjsonpath.New("instance_ids"), "data.clone_pool.test", tfjsonpath.New("instance_ids"), compare.ValuesSame()),
				statecheck.CompareValuePairs("clone_pool.test", tfjsonpath.New("launch_template_id"), "data.clone_pool.test", tfjsonpath.New("launch_template_id"), compare.ValuesSame()),
				statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("healthy_count"), knownvalue.Int64Exact(2)),
				statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("healthy_instance_ids"), knownvalue.ListSizeExact(2)),
				statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("unhealthy"), knownvalue.MapSizeExact(0)),
				statecheck.ExpectKnownValue("data.clone_pool.test", tfjsonpath.New("classic_elb_names"),
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(world.ClassicELBName)})),
			},
		}},
	})
}
