//go:build unix

package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

// The drift table (issue 10): every object the provider manages and every
// attribute a user can break out of band, each broken through the SDK on a
// stack made once (a clone_image feeding a clone_pool with everything, and
// the clone_sync_policy the pool runs). Each case checks that
//   - the plan shows the drift: the attributes Read reports differ in the
//     plan, and where Read drops or replaces an object a warning diagnostic
//     names it;
//   - the apply of that plan heals it, as the SDK sees it, and the next plan
//     is empty;
//
// and once all cases ran, destroy restores the world exactly as it was
// before the stack: the master stays registered where the seed registered
// it and nowhere else, the listener keeps its rules and nothing seeded or
// foreign changed its tags.
//
// Four groups run as parallel tests, each on a stack and a world of its
// own: TestAccDrift_pool, TestAccDrift_master, TestAccDrift_image and
// TestAccDrift_syncPolicy.
// Run one case with -run 'TestAccDrift_pool/group_deleted' (the stack is
// still made and destroyed).

// driftCase breaks one thing and says how the plan must show it and how
// the apply must heal it.
type driftCase struct {
	name string
	// breakIt changes one object out of band.
	breakIt func(ctx context.Context, s *driftStack) error
	// warn, when set, returns the text a warning diagnostic of the plan
	// must contain: the object Read dropped or replaced.
	warn func(s *driftStack) string
	// diff lists "address:attribute.path" whose planned value must differ
	// from the refreshed state's.
	diff []string
	// healed checks through the SDK that the apply healed it.
	healed func(ctx context.Context, s *driftStack) error
	// planEmpty says the object cannot come back (a deregistered image):
	// the plan warns and changes nothing, and the apply only records it.
	planEmpty bool
}

// driftStack is the stack under test and the world it stands in.
type driftStack struct {
	t       *testing.T
	tf      *terraformCLI
	c       *conns.AWSClient
	name    string
	world   *seed.World
	extraTG string
	// state is the state after the last apply.
	state *terraform.State
}

func (s *driftStack) attr(res, key string) string {
	rs, ok := s.state.RootModule().Resources[res]
	if !ok {
		return ""
	}
	return rs.Primary.Attributes[key]
}

func (s *driftStack) pool(key string) string { return s.attr("clone_pool.test", key) }

func (s *driftStack) syncName() string { return s.name + "-sync" }

// driftConfig is the stack: an image of the master, the sync policy, and
// the pool with every block, attached to the seeded target group, an extra
// one and the seeded classic ELB.
func driftConfig(s *driftStack, bake string) string {
	w := s.world
	return testAccCLIProviders + fmt.Sprintf(`
provider "clone" {
  default_tags {
    tags = { owner = "platform" }
  }
}

resource "clone_image" "test" {
  source_instance_id = %[1]q
  name_prefix        = %[2]q
  retain_previous    = 1
  triggers           = { bake = %[3]q }
  tags               = { env = "test" }
}

resource "clone_sync_policy" "test" {
  name               = "%[2]s-sync"
  master_instance_id = %[1]q
  paths              = [{ source = "/srv/app/www", destination = "/var/www" }]
  tags               = { env = "test" }
}

resource "clone_pool" "test" {
  name               = %[2]q
  image_id           = clone_image.test.image_id
  instance_type      = "t3.micro"
  subnet_ids         = [%[4]q, %[5]q]
  security_group_ids = [%[6]q]
  min_size           = 1
  max_size           = 3
  target_group_arns  = [%[7]q, %[8]q]
  classic_elb_names  = [%[9]q]
  sync_policy_id     = clone_sync_policy.test.id
  tags               = { env = "test" }

  master {
    instance_id              = %[1]q
    attach_to_load_balancers = true
    write_paths              = ["/upload/*", "/admin/*"]
    listener_arn             = %[10]q
    rule_priority            = 10
    recovery_alarm           = true
  }

  scaling {
    target_cpu_percent = 50
    schedule {
      name             = "night"
      recurrence       = "0 3 * * *"
      min_size         = 1
      max_size         = 3
      desired_capacity = 1
    }
  }

  timeouts {
    create = "5m"
    update = "5m"
    delete = "5m"
  }
}
`, w.MasterInstanceID, s.name, bake, w.SubnetIDs[0], w.SubnetIDs[1], w.SecurityGroupID,
		w.TargetGroupArn, s.extraTG, w.ClassicELBName, w.ListenerArn)
}

