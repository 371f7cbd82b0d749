package provider

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/rollout"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

// TestAccClonePool_rollout re-bakes the image of a pool whose clones boot
// with user data (the master's env file and disabled services, the user's
// part and a sync agent) and proves the pool rolls onto it batch by batch: a
// sampler polling the API during the apply never sees fewer healthy clones
// than the floor, and afterwards every clone in service runs the new image
// from a launch template version whose user data still has every part.
func TestAccClonePool_rollout(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-roll")
	const desired = 3
	cfg := func(bake string) string {
		return testAccClonePoolImageConfig(t, name, world, desired, bake, testAccUserDataExtra(world)+`
  rolling_update {
    batch_size = 1
  }
`) + testAccSyncPolicyConfig(name, world, "5m")
	}
	s := &healthSampler{t: t, name: name, world: world}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: cfg("1"),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired),
					testAccCheckClonePoolImage(t, name, "clone_image.test"),
					testAccCheckClonesUserData(t, name, world, 5*time.Minute),
				),
			},
			{
				PreConfig: s.start,
				Config:    cfg("2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_image.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					s.stopAndCheck(desired, desired),
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired),
					testAccCheckClonePoolImage(t, name, "clone_image.test"),
					testAccCheckClonePoolOnVersion(t, name),
					testAccCheckClonesUserData(t, name, world, 5*time.Minute),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("launch_template_version"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("outdated_instance_ids"), knownvalue.ListSizeExact(0)),
				},
			},
			{
				Config: cfg("2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// testAccUserData is the user's own part of the user data tests roll.
const testAccUserData = "#!/bin/sh\necho clone-user-part > /etc/clone-user-part\n"

// testAccUserDataExtra gives a pool every kind of user data part but the
// sync agent's: the master's env file and disabled services, and the user's.
func testAccUserDataExtra(world *seed.World) string {
	return testAccUserDataAll(world, testAccUserData)
}

func testAccSyncPolicyConfig(name string, world *seed.World, interval string) string {
	return fmt.Sprintf(`
resource "clone_sync_policy" "test" {
  name               = %q
  master_instance_id = %q
  interval           = %q
  paths              = [{ source = "/srv/app/www", destination = "/var/www" }]
}
`, name+"-sync", world.MasterInstanceID, interval)
}

// testAccCheckClonesUserData proves through DescribeInstances and
// DescribeLaunchTemplateVersions that every clone in service was launched
// from the pool's image and launch template version in state, and that the
// user data of that version, decoded, holds the master's env file and
// disabled services, the user's part and a sync agent syncing every interval.
func testAccCheckClonesUserData(t *testing.T, name string, world *seed.World, interval time.Duration) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := s.RootModule().Resources["clone_pool.test"].Primary.Attributes
		ctx := context.Background()
		c := acctest.Client(t)
		g, err := pool.FindGroup(ctx, c.AutoScaling, name)
		if err != nil {
			return err
		}
		var ids []string
		for _, i := range g.Instances {
			if i.LifecycleState == rollout.LifecycleInService {
				ids = append(ids, i.ID)
			}
		}
		if len(ids) == 0 {
			return fmt.Errorf("pool %s has no clone in service", name)
		}
		members, err := pool.DescribeMembers(ctx, c.EC2, attrs["launch_template_id"], ids)
		if err != nil {
			return err
		}
		versions := map[string]bool{}
		for _, id := range ids {
			m := members[id]
			if m.ImageID != attrs["image_id"] {
				return fmt.Errorf("clone %s runs %s, want %s", id, m.ImageID, attrs["image_id"])
			}
			if m.TemplateVersion != attrs["launch_template_version"] {
				return fmt.Errorf("clone %s was launched from version %q, want %s", id, m.TemplateVersion, attrs["launch_template_version"])
			}
			versions[m.TemplateVersion] = true
		}
		for v := range versions {
			out, err := c.EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
				LaunchTemplateId: aws.String(attrs["launch_template_id"]), Versions: []string{v},
			})
			if err != nil {
				return err
			}
			if len(out.LaunchTemplateVersions) != 1 {
				return fmt.Errorf("launch template %s version %s: %d versions found", attrs["launch_template_id"], v, len(out.LaunchTemplateVersions))
			}
			raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.LaunchTemplateVersions[0].LaunchTemplateData.UserData))
			if err != nil {
				return fmt.Errorf("launch template version %s: decoding user data: %w", v, err)
			}
			if err := testAccUserDataHasEveryPart(testAccGunzip(string(raw)), world, interval); err != nil {
				return fmt.Errorf("launch template version %s: %w", v, err)
			}
		}
		return nil
	}
}

