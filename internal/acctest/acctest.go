// Package acctest runs acceptance tests against an AWS-compatible endpoint:
// the bundled moto emulator, started and stopped by the test binary itself,
// or an endpoint you name (LocalStack, or real AWS when CLONE_ACC_REAL_AWS=1).
package acctest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/emulator"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

// NamePrefix starts the name of everything an acceptance test creates; the
// sweeper deletes only objects whose name or tag starts with it.
const NamePrefix = "tf-acc-test-"

// Region is the region tests run in unless AWS_REGION says otherwise.
const Region = "us-east-1"

var (
	endpoint string
	worldsMu sync.Mutex
	worlds   = map[string]*seed.World{}
)

// Main prepares the test cloud and runs the tests. Without TF_ACC it only
// runs the unit tests: nothing is started or seeded.
func Main(m *testing.M) int {
	flag.Parse()
	if f := flag.Lookup("sweep"); f != nil && f.Value.String() != "" {
		// Sweepers run against the cloud you point them at
		// (CLONE_ACC_ENDPOINT or real AWS); they delete only tf-acc-test-*.
		resource.TestMain(m)
		return 0
	}
	if err := findTerraform(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if os.Getenv("TF_ACC") == "" {
		return m.Run()
	}
	stop, err := setup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "acceptance test setup: %s\n", err)
		return 1
	}
	defer stop()
	code := m.Run()
	if err := checkNoViolations(); err != nil {
		fmt.Fprintf(os.Stderr, "acceptance tests: %s\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// checkNoViolations fails the whole run when the strict emulator saw an
// instance terminated while a load balancer still routed to it or drained it
// (in-flight requests cut on AWS), whichever test did it.
func checkNoViolations() error {
	if !bundledEmulator() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := emulator.Config(ctx, endpoint); err != nil {
		return nil // the strict layer is off
	}
	events, err := emulator.Events(ctx, endpoint)
	if err != nil {
		return fmt.Errorf("reading the strict emulator's events: %w", err)
	}
	if bad := emulator.Violations(events); len(bad) > 0 {
		return fmt.Errorf("%d instances were terminated while still serving: %v", len(bad), bad)
	}
	fmt.Fprintf(os.Stderr, "strict emulator: %d events, no instance terminated while still serving\n", len(events))
	return nil
}

// Events returns what the strict emulator recorded so far (nil when the
// strict layer is off or the tests run elsewhere).
func Events(t testing.TB) []emulator.Event {
	t.Helper()
	if !bundledEmulator() {
		return nil
	}
	events, err := emulator.Events(context.Background(), endpoint)
	if err != nil {
		t.Fatalf("reading the strict emulator's events: %s", err)
	}
	return events
}

// StandIn programs the clone stand-in for group (see emulator.StandIn); it
// skips the test when the cloud under test has none.
func StandIn(t testing.TB, s emulator.StandIn) {
	t.Helper()
	if !bundledEmulator() {
		t.Skip("the clone stand-in exists only in the strict emulator")
	}
	if err := emulator.SetStandIn(context.Background(), endpoint, s); err != nil {
		t.Fatalf("programming the clone stand-in: %s", err)
	}
}

func setup() (func(), error) {
	setDefault("AWS_REGION", Region)
	setDefault("AWS_EC2_METADATA_DISABLED", "true")
	setDefault("CHECKPOINT_DISABLE", "1")

	if os.Getenv("CLONE_ACC_REAL_AWS") == "1" {
		return func() {}, nil
	}
	setDefault("AWS_ACCESS_KEY_ID", "test")
	setDefault("AWS_SECRET_ACCESS_KEY", "test")
	if ep := os.Getenv("CLONE_ACC_ENDPOINT"); ep != "" {
		endpoint = ep
		os.Setenv("AWS_ENDPOINT_URL", ep)
		return func() {}, nil
	}

	// The strict layer runs AWS's timing at this factor (emulator.EnvTimeScale).
	setDefault(emulator.EnvTimeScale, DefaultTimeScale)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logFile, err := os.CreateTemp("", "clone-acc-moto-*.log")
	if err != nil {
		return nil, err
	}
	srv, err := emulator.Start(ctx, emulator.Options{Port: emulator.AnyPort, CacheDir: repoCacheDir(), Log: logFile})
	if err != nil {
		logFile.Close()
		return nil, err
	}
	endpoint = srv.Endpoint
	os.Setenv("AWS_ENDPOINT_URL", endpoint)
	fmt.Fprintf(os.Stderr, "acceptance tests use the moto emulator at %s (log: %s)\n", endpoint, logFile.Name())
	return func() {
		_ = srv.Stop()
		logFile.Close()
	}, nil
}

// findTerraform points the testing framework at a local Terraform or
// OpenTofu binary so it never tries to download one.
func findTerraform() error {
	if os.Getenv("TF_ACC_TERRAFORM_PATH") != "" {
		return nil
	}
	for _, name := range []string{"terraform", "tofu"} {
		if bin, err := exec.LookPath(name); err == nil {
			os.Setenv("TF_ACC_TERRAFORM_PATH", bin)
			return nil
		}
	}
	return fmt.Errorf("no terraform or tofu on PATH and TF_ACC_TERRAFORM_PATH unset: install Terraform >= 1.11 or OpenTofu")
}

// bundledEmulator tells whether the tests run against the emulator the test
// binary started (strict unless CLONE_EMULATOR_STRICT=off), not against
// real AWS or a named endpoint.
func bundledEmulator() bool {
	return endpoint != "" && os.Getenv("CLONE_ACC_ENDPOINT") == ""
}

// DefaultTimeScale is the strict emulator's time factor in acceptance tests
// unless CLONE_EMULATOR_TIME_SCALE says otherwise: a 10 s deregistration
// delay drains in 2 s.
const DefaultTimeScale = "0.2"

// TimeScale is the factor the test cloud applies to AWS's durations: 1 on
// real AWS or a named endpoint, the strict emulator's factor otherwise.
func TimeScale() float64 {
	if !bundledEmulator() {
		return 1
	}
	return emulator.TimeScaleFromEnv(1)
}

// Endpoint is the AWS-compatible endpoint under test; empty on real AWS.
func Endpoint() string { return endpoint }

// SkipUnlessAcc skips an acceptance test when TF_ACC is unset, before it
// touches any cloud.
func SkipUnlessAcc(t testing.TB) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc) to run it against the emulator")
	}
}

