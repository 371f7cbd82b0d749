//go:build linux

package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/boottest"
	"github.com/cloneserver/terraform-provider-clone/internal/emulator"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
	"github.com/cloneserver/terraform-provider-clone/internal/testlock"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

// testAccBootUserPart is the user's own part of the booted pool.
const testAccBootUserPart = "#!/bin/sh\nset -eu\necho \"user part ran\" >/var/lib/clone-user-part\n"

// The clone's image, prepared before the boot: Debian's MariaDB unit
// shape (mariadb.service with the alias mysql.service), enabled; a
// memcached unit file in /etc/systemd/system, enabled (a unit file there
// blocks "systemctl mask"); and files of the web root the master has since
// deleted, or that are excluded from the sync.
const testAccBootImage = `
cat >/usr/lib/systemd/system/mariadb.service <<'UNIT'
[Unit]
Description=MariaDB database server (boot test)

[Service]
Type=simple
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
Alias=mysql.service
UNIT
cat >/etc/systemd/system/memcached.service <<'UNIT'
[Unit]
Description=memcached (boot test)

[Service]
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
UNIT
SYSTEMD_OFFLINE=1 systemctl enable mariadb.service memcached.service
mkdir -p /var/www/html/cache /var/lib/app/uploads
echo stale >/var/www/html/stale.txt
echo local >/var/www/html/cache/local.tmp
`

// testAccBootDatabase listens on MySQL's port and closes every connection.
const testAccBootDatabase = `import socket
s = socket.create_server(("0.0.0.0", 3306))
while True:
    s.accept()[0].close()
`

// TestAccClonePool_boot boots, for real, the user data clone_pool writes
// into its launch template (issue 11): a pool with a sync policy, the
// master block and a user part is applied, the launch template's user data
// is read back, every part is checked with cloud-init's schema validator,
// shellcheck and systemd-analyze verify, and cloud-init's own stages run it
// against a NoCloud seed inside a "clone" network namespace, against a
// "master" namespace running sshd. See internal/boottest for the sandbox
// and for what is stood in for (systemd as PID 1, the instance metadata
// service, the AWS endpoints' DNS and TLS).
//
// The group's launch hook is left to the clone (the emulator's stand-in
// agent is off for this group): the first sync fails three ways (master
// unreachable, wrong key, a path list from another key rotation) and
// completes nothing; then it succeeds, and the real AWS CLI sends exactly
// one CompleteLifecycleAction(CONTINUE) for the clone to the test cloud.
//
// A clone whose first sync never succeeds is, by design, never completed:
// the agent retries on each timer tick and records why in its status file,
// and when the hook's heartbeat timeout (15 minutes) runs out Auto Scaling
// applies the hook's default result, ABANDON, terminating the clone and
// launching a replacement
// (https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html).
// This test checks the first half (nothing completed, the reason written);
// internal/emulator TestStrict_heartbeatTimeoutAbandons covers the second
// (the emulator applying the default result at the timeout).
func TestAccClonePool_boot(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	boottest.Require(t)
	if acctest.Endpoint() == "" {
		t.Skip("the boot test forwards the clone's AWS CLI calls to a test cloud endpoint; none is set (real AWS)")
	}
	// The master's user database is a bind-mounted copy of /etc/passwd,
	// which another package's useradd would detach.
	testlock.HostUsers(t, true)
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-boot")
	cfg := testAccClonePoolConfig(t, name, world, 1, fmt.Sprintf(`
  wait_for_healthy = false
  user_data        = %q
  sync_policy_id   = clone_sync_policy.test.id
  master {
    instance_id      = %q
    env_file         = "/etc/clone/master.env"
    disable_services = ["mysql", "memcached"]
  }
`, testAccBootUserPart, world.MasterInstanceID)) + fmt.Sprintf(`
resource "clone_sync_policy" "test" {
  name               = %q
  master_instance_id = %q
  interval           = "1m"
  paths = [
    { source = "/srv/app/www", destination = "/var/www/html", exclude = ["cache/", "*.log"], delete = true },
    { source = "/srv/app/uploads", destination = "/var/lib/app/uploads" },
  ]
}
`, name+"-sync", world.MasterInstanceID)

	// Only the clone may complete its hook: no stand-in for this group.
	acctest.StandIn(t, emulator.StandIn{Group: name, Result: "NEVER"})

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(s *terraform.State) error {
				testAccBootClone(t, s, name, world)
				return nil
			},
		}},
	})
}

