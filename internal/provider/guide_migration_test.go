package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

// guideMigrationPath is the generated migration guide, relative to this
// package: the test runs the configurations users read.
const guideMigrationPath = "../../docs/guides/migrate-from-autoscaling-group.md"

// TestAccGuide_migration runs the steps of the guide "Moving from
// aws_autoscaling_group / aws_ami_from_instance". The "existing" fleet, an
// AMI baked from the master (what aws_ami_from_instance makes), a launch
// template and an Auto Scaling group of two in the target group, is created
// through the SDK, since hashicorp/aws cannot be installed here. Then the
// guide's four configurations are applied in order: the pool beside the old
// group, the old group drained and deleted (the guide's hashicorp/aws step,
// done here through the SDK as hashicorp/aws would), the roll onto a
// clone_image, the removed blocks and the import blocks. A sampler polls the
// target group from before the pool exists to the end of the roll and fails
// the test if healthy targets ever fall below the old group's size.
func TestAccGuide_migration(t *testing.T) {
	configs := guideConfigs(t, guideMigrationPath)
	if len(configs) != 4 {
		t.Fatalf("%s has %d terraform blocks, want 4 (pool beside the group, clone_image roll, removed, import)", guideMigrationPath, len(configs))
	}
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-guide-migration")
	const desired = 2
	legacy := newLegacyFleet(t, world, acctest.RandomName(8), desired)

	vars := guideVariables(world, name, legacy.imageID)
	s := &targetSampler{t: t, tg: world.TargetGroupArn, skip: world.MasterInstanceID}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				// 1. The pool beside the old group, from the old AMI.
				PreConfig:       s.start,
				Config:          configs[0],
				ConfigVariables: guideVariablesFor(t, configs[0], vars),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckGroupRuns(t, name, legacy.imageID, desired),
					s.expectAtLeast(2*desired),
				),
			},
			{
				// The old group cannot be imported into a pool.
				Config:          configs[0],
				ConfigVariables: guideVariablesFor(t, configs[0], vars),
				ResourceName:    "clone_pool.web",
				ImportState:     true,
				ImportStateId:   legacy.name,
				ExpectError:     regexp.MustCompile(`was not created by clone_pool`),
			},
			{
				// 2. The old group drained and deleted, then 3. the roll onto
				// a clone_image baked from the master.
				PreConfig:       legacy.retire,
				Config:          configs[1],
				ConfigVariables: guideVariablesFor(t, configs[1], vars),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("clone_image.web", plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction("clone_pool.web", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					s.stopAndCheck(desired),
					legacy.checkGone,
					testAccCheckGuideImage(t, name),
				),
			},
			{
				// 5. Out of this state without destroying anything.
				PreConfig: legacy.deleteImage,
				Config:    configs[2],
				Check:     testAccCheckGroupRuns(t, name, "", desired),
			},
			{
				// 5. Back in by import blocks: two imports, nothing else.
				Config:          configs[3],
				ConfigVariables: guideVariablesFor(t, configs[3], vars),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						expectImportOnly("clone_image.web"),
						expectImportOnly("clone_pool.web"),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckGuideImage(t, name),
					testAccCheckGroupRuns(t, name, "", desired),
				),
			},
		},
	})
}

// guideConfigs returns the ```terraform blocks of a generated guide in order.
func guideConfigs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the guide: %s", err)
	}
	blocks := regexp.MustCompile("(?ms)^```terraform\n(.*?)^```$").FindAllStringSubmatch(string(b), -1)
	out := make([]string, len(blocks))
	for i, m := range blocks {
		// The testing framework serves the provider in-process under
		// registry.terraform.io/hashicorp/clone (its default namespace;
		// TF_ACC_PROVIDER_NAMESPACE would change it for every parallel test).
		out[i] = strings.ReplaceAll(m[1], `source = "cloneserver/clone"`, `source = "hashicorp/clone"`)
	}
	return out
}

// guideVariables are the real values for the guide's variables, whose
// defaults are example ids.
func guideVariables(world *seed.World, name, legacyImage string) map[string]config.Variable {
	return map[string]config.Variable{
		"region":             config.StringVariable(world.Region),
		"name":               config.StringVariable(name),
		"legacy_image_id":    config.StringVariable(legacyImage),
		"master_instance_id": config.StringVariable(world.MasterInstanceID),
		"subnet_ids":         config.ListVariable(config.StringVariable(world.SubnetIDs[0]), config.StringVariable(world.SubnetIDs[1])),
		"security_group_ids": config.ListVariable(config.StringVariable(world.SecurityGroupID)),
		"target_group_arns":  config.ListVariable(config.StringVariable(world.TargetGroupArn)),
	}
}

// guideVariablesFor keeps the variables cfg declares, and fails on one it
// declares that the test has no value for (it would run on its example id).
func guideVariablesFor(t *testing.T, cfg string, all map[string]config.Variable) config.Variables {
	t.Helper()
	out := config.Variables{}
	for _, m := range regexp.MustCompile(`(?m)^variable "([a-z_]+)"`).FindAllStringSubmatch(cfg, -1) {
		v, ok := all[m[1]]
		if !ok {
			t.Fatalf("the guide declares variable %q that TestAccGuide_migration does not set", m[1])
		}
		out[m[1]] = v
	}
	return out
}

