package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

var (
	amiIDPattern  = regexp.MustCompile(`^ami-[0-9a-f]+$`)
	snapIDPattern = regexp.MustCompile(`^snap-[0-9a-f]+$`)
)

func TestAccCloneImage_basic(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-images")
	var set imageset.Set

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{
			{
				Config: testAccCloneImageConfig(name, world.MasterInstanceID, "v1", 2, `env = "test"`),
				Check:  testAccCheckCloneImageExists(t, "clone_image.test", &set, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("image_id"), knownvalue.StringRegexp(amiIDPattern)),
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("id"), knownvalue.StringRegexp(imageSetIDRegexp)),
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("source_instance_id"), knownvalue.StringExact(world.MasterInstanceID)),
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("no_reboot"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("retain_previous"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("previous_image_ids"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("snapshot_ids"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringRegexp(snapIDPattern)})),
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("tags_all"),
						knownvalue.MapExact(map[string]knownvalue.Check{"env": knownvalue.StringExact("test")})),
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("created_at"), knownvalue.NotNull()),
				},
			},
			{
				// Re-applying the same configuration changes nothing.
				Config: testAccCloneImageConfig(name, world.MasterInstanceID, "v1", 2, `env = "test"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

func TestAccCloneImage_tags(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-images")
	var before, after imageset.Set
	cfg := func(tags string) string {
		return fmt.Sprintf(`
provider "clone" {
  default_tags {
    tags = { owner = "platform", env = "default" }
  }
}
resource "clone_image" "test" {
  source_instance_id = %q
  name_prefix        = %q
  tags               = { %s }
}
`, world.MasterInstanceID, name, tags)
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{
			{
				Config: cfg(`env = "test", team = "web"`),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneImageExists(t, "clone_image.test", &before, 1),
					testAccCheckCloneImageTags(&before, map[string]string{"owner": "platform", "env": "test", "team": "web"}),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("tags_all"), knownvalue.MapExact(map[string]knownvalue.Check{
						"owner": knownvalue.StringExact("platform"), "env": knownvalue.StringExact("test"), "team": knownvalue.StringExact("web"),
					})),
				},
			},
			{
				Config: cfg(`team = "api"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("clone_image.test", plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("image_id"), knownvalue.StringRegexp(amiIDPattern)),
					},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneImageExists(t, "clone_image.test", &after, 1),
					testAccCheckCloneImageTags(&after, map[string]string{"owner": "platform", "env": "default", "team": "api"}),
					func(*terraform.State) error {
						if before.Images[0].ID != after.Images[0].ID {
							return fmt.Errorf("tag change re-baked: image %s became %s", before.Images[0].ID, after.Images[0].ID)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccCloneImage_rebakeHistory(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-images")
	var first, second, third imageset.Set

	step := func(trigger string, set *imageset.Set, images int) resource.TestStep {
		return resource.TestStep{
			Config: testAccCloneImageConfig(name, world.MasterInstanceID, trigger, 1, ""),
			Check:  testAccCheckCloneImageExists(t, "clone_image.test", set, images),
		}
	}
	s2 := step("v2", &second, 2)
	s2.ConfigPlanChecks = resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction("clone_image.test", plancheck.ResourceActionUpdate),
		plancheck.ExpectUnknownValue("clone_image.test", tfjsonpath.New("image_id")),
	}}
	s2.Check = resource.ComposeAggregateTestCheckFunc(s2.Check, func(s *terraform.State) error {
		return expectHistory(s, first.Images[0].ID)
	})
	s3 := step("v3", &third, 2)
	s3.Check = resource.ComposeAggregateTestCheckFunc(s3.Check,
		testAccCheckCloneImageSnapshots(t, &third, 2),
		func(s *terraform.State) error {
			if err := expectHistory(s, second.Images[0].ID); err != nil {
				return err
			}
			if _, err := imageset.FindImage(context.Background(), acctest.Client(t).EC2, first.Images[0].ID); !notfound.Is(err) {
				return fmt.Errorf("first image %s should have been pruned, got %v", first.Images[0].ID, err)
			}
			return nil
		})

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{
			step("v1", &first, 1),
			s2,
			s3,
			{
				// Rollback target wiring: previous_image_ids[0] is the image before.
				Config: testAccCloneImageConfig(name, world.MasterInstanceID, "v3", 1, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("previous_image_ids"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue("clone_image.test", tfjsonpath.New("snapshot_ids"), knownvalue.ListSizeExact(2)),
				},
			},
		},
	})
}