func testAccBootClone(t *testing.T, s *terraform.State, name string, world *seed.World) {
	client := acctest.Client(t)
	region := client.EC2.Options().Region
	policy := s.RootModule().Resources["clone_sync_policy.test"].Primary.Attributes
	policyName := name + "-sync"
	unit := syncagent.UnitName(policyName)
	statusFile := syncagent.DefaultStatusFile

	doc, err := testAccTemplateUserData(t, name)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := userdata.Split([]byte(doc))
	if err != nil {
		t.Fatalf("decoding the launch template's user data: %v", err)
	}
	instanceID, cloneIP := testAccWaitPendingWait(t, name)
	t.Logf("clone %s (%s) is in Pending:Wait; master %s (%s)", instanceID, cloneIP, world.MasterInstanceID, world.MasterPrivateIP)

	// The two instances' networks, the clone's metadata service and its
	// way to the test cloud.
	nets := boottest.NewNetwork(t, cloneIP, world.MasterPrivateIP)
	imds := &boottest.IMDS{
		InstanceID: instanceID, Region: region, AvailabilityZone: region + "a",
		Role: name + "-clone", AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
	}
	imds.Serve(t, nets.Clone)
	hosts := []string{"ssm." + region + ".amazonaws.com", "autoscaling." + region + ".amazonaws.com", "ec2." + region + ".amazonaws.com"}
	cloud := boottest.NewCloudProxy(t, nets.Clone, acctest.Endpoint(), hosts)

	// The master: its web root, uploads and an sshd for the sync account.
	master := boottest.StartMaster(t, nets.Master, syncagent.DefaultSSHUser)
	for path, content := range map[string]string{
		"/srv/app/www/index.html":       "<h1>master</h1>\n",
		"/srv/app/www/about/team.html":  "team\n",
		"/srv/app/www/cache/page.html":  "cached on the master\n",
		"/srv/app/www/logs/app.log":     "log\n",
		"/srv/app/www/logs/keep.txt":    "keep\n",
		"/srv/app/uploads/photo.jpg":    "jpeg\n",
		"/srv/app/private/secrets.conf": "outside every source\n",
	} {
		master.WriteFile(t, path, content)
	}

	// The master's database: a listener on MySQL's port stands in for
	// mariadbd (the clones must reach it at MASTER_ADDRESS, never run it).
	master.SB.Start(t, boottest.NewLog(), nil, "python3", "-c", testAccBootDatabase)

	clone := boottest.StartClone(t, nets.Clone, boottest.Image{
		Setup: testAccBootImage,
		Hosts: []string{"127.0.0.1 " + strings.Join(hosts, " ")},
		CA:    cloud.CA,
	})
	if t.Failed() {
		return
	}

	// Every part, with the real tools, before anything runs.
	check := boottest.NewChecker(t, clone.SB)
	kinds := map[string]int{}
	for _, p := range parts {
		kinds[p.ContentType]++
		switch p.ContentType {
		case "text/cloud-config":
			cc := check.CloudConfig(t, p.Filename, p.Content)
			for i, raw := range cc.Bootcmd {
				var argv []string
				if json.Unmarshal(raw, &argv) == nil && len(argv) >= 3 && (argv[0] == "sh" || argv[0] == "bash") && argv[1] == "-c" {
					check.Shell(t, fmt.Sprintf("%s-bootcmd-%d.sh", p.Filename, i), argv[2], argv[0])
				}
			}
			for _, f := range cc.WriteFiles {
				if strings.HasPrefix(f.Content, "#!") {
					check.Shell(t, filepath.Base(f.Path), f.Content, "")
				}
			}
		case "text/x-shellscript":
			check.Shell(t, p.Filename, p.Content, "")
		default:
			t.Errorf("part %s has content type %s, which this test does not check", p.Filename, p.ContentType)
		}
	}
	if kinds["text/cloud-config"] != 2 || kinds["text/x-shellscript"] != 1 {
		t.Fatalf("want the master's and the sync agent's cloud-config parts and the user's script, got %v", kinds)
	}

	// The boot: cloud-init's four stages.
	clone.Seed(t, instanceID, []byte(doc))
	bootLog := clone.Boot(t)
	testAccBootResult(t, clone, bootLog)

	// Every unit the boot wrote, and the runcmd script cloud-init made.
	var units []string
	for _, dir := range []string{"/etc/systemd/system", "/run/systemd/system"} {
		entries, _ := os.ReadDir(clone.SB.Path(dir))
		for _, e := range entries {
			if e.Type().IsRegular() && (strings.HasSuffix(e.Name(), ".service") || strings.HasSuffix(e.Name(), ".timer")) &&
				strings.HasPrefix(e.Name(), "clone-") {
				units = append(units, filepath.Join(dir, e.Name()))
			}
		}
	}
	if !slices.Contains(units, "/etc/systemd/system/"+unit+".service") || !slices.Contains(units, "/etc/systemd/system/"+unit+".timer") {
		t.Fatalf("the boot did not install the sync agent's units; found %v\n%s", units, bootLog)
	}
	check.Units(t, units...)
	// (/var/lib/cloud/instance links to this directory with an absolute
	// target, which would resolve on the host through /proc/PID/root.)
	runcmd, err := os.ReadFile(clone.SB.Path("/var/lib/cloud/instances/" + instanceID + "/scripts/runcmd"))
	if err != nil {
		t.Fatalf("cloud-init wrote no runcmd script: %v", err)
	}
	check.Shell(t, "runcmd", string(runcmd), "")

	testAccBootCheckMasterPart(t, clone, world)
	if !strings.Contains(readClone(t, clone, "/var/lib/clone-user-part"), "user part ran") {
		t.Error("the user's part did not run")
	}
	if link, err := os.Readlink(clone.SB.Path("/etc/systemd/system/timers.target.wants/" + unit + ".timer")); err != nil {
		t.Errorf("the sync timer is not enabled: %v", err)
	} else {
		t.Logf("timer enabled: %s", link)
	}

	service := "/etc/systemd/system/" + unit + ".service"
	completions := func() (events, cli int) {
		for _, e := range acctest.Events(t) {
			if e.Instance == instanceID && e.Kind == "lifecycle_action" {
				events++
				if e.Result != "CONTINUE" || e.Detail != "CompleteLifecycleAction" {
					t.Errorf("clone %s: lifecycle action %s by %s, want CONTINUE by CompleteLifecycleAction", instanceID, e.Result, e.Detail)
				}
			}
		}
		for _, c := range cloud.Calls() {
			if c.Action == "CompleteLifecycleAction" {
				cli++
				if !strings.Contains(c.UserAgent, "command/autoscaling.complete-lifecycle-action") || c.Status != 200 {
					t.Errorf("CompleteLifecycleAction: status %d, user agent %q; want 200 from aws autoscaling complete-lifecycle-action", c.Status, c.UserAgent)
				}
			}
		}
		return events, cli
	}
	failing := func(what string, wantCode int, wantReason string) {
		t.Helper()
		// The test plays several failed runs in a row on the test cloud's
		// scaled clock (the hook's 15 minutes are 3 at the default scale):
		// a heartbeat, from the test and not the clone, keeps a slow
		// machine from running the hook out before the good run.
		if _, err := client.AutoScaling.RecordLifecycleActionHeartbeat(context.Background(), &autoscaling.RecordLifecycleActionHeartbeatInput{
			AutoScalingGroupName: aws.String(pool.NamesFor(name).Group), LifecycleHookName: aws.String(pool.FirstSyncHookName(pool.NamesFor(name).Group)),
			InstanceId: aws.String(instanceID),
		}); err != nil {
			t.Fatalf("%s: recording a heartbeat for %s: %v", what, instanceID, err)
		}
		out, code := clone.RunService(t, service)
		st := readBootStatus(t, clone, statusFile)
		switch {
		case code == 0 || (wantCode != 0 && code != wantCode):
			t.Errorf("%s: the agent exited with %d, want %d\n%s", what, code, wantCode, out)
		case st.ExitCode != code || st.Reason == nil || !strings.Contains(*st.Reason, wantReason) || st.LifecycleHook == "completed":
			t.Errorf("%s: status file %s does not say why: %+v (want a reason with %q)\n%s", what, statusFile, st, wantReason, out)
		}
		if ev, cli := completions(); ev != 0 || cli != 0 {
			t.Errorf("%s: the failed first sync completed the lifecycle hook (%d actions, %d CLI calls)", what, ev, cli)
		}
		if tag := testAccInstanceTag(t, instanceID, "clone:first-sync"); st.Reason == nil || tag != *st.Reason {
			t.Errorf("%s: clone:first-sync tag of %s is %q, want the status reason %q\n%s", what, instanceID, tag, aws.ToString(st.Reason), out)
		}
		t.Logf("%s: exit %d, reason %q", what, code, aws.ToString(st.Reason))
	}

	// The first sync at boot (systemd would start the service now): the
	// master is down. rsync then exits with 12 or 255 (here and with the
	// wrong key below), depending on which of its sides notices the closed
	// connection first.
	failing("master unreachable", 0, "exited with")

	// sshd is up but knows another key.
	master.StartSSHD(t)
	_, wrongPub, err := syncagent.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	master.Authorize(t, syncagent.AuthorizedKeyLine(wrongPub, []string{"/srv/app/www", "/srv/app/uploads"}))
	failing("wrong key", 0, "exited with")
	if !strings.Contains(master.SSHDLog(), "Failed publickey") && !strings.Contains(master.SSHDLog(), "Connection closed by authenticating user") {
		t.Errorf("sshd saw no refused key:\n%s", master.SSHDLog())
	}

	// The right key, but a path list written for another key (a run in the
	// middle of a key rotation).
	master.Authorize(t, policy["authorized_key"])
	restore := testAccBootRotatePaths(t, policyName)
	failing("paths from another rotation", 75, "key and path list are from different rotations")
	restore()

	// The first successful sync completes the hook, once.
	out, code := clone.RunService(t, service)
	if code != 0 {
		t.Fatalf("the first good sync exited with %d\n%s\nsshd:\n%s", code, out, master.SSHDLog())
	}
	st := readBootStatus(t, clone, statusFile)
	if st.ExitCode != 0 || st.LastSuccess == nil || st.Reason != nil || st.LifecycleHook != "completed" {
		t.Errorf("status after the first good sync: %+v", st)
	}
	if ev, cli := completions(); ev != 1 || cli != 1 {
		t.Errorf("after the first good sync: %d lifecycle actions for %s and %d CompleteLifecycleAction calls, want exactly 1 of each", ev, instanceID, cli)
	}
	testAccBootCheckFiles(t, clone)

	// A timer tick later: synced again, and still exactly one completion.
	master.WriteFile(t, "/srv/app/www/new.html", "new\n")
	if out, code := clone.RunService(t, service); code != 0 {
		t.Errorf("the second sync exited with %d\n%s", code, out)
	}
	if ev, cli := completions(); ev != 1 || cli != 1 {
		t.Errorf("after the second sync: %d lifecycle actions and %d CompleteLifecycleAction calls, want still 1", ev, cli)
	}
	if readClone(t, clone, "/var/www/html/new.html") != "new\n" {
		t.Error("the second sync did not copy new.html")
	}

	// Every CLI call reached the test cloud, signed as the instance
	// profile, and the completion put the clone in service.
	for _, c := range cloud.Calls() {
		t.Logf("clone AWS call: %s %s %d %s", c.Host, c.Action, c.Status, c.UserAgent)
		if !strings.HasPrefix(c.UserAgent, "aws-cli/") || c.Status != 200 {
			t.Errorf("clone AWS call %s %s: status %d, user agent %q; want 200 from the AWS CLI", c.Host, c.Action, c.Status, c.UserAgent)
		}
	}
	if !slices.ContainsFunc(imds.Paths(), func(p string) bool { return strings.HasSuffix(p, "/iam/security-credentials/"+imds.Role) }) {
		t.Errorf("the AWS CLI did not take the instance profile's credentials from the metadata service: %v", imds.Paths())
	}
	// Nothing of the boot reached this machine's own file system.
	for _, path := range []string{syncagent.ScriptPath(policyName), service, "/var/lib/clone-user-part",
		"/var/lib/cloud/seed/nocloud/user-data", "/var/lib/app/uploads/photo.jpg", "/etc/cloud/cloud.cfg.d/99-boot-test.cfg"} {
		if _, err := os.Lstat(path); err == nil {
			t.Errorf("%s exists on the host: the clone's sandbox leaked", path)
		}
	}
	if state := testAccLifecycleState(t, name, instanceID); state != "InService" {
		t.Errorf("clone %s is %s after completing its hook, want InService", instanceID, state)
	}
}

