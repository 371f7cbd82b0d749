package acctest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

func TestOrphanString(t *testing.T) {
	for _, tc := range []struct {
		in   Orphan
		want string
	}{
		{Orphan{KindInstance, "i-1", ""}, "instance i-1"},
		{Orphan{KindSSMParameter, "/clone-sync/x/policy", "/clone-sync/x/policy"}, "ssm parameter /clone-sync/x/policy"},
		{Orphan{KindTargetRegistration, "i-1", "in target group web-tg"}, "target registration i-1 (in target group web-tg)"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEC2Wildcard(t *testing.T) {
	for in, want := range map[string]string{
		"tf-acc-test-ab12": "tf-acc-test-ab12",
		"a*b?c":            `a\*b\?c`,
		`back\slash`:       `back\\slash`,
	} {
		if got := ec2Wildcard(in); got != want {
			t.Errorf("ec2Wildcard(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOrphanTarget(t *testing.T) {
	a := &auditor{
		prefix:  "tf-acc-test-run",
		clones:  map[string]bool{"i-clone": true},
		masters: map[string]string{"i-master": "tf-acc-test-run-world"},
	}
	for _, tc := range []struct {
		name, id, lbWorld string
		runTG, want       bool
	}{
		{"a clone in a seeded target group", "i-clone", "any-world", false, true},
		{"a clone in a foreign target group", "i-clone", "", false, true},
		{"the master in its own world", "i-master", "tf-acc-test-run-world", false, false},
		{"the master in another world", "i-master", "other-world", false, true},
		{"the master in the run's target group", "i-master", "", true, true},
		{"the master in a foreign target group", "i-master", "", false, true},
		{"anything in the run's target group", "i-other", "", true, true},
		{"someone else's instance elsewhere", "i-other", "any-world", false, false},
		{"someone else's instance in a foreign target group", "i-other", "", false, false},
	} {
		if got := a.orphanTarget(tc.id, tc.lbWorld, tc.runTG); got != tc.want {
			t.Errorf("%s: orphanTarget(%s, %q, %v) = %v, want %v", tc.name, tc.id, tc.lbWorld, tc.runTG, got, tc.want)
		}
	}
}

func TestRunPrefixes(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{nil, nil},
		{[]string{"", ""}, nil},
		{[]string{"tf-acc-test-b", "tf-acc-test-a", "tf-acc-test-a"}, []string{"tf-acc-test-a", "tf-acc-test-b"}},
		{[]string{"tf-acc-test-a-img", "tf-acc-test-a"}, []string{"tf-acc-test-a"}},
	} {
		if got := runPrefixes(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("runPrefixes(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSortOrphans(t *testing.T) {
	got := []Orphan{
		{KindSSMParameter, "/b", ""}, {KindInstance, "i-2", ""}, {KindSSMParameter, "/a", ""},
		{KindImage, "ami-1", ""}, {KindInstance, "i-1", ""},
	}
	sortOrphans(got)
	want := []Orphan{
		{KindInstance, "i-1", ""}, {KindInstance, "i-2", ""}, {KindImage, "ami-1", ""},
		{KindSSMParameter, "/a", ""}, {KindSSMParameter, "/b", ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("sorted %v, want %v", got, want)
	}
}

// TestAccAudit_everyKind creates one object of every kind the provider
// makes, named and tagged as a run's, directly through the SDK; Audit must
// find each kind, none of the look-alikes a test makes itself, and nothing
// once everything is deleted.
func TestAccAudit_everyKind(t *testing.T) {
	SkipUnlessAcc(t)
	useTestCloud(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cfg := AWSConfig(t)
	c := conns.New(cfg, conns.Endpoints{}, nil)
	world := World(t, RandomName(8))
	run := newRunObjects(RandomName(8), world)
	t.Cleanup(func() {
		if t.Failed() {
			_ = run.delete(context.Background(), c)
		}
	})

	if err := run.create(ctx, c); err != nil {
		t.Fatal(err)
	}
	auditUntil(ctx, t, cfg, run.prefix, "every kind but lifecycle hook", func(o []Orphan) bool {
		return len(missingKinds(o, KindLifecycleHook)) == 0
	})
	// The clone is in service: a launch hook now changes nothing.
	if err := run.createHook(ctx, c); err != nil {
		t.Fatal(err)
	}
	got := auditUntil(ctx, t, cfg, run.prefix, "every kind", func(o []Orphan) bool { return len(missingKinds(o)) == 0 })
	t.Logf("audit of %s found %d objects:\n%s", run.prefix, len(got), orphanLines(got))
	run.checkFound(t, got)
	countAuditCalls(ctx, t, cfg, run.prefix)

	// The world's own audit sees only its master where it does not belong.
	byWorld, err := Audit(ctx, cfg, world.Name)
	if err != nil {
		t.Fatal(err)
	}
	wantWorld := []Orphan{
		{KindTargetRegistration, world.MasterInstanceID, "in target group " + run.masterTGName},
		{KindTargetRegistration, world.MasterInstanceID, "in target group " + run.extraTGName},
	}
	if !slices.Equal(byWorld, wantWorld) {
		t.Errorf("Audit(%s) = \n%s\nwant\n%s", world.Name, orphanLines(byWorld), orphanLines(wantWorld))
	}

	if err := run.delete(ctx, c); err != nil {
		t.Fatal(err)
	}
	left := auditUntil(ctx, t, cfg, run.prefix, "nothing", func(o []Orphan) bool { return len(o) == 0 })
	if len(left) != 0 {
		t.Errorf("after deleting everything, Audit(%s) still finds:\n%s", run.prefix, orphanLines(left))
	}
}

// useTestCloud starts the emulator for this package's acceptance tests
// when no TestMain did (acctest.Main) and no endpoint is named.
func useTestCloud(t *testing.T) {
	t.Helper()
	if endpoint != "" || os.Getenv("CLONE_ACC_REAL_AWS") == "1" {
		return
	}
	stop, err := setup()
	if err != nil {
		t.Fatalf("starting the test cloud: %s", err)
	}
	t.Cleanup(func() {
		stop()
		endpoint = ""
	})
}

func auditUntil(ctx context.Context, t *testing.T, cfg aws.Config, prefix, what string, done func([]Orphan) bool) []Orphan {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var got []Orphan
	err := wait.For(ctx, wait.Options{Interval: time.Second, MaxInterval: 5 * time.Second}, func(ctx context.Context) (bool, string, error) {
		var err error
		got, err = Audit(ctx, cfg, prefix)
		if err != nil {
			return false, "", err
		}
		return done(got), fmt.Sprintf("missing kinds %v", missingKinds(got)), nil
	})
	if err != nil {
		t.Fatalf("waiting until Audit(%s) finds %s: %s; it finds:\n%s", prefix, what, err, orphanLines(got))
	}
	return got
}

func missingKinds(found []Orphan, except ...string) []string {
	var out []string
	for _, k := range Kinds {
		if !slices.Contains(except, k) && !slices.ContainsFunc(found, func(o Orphan) bool { return o.Kind == k }) {
			out = append(out, k)
		}
	}
	return out
}

func orphanLines(found []Orphan) string {
	var b strings.Builder
	for _, o := range found {
		fmt.Fprintf(&b, "  %s\n", o)
	}
	return b.String()
}

// countAuditCalls runs one audit through the recording proxy and logs what
// it cost: it runs after every acceptance test.
func countAuditCalls(ctx context.Context, t *testing.T, cfg aws.Config, prefix string) {
	t.Helper()
	if Endpoint() == "" {
		return
	}
	proxy := NewProxy(t)
	cfg = cfg.Copy()
	cfg.BaseEndpoint = aws.String(proxy.URL)
	if _, err := Audit(ctx, cfg, prefix); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, call := range proxy.Calls() {
		count[call.Service+":"+call.Action]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(count)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, count[k]))
	}
	t.Logf("one audit of a run with one of every kind: %d calls: %s", len(proxy.Calls()), strings.Join(parts, " "))
}

// runObjects are one run's objects of every kind, made as the provider
// makes them, and two look-alikes a test makes itself.
type runObjects struct {
	prefix string
	world  *seed.World

	masterTGName, extraTGName string
	masterTG, extraTG         string
	rule                      string
	images                    []string
	hook                      string
}

func newRunObjects(prefix string, world *seed.World) *runObjects {
	return &runObjects{
		prefix: prefix, world: world,
		masterTGName: pool.NamesFor(prefix).MasterTargetGroup,
		extraTGName:  prefix + "-x",
		hook:         pool.FirstSyncHookName(prefix),
	}
}

func (r *runObjects) tags() map[string]string { return pool.OwnTags(r.prefix, nil) }

func (r *runObjects) create(ctx context.Context, c *conns.AWSClient) error {
	for _, step := range []func(context.Context, *conns.AWSClient) error{
		r.createImages, r.createTargetGroups, r.createGroup, r.createScaling, r.createAlarm, r.createSyncPolicy,
	} {
		if err := step(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// createImages bakes an image as the provider does (tagged in CreateImage,
// its snapshot tagged after) and one the test makes itself, untagged.
func (r *runObjects) createImages(ctx context.Context, c *conns.AWSClient) error {
	tags := map[string]string{
		imageset.TagManagedBy: imageset.ManagedBy, imageset.TagNamePrefix: r.prefix, imageset.TagSet: "cis-audit",
	}
	for _, in := range []*ec2.CreateImageInput{
		{Name: aws.String(imageset.NewName(r.prefix, time.Now())), TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: ec2TagList(tags)}}},
		{Name: aws.String(r.prefix + "-next")},
	} {
		in.InstanceId, in.NoReboot = aws.String(r.world.MasterInstanceID), aws.Bool(true)
		out, err := c.EC2.CreateImage(ctx, in)
		if err != nil {
			return fmt.Errorf("baking %s: %w", aws.ToString(in.Name), err)
		}
		r.images = append(r.images, aws.ToString(out.ImageId))
	}
	img, err := waitImage(ctx, c, r.images[0])
	if err != nil {
		return err
	}
	_, err = c.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: img.SnapshotIDs, Tags: ec2TagList(tags)})
	return err
}

func waitImage(ctx context.Context, c *conns.AWSClient, id string) (imageset.Image, error) {
	var img imageset.Image
	err := wait.For(ctx, wait.Options{Interval: time.Second}, func(ctx context.Context) (bool, string, error) {
		found, err := imageset.FindImage(ctx, c.EC2, id)
		if notfound.Is(err) {
			// A new image is briefly not found (eventual consistency).
			return false, "not yet visible", nil
		}
		if err != nil {
			return false, "", err
		}
		img = found
		return found.State == string(ec2types.ImageStateAvailable) && len(found.SnapshotIDs) > 0, found.State, nil
	})
	if err != nil {
		return img, fmt.Errorf("waiting for image %s: %w", id, err)
	}
	return img, nil
}

func ec2TagList(tags map[string]string) []ec2types.Tag {
	var out []ec2types.Tag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// createTargetGroups makes the pool's master-only target group with its
// write rule, and an untagged one of the test's; the master is registered
// in both, where it was not before.
func (r *runObjects) createTargetGroups(ctx context.Context, c *conns.AWSClient) error {
	var err error
	r.masterTG, err = pool.CreateMasterTargetGroup(ctx, c.ELBV2, pool.MasterTargetGroupInput{Name: r.masterTGName, VpcID: r.world.VpcID, Tags: r.tags()})
	if err != nil {
		return err
	}
	r.extraTG, err = pool.CreateMasterTargetGroup(ctx, c.ELBV2, pool.MasterTargetGroupInput{Name: r.extraTGName, VpcID: r.world.VpcID})
	if err != nil {
		return err
	}
	r.rule, err = pool.CreateRule(ctx, c.ELBV2, pool.Rule{
		ListenerARN: r.world.ListenerArn, Priority: 10, PathPatterns: []string{"/upload/*"}, TargetGroupARN: r.masterTG,
	}, r.tags())
	if err != nil {
		return err
	}
	for _, tg := range []string{r.masterTG, r.extraTG} {
		if _, err := c.ELBV2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{
			TargetGroupArn: aws.String(tg), Targets: []elbv2types.TargetDescription{{Id: aws.String(r.world.MasterInstanceID)}},
		}); err != nil {
			return fmt.Errorf("registering the master with %s: %w", tg, err)
		}
	}
	return nil
}

// createGroup starts a launch template and a group of one clone in every
// load balancer: the world's target group and classic ELB, and the run's
// master-only target group.
func (r *runObjects) createGroup(ctx context.Context, c *conns.AWSClient) error {
	master, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{r.world.MasterInstanceID}})
	if err != nil || len(master.Reservations) == 0 {
		return fmt.Errorf("describing the master %s: %v", r.world.MasterInstanceID, err)
	}
	if _, err := c.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(r.prefix),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
			ImageId:      master.Reservations[0].Instances[0].ImageId,
			InstanceType: ec2types.InstanceTypeT3Micro,
		},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeLaunchTemplate, Tags: ec2TagList(r.tags())}},
	}); err != nil {
		return fmt.Errorf("creating launch template %s: %w", r.prefix, err)
	}
	_, err = c.AutoScaling.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(r.prefix),
		LaunchTemplate:       &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String(r.prefix), Version: aws.String("$Latest")},
		MinSize:              aws.Int32(0), MaxSize: aws.Int32(1), DesiredCapacity: aws.Int32(1),
		VPCZoneIdentifier: aws.String(r.world.SubnetIDs[0]),
		TargetGroupARNs:   []string{r.world.TargetGroupArn, r.masterTG},
		LoadBalancerNames: []string{r.world.ClassicELBName},
		Tags:              pool.GroupTagsOf(pool.Desired{Name: r.prefix}, r.tags()),
	})
	if err != nil {
		return fmt.Errorf("creating Auto Scaling group %s: %w", r.prefix, err)
	}
	return nil
}

