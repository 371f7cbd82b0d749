package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
)

const testAccSyncWorld = "tf-acc-test-sync"

var (
	fingerprintPattern = regexp.MustCompile(`^SHA256:[A-Za-z0-9+/]{43}$`)
	syncResource       = "clone_sync_policy.test"
)

func authorizedKeyPattern(root string) *regexp.Regexp {
	return regexp.MustCompile(`^command="rrsync -ro ` + regexp.QuoteMeta(root) +
		`",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+ clone-sync$`)
}

func testAccCloneSyncPolicyConfig(name, master, paths, extra string) string {
	return fmt.Sprintf(`
resource "clone_sync_policy" "test" {
  name               = %q
  master_instance_id = %q
  paths              = %s
%s
}
`, name, master, paths, extra)
}

const testAccSyncPathsWWW = `[{
    source      = "/srv/app/www"
    destination = "/var/www"
  }]`

func TestAccCloneSyncPolicy_basic(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, testAccSyncWorld)
	calls := newSSMRecorder(t)
	paths := `[
    { source = "/srv/app/www", destination = "/var/www", exclude = ["*.tmp", "cache/"], delete = true },
    { source = "/srv/app/uploads", destination = "/srv/uploads" },
  ]`
	cfg := calls.providerConfig() + testAccCloneSyncPolicyConfig(name, world.MasterInstanceID, paths, `
  interval             = "2m"
  bandwidth_limit_kbps = 800
  install_on_master    = true
  tags                 = { env = "test" }
`)
	var rec syncstore.Record

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			testAccCheckCloneSyncPolicyDestroy(t),
			// Destroy revokes the key on the master.
			func(*terraform.State) error {
				if n := len(calls.SendCommands(syncstore.KeyCommandComment + name)); n != 2 {
					return fmt.Errorf("%d key commands after destroy, want install + revoke", n)
				}
				return testAccCheckSyncKeyRevoked(calls, name, &rec)(nil)
			},
		),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneSyncPolicyExists(t, syncResource, &rec),
					testAccCheckSyncPaths(t, name, `{"version":2,"root":"/srv/app","key_fingerprint":"{fp}","paths":[`+
						`{"source":"/srv/app/www","destination":"/var/www","exclude":["*.tmp","cache/"],"delete":true},`+
						`{"source":"/srv/app/uploads","destination":"/srv/uploads","exclude":[],"delete":false}]}`),
					testAccCheckSyncKeyCommands(calls, name, world.MasterInstanceID, 1),
					testAccCheckSyncNowCommands(t, calls, name, 0, nil),
					func(s *terraform.State) error {
						attrs := s.RootModule().Resources[syncResource].Primary.Attributes
						if rec.PublicKey == "" || !strings.Contains(attrs["authorized_key"], strings.Fields(rec.PublicKey)[1]) {
							return fmt.Errorf("authorized_key %q does not carry the stored public key %q", attrs["authorized_key"], rec.PublicKey)
						}
						if rec.MasterAddress != world.MasterPrivateIP {
							return fmt.Errorf("stored master address %q, want %q", rec.MasterAddress, world.MasterPrivateIP)
						}
						return nil
					},
				),
				ConfigStateChecks: []statecheck.StateCheck{
					noPrivateKeyCheck{t: t, name: name},
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("master_address"), knownvalue.StringExact(world.MasterPrivateIP)),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("sync_root"), knownvalue.StringExact("/srv/app")),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("authorized_key"), knownvalue.StringRegexp(authorizedKeyPattern("/srv/app"))),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("key_fingerprint"), knownvalue.StringRegexp(fingerprintPattern)),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("agent_sha256"), knownvalue.StringRegexp(sha256HexRegexp)),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("private_key_parameter"), knownvalue.StringExact("/clone-sync/"+name+"/private-key")),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("paths_parameter"), knownvalue.StringExact("/clone-sync/"+name+"/paths")),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("policy_parameter"), knownvalue.StringExact("/clone-sync/"+name+"/policy")),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("document_name"), knownvalue.StringExact("clone-sync-"+name)),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("ssh_user"), knownvalue.StringExact("clone-sync")),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("ssh_port"), knownvalue.Int64Exact(22)),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("paths").AtSliceIndex(1).AtMapKey("delete"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("paths").AtSliceIndex(1).AtMapKey("exclude"), knownvalue.Null()),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("tags_all"),
						knownvalue.MapExact(map[string]knownvalue.Check{"env": knownvalue.StringExact("test")})),
				},
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccCloneSyncPolicy_update changes paths in place: "sync now" reaches
// exactly the instances tagged with the policy, a tag change sends nothing,
// and a new sync root rotates the key on the master.
func TestAccCloneSyncPolicy_update(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, testAccSyncWorld)
	calls := newSSMRecorder(t)
	cfg := func(paths, extra string) string {
		return calls.providerConfig() + testAccCloneSyncPolicyConfig(name, world.MasterInstanceID, paths, extra)
	}
	clone := testAccRunTaggedInstance(t, world.MasterInstanceID, world.SubnetIDs[0], name)
	testAccRunTaggedInstance(t, world.MasterInstanceID, world.SubnetIDs[0], name+"-other")
	sameKey := statecheck.CompareValue(compare.ValuesSame())
	newKey := statecheck.CompareValue(compare.ValuesDiffer())
	keyAt := func(c interface {
		AddStateValue(string, tfjsonpath.Path) statecheck.StateCheck
	}) statecheck.StateCheck {
		return c.AddStateValue(syncResource, tfjsonpath.New("key_fingerprint"))
	}
	var first, second syncstore.Record

	www := `[{ source = "/srv/app/www", destination = "/var/www", exclude = ["*.tmp"], delete = true }]`
	wwwAndUploads := `[
    { source = "/srv/app/www", destination = "/var/www", exclude = ["*.tmp"], delete = true },
    { source = "/srv/app/uploads", destination = "/srv/uploads" },
  ]`
	installed := "  install_on_master = true\n"

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneSyncPolicyDestroy(t),
		Steps: []resource.TestStep{
			{
				Config:            cfg(testAccSyncPathsWWW, installed),
				Check:             testAccCheckCloneSyncPolicyExists(t, syncResource, &first),
				ConfigStateChecks: []statecheck.StateCheck{keyAt(sameKey)},
			},
			{
				Config: cfg(www, installed),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(syncResource, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(syncResource, tfjsonpath.New("key_fingerprint"), knownvalue.StringRegexp(fingerprintPattern)),
					plancheck.ExpectKnownValue(syncResource, tfjsonpath.New("agent_sha256"), knownvalue.StringRegexp(sha256HexRegexp)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckSyncPaths(t, name, `{"version":2,"root":"/srv/app/www","key_fingerprint":"{fp}","paths":[`+
						`{"source":"/srv/app/www","destination":"/var/www","exclude":["*.tmp"],"delete":true}]}`),
					testAccCheckSyncNowCommands(t, calls, name, 1, []string{clone}),
					testAccCheckSyncKeyCommands(calls, name, world.MasterInstanceID, 1),
				),
				ConfigStateChecks: []statecheck.StateCheck{keyAt(sameKey)},
			},
			{
				Config: cfg(www, installed+`  tags = { team = "web" }`),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckSyncNowCommands(t, calls, name, 1, nil),
					testAccCheckSyncTags(t, name, map[string]string{"team": "web"}),
				),
				ConfigStateChecks: []statecheck.StateCheck{keyAt(sameKey), keyAt(newKey)},
			},
			{
				// /srv/app/uploads moves the root from /srv/app/www up to /srv/app.
				Config: cfg(wwwAndUploads, installed+`  tags = { team = "web" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(syncResource, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(syncResource, tfjsonpath.New("key_fingerprint")),
					plancheck.ExpectKnownValue(syncResource, tfjsonpath.New("sync_root"), knownvalue.StringExact("/srv/app")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckSyncNowCommands(t, calls, name, 2, []string{clone}),
					testAccCheckSyncKeyCommands(calls, name, world.MasterInstanceID, 2),
					testAccCheckSyncKeyRevoked(calls, name, &first),
					testAccCheckSyncPathsNameKey(t, name, &first),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					keyAt(newKey),
					noPrivateKeyCheck{t: t, name: name},
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("authorized_key"), knownvalue.StringRegexp(authorizedKeyPattern("/srv/app"))),
					recordCheck{t: t, name: name, rec: &second},
				},
			},
			{
				Config: cfg(wwwAndUploads, installed+`  tags = { team = "web" }
  rotate_key_trigger = "2026-12"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(syncResource, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(syncResource, tfjsonpath.New("key_fingerprint")),
					plancheck.ExpectKnownValue(syncResource, tfjsonpath.New("agent_sha256"), knownvalue.StringRegexp(sha256HexRegexp)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckSyncKeyCommands(calls, name, world.MasterInstanceID, 3),
					testAccCheckSyncNowCommands(t, calls, name, 3, []string{clone}),
					testAccCheckSyncPathsNameKey(t, name, &second),
				),
				ConfigStateChecks: []statecheck.StateCheck{keyAt(newKey), noPrivateKeyCheck{t: t, name: name}},
			},
		},
	})
}