// testAccWaitPendingWait waits until the pool's one clone waits on its
// launch hook and returns its id and private address.
func testAccWaitPendingWait(t *testing.T, name string) (string, string) {
	t.Helper()
	ctx := context.Background()
	client := acctest.Client(t)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := client.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{pool.NamesFor(name).Group}})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.AutoScalingGroups {
			for _, i := range g.Instances {
				if string(i.LifecycleState) != "Pending:Wait" {
					continue
				}
				id := aws.ToString(i.InstanceId)
				d, err := client.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
				if err != nil || len(d.Reservations) == 0 {
					t.Fatalf("describing clone %s: %v", id, err)
				}
				return id, aws.ToString(d.Reservations[0].Instances[0].PrivateIpAddress)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no clone of %s reached Pending:Wait in 2 minutes: %+v", name, out.AutoScalingGroups)
		}
		time.Sleep(time.Second)
	}
}

// testAccInstanceTag returns the value of tag key on instance id ("" when
// it has none).
func testAccInstanceTag(t *testing.T, id, key string) string {
	t.Helper()
	out, err := acctest.Client(t).EC2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) == 0 {
		t.Fatalf("describing %s: %v", id, err)
	}
	for _, tag := range out.Reservations[0].Instances[0].Tags {
		if aws.ToString(tag.Key) == key {
			return aws.ToString(tag.Value)
		}
	}
	return ""
}

