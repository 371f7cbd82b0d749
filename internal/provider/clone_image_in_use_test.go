package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

// TestAccCloneImage_inUseKept: with retain_previous = 1, an image a pool
// still launches (its group's launch template version, its running clone)
// survives two re-bakes, stays in previous_image_ids with no perpetual
// diff, and is pruned by the first re-bake after the pool is gone.
func TestAccCloneImage_inUseKept(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-images-in-use")
	var first string
	withPool := func(release string) string {
		return testAccCloneImageConfig(name, world.MasterInstanceID, release, 1, "") + testAccPinnedPoolConfig(name, world)
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{
			{
				Config: withPool("v1"),
				Check: func(s *terraform.State) error {
					first = s.RootModule().Resources["clone_image.test"].Primary.Attributes["image_id"]
					return nil
				},
			},
			{Config: withPool("v2")},
			{
				Config: withPool("v3"),
				Check: func(s *terraform.State) error {
					if err := testAccCheckImageAlive(t, first); err != nil {
						return err
					}
					attrs := s.RootModule().Resources["clone_image.test"].Primary.Attributes
					if attrs["previous_image_ids.#"] != "2" || attrs["previous_image_ids.1"] != first {
						return fmt.Errorf("previous_image_ids = %s entries, [1] = %s; want the pinned image %s kept beyond retain_previous", attrs["previous_image_ids.#"], attrs["previous_image_ids.1"], first)
					}
					return nil
				},
			},
			{
				// The pool goes; nothing of the image changes until the
				// next re-bake.
				Config: testAccCloneImageConfig(name, world.MasterInstanceID, "v3", 1, ""),
				Check:  func(*terraform.State) error { return testAccCheckImageAlive(t, first) },
			},
			{
				Config: testAccCloneImageConfig(name, world.MasterInstanceID, "v4", 1, ""),
				Check: func(*terraform.State) error {
					if _, err := imageset.FindImage(context.Background(), acctest.Client(t).EC2, first); !notfound.Is(err) {
						return fmt.Errorf("image %s, no longer used, should have been pruned (%v)", first, err)
					}
					return nil
				},
			},
		},
	})
}

func testAccCheckImageAlive(t *testing.T, id string) error {
	img, err := imageset.FindImage(context.Background(), acctest.Client(t).EC2, id)
	if err != nil {
		return fmt.Errorf("image %s, which a pool still uses, was pruned: %v", id, err)
	}
	snaps, err := setSnapshots(t, img.SetID())
	if err != nil {
		return err
	}
	for _, s := range img.SnapshotIDs {
		if !snaps[s] {
			return fmt.Errorf("snapshot %s of image %s, which a pool still uses, was deleted", s, id)
		}
	}
	return nil
}

// testAccPinnedPoolConfig is a pool that keeps launching the image it was
// created with: a second team's pool pinned to an older release.
func testAccPinnedPoolConfig(name string, world *seed.World) string {
	return fmt.Sprintf(`
resource "clone_pool" "pinned" {
  name             = "%s-pinned"
  image_id         = clone_image.test.image_id
  instance_type    = "t3.micro"
  subnet_ids       = [%q]
  min_size         = 1
  max_size         = 1
  desired_capacity = 1
  lifecycle {
    ignore_changes = [image_id]
  }
}
`, name, world.SubnetIDs[0])
}
