//go:build unix

package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/rollout"
)

// TestAccClonePool_killedApply proves issue #4 with the real terraform CLI
// and the provider binary built from this module: an apply killed in the
// middle of a re-bake and rollout (terraform and the provider plugin
// SIGKILLed, the state lock left behind) leaves a pool that the next plan
// shows as a diff, and the next apply finishes the rollout in one go.
//
// The proxy in front of the emulator slows DescribeTargetHealth down and,
// at the kill point, holds the call (it never reaches the emulator) while
// the test kills the apply, so each kill lands at the same place every run.
func TestAccClonePool_killedApply(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	testAccPreCheck(t)
	t.Parallel()
	cli := newTerraformCLI(t)

	launch := killAt("UpdateAutoScalingGroup", "DesiredCapacity")
	points := []struct {
		name string
		at   func() func(acctest.Call) bool
		// mixed: clones in service run old and new images after the kill.
		mixed bool
	}{
		// The new image exists; the pool was not touched yet.
		{name: "baked", at: killAfter(killAt("CreateImage", ""))},
		// The new launch template version is the default, the group still
		// launches the old one.
		{name: "pointing", at: killAt("UpdateAutoScalingGroup", "LaunchTemplate.Version")},
		// The group launches the new version; nothing launched yet.
		{name: "launching", at: launch},
		// The group surged; the new clone is not seen healthy yet.
		{name: "surged", at: killAfter(launch), mixed: true},
		// The first new clone is healthy; the old clone picked for
		// retirement left the load balancers but was not terminated.
		{name: "retiring", at: killAt("TerminateInstanceInAutoScalingGroup", ""), mixed: true},
		// One old clone was terminated; the group is back at desired.
		{name: "retired", at: killAfter(killAt("TerminateInstanceInAutoScalingGroup", "")), mixed: true},
	}
	for _, p := range points {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
			defer cancel()
			testAccKilledApply(ctx, t, cli.workspace(t), p.name, p.at(), p.mixed)
		})
	}
}

// killAt matches the calls of action, with formKey in the request when set.
func killAt(action, formKey string) func() func(acctest.Call) bool {
	return func() func(acctest.Call) bool {
		return func(c acctest.Call) bool { return c.Action == action && (formKey == "" || c.Form.Has(formKey)) }
	}
}

// killAfter matches the first call after the first call match matched:
// that call was answered, the next one is held.
func killAfter(match func() func(acctest.Call) bool) func() func(acctest.Call) bool {
	return func() func(acctest.Call) bool {
		m, seen := match(), false
		return func(c acctest.Call) bool {
			if seen {
				return true
			}
			seen = m(c)
			return false
		}
	}
}

