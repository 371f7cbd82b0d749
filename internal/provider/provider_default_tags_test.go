package provider

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

// The resources with tags and tags_all: an image and a sync policy with
// tags of their own, a pool without.
var testAccDefaultTagsResources = []string{"clone_image.test", "clone_sync_policy.test", "clone_pool.test"}

func testAccDefaultTagsConfig(t *testing.T, name string, world *seed.World, defaultTags string) string {
	return fmt.Sprintf(`
provider "clone" {
  default_tags {
    tags = %[1]s
  }
}

resource "clone_image" "test" {
  source_instance_id = %[3]q
  name_prefix        = %[2]q
  tags               = { env = "test" }
}

resource "clone_sync_policy" "test" {
  name               = %[2]q
  master_instance_id = %[3]q
  paths              = [{ source = "/srv/app/www", destination = "/var/www" }]
  tags               = { env = "test" }
}

resource "clone_pool" "test" {
  name          = %[2]q
  image_id      = %[4]q
  instance_type = "t3.micro"
  subnet_ids    = [%[5]q]
  min_size      = 1
  max_size      = 2
}
`, defaultTags, name, world.MasterInstanceID, testAccMasterImage(t, world), world.SubnetIDs[0])
}

// testAccDefaultTagsState expects tags_all of every resource to be the
// default tag owner over its own tags, and tags only its own.
func testAccDefaultTagsState(owner string) []statecheck.StateCheck {
	var checks []statecheck.StateCheck
	for _, addr := range testAccDefaultTagsResources {
		all := map[string]knownvalue.Check{"owner": knownvalue.StringExact(owner)}
		var own knownvalue.Check = knownvalue.Null()
		if addr != "clone_pool.test" {
			all["env"] = knownvalue.StringExact("test")
			own = knownvalue.MapExact(map[string]knownvalue.Check{"env": knownvalue.StringExact("test")})
		}
		checks = append(checks,
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("tags_all"), knownvalue.MapExact(all)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("tags"), own))
	}
	return checks
}

// TestAccProviderDefaultTags_unknown configures default_tags from another
// resource, so they are unknown while planning: tags_all is planned
// unknown (as hashicorp/aws plans it) and the apply tags with the values.
func TestAccProviderDefaultTags_unknown(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-images")
	cfg := func(owner string) string {
		return fmt.Sprintf("resource \"terraform_data\" \"owner\" {\n  input = %q\n}\n", owner) +
			testAccDefaultTagsConfig(t, name, world, "{ owner = terraform_data.owner.output }")
	}
	unknownTagsAll := func(action plancheck.ResourceActionType) []plancheck.PlanCheck {
		var checks []plancheck.PlanCheck
		for _, addr := range testAccDefaultTagsResources {
			checks = append(checks, plancheck.ExpectResourceAction(addr, action),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("tags_all")))
			if action == plancheck.ResourceActionUpdate {
				checks = append(checks, expectTagsUnchanged(addr))
			}
		}
		return checks
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(testAccCheckCloneImageDestroy(t),
			testAccCheckCloneSyncPolicyDestroy(t), testAccCheckClonePoolDestroy(t, world)),
		Steps: []resource.TestStep{
			{
				Config:            cfg("platform"),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: unknownTagsAll(plancheck.ResourceActionCreate)},
				ConfigStateChecks: testAccDefaultTagsState("platform"),
			},
			{
				Config:            cfg("infra"),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: unknownTagsAll(plancheck.ResourceActionUpdate)},
				ConfigStateChecks: testAccDefaultTagsState("infra"),
			},
		},
	})
}

// TestAccProviderDefaultTags_change changes a default tag: the plan changes
// tags_all only, never tags, on every resource.
func TestAccProviderDefaultTags_change(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-images")
	var onlyTagsAll []plancheck.PlanCheck
	for _, addr := range testAccDefaultTagsResources {
		onlyTagsAll = append(onlyTagsAll, plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
			plancheck.ExpectKnownValue(addr, tfjsonpath.New("tags_all").AtMapKey("owner"), knownvalue.StringExact("infra")),
			expectTagsUnchanged(addr))
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(testAccCheckCloneImageDestroy(t),
			testAccCheckCloneSyncPolicyDestroy(t), testAccCheckClonePoolDestroy(t, world)),
		Steps: []resource.TestStep{
			{
				Config:            testAccDefaultTagsConfig(t, name, world, `{ owner = "platform" }`),
				ConfigStateChecks: testAccDefaultTagsState("platform"),
			},
			{
				Config:            testAccDefaultTagsConfig(t, name, world, `{ owner = "infra" }`),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: onlyTagsAll},
				ConfigStateChecks: testAccDefaultTagsState("infra"),
			},
		},
	})
}