func (r *runObjects) createHook(ctx context.Context, c *conns.AWSClient) error {
	h := pool.FirstSyncHook(r.prefix)
	_, err := c.AutoScaling.PutLifecycleHook(ctx, &autoscaling.PutLifecycleHookInput{
		AutoScalingGroupName: aws.String(r.prefix), LifecycleHookName: h.LifecycleHookName,
		LifecycleTransition: h.LifecycleTransition, DefaultResult: h.DefaultResult, HeartbeatTimeout: h.HeartbeatTimeout,
	})
	if err != nil {
		return fmt.Errorf("putting lifecycle hook %s: %w", r.hook, err)
	}
	return nil
}

func (r *runObjects) createScaling(ctx context.Context, c *conns.AWSClient) error {
	if _, err := c.AutoScaling.PutScalingPolicy(ctx, &autoscaling.PutScalingPolicyInput{
		AutoScalingGroupName: aws.String(r.prefix), PolicyName: aws.String(pool.CPUPolicyName(r.prefix)),
		AdjustmentType: aws.String("ChangeInCapacity"), ScalingAdjustment: aws.Int32(1),
	}); err != nil {
		return fmt.Errorf("putting scaling policy: %w", err)
	}
	if _, err := c.AutoScaling.PutScheduledUpdateGroupAction(ctx, &autoscaling.PutScheduledUpdateGroupActionInput{
		AutoScalingGroupName: aws.String(r.prefix), ScheduledActionName: aws.String(pool.ScheduleName(r.prefix, "night")),
		Recurrence: aws.String("0 22 * * *"), DesiredCapacity: aws.Int32(0),
	}); err != nil {
		return fmt.Errorf("putting scheduled action: %w", err)
	}
	return nil
}

