package provider

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

const refresh100Clones = 100

// TestAccClonePool_refresh100 applies a pool of 100 clones, then refreshes
// and plans it with TF_LOG unset and with TF_LOG=DEBUG: every plan succeeds
// and is empty. The emulator answers on one line, so the answers of
// DescribeInstances, DescribeAutoScalingGroups and DescribeTargetHealth run
// far past 64 KiB; aws-sdk-go-base's request logger used to fail those calls
// with "bufio.Scanner: token too long" whenever SDK logging was on, which it
// always is under Terraform (the provider's root logger runs at TRACE) and
// in these tests only with TF_LOG set.
//
// It sets environment variables, so it cannot run in parallel.
func TestAccClonePool_refresh100(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-refresh100")
	testAccCheckSubnetsHold(t, world, refresh100Clones+quarter(refresh100Clones))
	cfg := acctest.ProviderConfig() + scaleConfig(name, world, testAccMasterImage(t, world), refresh100Clones, refresh100Clones)
	logFile := filepath.Join(t.TempDir(), "tf-debug.log")

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t); t.Setenv("TF_LOG", ""); t.Setenv("TF_LOG_PATH", "") },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{
				// The framework refreshes and plans after the apply, with
				// TF_LOG unset: that plan must be empty too.
				Config: cfg,
				Check:  testAccCheckClonePoolHealthy(t, "clone_pool.test", world, refresh100Clones),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("instance_ids"), knownvalue.ListSizeExact(refresh100Clones)),
					statecheck.ExpectKnownValue("clone_pool.test", tfjsonpath.New("healthy_count"), knownvalue.Int64Exact(refresh100Clones)),
				},
			},
			{
				// Refresh and plan with SDK request logging on.
				PreConfig: func() {
					t.Setenv("TF_LOG", "DEBUG")
					t.Setenv("TF_LOG_PATH", logFile)
				},
				Config:   cfg,
				PlanOnly: true, // fails on any error and on a non-empty plan
			},
			{
				// The debug plan logged the big answers, cut short.
				PreConfig: func() {
					t.Setenv("TF_LOG", "")
					t.Setenv("TF_LOG_PATH", "")
					testAccCheckDebugLogBounded(t, logFile)
				},
				Config:   cfg,
				PlanOnly: true, // fails on any error and on a non-empty plan
			},
		},
	})
}

// testAccCheckSubnetsHold fails early when the world's subnets cannot hold
// n more instances (the emulator assigns every clone a private IP).
func testAccCheckSubnetsHold(t *testing.T, world *seed.World, n int) {
	t.Helper()
	out, err := acctest.Client(t).EC2.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{SubnetIds: world.SubnetIDs})
	if err != nil {
		t.Fatalf("describing the world's subnets: %v", err)
	}
	free := 0
	for _, s := range out.Subnets {
		free += int(aws.ToInt32(s.AvailableIpAddressCount))
	}
	if free < n+10 {
		t.Fatalf("the world's subnets %v have %d free addresses; %d clones need more: seed larger subnets", world.SubnetIDs, free, n)
	}
}

// testAccCheckDebugLogBounded proves the TF_LOG=DEBUG plan ran with SDK
// request logging on and that the logged bodies were cut short.
func testAccCheckDebugLogBounded(t *testing.T, logFile string) {
	t.Helper()
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("reading the debug log: %v", err)
	}
	log := string(b)
	for _, want := range []string{"HTTP Response Received", "EC2/DescribeInstances", "Elastic Load Balancing v2/DescribeTargetHealth", "[truncated...]"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the debug log (%d bytes) does not mention %q: SDK request logging was off, so the debug plan proved nothing", len(b), want)
		}
	}
	for line := range strings.SplitSeq(log, "\n") {
		if len(line) > 64<<10 {
			t.Fatalf("a debug log line is %d bytes long: %.200s…", len(line), line)
		}
	}
}