func TestAccCloneImage_disappears(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-images")
	var set, healed imageset.Set
	cfg := testAccCloneImageConfig(name, world.MasterInstanceID, "v1", 2, "")

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneImageExists(t, "clone_image.test", &set, 1),
					func(*terraform.State) error {
						_, err := acctest.Client(t).EC2.DeregisterImage(context.Background(), &ec2.DeregisterImageInput{ImageId: aws.String(set.Images[0].ID)})
						return err
					},
				),
				ExpectNonEmptyPlan: true,
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_image.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue("clone_image.test", tfjsonpath.New("image_id")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneImageExists(t, "clone_image.test", &healed, 1),
					// The deregistered image's leftover snapshot is cleaned up too.
					testAccCheckCloneImageSnapshots(t, &healed, 1),
				),
			},
		},
	})
}

func TestAccCloneImage_import(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-images")
	cfg := fmt.Sprintf(`
resource "clone_image" "test" {
  source_instance_id = %q
  name_prefix        = %q
  description        = "imported"
  tags               = { app = "web" }
}
`, world.MasterInstanceID, name)

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				ResourceName:      "clone_image.test",
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				ResourceName:      "clone_image.test",
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					return s.RootModule().Resources["clone_image.test"].Primary.Attributes["image_id"], nil
				},
			},
		},
	})
}

func TestAccCloneImage_invalid(t *testing.T) {
	base := func(attrs string) string {
		return fmt.Sprintf("resource \"clone_image\" \"test\" {\n%s\n}\n", attrs)
	}
	cases := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{"malformed instance id", base(`source_instance_id = "web-1"
name_prefix = "web"`), regexp.MustCompile(`(?s)source_instance_id.*must be an EC2 instance id`)},
		{"negative retain_previous", base(`source_instance_id = "i-0123456789abcdef0"
name_prefix = "web"
retain_previous = -1`), regexp.MustCompile(`(?s)retain_previous.*between 0 and 50`)},
		{"empty name_prefix", base(`source_instance_id = "i-0123456789abcdef0"
name_prefix = ""`), regexp.MustCompile(`(?s)name_prefix.*length must be between 1 and 100`)},
		{"name_prefix with characters AMI names reject", base(`source_instance_id = "i-0123456789abcdef0"
name_prefix = "web#1!"`), regexp.MustCompile(`(?s)name_prefix.*characters AMI names allow`)},
		{"reserved tag key", base(`source_instance_id = "i-0123456789abcdef0"
name_prefix = "web"
tags = { "clone:image-set" = "x" }`), regexp.MustCompile(`(?s)Reserved tag key`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      tc.config,
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
}

func testAccCloneImageConfig(namePrefix, instanceID, trigger string, retain int, tags string) string {
	return fmt.Sprintf(`
resource "clone_image" "test" {
  source_instance_id = %q
  name_prefix        = %q
  triggers           = { release = %q }
  retain_previous    = %d
  tags               = { %s }
}
`, instanceID, namePrefix, trigger, retain, tags)
}

func testAccCheckCloneImageExists(t *testing.T, name string, set *imageset.Set, images int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[name]
		if !ok {
			return fmt.Errorf("%s not in state", name)
		}
		found, err := imageset.FindSet(context.Background(), acctest.Client(t).EC2, rs.Primary.ID)
		if err != nil {
			return err
		}
		if len(found.Images) != images {
			return fmt.Errorf("image set %s: want %d images in the cloud, found %d", rs.Primary.ID, images, len(found.Images))
		}
		if current := rs.Primary.Attributes["image_id"]; found.Images[0].ID != current {
			return fmt.Errorf("image set %s: newest image is %s, state says %s", rs.Primary.ID, found.Images[0].ID, current)
		}
		*set = found
		return nil
	}
}

// testAccCheckCloneImageSnapshots proves exactly want snapshots carry the
// set's tag and each backs a live image of the set.
func testAccCheckCloneImageSnapshots(t *testing.T, set *imageset.Set, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		snaps, err := setSnapshots(t, set.ID)
		if err != nil {
			return err
		}
		if len(snaps) != want {
			return fmt.Errorf("image set %s: want %d snapshots, found %d: %v", set.ID, want, len(snaps), snaps)
		}
		live, err := imageset.FindSet(context.Background(), acctest.Client(t).EC2, set.ID)
		if err != nil {
			return err
		}
		for _, id := range live.SnapshotIDs() {
			if _, ok := snaps[id]; !ok {
				return fmt.Errorf("image set %s: snapshot %s of a live image is missing or untagged", set.ID, id)
			}
		}
		return nil
	}
}