func (r *runObjects) createAlarm(ctx context.Context, c *conns.AWSClient) error {
	return pool.PutAlarm(ctx, c.CloudWatch, pool.RecoveryAlarm{
		Name: pool.NamesFor(r.prefix).RecoveryAlarm, InstanceID: r.world.MasterInstanceID,
		Action: pool.RecoverAction("aws", r.world.Region),
	}, r.tags())
}

func (r *runObjects) createSyncPolicy(ctx context.Context, c *conns.AWSClient) error {
	n := syncstore.NamesOf(r.prefix)
	if _, err := c.SSM.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(n.PathsParameter), Type: ssmtypes.ParameterTypeString, Value: aws.String("[]"),
	}); err != nil {
		return fmt.Errorf("putting parameter %s: %w", n.PathsParameter, err)
	}
	doc := `{"schemaVersion":"2.2","description":"audit","mainSteps":[{"action":"aws:runShellScript","name":"noop","inputs":{"runCommand":["true"]}}]}`
	if _, err := c.SSM.CreateDocument(ctx, &ssm.CreateDocumentInput{
		Name: aws.String(n.Document), Content: aws.String(doc), DocumentType: ssmtypes.DocumentTypeCommand, DocumentFormat: ssmtypes.DocumentFormatJson,
	}); err != nil {
		return fmt.Errorf("creating document %s: %w", n.Document, err)
	}
	return nil
}