func testAccUserDataHasEveryPart(doc string, world *seed.World, interval time.Duration) error {
	parts, err := userdata.Parse(doc)
	if err != nil {
		return err
	}
	switch {
	case parts.EnvFile != "/etc/clone/master.env" || !strings.Contains(doc, "MASTER_ADDRESS="+world.MasterPrivateIP):
		return fmt.Errorf("the master env part is missing or wrong (env file %q):\n%s", parts.EnvFile, doc)
	case !slices.Equal(parts.DisableServices, []string{"mysql", "postgresql"}):
		return fmt.Errorf("disabled services %v, want [mysql postgresql]", parts.DisableServices)
	case parts.User != testAccUserData:
		return fmt.Errorf("user part %q, want %q", parts.User, testAccUserData)
	case parts.SyncAgent == "":
		return fmt.Errorf("no sync agent part:\n%s", doc)
	}
	m := syncTimerRE.FindStringSubmatch(parts.SyncAgent)
	if m == nil {
		return fmt.Errorf("sync agent part writes no timer unit:\n%s", parts.SyncAgent)
	}
	if want := fmt.Sprintf("OnUnitActiveSec=%ds", int64(interval.Seconds())); !strings.Contains(m[1], want) {
		return fmt.Errorf("sync agent's timer unit lacks %q:\n%s", want, m[1])
	}
	return nil
}

// syncTimerRE finds the content of the timer unit in the sync agent's
// cloud-config write_files, a literal block.
var syncTimerRE = regexp.MustCompile(`(?m)^  - path: \S+\.timer\n(?:    .*\n)*?    content: \|\n((?:      .*\n|\n)+)`)