func testAccCheckCloneImageTags(set *imageset.Set, want map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got := imageset.UserTags(set.Images[0].Tags)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("image %s tags = %v, want %v", set.Images[0].ID, got, want)
		}
		return nil
	}
}

func expectHistory(s *terraform.State, previous string) error {
	got := s.RootModule().Resources["clone_image.test"].Primary.Attributes["previous_image_ids.0"]
	if got != previous {
		return fmt.Errorf("previous_image_ids[0] = %q, want %q", got, previous)
	}
	return nil
}

func setSnapshots(t *testing.T, setID string) (map[string]bool, error) {
	out, err := acctest.Client(t).EC2.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters:  []ec2types.Filter{{Name: aws.String("tag:" + imageset.TagSet), Values: []string{setID}}},
	})
	if err != nil {
		return nil, err
	}
	snaps := map[string]bool{}
	for _, s := range out.Snapshots {
		snaps[aws.ToString(s.SnapshotId)] = true
	}
	return snaps, nil
}

// testAccCheckCloneImageDestroy proves zero images and zero snapshots of
// every destroyed set remain.
func testAccCheckCloneImageDestroy(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for _, rs := range s.RootModule().Resources {
			if rs.Type != "clone_image" {
				continue
			}
			set, err := imageset.FindSet(context.Background(), acctest.Client(t).EC2, rs.Primary.ID)
			if err != nil {
				return err
			}
			if len(set.Images) != 0 {
				return fmt.Errorf("image set %s still has %d images after destroy", rs.Primary.ID, len(set.Images))
			}
			snaps, err := setSnapshots(t, rs.Primary.ID)
			if err != nil {
				return err
			}
			if len(snaps) != 0 {
				return fmt.Errorf("image set %s still has snapshots after destroy: %v", rs.Primary.ID, snaps)
			}
		}
		return acctest.CheckDestroy(s)
	}
}

// TestAccCloneImage_readCalls proves Read costs one DescribeImages call for
// the whole set, however long its history.
func TestAccCloneImage_readCalls(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	world := acctest.World(t, "tf-acc-test-images")
	proxy := acctest.NewProxy(t)
	name := acctest.RandomName(8)
	cfg := func(release string) string {
		return fmt.Sprintf("provider \"clone\" {\n  endpoints {\n    ec2 = %q\n  }\n}\n", proxy.URL) +
			testAccCloneImageConfig(name, world.MasterInstanceID, release, 2, "")
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{
			{Config: cfg("v1")},
			{Config: cfg("v2")},
			{Config: cfg("v3")},
			{
				PreConfig:    proxy.Reset,
				RefreshState: true,
				Check: func(*terraform.State) error {
					var ec2Calls []string
					for _, c := range proxy.Calls() {
						if c.Service == "ec2" {
							ec2Calls = append(ec2Calls, c.Action)
						}
					}
					if len(ec2Calls) != 1 || ec2Calls[0] != "DescribeImages" {
						return fmt.Errorf("refresh of a 3-image set made EC2 calls %v, want exactly [DescribeImages]", ec2Calls)
					}
					return nil
				},
			},
		},
	})
}