func testAccLifecycleState(t *testing.T, name, instanceID string) string {
	t.Helper()
	out, err := acctest.Client(t).AutoScaling.DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{pool.NamesFor(name).Group}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range out.AutoScalingGroups {
		for _, i := range g.Instances {
			if aws.ToString(i.InstanceId) == instanceID {
				return string(i.LifecycleState)
			}
		}
	}
	return "gone"
}

// testAccBootResult proves cloud-init finished every stage without an
// error (/run/cloud-init/result.json, status.json).
func testAccBootResult(t *testing.T, clone *boottest.Clone, bootLog string) {
	t.Helper()
	var result struct {
		V1 struct {
			Datasource string   `json:"datasource"`
			Errors     []string `json:"errors"`
		} `json:"v1"`
	}
	if err := json.Unmarshal([]byte(readClone(t, clone, "/run/cloud-init/result.json")), &result); err != nil {
		t.Fatalf("cloud-init's result.json: %v\n%s", err, bootLog)
	}
	if len(result.V1.Errors) > 0 || !strings.Contains(result.V1.Datasource, "NoCloud") {
		t.Errorf("cloud-init finished with errors %v (datasource %s)\n%s", result.V1.Errors, result.V1.Datasource, bootLog)
	}
	var status struct {
		V1 map[string]json.RawMessage `json:"v1"`
	}
	if err := json.Unmarshal([]byte(readClone(t, clone, "/run/cloud-init/status.json")), &status); err != nil {
		t.Fatalf("cloud-init's status.json: %v", err)
	}
	for _, stage := range []string{"init-local", "init", "modules-config", "modules-final"} {
		var st struct {
			Errors   []string `json:"errors"`
			Finished *float64 `json:"finished"`
		}
		if err := json.Unmarshal(status.V1[stage], &st); err != nil || st.Finished == nil || len(st.Errors) > 0 {
			t.Errorf("cloud-init stage %s: finished %v, errors %v (%v)\n%s", stage, st.Finished != nil, st.Errors, err, bootLog)
		}
	}
	if log := readClone(t, clone, "/var/log/cloud-init.log"); strings.Contains(log, "[WARNING]") {
		var warnings []string
		for _, l := range strings.Split(log, "\n") {
			if strings.Contains(l, "[WARNING]") {
				warnings = append(warnings, l)
			}
		}
		t.Errorf("cloud-init logged warnings:\n%s", strings.Join(warnings, "\n"))
	}
}