func testAccKilledApply(ctx context.Context, t *testing.T, tf *terraformCLI, point string, stopAt func(acctest.Call) bool, wantMixed bool) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-kill-"+point)
	proxy := acctest.NewProxy(t)
	const desired = 3
	cfg := func(bake string) string {
		c := testAccClonePoolImageConfig(t, name, world, desired, bake, "  rolling_update {\n    batch_size = 1\n  }\n")
		return testAccCLIProviders + strings.Replace(c, "provider \"clone\" {\n", fmt.Sprintf(
			"provider \"clone\" {\n  endpoints {\n    autoscaling = %q\n    ec2         = %q\n    elb         = %q\n    elbv2       = %q\n  }\n",
			proxy.URL, proxy.URL, proxy.URL, proxy.URL), 1)
	}
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer dcancel()
			if code, out := tf.run(dctx, "destroy", "-auto-approve"); code != 0 {
				t.Logf("cleanup: terraform destroy exited %d:\n%s", code, out)
			}
		}
	})

	tf.write(cfg("1"))
	tf.mustRun(ctx, 0, "apply", "-auto-approve")
	st := tf.state(ctx)
	oldImage := st.RootModule().Resources["clone_image.test"].Primary.Attributes["image_id"]
	if err := testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired)(st); err != nil {
		t.Fatalf("after the first apply: %s", err)
	}

	// The re-bake rolls the pool; kill everything at the kill point.
	var mu sync.Mutex
	reached := make(chan acctest.Call, 1)
	killed := false
	proxy.SetRule(func(c acctest.Call) *acctest.Fault {
		mu.Lock()
		defer mu.Unlock()
		if killed || stopAt(c) {
			if !killed {
				killed = true
				reached <- c
			}
			// Held until the killed caller is gone; never forwarded.
			return &acctest.Fault{Delay: time.Minute, Status: 500, Code: "InternalFailure"}
		}
		if c.Action == "DescribeTargetHealth" {
			return &acctest.Fault{Delay: time.Second}
		}
		return nil
	})
	tf.write(cfg("2"))
	apply := tf.start(ctx, "apply", "-auto-approve")
	select {
	case c := <-reached:
		t.Logf("killing the apply at %s %s", c.Service, c.Action)
	case <-apply.done:
		t.Fatalf("the second apply ended (%v) before the kill point:\n%s", apply.err, apply.out.String())
	case <-ctx.Done():
		apply.kill(t)
		t.Fatalf("kill point not reached before %s:\n%s", ctx.Err(), apply.out.String())
	}
	apply.kill(t)
	proxy.SetRule(nil)
	if err := os.Remove(filepath.Join(tf.dir, ".terraform.tfstate.lock.info")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}

	// Every member counts, Pending ones too: right after a surge launch the
	// new clone is Pending on AWS (and on the strict emulator).
	images, err := liveGroupImages(ctx, t, name)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, img := range images {
		count[img]++
	}
	if mixed := count[oldImage] > 0 && len(count) > 1; mixed != wantMixed {
		t.Fatalf("after the kill the pool should be mixed: %v; live clones per image: %v (old image %s)", wantMixed, count, oldImage)
	}
	t.Logf("after the kill: live clones per image %v", count)

	out := tf.mustRun(ctx, 2, "plan", "-detailed-exitcode")
	if !strings.Contains(out, "clone_pool.test will be updated in-place") {
		t.Errorf("the plan after the kill should update clone_pool.test:\n%s", out)
	}

	tf.mustRun(ctx, 0, "apply", "-auto-approve")
	st = tf.state(ctx)
	attrs := st.RootModule().Resources["clone_pool.test"].Primary.Attributes
	if newImage := attrs["image_id"]; newImage == oldImage {
		t.Errorf("pool image_id is still %s after the re-bake", oldImage)
	}
	if got := attrs["outdated_instance_ids.#"]; got != "0" {
		t.Errorf("state lists %s outdated clones after the apply, want 0", got)
	}
	for _, check := range []struct {
		what string
		fn   func(*terraform.State) error
	}{
		{"healthy", testAccCheckClonePoolHealthy(t, "clone_pool.test", world, desired)},
		{"image", testAccCheckClonePoolImage(t, name, "clone_image.test")},
		{"launch template version", testAccCheckClonePoolOnVersion(t, name)},
		{"size", func(*terraform.State) error { return testAccCheckGroupSize(ctx, t, name, desired) }},
	} {
		if err := check.fn(st); err != nil {
			t.Errorf("after the apply that follows the kill (%s): %s", check.what, err)
		}
	}
	tf.mustRun(ctx, 0, "plan", "-detailed-exitcode")

	tf.mustRun(ctx, 0, "destroy", "-auto-approve")
	destroyed = true
	if err := testAccCheckClonePoolDestroy(t, world)(st); err != nil {
		t.Error(err)
	}
	if err := testAccCheckCloneImageDestroy(t)(st); err != nil {
		t.Error(err)
	}
	left, err := acctest.Client(t).EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{name + "*"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range left.Images {
		t.Errorf("image %s (%s) of the pool's image set is left after destroy", aws.ToString(img.ImageId), aws.ToString(img.Name))
	}
}

// testAccCLIProviders tells the terraform CLI where the provider comes from
// (the dev_overrides of the CLI config point the address at a local build).
const testAccCLIProviders = `
terraform {
  required_providers {
    clone = {
      source = "cloneserver/clone"
    }
  }
}
`