// TestAccClonePool_rollback makes the new clones unhealthy in the target
// group through the fault proxy. With rollback on, the pool ends on the old
// image, the apply names the failed clones and state keeps the old version;
// with rollback off, the pool is left mixed, state says so and the next
// apply finishes the rollout.
func TestAccClonePool_rollback(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-rollback")
	proxy := acctest.NewProxy(t)
	oldImage := testAccMasterImage(t, world)
	newImage := testAccImage(t, world, name)
	const desired = 2
	cfg := func(image string, rollback bool) string {
		c := testAccClonePoolConfig(t, name, world, desired, fmt.Sprintf(`
  user_data = %q
  rolling_update {
    batch_size          = 1
    health_timeout      = "10s"
    rollback_on_failure = %t
  }
`, testAccUserData, rollback))
		c = strings.Replace(c, `image_id           = "`+oldImage+`"`, `image_id           = "`+image+`"`, 1)
		return strings.Replace(c, "provider \"clone\" {\n", fmt.Sprintf("provider \"clone\" {\n  endpoints {\n    elbv2 = %q\n  }\n", proxy.URL), 1)
	}
	failNew := func() { testAccFailNewClones(t, proxy, world, name) }
	heal := func() { proxy.SetRule(nil) }

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: cfg(oldImage, true),
				Check:  testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired),
			},
			{
				PreConfig:   failNew,
				Config:      cfg(newImage, true),
				ExpectError: regexp.MustCompile(`(?s)not\s+healthy.*i-[0-9a-f]+\s+\(.*unhealthy.*rolled\s+back.*Failed\s+clones:\s+i-[0-9a-f]+.*State\s+keeps\s+launch\s+template\s+version\s+1`),
			},
			{
				// State kept the old version: the old configuration has
				// nothing to do and every clone runs the old image.
				PreConfig: heal,
				Config:    cfg(oldImage, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired),
					testAccCheckClonePoolRuns(t, name, oldImage, desired),
				),
			},
			{
				PreConfig:   failNew,
				Config:      cfg(newImage, false),
				ExpectError: regexp.MustCompile(`(?s)left\s+mixed.*Failed\s+clones:\s+i-[0-9a-f]+.*next\s+apply\s+continues`),
			},
			{
				// The mixed pool is a diff: outdated clones planned away.
				PreConfig: func() {
					heal()
					testAccCheckMixed(t, name, oldImage, newImage)
				},
				Config: cfg(newImage, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("outdated_instance_ids"), knownvalue.ListSizeExact(0)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired),
					testAccCheckClonePoolRuns(t, name, newImage, desired),
				),
			},
			{
				Config: cfg(newImage, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccClonePool_interrupted leaves a pool the way a killed apply does:
// the group already launches a new launch template version and runs one
// clone of it next to old ones. The next plan is an update although the
// configuration matches the group, and the apply finishes the rollout.
func TestAccClonePool_interrupted(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-interrupt")
	oldImage := testAccMasterImage(t, world)
	newImage := testAccImage(t, world, name)
	const desired = 3
	cfg := func(image string) string {
		c := testAccClonePoolConfig(t, name, world, desired, fmt.Sprintf("  user_data = %q\n", testAccUserData))
		return strings.Replace(c, `image_id           = "`+oldImage+`"`, `image_id           = "`+image+`"`, 1)
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: cfg(oldImage),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired),
					func(*terraform.State) error { return testAccHalfRollout(t, name, newImage) },
				),
				ExpectNonEmptyPlan: true,
			},
			{
				Config: cfg(newImage),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("launch_template_version"), knownvalue.Int64Exact(2)),
					plancheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("outdated_instance_ids"), knownvalue.ListSizeExact(0)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired),
					testAccCheckClonePoolRuns(t, name, newImage, desired),
				),
			},
		},
	})
}

// TestAccClonePool_rolloutCalls measures the AWS calls one batch of a
// rollout costs: the pool's Fleet is driven through the recording proxy and
// every call is attributed to the batch that made it.
func TestAccClonePool_rolloutCalls(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-calls")
	newImage := testAccImage(t, world, name)
	const desired = 3

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{{
			Config: testAccClonePoolConfig(t, name, world, desired, ""),
			Check: func(s *terraform.State) error {
				return testAccMeasureRollout(t, s, world, name, newImage, desired)
			},
		}},
	})
}