// expectImportOnly fails unless the plan imports addr and changes nothing
// else about it.
func expectImportOnly(addr string) plancheck.PlanCheck { return importOnly(addr) }

type importOnly string

func (c importOnly) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != string(c) {
			continue
		}
		if rc.Change.Importing == nil {
			resp.Error = fmt.Errorf("%s is not imported by the plan", c)
		} else if !rc.Change.Actions.NoOp() {
			resp.Error = fmt.Errorf("%s is imported with actions %v, want no other change", c, rc.Change.Actions)
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", c)
}

// legacyFleet is what hashicorp/aws would have made: an AMI of the master,
// a launch template and an Auto Scaling group in the world's target group.
type legacyFleet struct {
	t       *testing.T
	name    string
	imageID string
}

func newLegacyFleet(t *testing.T, world *seed.World, name string, size int) *legacyFleet {
	t.Helper()
	acctest.SkipUnlessAcc(t)
	ctx := context.Background()
	c := acctest.Client(t)
	l := &legacyFleet{t: t, name: name}
	t.Cleanup(l.cleanup)

	img, err := c.EC2.CreateImage(ctx, &ec2.CreateImageInput{
		InstanceId: aws.String(world.MasterInstanceID), Name: aws.String(name), NoReboot: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("baking the legacy AMI: %s", err)
	}
	l.imageID = aws.ToString(img.ImageId)
	if err := waitFor(ctx, 2*time.Minute, func() (bool, error) {
		out, err := c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{l.imageID}})
		if err != nil {
			return false, err // kept as the last error: a new id may be NotFound at first (eventual consistency)
		}
		return len(out.Images) == 1 && out.Images[0].State == ec2types.ImageStateAvailable, nil
	}); err != nil {
		t.Fatalf("legacy AMI %s not available: %s", l.imageID, err)
	}
	// The root volume as aws_launch_template users write it: the image's
	// device at the image's size.
	root, rootSize, err := pool.RootDevice(ctx, c.EC2, l.imageID)
	if err != nil {
		t.Fatalf("reading the legacy AMI's root device: %s", err)
	}
	if _, err := c.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
			ImageId: aws.String(l.imageID), InstanceType: ec2types.InstanceTypeT3Micro,
			SecurityGroupIds: []string{world.SecurityGroupID},
			BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{
				DeviceName: aws.String(root),
				Ebs:        &ec2types.LaunchTemplateEbsBlockDeviceRequest{VolumeSize: aws.Int32(max(rootSize, 8)), Encrypted: aws.Bool(true)},
			}},
		},
	}); err != nil {
		t.Fatalf("creating the legacy launch template: %s", err)
	}
	if _, err := c.AutoScaling.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{
			LaunchTemplateName: aws.String(name), Version: aws.String("$Latest"),
		},
		MinSize: aws.Int32(int32(size)), MaxSize: aws.Int32(int32(2 * size)), DesiredCapacity: aws.Int32(int32(size)),
		VPCZoneIdentifier: aws.String(strings.Join(world.SubnetIDs, ",")),
		TargetGroupARNs:   []string{world.TargetGroupArn},
		HealthCheckType:   aws.String("ELB"), HealthCheckGracePeriod: aws.Int32(300),
	}); err != nil {
		t.Fatalf("creating the legacy Auto Scaling group: %s", err)
	}
	if err := waitFor(ctx, 3*time.Minute, func() (bool, error) {
		n, err := healthyTargets(ctx, c.ELBV2, world.TargetGroupArn, world.MasterInstanceID)
		return n >= size, err
	}); err != nil {
		t.Fatalf("legacy group %s never had %d healthy targets: %s", name, size, err)
	}
	return l
}

// retire does what the guide's step 2 says: size 0, wait until every
// instance is drained and gone, then delete the group and its template.
func (l *legacyFleet) retire() {
	ctx := context.Background()
	c := acctest.Client(l.t)
	if _, err := c.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(l.name), MinSize: aws.Int32(0), DesiredCapacity: aws.Int32(0),
	}); err != nil {
		l.t.Fatalf("scaling the legacy group to 0: %s", err)
	}
	if err := waitFor(ctx, 3*time.Minute, func() (bool, error) {
		g, err := pool.FindGroup(ctx, c.AutoScaling, l.name)
		return err == nil && len(g.Instances) == 0, err
	}); err != nil {
		l.t.Fatalf("the legacy group kept instances: %s", err)
	}
	if _, err := c.AutoScaling.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String(l.name)}); err != nil {
		l.t.Fatalf("deleting the legacy group: %s", err)
	}
	if _, err := c.EC2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String(l.name)}); err != nil {
		l.t.Fatalf("deleting the legacy launch template: %s", err)
	}
}

