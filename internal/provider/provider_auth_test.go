package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
)

const testAccRoleARN = "arn:aws:iam::123456789012:role/tf-acc-test-deployer"

// testAccImageViaProxy bakes one image with every STS and EC2 call sent
// through the recording proxy, under the given provider-level settings.
func testAccImageViaProxy(t *testing.T, proxy *acctest.Proxy, providerBody string) string {
	world := acctest.World(t, "tf-acc-test-images")
	return fmt.Sprintf(`
provider "clone" {
  endpoints {
    sts = %[1]q
    ec2 = %[1]q
  }
%[2]s
}

resource "clone_image" "test" {
  source_instance_id = %[3]q
  name_prefix        = %[4]q
}
`, proxy.URL, providerBody, world.MasterInstanceID, acctest.RandomName(8))
}

// testAccCheckSignedByAssumedRole proves the EC2 calls were signed with
// credentials STS handed out, not with the base credentials.
func testAccCheckSignedByAssumedRole(proxy *acctest.Proxy, stsAction, baseKey string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if n := proxy.Count("sts", stsAction); n == 0 {
			return fmt.Errorf("no sts:%s call was made", stsAction)
		}
		var ec2Calls int
		for _, c := range proxy.Calls() {
			if c.Service != "ec2" {
				continue
			}
			ec2Calls++
			if c.AccessKey == baseKey || c.AccessKey == "" {
				return fmt.Errorf("ec2:%s was signed with %q, not with the assumed role's credentials", c.Action, c.AccessKey)
			}
		}
		if ec2Calls == 0 {
			return fmt.Errorf("no EC2 call went through the proxy")
		}
		return nil
	}
}

func TestAccProvider_assumeRole(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	proxy := acctest.NewProxy(t)
	cfg := testAccImageViaProxy(t, proxy, fmt.Sprintf(`
  assume_role {
    role_arn     = %q
    session_name = "tf-acc-test-session"
    external_id  = "tf-acc-test-external"
  }
`, testAccRoleARN))

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				testAccCheckSignedByAssumedRole(proxy, "AssumeRole", os.Getenv("AWS_ACCESS_KEY_ID")),
				func(*terraform.State) error {
					for _, c := range proxy.Calls() {
						if c.Action == "AssumeRole" {
							if c.Form.Get("RoleArn") != testAccRoleARN || c.Form.Get("RoleSessionName") != "tf-acc-test-session" ||
								c.Form.Get("ExternalId") != "tf-acc-test-external" {
								return fmt.Errorf("AssumeRole sent %v", c.Form)
							}
							return nil
						}
					}
					return fmt.Errorf("no AssumeRole call recorded")
				},
			),
		}},
	})
}

func TestAccProvider_webIdentityBlock(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	proxy := acctest.NewProxy(t)
	tokenFile := writeWebIdentityToken(t)
	cfg := testAccImageViaProxy(t, proxy, fmt.Sprintf(`
  assume_role_with_web_identity {
    role_arn                = %q
    session_name            = "tf-acc-test-oidc"
    web_identity_token_file = %q
  }
`, testAccRoleARN, tokenFile))

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check:  testAccCheckSignedByAssumedRole(proxy, "AssumeRoleWithWebIdentity", os.Getenv("AWS_ACCESS_KEY_ID")),
		}},
	})
}

// TestAccProvider_webIdentityEnv is the path Terraform Cloud dynamic
// credentials take: only TFC_*-style env vars (role ARN + token file), no
// static keys and no provider settings.
func TestAccProvider_webIdentityEnv(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	proxy := acctest.NewProxy(t)
	baseKey := os.Getenv("AWS_ACCESS_KEY_ID")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_ROLE_ARN", testAccRoleARN)
	t.Setenv("AWS_ROLE_SESSION_NAME", "tf-acc-test-tfc")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", writeWebIdentityToken(t))
	// The SDK's web identity provider resolves STS on its own, not through
	// AWS_ENDPOINT_URL, so it is pointed at the proxy explicitly.
	t.Setenv("AWS_ENDPOINT_URL_STS", proxy.URL)
	cfg := testAccImageViaProxy(t, proxy, "")

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckCloneImageDestroy(t),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check:  testAccCheckSignedByAssumedRole(proxy, "AssumeRoleWithWebIdentity", baseKey),
		}},
	})
}

// TestAccProvider_badCredentials proves a rejected credential is one clear
// provider-level error raised before any resource is touched.
func TestAccProvider_badCredentials(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	proxy := acctest.NewProxy(t)
	proxy.SetRule(func(c acctest.Call) *acctest.Fault {
		if c.Service == "sts" {
			return &acctest.Fault{Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
		}
		return nil
	})
	cfg := fmt.Sprintf(`
provider "clone" {
  endpoints {
    sts = %[1]q
    ec2 = %[1]q
  }
}
resource "clone_image" "a" {
  source_instance_id = "i-0123456789abcdef0"
  name_prefix        = "tf-acc-test-a"
}
resource "clone_image" "b" {
  source_instance_id = "i-0123456789abcdef0"
  name_prefix        = "tf-acc-test-b"
}
data "clone_image" "c" {
  name_prefix = "tf-acc-test-c"
}
`, proxy.URL)

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             acctest.CheckDestroy,
		Steps: []resource.TestStep{{
			Config:      cfg,
			ExpectError: regexp.MustCompile(`(?s)Invalid AWS credentials or configuration for the clone provider.*InvalidClientTokenId`),
		}},
	})
	if n := proxy.Count("sts", "GetCallerIdentity"); n != 1 {
		t.Errorf("GetCallerIdentity called %d times, want exactly 1 (one provider-level check)", n)
	}
	for _, c := range proxy.Calls() {
		if c.Service == "ec2" {
			t.Errorf("ec2:%s was called with bad credentials; nothing should be attempted", c.Action)
		}
	}
}

func TestAccProvider_invalidConfig(t *testing.T) {
	cases := []struct {
		name, body string
		want       *regexp.Regexp
	}{
		{"bad region", `region = "moon-1"`, regexp.MustCompile(`(?s)region.*must be an AWS region name`)},
		{"bad role arn", "assume_role {\n role_arn = \"deployer\"\n}", regexp.MustCompile(`(?s)role_arn.*must be an IAM role ARN`)},
		{"bad endpoint", "endpoints {\n ec2 = \"localhost:4566\"\n}", regexp.MustCompile(`(?s)ec2.*must be an http\(s\) URL`)},
		{"bad duration", "assume_role {\n role_arn = \"" + testAccRoleARN + "\"\n duration = \"5m\"\n}", regexp.MustCompile(`(?s)duration.*between 15m0s\s+and\s+12h0m0s`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      fmt.Sprintf("provider \"clone\" {\n%s\n}\n%s", tc.body, strings.TrimSpace(`data "clone_image" "x" { name_prefix = "x" }`)),
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
}

func writeWebIdentityToken(t *testing.T) string {
	t.Helper()
	// An unsigned JWT shape is enough for the emulator's STS.
	token := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0Zi1hY2MtdGVzdCIsImF1ZCI6ImF3cy53b3JrbG9hZC5pZGVudGl0eSJ9."
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