// testAccCheckGroupSize proves the group is back to desired capacity: the
// desired capacity is n and so is the number of members in any state.
func testAccCheckGroupSize(ctx context.Context, t *testing.T, name string, n int) error {
	g, err := pool.FindGroup(ctx, acctest.Client(t).AutoScaling, name)
	if err != nil {
		return err
	}
	states := make([]string, len(g.Instances))
	for i, inst := range g.Instances {
		states[i] = inst.ID + " " + inst.LifecycleState
		if inst.LifecycleState != rollout.LifecycleInService {
			return fmt.Errorf("group %s: member %s is %s", name, inst.ID, inst.LifecycleState)
		}
	}
	if g.DesiredCapacity != int64(n) || len(g.Instances) != n {
		return fmt.Errorf("group %s: desired capacity %d and members %v, want %d", name, g.DesiredCapacity, states, n)
	}
	return nil
}

// terraformCLI runs the terraform binary the acceptance tests use against
// the provider built from this module, as a user runs it: a dev_overrides
// CLI config and a working directory of its own, each command a process
// group of its own so it can be killed whole.
type terraformCLI struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

func newTerraformCLI(t *testing.T) *terraformCLI {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building the provider needs the go command: %s", err)
	}
	pluginDir := t.TempDir()
	started := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goBin, "build", "-o", filepath.Join(pluginDir, "terraform-provider-clone"), ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %s\n%s", err, out)
	}
	t.Logf("built the provider in %s", time.Since(started).Round(time.Millisecond))

	cliConfig := filepath.Join(t.TempDir(), "dev.tfrc")
	if err := os.WriteFile(cliConfig, fmt.Appendf(nil, `provider_installation {
  dev_overrides {
    "cloneserver/clone" = %q
  }
  direct {}
}
`, pluginDir), 0o600); err != nil {
		t.Fatal(err)
	}
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = acctest.Region
	}
	return &terraformCLI{
		t:   t,
		bin: os.Getenv("TF_ACC_TERRAFORM_PATH"),
		dir: t.TempDir(),
		env: append(os.Environ(),
			"AWS_ENDPOINT_URL="+acctest.Endpoint(),
			"AWS_ACCESS_KEY_ID=test",
			"AWS_SECRET_ACCESS_KEY=test",
			"AWS_REGION="+region,
			"AWS_EC2_METADATA_DISABLED=true",
			"CHECKPOINT_DISABLE=1",
			"TF_IN_AUTOMATION=1",
			"TF_INPUT=0",
			"TF_CLI_CONFIG_FILE="+cliConfig,
		),
	}
}

// moduleRoot finds the directory of go.mod above the package directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the package directory")
		}
		dir = parent
	}
}

// workspace is c with a working directory of its own, for t.
func (c *terraformCLI) workspace(t *testing.T) *terraformCLI {
	w := *c
	w.t, w.dir = t, t.TempDir()
	return &w
}

func (c *terraformCLI) write(config string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, "main.tf"), []byte(config), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// tfProcess is a terraform command running in its own process group.
type tfProcess struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
	err  error // valid once done is closed
}

func (c *terraformCLI) start(ctx context.Context, args ...string) *tfProcess {
	c.t.Helper()
	p := &tfProcess{out: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, c.bin, append(args, "-no-color")...)
	p.cmd.Dir, p.cmd.Env = c.dir, c.env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Cancel = func() error { killFamily(p.cmd.Process.Pid); return nil }
	p.cmd.WaitDelay = 10 * time.Second
	if err := p.cmd.Start(); err != nil {
		c.t.Fatalf("starting terraform %s: %s", strings.Join(args, " "), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	c.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			killFamily(p.cmd.Process.Pid)
			<-p.done
		}
	})
	return p
}