func (l *legacyFleet) checkGone(*terraform.State) error {
	if _, err := pool.FindGroup(context.Background(), acctest.Client(l.t).AutoScaling, l.name); !notfound.Is(err) {
		return fmt.Errorf("legacy group %s still exists (%v)", l.name, err)
	}
	return nil
}

// deleteImage is the guide's removal of aws_ami_from_instance once no
// clone runs it: the AMI and its snapshots.
func (l *legacyFleet) deleteImage() {
	if err := deleteImageAndSnapshots(context.Background(), acctest.Client(l.t).EC2, l.imageID); err != nil {
		l.t.Fatalf("deleting the legacy AMI: %s", err)
	}
}

func (l *legacyFleet) cleanup() {
	ctx := context.Background()
	c := acctest.Client(l.t)
	_, _ = c.AutoScaling.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String(l.name), ForceDelete: aws.Bool(true)})
	_, _ = c.EC2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String(l.name)})
	if l.imageID != "" {
		_ = deleteImageAndSnapshots(ctx, c.EC2, l.imageID)
	}
}

func deleteImageAndSnapshots(ctx context.Context, c *ec2.Client, id string) error {
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		return err
	}
	if _, err := c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil {
		return err
	}
	for _, img := range out.Images {
		for _, m := range img.BlockDeviceMappings {
			if m.Ebs != nil && m.Ebs.SnapshotId != nil {
				if _, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: m.Ebs.SnapshotId}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// testAccCheckGroupRuns proves that group name has n clones in service, all
// on image (any image when empty).
func testAccCheckGroupRuns(t *testing.T, name, image string, n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		images, err := groupImages(context.Background(), t, name)
		if err != nil {
			return err
		}
		if len(images) != n {
			return fmt.Errorf("%d clones of %s in service, want %d", len(images), name, n)
		}
		for id, img := range images {
			if image != "" && img != image {
				return fmt.Errorf("clone %s runs %s, want %s", id, img, image)
			}
		}
		return nil
	}
}

// testAccCheckGuideImage proves every clone of the guide's pool runs the
// guide's clone_image.
func testAccCheckGuideImage(t *testing.T, name string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		img, ok := s.RootModule().Resources["clone_image.web"]
		if !ok {
			return fmt.Errorf("clone_image.web not in state")
		}
		return testAccCheckGroupRuns(t, name, img.Primary.Attributes["image_id"], 2)(s)
	}
}

// healthyTargets counts the healthy targets of a target group but skip.
func healthyTargets(ctx context.Context, c *elasticloadbalancingv2.Client, tg, skip string) (int, error) {
	out, err := c.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range out.TargetHealthDescriptions {
		if aws.ToString(d.Target.Id) != skip && d.TargetHealth.State == elbv2types.TargetHealthStateEnumHealthy {
			n++
		}
	}
	return n, nil
}

// targetSampler polls a target group's healthy count (all instances but
// skip, old fleet and new alike) while the cut-over runs.
type targetSampler struct {
	t    *testing.T
	tg   string
	skip string

	stop    chan struct{}
	done    sync.WaitGroup
	mu      sync.Mutex
	samples []int
	errs    []error
}

func (s *targetSampler) start() {
	s.stop = make(chan struct{})
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		c := acctest.Client(s.t).ELBV2
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			n, err := healthyTargets(context.Background(), c, s.tg, s.skip)
			s.mu.Lock()
			if err != nil {
				s.errs = append(s.errs, err)
			} else {
				s.samples = append(s.samples, n)
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

// expectAtLeast checks the target group serves at least n healthy targets
// now: old and new fleets side by side.
func (s *targetSampler) expectAtLeast(n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := healthyTargets(context.Background(), acctest.Client(s.t).ELBV2, s.tg, s.skip)
		if err != nil {
			return err
		}
		if got < n {
			return fmt.Errorf("%d healthy targets with both fleets in the target group, want at least %d", got, n)
		}
		return nil
	}
}

// stopAndCheck stops the sampler and fails when the healthy count ever fell
// below floor.
func (s *targetSampler) stopAndCheck(floor int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		close(s.stop)
		s.done.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.errs) > 0 {
			return fmt.Errorf("sampler: %d errors, first: %w", len(s.errs), s.errs[0])
		}
		if len(s.samples) < 10 {
			return fmt.Errorf("sampler took only %d samples", len(s.samples))
		}
		lowest, highest := slices.Min(s.samples), slices.Max(s.samples)
		s.t.Logf("sampler: %d samples over the cut-over and the roll, healthy targets between %d and %d (floor %d)", len(s.samples), lowest, highest, floor)
		if lowest < floor {
			return fmt.Errorf("healthy targets fell to %d during the cut-over, below the old group's %d", lowest, floor)
		}
		return nil
	}
}

// waitFor polls ok every 250ms until it is true or timeout passes; an error
// does not stop it (it is reported with the timeout).
func waitFor(ctx context.Context, timeout time.Duration, ok func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		done, err := ok()
		if done {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %s: %w (last error: %v)", timeout, ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