// expectTagsUnchanged fails when the plan changes the resource's tags.
func expectTagsUnchanged(addr string) plancheck.PlanCheck { return tagsUnchanged{addr} }

type tagsUnchanged struct{ addr string }

func (c tagsUnchanged) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.addr {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		if !reflect.DeepEqual(before["tags"], after["tags"]) {
			resp.Error = fmt.Errorf("%s: the plan changes tags from %v to %v", c.addr, before["tags"], after["tags"])
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", c.addr)
}

func TestSplitTags(t *testing.T) {
	ctx := context.Background()
	client := &conns.AWSClient{DefaultTags: map[string]string{"owner": "infra"}}
	cases := []struct {
		name       string
		all        map[string]string
		configured types.Map
		want       types.Map
	}{
		{"default tag as configured", map[string]string{"owner": "infra"}, types.MapNull(types.StringType), types.MapNull(types.StringType)},
		{"default tag before its change", map[string]string{"owner": "platform"}, types.MapNull(types.StringType), types.MapNull(types.StringType)},
		{"own tag beside it", map[string]string{"owner": "platform", "env": "test"}, mapValue(map[string]string{"env": "test"}), mapValue(map[string]string{"env": "test"})},
		{"own tag over a default", map[string]string{"owner": "me"}, mapValue(map[string]string{"owner": "me"}), mapValue(map[string]string{"owner": "me"})},
		{"tag added out of band", map[string]string{"extra": "x"}, types.MapNull(types.StringType), mapValue(map[string]string{"extra": "x"})},
	}
	for _, tc := range cases {
		all, tags := splitTags(ctx, client, tc.all, tc.configured)
		if !tags.Equal(tc.want) || !all.Equal(mapValue(tc.all)) {
			t.Errorf("%s: tags %s, tags_all %s; want tags %s", tc.name, tags, all, tc.want)
		}
	}

	pending := &conns.AWSClient{}
	defaultTagsPending.Store(pending, struct{}{})
	defer defaultTagsPending.Delete(pending)
	prior := mapValue(map[string]string{"env": "test"})
	if _, tags := splitTags(ctx, pending, map[string]string{"env": "test", "owner": "x"}, prior); !tags.Equal(prior) {
		t.Errorf("with default_tags unknown, tags = %s, want the prior %s", tags, prior)
	}
}

func TestPlannedTagsAll(t *testing.T) {
	ctx := context.Background()
	client := &conns.AWSClient{DefaultTags: map[string]string{"owner": "infra"}}
	pending := &conns.AWSClient{}
	defaultTagsPending.Store(pending, struct{}{})
	defer defaultTagsPending.Delete(pending)
	unknownValue := types.MapValueMust(types.StringType, map[string]attr.Value{"k": types.StringUnknown()})
	many := map[string]string{}
	for i := range maxTags {
		many[fmt.Sprintf("t%d", i)] = "v"
	}
	cases := []struct {
		name    string
		client  *conns.AWSClient
		tags    types.Map
		unknown bool
		errs    int
	}{
		{"known", client, mapValue(map[string]string{"env": "test"}), false, 0},
		{"tags unknown", client, types.MapUnknown(types.StringType), true, 0},
		{"a tag value unknown", client, unknownValue, true, 0},
		{"default_tags unknown", pending, mapValue(map[string]string{"env": "test"}), true, 0},
		{"40 own and a default", client, mapValue(many), false, 1},
	}
	for _, tc := range cases {
		got, diags := plannedTagsAll(ctx, tc.client, tc.tags)
		if got.IsUnknown() != tc.unknown || len(diags.Errors()) != tc.errs {
			t.Errorf("%s: tags_all %s, %d errors %v; want unknown %v, %d errors", tc.name, got, len(diags.Errors()), diags, tc.unknown, tc.errs)
		}
	}
}
