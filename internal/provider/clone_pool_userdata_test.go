package provider

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

// userDataLimit is EC2's limit on user data, in raw form before base64:
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html
const userDataLimit = 16384

// TestAccClonePool_userDataFits is the regression test of issue 8: a pool
// with a sync policy, the master block and a 4,000-byte user part must store
// user data that EC2 accepts (at most 16,384 bytes before base64), and every
// part must survive the trip.
func TestAccClonePool_userDataFits(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-udfits")
	user := testAccNoisyUserPart(4000, 8)
	cfg := testAccClonePoolConfig(t, name, world, 1, testAccUserDataAll(world, user)) +
		testAccSyncPolicyConfig(name, world, "5m")

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				testAccCheckClonePoolUserDataFits(t, name, userDataLimit),
				func(*terraform.State) error {
					doc, err := testAccTemplateUserData(t, name)
					if err != nil {
						return err
					}
					parts, err := userdata.Parse(doc)
					switch {
					case err != nil:
						return err
					case parts.User != user:
						return fmt.Errorf("the user part did not survive: %d bytes, want %d", len(parts.User), len(user))
					case parts.EnvFile != "/etc/clone/master.env" || len(parts.DisableServices) != 2:
						return fmt.Errorf("master part: env file %q, disabled services %v", parts.EnvFile, parts.DisableServices)
					case !strings.Contains(testAccGunzip(doc), "CS_LIFECYCLE_HOOK_NAME="+name+"-first-sync\n"):
						return fmt.Errorf("the sync agent's hook line is not plain text in the decompressed user data")
					}
					return nil
				},
			),
		}, {
			// Rendered again, the user data is the same: nothing to do.
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
		}},
	})
}

// TestAccClonePool_userDataTooLarge plans pools whose incompressible user
// part cannot fit beside the pool's own parts: first with a sync policy the
// same plan creates (its agent estimated), then with one that exists. Both
// plans fail on user_data with the sizes, and no launch template is made.
func TestAccClonePool_userDataTooLarge(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-udlarge")
	user := testAccNoisyUserPart(16000, 9)
	poolCfg := testAccClonePoolConfig(t, name, world, 1, testAccUserDataAll(world, user))
	policy := testAccSyncPolicyConfig(name, world, "5m")
	tooLarge := func(about string) *regexp.Regexp {
		return regexp.MustCompile(`(?s)user_data.*` + words(`user data would be `+about+`\d+ bytes gzip-compressed, over EC2's limit of 16384 bytes`) +
			`.*` + words(`own share (master settings and sync agent) is `+about+`\d+ bytes, which leaves `+about+`\d+ bytes for user_data`))
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{
			{Config: poolCfg + policy, PlanOnly: true, ExpectError: tooLarge(`about `)},
			{Config: policy, Check: testAccCheckNoLaunchTemplate(t, name)},
			{Config: poolCfg + policy, PlanOnly: true, ExpectError: tooLarge(``)},
			{Config: policy, Check: testAccCheckNoLaunchTemplate(t, name)},
		},
	})
}

// words turns a phrase into a regular expression that matches it across
// the line breaks Terraform wraps diagnostics with.
func words(phrase string) string {
	fields := strings.Fields(phrase)
	for i, f := range fields {
		fields[i] = strings.NewReplacer(`(`, `\(`, `)`, `\)`, `.`, `\.`).Replace(f)
	}
	return strings.Join(fields, `\s+`)
}

func testAccCheckNoLaunchTemplate(t *testing.T, name string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, _, err := pool.FindTemplateByName(context.Background(), acctest.Client(t).EC2, pool.NamesFor(name).LaunchTemplate)
		if !notfound.Is(err) {
			return fmt.Errorf("launch template %s exists after a plan that failed (%v)", name, err)
		}
		return nil
	}
}