func TestAccCloneSyncPolicy_disappears(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, testAccSyncWorld)
	calls := newSSMRecorder(t)
	cfg := calls.providerConfig() + testAccCloneSyncPolicyConfig(name, world.MasterInstanceID, testAccSyncPathsWWW, "")
	names := syncstore.NamesOf(name)
	sameKey := statecheck.CompareValue(compare.ValuesSame())
	newKey := statecheck.CompareValue(compare.ValuesDiffer())
	keptKey := statecheck.CompareValue(compare.ValuesSame())
	keyAt := func(c interface {
		AddStateValue(string, tfjsonpath.Path) statecheck.StateCheck
	}) statecheck.StateCheck {
		return c.AddStateValue(syncResource, tfjsonpath.New("key_fingerprint"))
	}
	var rec syncstore.Record
	ssmClient := func() *ssm.Client { return acctest.Client(t).SSM }
	deleteParameter := func(p string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			_, err := ssmClient().DeleteParameter(context.Background(), &ssm.DeleteParameterInput{Name: aws.String(p)})
			return err
		}
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneSyncPolicyDestroy(t),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneSyncPolicyExists(t, syncResource, &rec),
					deleteParameter(names.PathsParameter),
					func(*terraform.State) error {
						_, err := ssmClient().DeleteDocument(context.Background(), &ssm.DeleteDocumentInput{Name: aws.String(names.Document)})
						return err
					},
				),
				ConfigStateChecks:  []statecheck.StateCheck{keyAt(sameKey)},
				ExpectNonEmptyPlan: true,
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(syncResource, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(syncResource, tfjsonpath.New("key_fingerprint"), knownvalue.StringRegexp(fingerprintPattern)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneSyncPolicyExists(t, syncResource, &rec),
					testAccCheckSyncNowCommands(t, calls, name, 1, nil),
					deleteParameter(names.KeyParameter),
				),
				ConfigStateChecks:  []statecheck.StateCheck{keyAt(sameKey), keyAt(newKey)},
				ExpectNonEmptyPlan: true,
			},
			{
				// A deleted private key is a rotation, shown in the plan.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(syncResource, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(syncResource, tfjsonpath.New("key_fingerprint")),
					plancheck.ExpectKnownValue(syncResource, tfjsonpath.New("private_key_parameter"), knownvalue.StringExact(names.KeyParameter)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneSyncPolicyExists(t, syncResource, &rec),
					deleteParameter(names.PolicyParameter),
				),
				ConfigStateChecks:  []statecheck.StateCheck{keyAt(newKey)},
				ExpectNonEmptyPlan: true,
			},
			{
				// Without its policy parameter, its key, paths and document
				// left, the policy is damaged, not gone: state is the proof
				// the policy made them, so it stays and the update writes
				// the parameter again (a create would refuse them as
				// another's). Then the path list is replaced by a version 1
				// list, which names no key, as an older provider wrote it.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(syncResource, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneSyncPolicyExists(t, syncResource, &rec),
					func(*terraform.State) error {
						_, err := ssmClient().PutParameter(context.Background(), &ssm.PutParameterInput{
							Name:      aws.String(names.PathsParameter),
							Type:      ssmtypes.ParameterTypeString,
							Overwrite: aws.Bool(true),
							Value:     aws.String(`{"version":1,"root":"/srv/app/www","paths":[{"source":"/srv/app/www","destination":"/var/www","exclude":[],"delete":false}]}`),
						})
						return err
					},
				),
				ConfigStateChecks:  []statecheck.StateCheck{keyAt(keptKey)},
				ExpectNonEmptyPlan: true,
			},
			{
				// A path list naming no key or another key is drift: the
				// update writes it again with the current key, which stays.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(syncResource, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(syncResource, tfjsonpath.New("key_fingerprint"), knownvalue.StringRegexp(fingerprintPattern)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneSyncPolicyExists(t, syncResource, &rec),
					testAccCheckSyncPaths(t, name, `{"version":2,"root":"/srv/app/www","key_fingerprint":"{fp}","paths":[`+
						`{"source":"/srv/app/www","destination":"/var/www","exclude":[],"delete":false}]}`),
				),
				ConfigStateChecks: []statecheck.StateCheck{keyAt(keptKey)},
			},
		},
	})
}