// testAccDrift makes the stack in a world of its own, runs the cases in
// order, destroys the stack and compares the world with its snapshot.
// prepare, when set, runs after the first apply (a re-bake, so the image
// has a history).
func testAccDrift(t *testing.T, group string, cases []driftCase, prepare func(ctx context.Context, s *driftStack)) {
	acctest.SkipUnlessAcc(t)
	testAccPreCheck(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	started := time.Now()

	s := &driftStack{t: t, c: acctest.Client(t), name: acctest.RandomName(8), world: acctest.World(t, "tf-acc-test-drift-"+group)}
	s.extraTG = driftExtraTargetGroup(ctx, t, s)
	foreignRule := driftForeignRule(ctx, t, s)
	before := snapshotWorld(ctx, t, s, foreignRule)

	s.tf = newTerraformCLI(t)
	s.tf.write(driftConfig(s, "1"))
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer dcancel()
			if code, out := s.tf.run(dctx, "destroy", "-auto-approve"); code != 0 {
				t.Logf("cleanup: terraform destroy exited %d:\n%s", code, out)
			}
		}
	})
	s.tf.mustRun(ctx, 0, "apply", "-auto-approve")
	s.state = s.tf.state(ctx)
	if prepare != nil {
		prepare(ctx, s)
	}

	ran := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ran++
			s.runCase(ctx, t, tc)
		})
	}
	t.Logf("chaos-count: drift=%d", ran)

	s.tf.mustRun(ctx, 0, "destroy", "-auto-approve")
	destroyed = true
	after := waitWorld(ctx, t, s, foreignRule, before)
	if diff := before.diff(after); diff != "" {
		t.Errorf("destroy did not restore the world as it was before the stack:\n%s", diff)
	}
	if err := s.nothingLeft(ctx); err != nil {
		t.Errorf("after destroy: %s", err)
	}
	acctest.CheckNoOrphans(t, s.name)
	t.Logf("drift group %s: %d cases in %s", group, ran, time.Since(started).Round(time.Second))
}

// runCase breaks, plans, applies the plan and plans again.
func (s *driftStack) runCase(ctx context.Context, t *testing.T, tc driftCase) {
	tf := s.tf.workspaceOf(t)
	if err := tc.breakIt(ctx, s); err != nil {
		t.Fatalf("breaking it out of band: %s", err)
	}
	planFile := filepath.Join(tf.dir, "drift.tfplan")
	want := 2
	if tc.planEmpty {
		want = 0
	}
	out := tf.mustRun(ctx, want, "plan", "-json", "-detailed-exitcode", "-out="+planFile)
	plan := parsePlanLog(t, out)
	if len(plan.changes) == 0 && !tc.planEmpty {
		t.Errorf("the plan shows no change:\n%s", out)
	}
	if tc.warn != nil {
		want := tc.warn(s)
		if !slices.ContainsFunc(plan.warnings, func(w string) bool { return strings.Contains(w, want) }) {
			t.Errorf("the plan has no warning naming %q; warnings: %q", want, plan.warnings)
		}
	}
	if len(tc.diff) > 0 {
		changes := showPlan(ctx, t, tf, planFile)
		for _, d := range tc.diff {
			if err := changes.differs(d); err != nil {
				t.Error(err)
			}
		}
	}
	tf.mustRun(ctx, 0, "apply", "-auto-approve", planFile)
	_ = os.Remove(planFile)
	s.state = tf.state(ctx)
	if err := tc.healed(ctx, s); err != nil {
		t.Errorf("not healed: %s", err)
	}
	out = tf.mustRun(ctx, 0, "plan", "-json", "-detailed-exitcode")
	if again := parsePlanLog(t, out); len(again.driftWarnings(s.name)) > 0 {
		t.Errorf("the plan after the apply still warns: %q", again.driftWarnings(s.name))
	}
}

// workspaceOf is c, in the same directory, reporting to t.
func (c *terraformCLI) workspaceOf(t *testing.T) *terraformCLI {
	w := *c
	w.t = t
	return &w
}

// planLog is what terraform plan -json said.
type planLog struct {
	// warnings are the warning diagnostics, summary and detail.
	warnings []string
	// changes are "address action" of the planned changes.
	changes []string
}