func testAccMeasureRollout(t *testing.T, s *terraform.State, world *seed.World, name, newImage string, desired int) error {
	ctx := context.Background()
	attrs := s.RootModule().Resources["clone_pool.test"].Primary.Attributes
	templateID, oldVersion, oldImage := attrs["launch_template_id"], attrs["launch_template_version"], attrs["image_id"]
	direct := acctest.Client(t)
	tmpl, err := pool.FindTemplateVersion(ctx, direct.EC2, templateID, oldVersion)
	if err != nil {
		return err
	}
	spec := tmpl.Spec
	spec.ImageID = newImage
	next, err := pool.CreateTemplateVersion(ctx, direct.EC2, templateID, spec)
	if err != nil {
		return err
	}

	proxy := acctest.NewProxy(t)
	c := conns.New(acctest.AWSConfig(t), conns.Endpoints{AutoScaling: proxy.URL, EC2: proxy.URL, ELB: proxy.URL, ELBV2: proxy.URL}, nil)
	fleet := poolCloud(c).Fleet(pool.FleetSpec{
		Group:      name,
		TemplateID: templateID,
		Targets:    pool.Targets([]string{world.TargetGroupArn}, []string{world.ClassicELBName}),
	})
	batchStart := regexp.MustCompile(`^batch (\d+)/\d+: launching`)
	var marks []int
	opts := rollout.Options{
		BatchSize: 1, MinHealthyPercent: 100, HealthTimeout: time.Minute, Rollback: true, PollInterval: 500 * time.Millisecond,
		Progress: func(msg string) {
			if batchStart.MatchString(msg) {
				marks = append(marks, len(proxy.Calls()))
			}
		},
	}
	proxy.Reset()
	from := rollout.Target{ImageID: oldImage, TemplateVersion: oldVersion}
	to := rollout.Target{ImageID: newImage, TemplateVersion: strconv.FormatInt(next.Version, 10)}
	res, err := rollout.Run(ctx, fleet, from, to, desired, 6, opts)
	if err != nil {
		return err
	}
	calls := proxy.Calls()
	if res.Batches != desired || len(marks) != desired {
		return fmt.Errorf("rollout ran %d batches (%d marks), want %d", res.Batches, len(marks), desired)
	}

	// The last batch ends where the final confirming observation starts:
	// Run's last 4 calls (DescribeAutoScalingGroups, DescribeInstances, one
	// health read per load balancer).
	const finalObservation = 4
	bounds := append(slices.Clone(marks), len(calls)-finalObservation)
	perBatch := make([]map[string]int, desired)
	actions := map[string]bool{}
	for b := range desired {
		perBatch[b] = map[string]int{}
		for _, call := range calls[bounds[b]:bounds[b+1]] {
			key := call.Service + ":" + call.Action
			perBatch[b][key]++
			actions[key] = true
		}
	}
	keys := make([]string, 0, len(actions))
	for k := range actions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var table strings.Builder
	fmt.Fprintf(&table, "AWS calls per rollout batch (batch_size 1, %d clones, 1 target group + 1 classic ELB, strict test cloud timing)\n", desired)
	fmt.Fprintf(&table, "%-58s", "service:action")
	for b := range desired {
		fmt.Fprintf(&table, " batch%d", b+1)
	}
	table.WriteString("\n")
	totals := make([]int, desired)
	for _, k := range keys {
		fmt.Fprintf(&table, "%-58s", k)
		for b := range desired {
			fmt.Fprintf(&table, " %6d", perBatch[b][k])
			totals[b] += perBatch[b][k]
		}
		table.WriteString("\n")
	}
	fmt.Fprintf(&table, "%-58s", "total")
	for b := range desired {
		fmt.Fprintf(&table, " %6d", totals[b])
	}
	fmt.Fprintf(&table, "\nbefore the first batch: %d calls; whole rollout: %d calls\n", marks[0], len(calls))
	t.Log(table.String())
	// Reads are polls, and their number follows how long AWS takes. On the
	// strict test cloud (AWS timing × 0.2: a launch is pending 2 s, a target
	// warms up 2 s, a retired clone drains 2 s) and with the waits' backoff,
	// a batch reads about 30 times. Writes are exact: point the group, let
	// the old clone go from both load balancers, terminate it.
	for b, n := range totals {
		if n > 40 {
			t.Errorf("batch %d made %d AWS calls, want at most 40", b+1, n)
		}
		writes := 0
		for k, c := range perBatch[b] {
			if !strings.Contains(k, ":Describe") {
				writes += c
			}
		}
		if writes > 4 {
			t.Errorf("batch %d made %d mutating AWS calls, want at most 4", b+1, writes)
		}
	}

	// Roll back onto the version state holds, so the step's plan is empty.
	if _, err := rollout.Run(ctx, fleet, to, from, desired, 6, rollout.Options{
		BatchSize: desired, MinHealthyPercent: 100, HealthTimeout: time.Minute, PollInterval: 500 * time.Millisecond,
	}); err != nil {
		return fmt.Errorf("rolling back onto version %s: %w", oldVersion, err)
	}
	return nil
}