// TestPlannedUserDataSize proves the plan sizes the user data as the apply
// will render it: the master's part with stand-ins, and a sync policy's
// agent estimated before the policy exists, are within a few bytes.
func TestPlannedUserDataSize(t *testing.T) {
	const poolName = "tf-acc-test-0123abcd"
	services, _ := types.ListValue(types.StringType, []attr.Value{types.StringValue("mysql"), types.StringValue("postgresql")})
	plan := &clonePoolResourceModel{
		Name: types.StringValue(poolName),
		Master: &clonePoolMasterModel{
			InstanceID: types.StringUnknown(), EnvFile: types.StringValue("/etc/clone/master.env"), DisableServices: services,
		},
	}
	names := syncstore.NamesOf(poolName + "-sync")
	known, err := poolAgentPart(poolName, syncagent.Policy{
		Name: poolName + "-sync", Interval: 5 * time.Minute, PathsParameter: names.PathsParameter, KeyParameter: names.KeyParameter,
	}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	estimate, err := placeholderAgentPart(poolName)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := pool.MasterParts((&clonePoolMasterModel{
		InstanceID: types.StringValue("i-0123456789abcdef0"), EnvFile: types.StringValue("/etc/clone/master.env"), DisableServices: services,
	}).expand(context.Background()), pool.Master{ID: "i-0123456789abcdef0", PrivateIP: "10.0.1.23"})
	if err != nil {
		t.Fatal(err)
	}
	applied = append(applied, known)

	for _, size := range []int{0, 4000, 16000} {
		user := testAccNoisyUserPart(size, 8)
		if size == 0 {
			user = ""
		}
		want, err := userdata.Measure(applied, user)
		if err != nil {
			t.Fatal(err)
		}
		for what, agent := range map[string]userdata.Part{"known policy": known, "estimated policy": estimate} {
			parts, err := plannedUserDataParts(plan, &agent)
			if err != nil {
				t.Fatal(err)
			}
			got, err := userdata.Measure(parts, user)
			if err != nil {
				t.Fatal(err)
			}
			if d := got.Total - want.Total; d < -64 || d > 64 || got.Fits() != want.Fits() {
				t.Errorf("%d-byte user part, %s: planned %+v, applied %+v", size, what, got, want)
			}
		}
		t.Logf("%d-byte user part: %d bytes, pool's own share %d", size, want.Total, want.Pool)
		if fits := size <= 4000; want.Fits() != fits {
			t.Errorf("%d-byte user part: fits = %v, want %v", size, want.Fits(), fits)
		}
	}
}

func TestNoisyUserPart(t *testing.T) {
	for _, n := range []int{100, 4000, 16000} {
		if got := len(testAccNoisyUserPart(n, 8)); got != n {
			t.Errorf("testAccNoisyUserPart(%d) is %d bytes", n, got)
		}
	}
}

// testAccUserDataAll gives a pool every kind of user data part: the
// master's env file and disabled services, the sync agent and user.
func testAccUserDataAll(world *seed.World, user string) string {
	return fmt.Sprintf(`
  user_data      = %q
  sync_policy_id = clone_sync_policy.test.id
  master {
    instance_id      = %q
    env_file         = "/etc/clone/master.env"
    disable_services = ["mysql", "postgresql"]
  }
`, user, world.MasterInstanceID)
}

// testAccNoisyUserPart returns a shell script of exactly size bytes whose
// bulk is pseudo-random base64 text (from a fixed seed) in a heredoc, so it
// compresses about as badly as real user data can.
func testAccNoisyUserPart(size int, seed uint64) string {
	const head = "#!/bin/sh\ncat >/dev/null <<'CLONE_NOISE'\n"
	const tail = "CLONE_NOISE\n"
	rng := rand.New(rand.NewPCG(seed, seed))
	raw := make([]byte, size)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	noise := base64.StdEncoding.EncodeToString(raw)
	var b strings.Builder
	b.WriteString(head)
	for b.Len() < size-len(tail) {
		n := min(76, size-len(tail)-b.Len()-1, len(noise))
		if n <= 0 {
			b.WriteString("\n")
			continue
		}
		b.WriteString(noise[:n])
		b.WriteString("\n")
		noise = noise[n:]
	}
	b.WriteString(tail)
	return b.String()
}

// testAccTemplateUserData returns the user data of the latest version of
// the pool's launch template as EC2 stores it, base64-decoded.
func testAccTemplateUserData(t *testing.T, name string) (string, error) {
	out, err := acctest.Client(t).EC2.DescribeLaunchTemplateVersions(context.Background(), &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String(pool.NamesFor(name).LaunchTemplate), Versions: []string{"$Latest"},
	})
	if err != nil {
		return "", err
	}
	if len(out.LaunchTemplateVersions) != 1 {
		return "", fmt.Errorf("launch template %s: %d latest versions", name, len(out.LaunchTemplateVersions))
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.LaunchTemplateVersions[0].LaunchTemplateData.UserData))
	if err != nil {
		return "", fmt.Errorf("launch template %s: decoding user data: %w", name, err)
	}
	return string(raw), nil
}

// testAccGunzip returns doc decompressed when it is gzip data, else doc.
func testAccGunzip(doc string) string {
	r, err := gzip.NewReader(strings.NewReader(doc))
	if err != nil {
		return doc
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return doc
	}
	return b.String()
}

func testAccCheckClonePoolUserDataFits(t *testing.T, name string, limit int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		doc, err := testAccTemplateUserData(t, name)
		if err != nil {
			return err
		}
		t.Logf("launch template user data of pool %s: %d bytes decoded (%d bytes uncompressed)", name, len(doc), len(testAccGunzip(doc)))
		if len(doc) > limit {
			return fmt.Errorf("launch template user data is %d bytes decoded, over EC2's limit of %d", len(doc), limit)
		}
		return nil
	}
}