func parsePlanLog(t *testing.T, out string) planLog {
	t.Helper()
	var p planLog
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var msg struct {
			Type       string `json:"type"`
			Diagnostic struct {
				Severity string `json:"severity"`
				Summary  string `json:"summary"`
				Detail   string `json:"detail"`
			} `json:"diagnostic"`
			Change struct {
				Resource struct {
					Addr string `json:"addr"`
				} `json:"resource"`
				Action string `json:"action"`
			} `json:"change"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("reading terraform plan -json: %s: %s", err, line)
		}
		switch {
		case msg.Type == "diagnostic" && msg.Diagnostic.Severity == "warning":
			p.warnings = append(p.warnings, msg.Diagnostic.Summary+": "+msg.Diagnostic.Detail)
		case msg.Type == "planned_change":
			p.changes = append(p.changes, msg.Change.Resource.Addr+" "+msg.Change.Action)
		}
	}
	return p
}

// driftWarnings are the warnings that name the stack (not the CLI's own,
// such as the development overrides).
func (p planLog) driftWarnings(name string) []string {
	var out []string
	for _, w := range p.warnings {
		if strings.Contains(w, name) {
			out = append(out, w)
		}
	}
	return out
}

// plannedChanges are the resource changes of a saved plan, by address.
type plannedChanges map[string]struct {
	Before       any `json:"before"`
	After        any `json:"after"`
	AfterUnknown any `json:"after_unknown"`
}

func showPlan(ctx context.Context, t *testing.T, tf *terraformCLI, planFile string) plannedChanges {
	t.Helper()
	out := tf.mustRun(ctx, 0, "show", "-json", planFile)
	var doc struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				Before       any `json:"before"`
				After        any `json:"after"`
				AfterUnknown any `json:"after_unknown"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("reading terraform show -json: %s", err)
	}
	changes := plannedChanges{}
	for _, rc := range doc.ResourceChanges {
		changes[rc.Address] = rc.Change
	}
	return changes
}

// differs checks that "address:a.0.b" is planned to change.
func (p plannedChanges) differs(spec string) error {
	addr, attr, _ := strings.Cut(spec, ":")
	rc, ok := p[addr]
	if !ok {
		return fmt.Errorf("the plan has no change of %s", addr)
	}
	path := strings.Split(attr, ".")
	before, after, unknown := jsonAt(rc.Before, path), jsonAt(rc.After, path), jsonAt(rc.AfterUnknown, path)
	if unknown == true || !reflect.DeepEqual(before, after) {
		return nil
	}
	return fmt.Errorf("the plan does not change %s of %s: %v before and after", attr, addr, before)
}

func jsonAt(v any, path []string) any {
	for _, k := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// driftExtraTargetGroup is a target group of the test's, not the seed's,
// the pool is attached to too, so that the pool registers the master
// somewhere. It checks health and drains like the seeded one (AWS's
// defaults, 5 checks 30 s apart, would hold every wait for healthy clones
// half a minute).
func driftExtraTargetGroup(ctx context.Context, t *testing.T, s *driftStack) string {
	t.Helper()
	name := s.name + "-x"
	out, err := s.c.ELBV2.CreateTargetGroup(ctx, &elasticloadbalancingv2.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String(s.world.VpcID), TargetType: elbv2types.TargetTypeEnumInstance,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(4), HealthyThresholdCount: aws.Int32(2),
	})
	if err != nil {
		t.Fatalf("creating the extra target group %s: %s", name, err)
	}
	arn := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	t.Cleanup(func() {
		_, _ = s.c.ELBV2.DeleteTargetGroup(context.Background(), &elasticloadbalancingv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)})
	})
	if _, err := s.c.ELBV2.ModifyTargetGroupAttributes(ctx, &elasticloadbalancingv2.ModifyTargetGroupAttributesInput{
		TargetGroupArn: aws.String(arn),
		Attributes: []elbv2types.TargetGroupAttribute{{
			Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(strconv.Itoa(seed.DrainSeconds)),
		}},
	}); err != nil {
		t.Fatalf("setting the deregistration delay of %s: %s", name, err)
	}
	return arn
}