func TestAccCloneSyncPolicy_import(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, testAccSyncWorld)
	cfg := testAccCloneSyncPolicyConfig(name, world.MasterInstanceID, `[
    { source = "/srv/app/www", destination = "/var/www", exclude = ["*.log"] },
    { source = "/srv/app/media", destination = "/srv/media", delete = true },
  ]`, `
  interval           = "90s"
  ssh_user           = "deploy"
  ssh_port           = 2222
  rotate_key_trigger = "1"
  tags               = { app = "web" }
`)

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneSyncPolicyDestroy(t),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				ResourceName:      syncResource,
				ImportState:       true,
				ImportStateVerify: true,
			},
		},
	})
}

// TestAccCloneSyncPolicy_kmsKey encrypts the private key with a customer
// key, moves it to another key and back to aws/ssm in place (the same key
// pair, re-encrypted), imports the key id, and shows a key changed out of
// band as drift. The emulator does not check that KMS keys exist.
func TestAccCloneSyncPolicy_kmsKey(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, testAccSyncWorld)
	calls := newSSMRecorder(t)
	cfg := func(extra string) string {
		return calls.providerConfig() + testAccCloneSyncPolicyConfig(name, world.MasterInstanceID, testAccSyncPathsWWW, extra)
	}
	alias := "alias/" + name
	arn := "arn:aws:kms:" + acctest.Region + ":123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	other := "alias/" + name + "-other"
	sameKey := statecheck.CompareValue(compare.ValuesSame())
	keyAt := func(c interface {
		AddStateValue(string, tfjsonpath.Path) statecheck.StateCheck
	}) statecheck.StateCheck {
		return c.AddStateValue(syncResource, tfjsonpath.New("key_fingerprint"))
	}
	var rec syncstore.Record
	var privateKey string
	keepKey := func(*terraform.State) (err error) {
		privateKey, err = testAccPrivateKey(t, name)
		return err
	}
	reencryptOutOfBand := func(*terraform.State) error {
		key, err := testAccPrivateKey(t, name)
		if err != nil {
			return err
		}
		_, err = acctest.Client(t).SSM.PutParameter(context.Background(), &ssm.PutParameterInput{
			Name: aws.String(syncstore.NamesOf(name).KeyParameter), Type: ssmtypes.ParameterTypeSecureString,
			KeyId: aws.String(other), Value: aws.String(key), Overwrite: aws.Bool(true),
		})
		return err
	}

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneSyncPolicyDestroy(t),
		Steps: []resource.TestStep{
			{
				Config: cfg(fmt.Sprintf("  kms_key_id = %q\n", alias)),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneSyncPolicyExists(t, syncResource, &rec),
					testAccCheckSyncKeyKMS(t, name, alias),
					keepKey,
				),
				ConfigStateChecks: []statecheck.StateCheck{
					keyAt(sameKey),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("kms_key_id"), knownvalue.StringExact(alias)),
				},
			},
			{
				// Another key re-encrypts the same private key in place.
				Config: cfg(fmt.Sprintf("  kms_key_id = %q\n", arn)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(syncResource, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(syncResource, tfjsonpath.New("key_fingerprint"), knownvalue.StringRegexp(fingerprintPattern)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneSyncPolicyExists(t, syncResource, &rec),
					testAccCheckSyncKeyKMS(t, name, arn),
					testAccCheckSyncPrivateKeyIs(t, name, &privateKey),
					testAccCheckSyncNowCommands(t, calls, name, 0, nil),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					keyAt(sameKey),
					noPrivateKeyCheck{t: t, name: name},
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("kms_key_id"), knownvalue.StringExact(arn)),
				},
			},
			{
				ResourceName:      syncResource,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// Without kms_key_id the key goes back to aws/ssm.
				Config: cfg(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(syncResource, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(syncResource, tfjsonpath.New("key_fingerprint"), knownvalue.StringRegexp(fingerprintPattern)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckSyncKeyKMS(t, name, syncstore.DefaultKMSKeyID),
					testAccCheckSyncPrivateKeyIs(t, name, &privateKey),
					reencryptOutOfBand,
				),
				ConfigStateChecks: []statecheck.StateCheck{
					keyAt(sameKey),
					statecheck.ExpectKnownValue(syncResource, tfjsonpath.New("kms_key_id"), knownvalue.Null()),
				},
				ExpectNonEmptyPlan: true,
			},
			{
				// Refresh reports the key the parameter is encrypted with.
				RefreshState:       true,
				Check:              resource.TestCheckResourceAttr(syncResource, "kms_key_id", other),
				ExpectNonEmptyPlan: true,
			},
			{
				// A parameter rewritten out of band may hold another key:
				// the apply rotates it, encrypted with aws/ssm again.
				Config: cfg(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(syncResource, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(syncResource, tfjsonpath.New("kms_key_id"), knownvalue.Null()),
					plancheck.ExpectUnknownValue(syncResource, tfjsonpath.New("key_fingerprint")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckCloneSyncPolicyExists(t, syncResource, &rec),
					testAccCheckSyncKeyKMS(t, name, syncstore.DefaultKMSKeyID),
				),
			},
		},
	})
}

func TestAccCloneSyncPolicy_invalid(t *testing.T) {
	base := func(paths, extra string) string {
		return testAccCloneSyncPolicyConfig("web", "i-0123456789abcdef0", paths, extra)
	}
	cases := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{"relative source", base(`[{ source = "srv/www", destination = "/var/www" }]`, ""),
			regexp.MustCompile(`(?s)paths\[0\]\.source.*must be absolute`)},
		{"relative destination", base(`[{ source = "/srv/www", destination = "var/www" }]`, ""),
			regexp.MustCompile(`(?s)paths\[0\]\.destination.*must be absolute`)},
		{"dot-dot escape", base(`[{ source = "/srv/www/../../etc", destination = "/var/www" }]`, ""),
			regexp.MustCompile(`(?s)paths\[0\]\.source.*'\.\.'`)},
		{"newline in path", base(`[{ source = "/srv/www\nx", destination = "/var/www" }]`, ""),
			regexp.MustCompile(`(?s)paths\[0\]\.source.*control characters`)},
		{"interval 30s", base(testAccSyncPathsWWW, `interval = "30s"`),
			regexp.MustCompile(`(?s)interval.*at least 1m0s, got "30s"`)},
		{"empty paths", base(`[]`, ""),
			regexp.MustCompile(`(?s)paths.*at least 1`)},
		{"newline in exclude", base(`[{ source = "/srv/www", destination = "/var/www", exclude = ["a\nb"] }]`, ""),
			regexp.MustCompile(`(?s)paths\[0\]\.exclude\[0\].*must not contain NUL, newline`)},
		{"sources share only /", base(`[
    { source = "/srv/www", destination = "/var/www" },
    { source = "/etc/app", destination = "/etc/app" },
  ]`, ""), regexp.MustCompile(`(?s)paths.*share no directory below /`)},
		{"root as destination", base(`[{ source = "/srv/www", destination = "/" }]`, ""),
			regexp.MustCompile(`(?s)paths\[0\]\.destination.*root directory`)},
		{"bad ssh user", base(testAccSyncPathsWWW, `ssh_user = "Root;rm"`),
			regexp.MustCompile(`(?s)ssh_user.*POSIX user name`)},
		{"tiny bandwidth", base(testAccSyncPathsWWW, `bandwidth_limit_kbps = 3`),
			regexp.MustCompile(`(?s)bandwidth_limit_kbps`)},
		{"bad name", testAccCloneSyncPolicyConfig("web/../x", "i-0123456789abcdef0", testAccSyncPathsWWW, ""),
			regexp.MustCompile(`(?s)name.*letters, digits`)},
		{"bad instance id", testAccCloneSyncPolicyConfig("web", "master", testAccSyncPathsWWW, ""),
			regexp.MustCompile(`(?s)master_instance_id.*EC2 instance id`)},
		{"kms key name without the alias prefix", base(testAccSyncPathsWWW, `kms_key_id = "clone-sync"`),
			regexp.MustCompile(`(?s)Invalid KMS key.*kms_key_id:\s+must\s+be\s+a\s+KMS\s+key\s+id`)},
		{"kms key ARN of no key", base(testAccSyncPathsWWW, `kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/clone-sync"`),
			regexp.MustCompile(`(?s)Invalid KMS key.*kms_key_id:\s+must\s+be\s+a\s+KMS\s+key\s+id`)},
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

// TestAccCloneSyncPolicy_noSecretInLogs records the provider's and
// Terraform's logs at TRACE through a create, a key rotation and a
// re-encryption with another KMS key (which reads the key back) and proves
// neither private key appears in them, while the SSM calls that carried
// the keys were logged. It sets environment variables, so it cannot run in
// parallel.
func TestAccCloneSyncPolicy_noSecretInLogs(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	name := acctest.RandomName(8)
	world := acctest.World(t, testAccSyncWorld)
	logFile := filepath.Join(t.TempDir(), "tf.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	var keys []string
	captureKey := func(*terraform.State) error {
		k, err := testAccPrivateKey(t, name)
		keys = append(keys, k)
		return err
	}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneSyncPolicyDestroy(t),
		Steps: []resource.TestStep{
			{
				Config: testAccCloneSyncPolicyConfig(name, world.MasterInstanceID, testAccSyncPathsWWW, "  install_on_master = true\n"),
				Check:  captureKey,
			},
			{
				Config: testAccCloneSyncPolicyConfig(name, world.MasterInstanceID, testAccSyncPathsWWW, "  install_on_master = true\n  rotate_key_trigger = \"2\"\n"),
				Check:  captureKey,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{noPrivateKeyCheck{t: t, name: name}},
				},
			},
			{
				Config: testAccCloneSyncPolicyConfig(name, world.MasterInstanceID, testAccSyncPathsWWW, "  install_on_master = true\n  rotate_key_trigger = \"2\"\n  kms_key_id = \"alias/"+name+"\"\n"),
				Check:  resource.ComposeAggregateTestCheckFunc(captureKey, testAccCheckSyncKeyKMS(t, name, "alias/"+name)),
			},
		},
	})

	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("reading the log: %v", err)
	}
	log := string(b)
	for _, want := range []string{"PutParameter", syncstore.NamesOf(name).PathsParameter, "SendCommand"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the log (%d bytes) does not mention %q: SDK request logging was not captured, so the test proves nothing", len(b), want)
		}
	}
	if len(keys) != 3 || keys[0] == keys[1] || keys[1] != keys[2] {
		t.Fatalf("expected two different keys, the second kept by the re-encryption; got %d", len(keys))
	}
	for i, k := range keys {
		if leak := findKeyMaterial(log, k); leak != "" {
			t.Errorf("key %d leaked into the log: %q", i+1, leak)
		}
	}
	if strings.Contains(log, "OPENSSH PRIVATE KEY") {
		t.Error("the log contains an OpenSSH private key header")
	}
}