// testAccClonePoolImageConfig is testAccClonePoolConfig with the pool
// started from a clone_image of the master that bake re-bakes.
func testAccClonePoolImageConfig(t *testing.T, name string, world *seed.World, n int, bake, extra string) string {
	c := testAccClonePoolConfig(t, name, world, n, extra)
	c = strings.Replace(c, `image_id           = "`+testAccMasterImage(t, world)+`"`, `image_id           = clone_image.test.image_id`, 1)
	return c + fmt.Sprintf(`
resource "clone_image" "test" {
  source_instance_id = %q
  name_prefix        = %q
  retain_previous    = 1
  triggers           = { bake = %q }
}
`, world.MasterInstanceID, name, bake)
}

// testAccImage bakes an image of the master outside Terraform.
func testAccImage(t *testing.T, world *seed.World, name string) string {
	t.Helper()
	acctest.SkipUnlessAcc(t)
	ctx := context.Background()
	c := acctest.Client(t).EC2
	out, err := c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(world.MasterInstanceID), Name: aws.String(name + "-next"), NoReboot: aws.Bool(true)})
	if err != nil {
		t.Fatalf("baking an image of %s: %s", world.MasterInstanceID, err)
	}
	id := aws.ToString(out.ImageId)
	t.Cleanup(func() {
		imgs, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
		_, _ = c.DeregisterImage(context.Background(), &ec2.DeregisterImageInput{ImageId: aws.String(id)})
		if err != nil {
			return
		}
		for _, img := range imgs.Images {
			for _, m := range img.BlockDeviceMappings {
				if m.Ebs != nil && m.Ebs.SnapshotId != nil {
					_, _ = c.DeleteSnapshot(context.Background(), &ec2.DeleteSnapshotInput{SnapshotId: m.Ebs.SnapshotId})
				}
			}
		}
	})
	return id
}

// groupImages returns the image of every clone in service in the group.
func groupImages(ctx context.Context, t *testing.T, name string) (map[string]string, error) {
	return groupImagesWhere(ctx, t, name, func(state string) bool { return state == rollout.LifecycleInService })
}

// groupImagesWhere maps each member of group name whose lifecycle state
// keep accepts to its image.
func groupImagesWhere(ctx context.Context, t *testing.T, name string, keep func(state string) bool) (map[string]string, error) {
	c := acctest.Client(t)
	g, err := pool.FindGroup(ctx, c.AutoScaling, name)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, i := range g.Instances {
		if keep(i.LifecycleState) {
			ids = append(ids, i.ID)
		}
	}
	return pool.InstanceImages(ctx, c.EC2, ids)
}

// testAccCheckClonePoolImage proves through DescribeInstances that every
// clone in service runs the current image of the clone_image res.
func testAccCheckClonePoolImage(t *testing.T, name, res string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		want := s.RootModule().Resources[res].Primary.Attributes["image_id"]
		if got := s.RootModule().Resources["clone_pool.test"].Primary.Attributes["image_id"]; got != want {
			return fmt.Errorf("pool image_id %s, want %s", got, want)
		}
		images, err := groupImages(context.Background(), t, name)
		if err != nil {
			return err
		}
		for id, img := range images {
			if img != want {
				return fmt.Errorf("clone %s runs %s, want %s", id, img, want)
			}
		}
		return nil
	}
}

func testAccCheckClonePoolRuns(t *testing.T, name, image string, n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		images, err := groupImages(context.Background(), t, name)
		if err != nil {
			return err
		}
		if len(images) != n {
			return fmt.Errorf("%d clones in service, want %d", len(images), n)
		}
		for id, img := range images {
			if img != image {
				return fmt.Errorf("clone %s runs %s, want %s", id, img, image)
			}
		}
		return nil
	}
}