// driftForeignRule puts a rule on the seeded listener that is no one's:
// destroy must leave it as it is. It forwards to the extra target group,
// which a load balancer then uses (on AWS, the targets of a target group
// no listener uses are "unused").
func driftForeignRule(ctx context.Context, t *testing.T, s *driftStack) string {
	t.Helper()
	out, err := s.c.ELBV2.CreateRule(ctx, &elasticloadbalancingv2.CreateRuleInput{
		ListenerArn: aws.String(s.world.ListenerArn),
		Priority:    aws.Int32(5),
		Conditions:  pool.ExpandRuleConditions([]string{"/foreign/*"}),
		Actions:     []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: aws.String(s.extraTG)}},
		Tags:        []elbv2types.Tag{{Key: aws.String("team"), Value: aws.String("theirs")}},
	})
	if err != nil {
		t.Fatalf("creating the foreign listener rule: %s", err)
	}
	arn := aws.ToString(out.Rules[0].RuleArn)
	t.Cleanup(func() {
		_, _ = s.c.ELBV2.DeleteRule(context.Background(), &elasticloadbalancingv2.DeleteRuleInput{RuleArn: aws.String(arn)})
	})
	return arn
}

// worldSnapshot is what the stack must leave as it found it.
type worldSnapshot map[string]string

// snapshotWorld reads the registrations of the seeded target group, the
// extra one and the classic ELB, the listener's rules, and the tags of the
// master, the seeded network and load balancers, the extra target group
// and the foreign rule.
func snapshotWorld(ctx context.Context, t *testing.T, s *driftStack, foreignRule string) worldSnapshot {
	t.Helper()
	snap, err := readWorld(ctx, s, foreignRule)
	if err != nil {
		t.Fatalf("reading the world: %s", err)
	}
	return snap
}

func readWorld(ctx context.Context, s *driftStack, foreignRule string) (worldSnapshot, error) {
	w, c := s.world, s.c
	snap := worldSnapshot{}
	for _, tg := range []string{w.TargetGroupArn, s.extraTG} {
		th, err := c.ELBV2.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		if err != nil {
			return nil, err
		}
		var targets []string
		for _, d := range th.TargetHealthDescriptions {
			targets = append(targets, aws.ToString(d.Target.Id)+registration(d.TargetHealth.State == elbv2types.TargetHealthStateEnumDraining))
		}
		slices.Sort(targets)
		snap["registrations of target group "+pool.TargetGroupName(tg)] = strings.Join(targets, ", ")
	}
	ih, err := c.ELB.DescribeInstanceHealth(ctx, &elasticloadbalancing.DescribeInstanceHealthInput{LoadBalancerName: aws.String(w.ClassicELBName)})
	if err != nil {
		return nil, err
	}
	var instances []string
	for _, st := range ih.InstanceStates {
		instances = append(instances, aws.ToString(st.InstanceId)+registration(strings.Contains(aws.ToString(st.Description), "deregistration")))
	}
	slices.Sort(instances)
	snap["registrations of classic ELB "+w.ClassicELBName] = strings.Join(instances, ", ")

	rules, err := c.ELBV2.DescribeRules(ctx, &elasticloadbalancingv2.DescribeRulesInput{ListenerArn: aws.String(w.ListenerArn)})
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, r := range rules.Rules {
		fr := pool.FlattenRule(r, w.ListenerArn)
		lines = append(lines, fmt.Sprintf("%s priority %s paths %v to %s", fr.ARN, aws.ToString(r.Priority), fr.PathPatterns, fr.TargetGroupARN))
	}
	slices.Sort(lines)
	snap["rules of listener "+w.ListenerArn] = strings.Join(lines, "; ")

	ec2IDs := append([]string{w.MasterInstanceID, w.VpcID, w.SecurityGroupID}, w.SubnetIDs...)
	tags, err := c.EC2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: ec2IDs}}})
	if err != nil {
		return nil, err
	}
	for _, tag := range tags.Tags {
		snap["tags of "+aws.ToString(tag.ResourceId)] += aws.ToString(tag.Key) + "=" + aws.ToString(tag.Value) + "; "
	}
	arns := []string{w.TargetGroupArn, s.extraTG, w.LoadBalancerArn, foreignRule}
	elbv2Tags, err := c.ELBV2.DescribeTags(ctx, &elasticloadbalancingv2.DescribeTagsInput{ResourceArns: arns})
	if err != nil {
		return nil, err
	}
	for _, d := range elbv2Tags.TagDescriptions {
		var kv []string
		for _, tag := range d.Tags {
			kv = append(kv, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
		}
		slices.Sort(kv)
		snap["tags of "+aws.ToString(d.ResourceArn)] = strings.Join(kv, "; ")
	}
	elbTags, err := c.ELB.DescribeTags(ctx, &elasticloadbalancing.DescribeTagsInput{LoadBalancerNames: []string{w.ClassicELBName}})
	if err != nil {
		return nil, err
	}
	for _, d := range elbTags.TagDescriptions {
		var kv []string
		for _, tag := range d.Tags {
			kv = append(kv, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
		}
		slices.Sort(kv)
		snap["tags of classic ELB "+w.ClassicELBName] = strings.Join(kv, "; ")
	}
	return snap, nil
}

// registration says how a target is registered; its health changes with
// time alone (initial, healthy, unused where no listener uses the group).
func registration(draining bool) string {
	if draining {
		return " draining"
	}
	return " registered"
}

// waitWorld reads the world until it equals want (deregistered clones
// drain for a while) or a minute passed, and returns the last reading.
func waitWorld(ctx context.Context, t *testing.T, s *driftStack, foreignRule string, want worldSnapshot) worldSnapshot {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := snapshotWorld(ctx, t, s, foreignRule)
		if want.diff(got) == "" || time.Now().After(deadline) {
			return got
		}
		select {
		case <-ctx.Done():
			return got
		case <-time.After(2 * time.Second):
		}
	}
}