// noPrivateKeyCheck fails when any line of the policy's private key, as
// stored in SSM, appears in the state or plan JSON.
type noPrivateKeyCheck struct {
	t    *testing.T
	name string
}

func (c noPrivateKeyCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	resp.Error = c.check("state", req.State)
}

func (c noPrivateKeyCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = c.check("plan", req.Plan)
}

func (c noPrivateKeyCheck) check(what string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	key, err := testAccPrivateKey(c.t, c.name)
	if err != nil {
		return err
	}
	if leak := findKeyMaterial(string(b), key); leak != "" {
		return fmt.Errorf("the %s holds private key material: %q", what, leak)
	}
	if strings.Contains(string(b), "PRIVATE KEY") {
		return fmt.Errorf("the %s holds a private key header", what)
	}
	return nil
}

// findKeyMaterial returns the first base64 line of the PEM key found in s.
func findKeyMaterial(s, key string) string {
	for line := range strings.SplitSeq(key, "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(s, line) {
			return line
		}
	}
	return ""
}

func testAccPrivateKey(t *testing.T, name string) (string, error) {
	out, err := acctest.Client(t).SSM.GetParameter(context.Background(), &ssm.GetParameterInput{
		Name: aws.String(syncstore.NamesOf(name).KeyParameter), WithDecryption: aws.Bool(true),
	})
	if err != nil {
		return "", err
	}
	key := aws.ToString(out.Parameter.Value)
	if !strings.Contains(key, "OPENSSH PRIVATE KEY") {
		return "", fmt.Errorf("parameter %s does not hold an OpenSSH private key", syncstore.NamesOf(name).KeyParameter)
	}
	return key, nil
}