// testAccBootCheckMasterPart proves the env file and the disabled services.
func testAccBootCheckMasterPart(t *testing.T, clone *boottest.Clone, world *seed.World) {
	t.Helper()
	want := fmt.Sprintf("MASTER_ADDRESS=%s\nMASTER_INSTANCE_ID=%s\n", world.MasterPrivateIP, world.MasterInstanceID)
	if got := readClone(t, clone, "/etc/clone/master.env"); got != want {
		t.Errorf("/etc/clone/master.env is %q, want %q", got, want)
	}
	if st, err := os.Stat(clone.SB.Path("/etc/clone/master.env")); err == nil && st.Mode().Perm() != 0o644 {
		t.Errorf("/etc/clone/master.env has mode %v, want 0644", st.Mode().Perm())
	}

	// The database stays on the master, where the env file points.
	reach := `. /etc/clone/master.env && exec 3<>"/dev/tcp/$MASTER_ADDRESS/3306"`
	if out, err := clone.SB.Run(t.Context(), nil, "bash", "-c", reach); err != nil {
		t.Errorf("the clone cannot reach the master's database at MASTER_ADDRESS:3306: %v %s", err, out)
	}

	// mysql is an alias: the real unit, mariadb.service, is disabled and
	// masked, and the alias link is gone with the disable.
	if out := strings.TrimSpace(clone.SB.Output(t, boottest.BootEnv, "systemctl", "is-enabled", "mariadb.service")); out != "masked" {
		t.Errorf("systemctl is-enabled mariadb.service: %q, want masked", out)
	}
	if link, err := os.Readlink(clone.SB.Path("/etc/systemd/system/mariadb.service")); err != nil || link != "/dev/null" {
		t.Errorf("mariadb.service is not masked: %q %v", link, err)
	}
	for _, gone := range []string{"/etc/systemd/system/multi-user.target.wants/mariadb.service", "/etc/systemd/system/mysql.service",
		"/etc/systemd/system/multi-user.target.wants/memcached.service"} {
		if _, err := os.Lstat(clone.SB.Path(gone)); err == nil {
			t.Errorf("%s is still there: the service is still enabled", gone)
		}
	}
	// memcached's unit file lives in /etc/systemd/system, which blocks the
	// mask: it is disabled and refused for this boot by a runtime drop-in.
	dropIn := readClone(t, clone, "/run/systemd/system/memcached.service.d/50-clone-disable.conf")
	if !strings.Contains(dropIn, "RefuseManualStart=yes") || !strings.Contains(dropIn, "ConditionNull=false") {
		t.Errorf("memcached.service has no runtime drop-in refusing it: %q", dropIn)
	}
}