// checkFound holds the audit to exactly what the provider would own: the
// test's own look-alikes are not reported, the master's registrations in
// the run's target groups are.
func (r *runObjects) checkFound(t *testing.T, got []Orphan) {
	t.Helper()
	has := func(kind, id string) bool {
		return slices.Contains(got, Orphan{Kind: kind, ID: id}) || slices.ContainsFunc(got, func(o Orphan) bool { return o.Kind == kind && o.ID == id })
	}
	for _, o := range got {
		switch {
		case o.Kind == KindTargetGroup && o.ID == r.extraTG:
			t.Errorf("the test's own untagged target group %s is reported as the provider's", r.extraTGName)
		case o.Kind == KindImage && o.ID == r.images[1]:
			t.Errorf("the test's own untagged image %s is reported as the provider's", o.ID)
		case o.Kind == KindInstance && o.ID == r.world.MasterInstanceID:
			t.Errorf("the seeded master %s is reported as the run's instance", o.ID)
		}
	}
	for _, want := range []Orphan{
		{KindImage, r.images[0], ""}, {KindTargetGroup, r.masterTG, ""}, {KindListenerRule, r.rule, ""},
		{KindLifecycleHook, r.prefix + "/" + r.hook, ""},
	} {
		if !has(want.Kind, want.ID) {
			t.Errorf("Audit misses %s", want)
		}
	}
	for _, tg := range []string{r.masterTGName, r.extraTGName} {
		if !slices.Contains(got, Orphan{KindTargetRegistration, r.world.MasterInstanceID, "in target group " + tg}) {
			t.Errorf("Audit misses the master registered in the run's target group %s", tg)
		}
	}
}