func testAccCheckCloneSyncPolicyExists(t *testing.T, res string, rec *syncstore.Record) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[res]
		if !ok {
			return fmt.Errorf("%s not in state", res)
		}
		ctx, api := context.Background(), acctest.Client(t).SSM
		name := rs.Primary.ID
		found, err := syncstore.FindRecord(ctx, api, name)
		if err != nil {
			return err
		}
		list, err := syncstore.FindPaths(ctx, api, name)
		if err != nil {
			return err
		}
		if list.KeyFingerprint != found.KeyFingerprint {
			return fmt.Errorf("paths parameter of %s names key %q, the policy's key is %s", name, list.KeyFingerprint, found.KeyFingerprint)
		}
		key, err := syncstore.FindParameterInfo(ctx, api, syncstore.NamesOf(name).KeyParameter)
		if err != nil {
			return err
		}
		if key.Type != ssmtypes.ParameterTypeSecureString {
			return fmt.Errorf("private key parameter of %s is %s, want SecureString", name, key.Type)
		}
		doc, err := api.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String(syncstore.NamesOf(name).Document)})
		if err != nil {
			return err
		}
		if doc.Document.DocumentType != ssmtypes.DocumentTypeCommand {
			return fmt.Errorf("document of %s is a %s document, want Command", name, doc.Document.DocumentType)
		}
		if fp := rs.Primary.Attributes["key_fingerprint"]; fp != found.KeyFingerprint {
			return fmt.Errorf("state key_fingerprint %s, stored %s", fp, found.KeyFingerprint)
		}
		policy, err := syncstore.LoadPolicy(ctx, api, name)
		if err != nil {
			return fmt.Errorf("LoadPolicy: %w", err)
		}
		if got, want := rs.Primary.Attributes["agent_sha256"], agentSHA256(syncagent.RenderCloudInitPart(policy)); got != want {
			return fmt.Errorf("state agent_sha256 %s, the stored policy renders an agent with SHA-256 %s", got, want)
		}
		*rec = found
		return nil
	}
}