func testAccCheckMixed(t *testing.T, name, oldImage, newImage string) {
	images, err := groupImages(context.Background(), t, name)
	if err != nil {
		t.Error(err)
		return
	}
	count := map[string]int{}
	for _, img := range images {
		count[img]++
	}
	if count[oldImage] == 0 || count[newImage] == 0 {
		t.Errorf("after a failed rollout without rollback the pool should be mixed, clones run %v", count)
	}
}

// testAccFailNewClones makes the proxy report every clone the pool does not
// run yet as unhealthy in the world's target group, whatever the emulator
// says; draining and removed targets stay as they are.
func testAccFailNewClones(t *testing.T, proxy *acctest.Proxy, world *seed.World, name string) {
	ctx := context.Background()
	c := acctest.Client(t)
	g, err := pool.FindGroup(ctx, c.AutoScaling, name)
	if err != nil {
		t.Fatalf("reading group %s: %s", name, err)
	}
	known := map[string]bool{world.MasterInstanceID: true}
	for _, i := range g.Instances {
		known[i.ID] = true
	}
	proxy.SetRule(func(call acctest.Call) *acctest.Fault {
		if call.Service != "elasticloadbalancing" || call.Action != "DescribeTargetHealth" || call.Form.Get("TargetGroupArn") != world.TargetGroupArn {
			return nil
		}
		out, err := c.ELBV2.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(world.TargetGroupArn)})
		if err != nil {
			return &acctest.Fault{Status: 500, Code: "InternalFailure", Message: err.Error()}
		}
		return &acctest.Fault{Status: 200, Body: targetHealthXML(out.TargetHealthDescriptions, func(id string, state elbv2types.TargetHealthStateEnum) bool {
			return !known[id] && state == elbv2types.TargetHealthStateEnumHealthy
		})}
	})
}

// targetHealthXML renders a DescribeTargetHealth response in which the
// targets sick says so are unhealthy.
func targetHealthXML(descs []elbv2types.TargetHealthDescription, sick func(string, elbv2types.TargetHealthStateEnum) bool) string {
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	var b strings.Builder
	b.WriteString(`<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetHealthResult><TargetHealthDescriptions>`)
	for _, d := range descs {
		id := aws.ToString(d.Target.Id)
		state, reason := d.TargetHealth.State, string(d.TargetHealth.Reason)
		if sick(id, state) {
			state, reason = elbv2types.TargetHealthStateEnumUnhealthy, string(elbv2types.TargetHealthReasonEnumFailedHealthChecks)
		}
		fmt.Fprintf(&b, `<member><Target><Id>%s</Id>`, esc(id))
		if d.Target.Port != nil {
			fmt.Fprintf(&b, `<Port>%d</Port>`, *d.Target.Port)
		}
		fmt.Fprintf(&b, `</Target><TargetHealth><State>%s</State>`, esc(string(state)))
		if reason != "" {
			fmt.Fprintf(&b, `<Reason>%s</Reason>`, esc(reason))
		}
		b.WriteString(`</TargetHealth></member>`)
	}
	b.WriteString(`</TargetHealthDescriptions></DescribeTargetHealthResult><ResponseMetadata><RequestId>fault-proxy</RequestId></ResponseMetadata></DescribeTargetHealthResponse>`)
	return b.String()
}