// PreCheck fails fast when the acceptance environment is incomplete.
func PreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		t.Fatal("TF_ACC_TERRAFORM_PATH is not set: run the tests through acctest.Main")
	}
}

// RandomName returns NamePrefix followed by n random hex characters.
func RandomName(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return NamePrefix + hex.EncodeToString(b)[:n]
}

// AWSConfig is the SDK configuration tests use to check the cloud directly.
func AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region()))
	if err != nil {
		t.Fatalf("loading AWS config: %s", err)
	}
	return cfg
}

// Client returns service clients for checks made outside Terraform.
func Client(t testing.TB) *conns.AWSClient {
	t.Helper()
	return conns.New(AWSConfig(t), conns.Endpoints{}, nil)
}

// World seeds (once per name per test binary) the single-server system the
// pattern starts from: VPC, subnets, master instance, ALB and classic ELB.
// Tests that register instances use a world of their own so health counts do
// not mix.
func World(t testing.TB, name string) *seed.World {
	t.Helper()
	SkipUnlessAcc(t)
	worldsMu.Lock()
	defer worldsMu.Unlock()
	if w, ok := worlds[name]; ok {
		return w
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w, err := seed.Run(ctx, AWSConfig(t), name)
	if err != nil {
		t.Fatalf("seeding world %s: %s", name, err)
	}
	worlds[name] = w
	return w
}

// ProviderConfig is the provider block acceptance configurations start with.
func ProviderConfig() string {
	return fmt.Sprintf("provider \"clone\" {\n  region = %q\n}\n", region())
}

func region() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	return Region
}

func setDefault(key, value string) {
	if os.Getenv(key) == "" {
		os.Setenv(key, value)
	}
}

// repoCacheDir finds the repository's ignored .cache directory from the
// package directory a test runs in.
func repoCacheDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".cache")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