func testAccCheckCloneSyncPolicyDestroy(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx, api := context.Background(), acctest.Client(t).SSM
		for _, rs := range s.RootModule().Resources {
			if rs.Type != "clone_sync_policy" {
				continue
			}
			name := rs.Primary.ID
			n := syncstore.NamesOf(name)
			if _, err := syncstore.FindRecord(ctx, api, name); !notfound.Is(err) {
				return fmt.Errorf("sync policy %s: policy parameter remains after destroy (%v)", name, err)
			}
			for _, p := range []string{n.KeyParameter, n.PathsParameter} {
				if _, err := syncstore.FindParameterInfo(ctx, api, p); !notfound.Is(err) {
					return fmt.Errorf("sync policy %s: parameter %s remains after destroy (%v)", name, p, err)
				}
			}
			if _, err := syncstore.FindDocument(ctx, api, name); !notfound.Is(err) {
				return fmt.Errorf("sync policy %s: document %s remains after destroy (%v)", name, n.Document, err)
			}
		}
		return acctest.CheckDestroy(s)
	}
}

// testAccCheckSyncKeyKMS proves SSM reports the private key parameter,
// at the version the policy recorded, as encrypted with want.
func testAccCheckSyncKeyKMS(t *testing.T, name, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx, api := context.Background(), acctest.Client(t).SSM
		rec, err := syncstore.FindRecord(ctx, api, name)
		if err != nil {
			return err
		}
		key, err := syncstore.FindParameterInfo(ctx, api, syncstore.NamesOf(name).KeyParameter)
		if err != nil {
			return err
		}
		if key.Type != ssmtypes.ParameterTypeSecureString || key.KeyID != want || key.Version != rec.KeyParameterVersion {
			return fmt.Errorf("private key parameter of %s: %s version %d with KMS key %q; want SecureString version %d with %q",
				name, key.Type, key.Version, key.KeyID, rec.KeyParameterVersion, want)
		}
		return nil
	}
}