// testAccHalfRollout does out of band what a killed apply leaves: a new
// launch template version with newImage that the group launches, one clone
// of it, and one old clone retired.
func testAccHalfRollout(t *testing.T, name, newImage string) error {
	ctx := context.Background()
	c := acctest.Client(t)
	g, err := pool.FindGroup(ctx, c.AutoScaling, name)
	if err != nil {
		return err
	}
	tmpl, err := pool.FindTemplateVersion(ctx, c.EC2, g.LaunchTemplateID, g.LaunchTemplateVersion)
	if err != nil {
		return err
	}
	spec := tmpl.Spec
	spec.ImageID = newImage
	next, err := pool.CreateTemplateVersion(ctx, c.EC2, g.LaunchTemplateID, spec)
	if err != nil {
		return err
	}
	old := g.ServingIDs()
	fleet := poolCloud(c).Fleet(pool.FleetSpec{Group: name, TemplateID: g.LaunchTemplateID})
	if err := fleet.SetTemplateVersion(ctx, strconv.FormatInt(next.Version, 10)); err != nil {
		return err
	}
	if err := fleet.SetCapacity(ctx, int(g.DesiredCapacity)+1, int(g.MaxSize)); err != nil {
		return err
	}
	_, err = c.AutoScaling.TerminateInstanceInAutoScalingGroup(ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String(old[0]), ShouldDecrementDesiredCapacity: aws.Bool(true),
	})
	return err
}

// healthSampler polls the API while an apply runs and records how many of
// the pool's clones are healthy in the target group and in service in the
// classic ELB.
type healthSampler struct {
	t     *testing.T
	name  string
	world *seed.World
	// every is the pause between samples; 50ms when zero.
	every time.Duration

	stop    chan struct{}
	done    sync.WaitGroup
	mu      sync.Mutex
	samples []int
	maxSize int
	errs    []error
}

func (s *healthSampler) start() {
	s.stop = make(chan struct{})
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		tick := time.NewTicker(cmp.Or(s.every, 50*time.Millisecond))
		defer tick.Stop()
		for {
			healthy, size, err := s.sample()
			s.mu.Lock()
			if err != nil {
				s.errs = append(s.errs, err)
			} else {
				s.samples = append(s.samples, healthy)
				s.maxSize = max(s.maxSize, size)
			}
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
}

func (s *healthSampler) sample() (healthy, size int, err error) {
	ctx := context.Background()
	c := acctest.Client(s.t)
	g, err := c.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{s.name}})
	if err != nil || len(g.AutoScalingGroups) == 0 {
		return 0, 0, fmt.Errorf("describing group: %v", err)
	}
	th, err := c.ELBV2.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(s.world.TargetGroupArn)})
	if err != nil {
		return 0, 0, err
	}
	ih, err := c.ELB.DescribeInstanceHealth(ctx, &elasticloadbalancing.DescribeInstanceHealthInput{LoadBalancerName: aws.String(s.world.ClassicELBName)})
	if err != nil {
		return 0, 0, err
	}
	tg, clb := map[string]bool{}, map[string]bool{}
	for _, d := range th.TargetHealthDescriptions {
		if d.TargetHealth.State == elbv2types.TargetHealthStateEnumHealthy {
			tg[aws.ToString(d.Target.Id)] = true
		}
	}
	for _, st := range ih.InstanceStates {
		if aws.ToString(st.State) == "InService" {
			clb[aws.ToString(st.InstanceId)] = true
		}
	}
	for _, i := range g.AutoScalingGroups[0].Instances {
		id := aws.ToString(i.InstanceId)
		if string(i.LifecycleState) == rollout.LifecycleInService && tg[id] && clb[id] {
			healthy++
		}
	}
	return healthy, len(g.AutoScalingGroups[0].Instances), nil
}

// stopAndCheck stops the sampler and fails when healthy capacity fell
// below floor at any sample, or the group never surged above desired.
func (s *healthSampler) stopAndCheck(floor, desired int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		close(s.stop)
		s.done.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.errs) > 0 {
			return fmt.Errorf("sampler: %d errors, first: %w", len(s.errs), s.errs[0])
		}
		if len(s.samples) < 5 {
			return fmt.Errorf("sampler took only %d samples", len(s.samples))
		}
		lowest := slices.Min(s.samples)
		s.t.Logf("sampler: %d samples during the rollout, lowest healthy count %d (floor %d), largest group %d", len(s.samples), lowest, floor, s.maxSize)
		if lowest < floor {
			return fmt.Errorf("healthy clones fell to %d during the rollout, below the floor %d", lowest, floor)
		}
		if s.maxSize <= desired {
			return fmt.Errorf("the group never grew above %d: no surge seen, so no rollout happened", desired)
		}
		return nil
	}
}

