package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/iampolicy"
)

// readIAMPolicy runs the data source's Read on cfg, as Terraform would at
// plan time, with client as the provider's data (nil: no provider).
func readIAMPolicy(t *testing.T, client *conns.AWSClient, cfg cloneIAMPolicyModel) (cloneIAMPolicyModel, string) {
	t.Helper()
	ctx := context.Background()
	ds := NewCloneIAMPolicyDataSource().(*CloneIAMPolicyDataSource)
	var sresp datasource.SchemaResponse
	ds.Schema(ctx, datasource.SchemaRequest{}, &sresp)
	if client != nil {
		var cresp datasource.ConfigureResponse
		ds.Configure(ctx, datasource.ConfigureRequest{ProviderData: client}, &cresp)
		if cresp.Diagnostics.HasError() {
			t.Fatalf("Configure: %v", cresp.Diagnostics)
		}
	}
	plan := tfsdk.Plan{Schema: sresp.Schema, Raw: tftypes.NewValue(sresp.Schema.Type().TerraformType(ctx), nil)}
	if diags := plan.Set(ctx, &cfg); diags.HasError() {
		t.Fatalf("building the configuration: %v", diags)
	}
	resp := datasource.ReadResponse{State: tfsdk.State{Schema: sresp.Schema, Raw: tftypes.NewValue(sresp.Schema.Type().TerraformType(ctx), nil)}}
	ds.Read(ctx, datasource.ReadRequest{Config: tfsdk.Config{Schema: sresp.Schema, Raw: plan.Raw}}, &resp)
	if resp.Diagnostics.HasError() {
		return cloneIAMPolicyModel{}, fmt.Sprint(resp.Diagnostics)
	}
	var out cloneIAMPolicyModel
	if diags := resp.State.Get(ctx, &out); diags.HasError() {
		t.Fatalf("reading the state: %v", diags)
	}
	return out, ""
}

func nullIAMPolicyModel() cloneIAMPolicyModel {
	return cloneIAMPolicyModel{
		Partition: types.StringNull(), Region: types.StringNull(), AccountID: types.StringNull(),
		SyncPolicyNames: types.ListNull(types.StringType), PoolNames: types.ListNull(types.StringType),
		KMSKeyARNs: types.ListNull(types.StringType), InstanceRoleARNs: types.ListNull(types.StringType),
		OperatorPolicyJSON: types.StringNull(), ClonePolicyJSON: types.StringNull(),
	}
}