// kill SIGKILLs terraform and every process it started (the provider
// plugin), checks the plugin was among them, and waits until none is left.
// Without /proc it only kills the process group.
func (p *tfProcess) kill(t *testing.T) {
	t.Helper()
	pid := p.cmd.Process.Pid
	victims := killFamily(pid)
	<-p.done
	plugin := false
	for _, v := range victims {
		plugin = plugin || strings.HasPrefix(v.comm, "terraform-provi")
	}
	if len(victims) > 0 && !plugin {
		t.Errorf("the provider plugin was not running when terraform (pid %d) was killed: %v", pid, victims)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := 0
		for _, v := range victims {
			if alive(v.pid) {
				left++
			}
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d of the killed processes %v still run", left, victims)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run runs a terraform command to its end and returns its exit code and
// output; -1 when it could not run.
func (c *terraformCLI) run(ctx context.Context, args ...string) (int, string) {
	p := c.start(ctx, args...)
	<-p.done
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0, p.out.String()
	case errors.As(p.err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), p.out.String()
	}
	return -1, fmt.Sprintf("%s\n%s", p.err, p.out.String())
}

func (c *terraformCLI) mustRun(ctx context.Context, want int, args ...string) string {
	c.t.Helper()
	started := time.Now()
	code, out := c.run(ctx, args...)
	if code != want {
		c.t.Fatalf("terraform %s exited %d, want %d:\n%s", strings.Join(args, " "), code, want, out)
	}
	c.t.Logf("terraform %s: exit %d in %s", strings.Join(args, " "), code, time.Since(started).Round(time.Millisecond))
	return out
}

// state reads the state through terraform show -json as the legacy state
// the check functions take: every top-level attribute, lists flattened.
func (c *terraformCLI) state(ctx context.Context) *terraform.State {
	c.t.Helper()
	out := c.mustRun(ctx, 0, "show", "-json")
	var doc struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Type    string         `json:"type"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		c.t.Fatalf("reading terraform show -json: %s\n%s", err, out)
	}
	root := &terraform.ModuleState{Path: []string{"root"}, Resources: map[string]*terraform.ResourceState{}}
	for _, r := range doc.Values.RootModule.Resources {
		attrs := map[string]string{}
		for k, v := range r.Values {
			flattenAttr(attrs, k, v)
		}
		root.Resources[r.Address] = &terraform.ResourceState{Type: r.Type, Primary: &terraform.InstanceState{ID: attrs["id"], Attributes: attrs}}
	}
	return &terraform.State{Modules: []*terraform.ModuleState{root}}
}

func flattenAttr(attrs map[string]string, key string, v any) {
	switch v := v.(type) {
	case string:
		attrs[key] = v
	case json.Number:
		attrs[key] = v.String()
	case bool:
		attrs[key] = strconv.FormatBool(v)
	case []any:
		attrs[key+".#"] = strconv.Itoa(len(v))
		for i, e := range v {
			flattenAttr(attrs, key+"."+strconv.Itoa(i), e)
		}
	case map[string]any:
		attrs[key+".%"] = strconv.Itoa(len(v))
		for k, e := range v {
			flattenAttr(attrs, key+"."+k, e)
		}
	}
}

// process is one line of /proc: enough to find a process tree.
type process struct {
	pid, ppid, pgrp int
	comm            string
}

// killFamily SIGKILLs the process group pid leads and every descendant of
// pid outside it, and returns them.
func killFamily(pid int) []process {
	all := processes()
	children := map[int][]process{}
	for _, p := range all {
		children[p.ppid] = append(children[p.ppid], p)
	}
	seen := map[int]bool{}
	var family []process
	var walk func(process)
	walk = func(p process) {
		if seen[p.pid] {
			return
		}
		seen[p.pid] = true
		family = append(family, p)
		for _, c := range children[p.pid] {
			walk(c)
		}
	}
	for _, p := range all {
		if p.pid == pid || p.pgrp == pid {
			walk(p)
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	for _, p := range family {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
	return family
}

// processes lists the live processes; empty where there is no /proc.
func processes() []process {
	entries, _ := os.ReadDir("/proc")
	var out []process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProcess(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

// readProcess parses /proc/PID/stat: "pid (comm) state ppid pgrp ...".
// Zombies count as gone.
func readProcess(pid int) (process, bool) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return process{}, false
	}
	s := string(raw)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return process{}, false
	}
	f := strings.Fields(s[closing+1:])
	if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
		return process{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	pgrp, _ := strconv.Atoi(f[2])
	return process{pid: pid, ppid: ppid, pgrp: pgrp, comm: s[open+1 : closing]}, true
}

func alive(pid int) bool {
	_, ok := readProcess(pid)
	return ok
}

// liveGroupImages maps each member of group name that is not leaving
// (Pending, Pending:Wait or InService) to its image.
func liveGroupImages(ctx context.Context, t *testing.T, name string) (map[string]string, error) {
	return groupImagesWhere(ctx, t, name, func(state string) bool {
		return strings.HasPrefix(state, "Pending") || state == rollout.LifecycleInService
	})
}