// TestAccCloneImage_failureHalfWay fails the bake after the image exists
// (its snapshots cannot be tagged): the apply fails, no image or snapshot is
// left behind, and the next apply converges.
func TestAccCloneImage_failureHalfWay(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	world := acctest.World(t, "tf-acc-test-images")
	proxy := acctest.NewProxy(t)
	name := acctest.RandomName(8)
	cfg := fmt.Sprintf("provider \"clone\" {\n  endpoints {\n    ec2 = %q\n  }\n}\n", proxy.URL) +
		testAccCloneImageConfig(name, world.MasterInstanceID, "v1", 2, "")
	failSnapshotTags := func(c acctest.Call) *acctest.Fault {
		if c.Action == "CreateTags" && strings.HasPrefix(c.Form.Get("ResourceId.1"), "snap-") {
			return &acctest.Fault{Status: 403, Code: "UnauthorizedOperation", Message: "injected by the test"}
		}
		return nil
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{
			{
				PreConfig:   func() { proxy.SetRule(failSnapshotTags) },
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)tagging snapshots of image ami-.*UnauthorizedOperation`),
			},
			{
				PreConfig: func() {
					proxy.SetRule(nil)
					if n := imagesNamed(t, name); n != 0 {
						t.Fatalf("a failed bake left %d images named %s*", n, name)
					}
				},
				Config: cfg,
				Check: func(s *terraform.State) error {
					if n := imagesNamed(t, name); n != 1 {
						return fmt.Errorf("after the converging apply, %d images named %s*, want 1", n, name)
					}
					return nil
				},
			},
		},
	})
}

// TestAccCloneImage_throttled answers the first calls of every kind with
// throttling errors and 5xx: the SDK retries and the apply succeeds.
func TestAccCloneImage_throttled(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	world := acctest.World(t, "tf-acc-test-images")
	proxy := acctest.NewProxy(t)
	var mu sync.Mutex
	seen := map[string]int{}
	proxy.SetRule(func(c acctest.Call) *acctest.Fault {
		mu.Lock()
		defer mu.Unlock()
		seen[c.Action]++
		switch seen[c.Action] {
		case 1:
			return &acctest.Fault{Status: 400, Code: "RequestLimitExceeded", Message: "injected throttling"}
		case 2:
			return &acctest.Fault{Status: 503, Code: "ServiceUnavailable", Message: "injected outage"}
		}
		return nil
	})
	cfg := fmt.Sprintf("provider \"clone\" {\n  endpoints {\n    ec2 = %q\n  }\n}\n", proxy.URL) +
		testAccCloneImageConfig(acctest.RandomName(8), world.MasterInstanceID, "v1", 2, "")
	var set imageset.Set

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				testAccCheckCloneImageExists(t, "clone_image.test", &set, 1),
				func(*terraform.State) error {
					mu.Lock()
					defer mu.Unlock()
					for _, action := range []string{"CreateImage", "DescribeImages", "CreateTags"} {
						if seen[action] < 3 {
							return fmt.Errorf("%s was answered %d times, want the 2 injected faults and a retry", action, seen[action])
						}
					}
					return nil
				},
			),
		}},
	})
}

func imagesNamed(t *testing.T, prefix string) int {
	out, err := acctest.Client(t).EC2.DescribeImages(context.Background(), &ec2.DescribeImagesInput{
		Owners:  []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{prefix + "*"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Images)
}

// imageName names an image as clone_image does (bench_test.go bakes with it).
func imageName(prefix string, now time.Time) string {
	return imageset.NewName(prefix, now)
}

// TestImageNameSortsInBakingOrder proves the names clone_image gives are
// valid AMI names that sort in baking order.
func TestImageNameSortsInBakingOrder(t *testing.T) {
	base := time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)
	var names []string
	for _, offset := range []time.Duration{0, time.Millisecond, 999 * time.Millisecond, time.Second, time.Minute} {
		name := imageName("web", base.Add(offset))
		if !amiNamePrefixRegexp.MatchString(name) || len(name) > 128 {
			t.Fatalf("image name %q is not a valid AMI name", name)
		}
		names = append(names, name)
	}
	if !slices.IsSorted(names) {
		t.Errorf("names do not sort in baking order: %v", names)
	}
}