// testAccCheckSyncPrivateKeyIs proves the stored private key is still *want.
func testAccCheckSyncPrivateKeyIs(t *testing.T, name string, want *string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		key, err := testAccPrivateKey(t, name)
		if err != nil {
			return err
		}
		if key != *want {
			return fmt.Errorf("the private key of %s changed; re-encrypting must keep it", name)
		}
		return nil
	}
}

// testAccCheckSyncPaths compares the paths parameter with want, where
// {fp} stands for the key_fingerprint in state.
func testAccCheckSyncPaths(t *testing.T, name, want string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		out, err := acctest.Client(t).SSM.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(syncstore.NamesOf(name).PathsParameter)})
		if err != nil {
			return err
		}
		want := strings.ReplaceAll(want, "{fp}", s.RootModule().Resources[syncResource].Primary.Attributes["key_fingerprint"])
		if got := aws.ToString(out.Parameter.Value); got != want {
			return fmt.Errorf("paths parameter:\n got %s\nwant %s", got, want)
		}
		return nil
	}
}

// testAccCheckSyncPathsNameKey proves that after a rotation the paths
// parameter names the new key: the fingerprint of the private key stored
// in SSM, the one in state and in the policy parameter, and not the key of
// prior.
func testAccCheckSyncPathsNameKey(t *testing.T, name string, prior *syncstore.Record) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		list, err := syncstore.FindPaths(context.Background(), acctest.Client(t).SSM, name)
		if err != nil {
			return err
		}
		key, err := testAccPrivateKey(t, name)
		if err != nil {
			return err
		}
		stored, err := syncagent.PrivateKeyFingerprint([]byte(key))
		if err != nil {
			return err
		}
		rec, err := syncstore.FindRecord(context.Background(), acctest.Client(t).SSM, name)
		if err != nil {
			return err
		}
		inState := s.RootModule().Resources[syncResource].Primary.Attributes["key_fingerprint"]
		if list.KeyFingerprint != stored || inState != stored || rec.KeyFingerprint != stored {
			return fmt.Errorf("paths parameter names key %q; stored private key %s, state %s, policy parameter %s",
				list.KeyFingerprint, stored, inState, rec.KeyFingerprint)
		}
		if list.KeyFingerprint == prior.KeyFingerprint {
			return fmt.Errorf("paths parameter still names the key before the rotation, %s", prior.KeyFingerprint)
		}
		if list.Root != rec.SyncRoot {
			return fmt.Errorf("paths parameter root %s, the key was issued for %s", list.Root, rec.SyncRoot)
		}
		return nil
	}
}

// recordCheck keeps the policy parameter after a step, for later steps.
type recordCheck struct {
	t    *testing.T
	name string
	rec  *syncstore.Record
}

func (c recordCheck) CheckState(ctx context.Context, _ statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	*c.rec, resp.Error = syncstore.FindRecord(ctx, acctest.Client(c.t).SSM, c.name)
}

func testAccCheckSyncTags(t *testing.T, name string, want map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		n := syncstore.NamesOf(name)
		api := acctest.Client(t).SSM
		for kind, ids := range map[ssmtypes.ResourceTypeForTagging][]string{
			ssmtypes.ResourceTypeForTaggingParameter: {n.KeyParameter, n.PathsParameter, n.PolicyParameter},
			ssmtypes.ResourceTypeForTaggingDocument:  {n.Document},
		} {
			for _, id := range ids {
				out, err := api.ListTagsForResource(context.Background(), &ssm.ListTagsForResourceInput{ResourceType: kind, ResourceId: aws.String(id)})
				if err != nil {
					return err
				}
				got := map[string]string{}
				for _, tag := range out.TagList {
					got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					return fmt.Errorf("%s %s tags = %v, want %v", kind, id, got, want)
				}
			}
		}
		return nil
	}
}

func testAccCommands(t *testing.T, match func(ssmtypes.Command) bool) ([]ssmtypes.Command, error) {
	out, err := acctest.Client(t).SSM.ListCommands(context.Background(), &ssm.ListCommandsInput{})
	if err != nil {
		return nil, err
	}
	var cmds []ssmtypes.Command
	for _, c := range out.Commands {
		if match(c) {
			cmds = append(cmds, c)
		}
	}
	slices.SortFunc(cmds, func(a, b ssmtypes.Command) int { return a.RequestedDateTime.Compare(*b.RequestedDateTime) })
	return cmds, nil
}