// TestAccClonePool_syncPolicyChange changes the interval of the pool's
// clone_sync_policy, first without, then with the pool's sync_agent_sha256
// wired to the policy's agent_sha256.
//   - Without: the pool planned before the policy changed, so the apply
//     that changes the policy leaves the pool as it is; the next plan is a
//     new launch template version although the pool's configuration is the
//     same, and its apply rolls every clone onto the new interval.
//   - Adding the wiring rolls nothing: the agent did not change.
//   - With it: one apply updates the policy, makes a new launch template
//     version and rolls every clone onto the new agent, and the next plan
//     is empty (the test framework's own check after each step).
func TestAccClonePool_syncPolicyChange(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-syncchange")
	const desired = 2
	cfg := func(interval string) string {
		return testAccClonePoolConfig(t, name, world, desired, testAccUserDataExtra(world)) + testAccSyncPolicyConfig(name, world, interval)
	}
	wired := func(interval string) string {
		extra := testAccUserDataExtra(world) + "  sync_agent_sha256 = clone_sync_policy.test.agent_sha256\n"
		return testAccClonePoolConfig(t, name, world, desired, extra) + testAccSyncPolicyConfig(name, world, interval)
	}
	version := func(v int64) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("launch_template_version"), knownvalue.Int64Exact(v)),
			statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("outdated_instance_ids"), knownvalue.ListSizeExact(0)),
		}
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				Config: cfg("5m"),
				Check:  testAccCheckClonesUserData(t, name, world, 5*time.Minute),
			},
			{
				Config: cfg("10m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("clone_sync_policy.test", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue("clone_pool.test", tfjsonpath.New("launch_template_version")),
					},
				},
				Check:              testAccCheckClonesUserData(t, name, world, 5*time.Minute),
				ExpectNonEmptyPlan: true,
			},
			{
				Config: cfg("10m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_sync_policy.test", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired),
					testAccCheckClonesUserData(t, name, world, 10*time.Minute),
				),
				ConfigStateChecks: version(2),
			},
			{
				Config: cfg("10m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config: wired("10m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("launch_template_version"), knownvalue.Int64Exact(2)),
				}},
				ConfigStateChecks: append(version(2),
					statecheck.CompareValuePairs("clone_pool.test", tfjsonpath.New("sync_agent_sha256"),
						"clone_sync_policy.test", tfjsonpath.New("agent_sha256"), compare.ValuesSame())),
			},
			{
				Config: wired("15m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_sync_policy.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("clone_pool.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue("clone_pool.test", tfjsonpath.New("launch_template_version")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired),
					testAccCheckClonesUserData(t, name, world, 15*time.Minute),
				),
				ConfigStateChecks: version(3),
			},
		},
	})
}

// testAccCheckClonePoolOnVersion proves every clone in service was launched
// from the launch template version in state, as EC2 recorded it.
func testAccCheckClonePoolOnVersion(t *testing.T, name string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := s.RootModule().Resources["clone_pool.test"].Primary.Attributes
		ctx := context.Background()
		c := acctest.Client(t)
		g, err := pool.FindGroup(ctx, c.AutoScaling, name)
		if err != nil {
			return err
		}
		members, err := pool.DescribeMembers(ctx, c.EC2, attrs["launch_template_id"], g.ServingIDs())
		if err != nil {
			return err
		}
		for id, m := range members {
			if m.TemplateVersion != attrs["launch_template_version"] {
				return fmt.Errorf("clone %s was launched from version %q, want %s", id, m.TemplateVersion, attrs["launch_template_version"])
			}
		}
		return nil
	}
}
