package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/emulator"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

// TestAccClonePool_stuckFirstSync: clones whose first sync never finishes
// stay in Pending:Wait, held by the first-sync hook. The create's wait for
// healthy clones runs out, and its error says, for each such clone, that
// its first sync never finished, what the clone reported (the agent's
// clone:first-sync tag; the emulator runs no user data, so the test tags
// the clones as the agent would), and the likely causes.
func TestAccClonePool_stuckFirstSync(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-stuck")
	const reason = "rsync of clone@10.0.1.10:/srv/app/www/ into /var/www exited with 255"
	policy := fmt.Sprintf(`
resource "clone_sync_policy" "test" {
  name               = %q
  master_instance_id = %q
  paths              = [{ source = "/srv/app/www", destination = "/var/www" }]
}
`, name+"-sync", world.MasterInstanceID)
	cfg := strings.Replace(testAccClonePoolConfig(t, name, world, 1, "  sync_policy_id = clone_sync_policy.test.id"),
		`create = "5m"`, `create = "75s"`, 1) + policy

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					acctest.StandIn(t, emulator.StandIn{Group: name, Result: "NEVER"})
					go tagFirstSyncFailures(t, name, reason, 2*time.Minute)
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)i-[0-9a-f]+\s+unhealthy.*lifecycle\s+Pending:Wait:\s+its\s+first\s+sync\s+never\s+finished;\s+it\s+reports:\s+rsync\s+of\s+clone@10\.0\.1\.10.*exited\s+with\s+255.*Likely\s+causes:.*autoscaling:CompleteLifecycleAction`),
			},
		},
	})
}

// tagFirstSyncFailures tags every member of group clone:first-sync=reason,
// as the sync agent does on a clone whose first sync failed, until within
// is over.
func tagFirstSyncFailures(t *testing.T, group, reason string, within time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	c := acctest.Client(t)
	tagged := map[string]bool{}
	for ctx.Err() == nil {
		if g, err := pool.FindGroup(ctx, c.AutoScaling, group); err == nil {
			for _, i := range g.Instances {
				if tagged[i.ID] {
					continue
				}
				if _, err := c.EC2.CreateTags(ctx, &ec2.CreateTagsInput{
					Resources: []string{i.ID},
					Tags:      []ec2types.Tag{{Key: aws.String(pool.TagFirstSync), Value: aws.String(reason)}},
				}); err == nil {
					tagged[i.ID] = true
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