func TestCloneIAMPolicyDataSource_read(t *testing.T) {
	provider := &conns.AWSClient{Partition: "aws-cn", Region: "cn-north-1", AccountID: "123456789012"}
	scoped := nullIAMPolicyModel()
	scoped.Region = types.StringValue("eu-west-1")
	scoped.SyncPolicyNames = listValue([]string{"web"})
	scoped.PoolNames = listValue([]string{"web", "api"})
	scoped.KMSKeyARNs = listValue([]string{"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"})
	scoped.InstanceRoleARNs = listValue([]string{"arn:aws:iam::123456789012:role/clone"})

	for _, tc := range []struct {
		name   string
		client *conns.AWSClient
		cfg    cloneIAMPolicyModel
		want   iampolicy.Scope
	}{
		{"no provider data", nil, nullIAMPolicyModel(), iampolicy.Scope{Partition: "aws", Region: "*", AccountID: "*"}},
		{"provider's account", provider, nullIAMPolicyModel(), iampolicy.Scope{Partition: "aws-cn", Region: "cn-north-1", AccountID: "123456789012"}},
		{"account unknown to the provider", &conns.AWSClient{Partition: "aws", Region: "us-east-1"}, nullIAMPolicyModel(),
			iampolicy.Scope{Partition: "aws", Region: "us-east-1", AccountID: "*"}},
		{"scoped", provider, scoped, iampolicy.Scope{
			Partition: "aws-cn", Region: "eu-west-1", AccountID: "123456789012",
			SyncPolicyNames: []string{"web"}, PoolNames: []string{"web", "api"},
			KMSKeyARNs:       []string{"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
			InstanceRoleARNs: []string{"arn:aws:iam::123456789012:role/clone"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := readIAMPolicy(t, tc.client, tc.cfg)
			if errs != "" {
				t.Fatal(errs)
			}
			if w := iampolicy.Operator(tc.want).JSON(); got.OperatorPolicyJSON.ValueString() != w {
				t.Errorf("operator_policy_json =\n%s\nwant\n%s", got.OperatorPolicyJSON.ValueString(), w)
			}
			if w := iampolicy.Clone(tc.want).JSON(); got.ClonePolicyJSON.ValueString() != w {
				t.Errorf("clone_policy_json =\n%s\nwant\n%s", got.ClonePolicyJSON.ValueString(), w)
			}
			if got.Partition.ValueString() != tc.want.Partition || got.Region.ValueString() != tc.want.Region || got.AccountID.ValueString() != tc.want.AccountID {
				t.Errorf("partition, region, account_id = %s, %s, %s; want %s, %s, %s", got.Partition, got.Region, got.AccountID,
					tc.want.Partition, tc.want.Region, tc.want.AccountID)
			}
		})
	}
}

func TestCloneIAMPolicyDataSource_invalid(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{`pool_names = ["-web"]`, `Invalid Clone Pool name`},
		{`sync_policy_names = ["web policy"]`, `Invalid sync policy name`},
		{`sync_policy_names = []`, `at least 1`},
		{`pool_names = ["web", "web"]`, `duplicate`},
		{`kms_key_arns = ["alias/aws/ssm"]`, `must be a KMS key ARN`},
		{`instance_role_arns = ["arn:aws:iam::123456789012:instance-profile/clone"]`, `must be an IAM role ARN`},
		{`account_id = "12345"`, `12-digit AWS account id`},
		{`region = "Europe"`, `must be an AWS region`},
		{`partition = "amazon"`, `must be an AWS partition`},
	} {
		t.Run(tc.config, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      fmt.Sprintf("data \"clone_iam_policy\" \"x\" {\n  %s\n}\n", tc.config),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}

// TestAccCloneIAMPolicyDataSource_basic reads the policies through Terraform:
// the provider's region and account fill the ARNs, and the arguments scope
// them. The data source calls no AWS API of its own.
func TestAccCloneIAMPolicyDataSource_basic(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	region := os.Getenv("AWS_REGION") // acctest.Main defaults it to acctest.Region
	account := "123456789012"         // moto's account
	def := iampolicy.Scope{Partition: "aws", Region: region, AccountID: account}
	scoped := def
	scoped.SyncPolicyNames, scoped.PoolNames = []string{"web"}, []string{"web"}
	scoped.KMSKeyARNs = []string{"arn:aws:kms:" + region + ":" + account + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
data "clone_iam_policy" "all" {}

data "clone_iam_policy" "web" {
  sync_policy_names = ["web"]
  pool_names        = ["web"]
  kms_key_arns      = [%q]
}
`, scoped.KMSKeyARNs[0]),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.clone_iam_policy.all", tfjsonpath.New("account_id"), knownvalue.StringExact(account)),
				statecheck.ExpectKnownValue("data.clone_iam_policy.all", tfjsonpath.New("region"), knownvalue.StringExact(region)),
				statecheck.ExpectKnownValue("data.clone_iam_policy.all", tfjsonpath.New("operator_policy_json"), knownvalue.StringExact(iampolicy.Operator(def).JSON())),
				statecheck.ExpectKnownValue("data.clone_iam_policy.all", tfjsonpath.New("clone_policy_json"), knownvalue.StringExact(iampolicy.Clone(def).JSON())),
				statecheck.ExpectKnownValue("data.clone_iam_policy.web", tfjsonpath.New("operator_policy_json"), knownvalue.StringExact(iampolicy.Operator(scoped).JSON())),
				statecheck.ExpectKnownValue("data.clone_iam_policy.web", tfjsonpath.New("clone_policy_json"), knownvalue.StringExact(iampolicy.Clone(scoped).JSON())),
			},
		}},
	})
}