// diff lists, one a line, what differs between w and other.
func (w worldSnapshot) diff(other worldSnapshot) string {
	keys := map[string]bool{}
	for k := range w {
		keys[k] = true
	}
	for k := range other {
		keys[k] = true
	}
	var lines []string
	for k := range keys {
		if w[k] != other[k] {
			lines = append(lines, fmt.Sprintf("  %s: was %q, is %q", k, w[k], other[k]))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// nothingLeft checks no object of the stack outlived its destroy: images
// and their snapshots, the sync policy's parameters and document, and the
// pool's group, clones, launch template, scaling policy, scheduled action,
// master target group and alarm. (Its write rule and registrations are in
// the world's snapshot.)
func (s *driftStack) nothingLeft(ctx context.Context) error {
	if err := testAccCheckCloneImageDestroy(s.t)(s.state); err != nil {
		return err
	}
	if err := testAccCheckCloneSyncPolicyDestroy(s.t)(s.state); err != nil {
		return err
	}
	names, c := pool.NamesFor(s.name), s.c
	for what, err := range map[string]error{
		"Auto Scaling group " + names.Group:              func() error { _, err := pool.FindGroup(ctx, c.AutoScaling, names.Group); return err }(),
		"launch template " + names.LaunchTemplate:        func() error { _, _, err := pool.FindTemplateByName(ctx, c.EC2, names.LaunchTemplate); return err }(),
		"master target group " + names.MasterTargetGroup: func() error { _, err := pool.FindTargetGroupByName(ctx, c.ELBV2, names.MasterTargetGroup); return err }(),
		"recovery alarm " + names.RecoveryAlarm:          func() error { _, err := pool.FindAlarm(ctx, c.CloudWatch, names.RecoveryAlarm); return err }(),
		"scaling policy " + pool.CPUPolicyName(s.name): func() error {
			_, err := pool.FindCPUPolicy(ctx, c.AutoScaling, names.Group, pool.CPUPolicyName(s.name))
			return err
		}(),
	} {
		if !notfound.Is(err) {
			return fmt.Errorf("%s is left (%v)", what, err)
		}
	}
	schedules, err := pool.ListSchedules(ctx, c.AutoScaling, names.Group, pool.ScheduleName(s.name, ""))
	if err != nil || len(schedules) > 0 {
		return fmt.Errorf("scheduled actions %+v are left (%v)", schedules, err)
	}
	out, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + pool.TagPool), Values: []string{s.name}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}})
	if err != nil {
		return err
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			return fmt.Errorf("clone %s of pool %s is left, %s", aws.ToString(i.InstanceId), s.name, i.State.Name)
		}
	}
	return nil
}