// testAccBootCheckFiles proves the clone holds the master's files, with
// excludes and deletes honoured.
func testAccBootCheckFiles(t *testing.T, clone *boottest.Clone) {
	t.Helper()
	for path, want := range map[string]string{
		"/var/www/html/index.html":       "<h1>master</h1>\n",
		"/var/www/html/about/team.html":  "team\n",
		"/var/www/html/logs/keep.txt":    "keep\n",
		"/var/www/html/cache/local.tmp":  "local\n", // excluded: kept though delete is on
		"/var/lib/app/uploads/photo.jpg": "jpeg\n",
	} {
		if got := readClone(t, clone, path); got != want {
			t.Errorf("%s is %q, want %q", path, got, want)
		}
	}
	for _, gone := range []string{"/var/www/html/stale.txt", "/var/www/html/cache/page.html", "/var/www/html/logs/app.log",
		"/var/lib/app/uploads/private", "/var/www/html/private"} {
		if _, err := os.Lstat(clone.SB.Path(gone)); err == nil {
			t.Errorf("%s exists on the clone (deleted on the master, excluded or outside every source)", gone)
		}
	}
}

// testAccBootRotatePaths rewrites the policy's path list as if written for
// another key, and returns a function restoring it.
func testAccBootRotatePaths(t *testing.T, policyName string) func() {
	t.Helper()
	ctx := context.Background()
	api := acctest.Client(t).SSM
	param := syncstore.NamesOf(policyName).PathsParameter
	out, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	orig := aws.ToString(out.Parameter.Value)
	var doc map[string]any
	if err := json.Unmarshal([]byte(orig), &doc); err != nil {
		t.Fatalf("path list %s: %v", param, err)
	}
	other, _, err := syncagent.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if doc["key_fingerprint"], err = syncagent.PrivateKeyFingerprint(other); err != nil {
		t.Fatal(err)
	}
	rotated, _ := json.Marshal(doc)
	put := func(v string) {
		if _, err := api.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(param), Value: aws.String(v), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)}); err != nil {
			t.Fatalf("writing path list %s: %v", param, err)
		}
	}
	put(string(rotated))
	return func() { put(orig) }
}

type bootStatus struct {
	ExitCode      int     `json:"exit_code"`
	LastSuccess   *string `json:"last_success"`
	LifecycleHook string  `json:"lifecycle_hook"`
	Reason        *string `json:"reason"`
}

func readBootStatus(t *testing.T, clone *boottest.Clone, path string) bootStatus {
	t.Helper()
	var s bootStatus
	b := readClone(t, clone, path)
	if err := json.Unmarshal([]byte(b), &s); err != nil {
		t.Fatalf("status file %s: %v\n%s", path, err, b)
	}
	return s
}

func readClone(t *testing.T, clone *boottest.Clone, path string) string {
	t.Helper()
	b, err := os.ReadFile(clone.SB.Path(path))
	if err != nil {
		t.Errorf("reading %s on the clone: %v", path, err)
		return ""
	}
	return string(b)
}