// delete removes every object in an order AWS accepts; missing ones are fine.
func (r *runObjects) delete(ctx context.Context, c *conns.AWSClient) error {
	var errs []error
	if r.rule != "" {
		errs = append(errs, pool.DeleteRule(ctx, c.ELBV2, r.rule))
	}
	errs = append(errs,
		pool.DeletePolicy(ctx, c.AutoScaling, r.prefix, pool.CPUPolicyName(r.prefix)),
		pool.DeleteSchedule(ctx, c.AutoScaling, r.prefix, pool.ScheduleName(r.prefix, "night")),
		pool.DeleteGroup(ctx, c.AutoScaling, c.EC2, r.prefix, nil),
		pool.DeleteTemplate(ctx, c.EC2, r.prefix),
	)
	for _, tg := range []string{r.masterTG, r.extraTG} {
		if tg == "" {
			continue
		}
		if _, err := c.ELBV2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{
			TargetGroupArn: aws.String(tg), Targets: []elbv2types.TargetDescription{{Id: aws.String(r.world.MasterInstanceID)}},
		}); err != nil {
			errs = append(errs, fmt.Errorf("deregistering the master from %s: %w", tg, err))
		}
		errs = append(errs, pool.DeleteTargetGroup(ctx, c.ELBV2, tg))
	}
	for _, id := range r.images {
		img, err := imageset.FindImage(ctx, c.EC2, id)
		if err != nil {
			continue
		}
		errs = append(errs, imageset.Delete(ctx, c.EC2, img))
	}
	errs = append(errs,
		pool.DeleteAlarm(ctx, c.CloudWatch, pool.NamesFor(r.prefix).RecoveryAlarm),
		syncstore.Delete(ctx, c.SSM, r.prefix),
	)
	return errors.Join(errs...)
}