// testAccCheckSyncNowCommands proves want "sync now" commands were sent
// for the policy, each to the policy's document with only the policy's tag
// as target; the emulator resolved the last one to exactly instances, when
// given.
func testAccCheckSyncNowCommands(t *testing.T, rec *ssmRecorder, name string, want int, instances []string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		sent := rec.SendCommands(syncstore.SyncNowComment + name)
		if len(sent) != want {
			return fmt.Errorf("sync policy %s: %d sync-now commands sent, want %d", name, len(sent), want)
		}
		wantTargets := []any{map[string]any{"Key": "tag:clone:sync-policy", "Values": []any{name}}}
		for _, c := range sent {
			if c["DocumentName"] != "clone-sync-"+name || fmt.Sprint(c["Targets"]) != fmt.Sprint(wantTargets) || c["InstanceIds"] != nil {
				return fmt.Errorf("sync-now command: document %v, targets %v, instance ids %v", c["DocumentName"], c["Targets"], c["InstanceIds"])
			}
		}
		if instances == nil || want == 0 {
			return nil
		}
		cmds, err := testAccCommands(t, func(c ssmtypes.Command) bool {
			return aws.ToString(c.Comment) == syncstore.SyncNowComment+name
		})
		if err != nil || len(cmds) != want {
			return fmt.Errorf("emulator holds %d sync-now commands of %s, want %d (%v)", len(cmds), name, want, err)
		}
		got := slices.Sorted(slices.Values(cmds[len(cmds)-1].InstanceIds))
		if !slices.Equal(got, slices.Sorted(slices.Values(instances))) {
			return fmt.Errorf("sync-now reached instances %v, want %v", got, instances)
		}
		return nil
	}
}

// testAccCheckSyncKeyCommands proves want key scripts were sent to the
// master by instance id and nowhere else, through AWS-RunShellScript, and
// the last one installs the line in state.
func testAccCheckSyncKeyCommands(rec *ssmRecorder, name, master string, want int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		sent := rec.SendCommands(syncstore.KeyCommandComment + name)
		if len(sent) != want {
			return fmt.Errorf("sync policy %s: %d key commands sent, want %d", name, len(sent), want)
		}
		for _, c := range sent {
			if c["DocumentName"] != "AWS-RunShellScript" || fmt.Sprint(c["InstanceIds"]) != fmt.Sprint([]any{master}) || c["Targets"] != nil {
				return fmt.Errorf("key command: document %v, instance ids %v, targets %v", c["DocumentName"], c["InstanceIds"], c["Targets"])
			}
		}
		line := s.RootModule().Resources[syncResource].Primary.Attributes["authorized_key"]
		if script := lastScript(sent); !strings.Contains(script, "line="+syncagent.ShellQuote(line)+"\n") {
			return fmt.Errorf("the last key command does not install %q:\n%s", line, script)
		}
		return nil
	}
}

func lastScript(sent []map[string]any) string {
	if len(sent) == 0 {
		return ""
	}
	params, _ := sent[len(sent)-1]["Parameters"].(map[string]any)
	commands, _ := params["commands"].([]any)
	var out []string
	for _, c := range commands {
		out = append(out, fmt.Sprint(c))
	}
	return strings.Join(out, "\n")
}

// testAccCheckSyncKeyRevoked proves the last key command removes the key
// of old from the master.
func testAccCheckSyncKeyRevoked(rec *ssmRecorder, name string, old *syncstore.Record) resource.TestCheckFunc {
	return func(*terraform.State) error {
		blob, err := syncagent.KeyBlob(old.PublicKey)
		if err != nil {
			return err
		}
		if script := lastScript(rec.SendCommands(syncstore.KeyCommandComment + name)); !strings.Contains(script, syncagent.ShellQuote(" "+blob)) {
			return fmt.Errorf("the last key command does not revoke the old key %s:\n%s", blob, script)
		}
		return nil
	}
}

// testAccRunTaggedInstance starts an instance tagged as a clone of policy.
func testAccRunTaggedInstance(t *testing.T, master, subnet, policy string) string {
	t.Helper()
	ctx, api := context.Background(), acctest.Client(t).EC2
	desc, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{master}})
	if err != nil || len(desc.Reservations) == 0 {
		t.Fatalf("describing the master: %v", err)
	}
	out, err := api.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId:      desc.Reservations[0].Instances[0].ImageId,
		InstanceType: ec2types.InstanceTypeT3Micro,
		SubnetId:     aws.String(subnet),
		MinCount:     aws.Int32(1),
		MaxCount:     aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeInstance,
			Tags:         []ec2types.Tag{{Key: aws.String(syncstore.InstanceTag), Value: aws.String(policy)}, {Key: aws.String("Name"), Value: aws.String(policy)}},
		}},
	})
	if err != nil {
		t.Fatalf("starting a clone of %s: %v", policy, err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	t.Cleanup(func() {
		_, _ = acctest.Client(t).EC2.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	})
	return id
}

// ssmRecorder routes the provider's SSM calls through the recording proxy:
// the emulator reports every instance as a target of a command sent to
// instance ids, so the request itself is the proof of its targets.
type ssmRecorder struct {
	*acctest.Proxy
}

func newSSMRecorder(t *testing.T) *ssmRecorder {
	t.Helper()
	return &ssmRecorder{acctest.NewProxy(t)}
}

// SendCommands returns the SendCommand requests whose comment is comment.
func (r *ssmRecorder) SendCommands(comment string) []map[string]any {
	var out []map[string]any
	for _, c := range r.Calls() {
		if c.Service == "ssm" && c.Action == "SendCommand" && c.JSON["Comment"] == comment {
			out = append(out, c.JSON)
		}
	}
	return out
}

func (r *ssmRecorder) providerConfig() string {
	return fmt.Sprintf("provider \"clone\" {\n  endpoints {\n    ssm = %q\n  }\n}\n", r.URL)
}
