package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/iampolicy"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

var (
	_ datasource.DataSource              = &CloneIAMPolicyDataSource{}
	_ datasource.DataSourceWithConfigure = &CloneIAMPolicyDataSource{}
)

var (
	partitionRegexp  = regexp.MustCompile(`^aws(-[a-z]+)*$`)
	policyRegionRe   = regexp.MustCompile(`^(\*|[a-z]{2}(-[a-z]+)+-\d)$`)
	policyAccountRe  = regexp.MustCompile(`^(\*|\d{12})$`)
	kmsKeyARNRegexp  = regexp.MustCompile(`^arn:aws(-[a-z]+)*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	iamRoleARNRegexp = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
)

// NewCloneIAMPolicyDataSource is the clone_iam_policy data source constructor.
func NewCloneIAMPolicyDataSource() datasource.DataSource {
	return &CloneIAMPolicyDataSource{}
}

// CloneIAMPolicyDataSource renders the provider's two IAM policies
// (internal/iampolicy). It calls no AWS API.
type CloneIAMPolicyDataSource struct {
	client *conns.AWSClient
}

func (d *CloneIAMPolicyDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_iam_policy"
}

func (d *CloneIAMPolicyDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	names := func(desc string, each validator.String) schema.ListAttribute {
		return schema.ListAttribute{
			ElementType: types.StringType, Optional: true, MarkdownDescription: desc,
			Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(), listvalidator.ValueStringsAre(each)},
		}
	}
	scope := func(desc string, re *regexp.Regexp, msg string) schema.StringAttribute {
		return schema.StringAttribute{
			Optional: true, Computed: true, MarkdownDescription: desc,
			Validators: []validator.String{stringvalidator.RegexMatches(re, msg)},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The two least-privilege IAM policies this provider needs, as JSON for `hashicorp/aws`'s `aws_iam_policy` or " +
			"`aws_iam_role_policy`: `operator_policy_json` for whoever runs Terraform, `clone_policy_json` for the clones' instance profile. " +
			"Optional arguments narrow the resources. Reads nothing from AWS. See the [IAM guide](../guides/iam.md).",
		Attributes: map[string]schema.Attribute{
			"partition": scope("AWS partition of the ARNs (`aws`, `aws-cn`, `aws-us-gov`). Defaults to the provider's.",
				partitionRegexp, "must be an AWS partition such as aws or aws-cn"),
			"region": scope("Region of the ARNs, or `*` for any. Defaults to the provider's region.",
				policyRegionRe, "must be an AWS region such as us-east-1, or *"),
			"account_id": scope("Account of the ARNs, or `*` for any. Defaults to the provider's account (or `*` when "+
				"`skip_credentials_validation` left it unknown).", policyAccountRe, "must be a 12-digit AWS account id, or *"),
			"sync_policy_names": names("Names of the `clone_sync_policy` resources the policies cover (their SSM parameters "+
				"`/clone-sync/NAME/*` and documents `clone-sync-NAME`). Omitted: every sync policy.",
				stringCheck{"Invalid sync policy name", "must be a valid sync policy name", syncagent.ValidateName}),
			"pool_names": names("Names of the `clone_pool` resources the policies cover (their Auto Scaling groups, which carry the "+
				"pool's name, and recovery alarms). Omitted: every group.", poolNameCheck),
			"kms_key_arns": schema.ListAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "ARNs of the customer managed KMS keys given as `kms_key_id` of sync policies. Each gets " +
					"`kms:Encrypt` and `kms:Decrypt` (operator) and `kms:Decrypt` (clone), only through SSM. Omitted: the sync policies " +
					"use the AWS managed key `alias/aws/ssm`, which needs no IAM permission.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(), listvalidator.ValueStringsAre(
					stringvalidator.RegexMatches(kmsKeyARNRegexp, "must be a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"))},
			},
			"instance_role_arns": schema.ListAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "ARNs of the IAM roles in the instance profiles given as `iam_instance_profile` of pools: the " +
					"operator may pass only these to EC2 (`iam:PassRole`). Omitted: any role, to EC2 only.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(), listvalidator.ValueStringsAre(
					stringvalidator.RegexMatches(iamRoleARNRegexp, "must be an IAM role ARN such as arn:aws:iam::123456789012:role/clone"))},
			},
			"operator_policy_json": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Policy document for whoever runs Terraform with this provider: every action the provider " +
					"calls, plus those AWS checks on its behalf (`ec2:RunInstances`, `iam:PassRole`, service-linked roles).",
			},
			"clone_policy_json": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Policy document for the role of the clones' instance profile (`iam_instance_profile`): " +
					"what the sync agent calls with the AWS CLI (`ssm:GetParameter` of its sync policy, " +
					"`autoscaling:CompleteLifecycleAction` of its pool, `ec2:CreateTags` of the tag `clone:first-sync` on itself).",
			},
		},
	}
}

func (d *CloneIAMPolicyDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	client, diags := clientFrom(req.ProviderData, "Data Source")
	resp.Diagnostics.Append(diags...)
	d.client = client
}

func (d *CloneIAMPolicyDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m cloneIAMPolicyModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, diags := m.expand(ctx, d.client)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	m.Partition = types.StringValue(s.Partition)
	m.Region = types.StringValue(s.Region)
	m.AccountID = types.StringValue(s.AccountID)
	m.OperatorPolicyJSON = types.StringValue(iampolicy.Operator(s).JSON())
	m.ClonePolicyJSON = types.StringValue(iampolicy.Clone(s).JSON())
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

type cloneIAMPolicyModel struct {
	Partition          types.String `tfsdk:"partition"`
	Region             types.String `tfsdk:"region"`
	AccountID          types.String `tfsdk:"account_id"`
	SyncPolicyNames    types.List   `tfsdk:"sync_policy_names"`
	PoolNames          types.List   `tfsdk:"pool_names"`
	KMSKeyARNs         types.List   `tfsdk:"kms_key_arns"`
	InstanceRoleARNs   types.List   `tfsdk:"instance_role_arns"`
	OperatorPolicyJSON types.String `tfsdk:"operator_policy_json"`
	ClonePolicyJSON    types.String `tfsdk:"clone_policy_json"`
}

// expand turns the configuration into an iampolicy.Scope, with the
// provider's partition, region and account (client may be nil) where the
// configuration leaves them out, and "aws", "*", "*" without a provider.
func (m cloneIAMPolicyModel) expand(ctx context.Context, client *conns.AWSClient) (iampolicy.Scope, diag.Diagnostics) {
	var diags diag.Diagnostics
	var s iampolicy.Scope
	def := iampolicy.Scope{Partition: "aws", Region: "*", AccountID: "*"}
	if client != nil {
		def.Partition = firstNonEmpty(client.Partition, def.Partition)
		def.Region = firstNonEmpty(client.Region, def.Region)
		def.AccountID = firstNonEmpty(client.AccountID, def.AccountID)
	}
	s.Partition = firstNonEmpty(m.Partition.ValueString(), def.Partition)
	s.Region = firstNonEmpty(m.Region.ValueString(), def.Region)
	s.AccountID = firstNonEmpty(m.AccountID.ValueString(), def.AccountID)
	for _, l := range []struct {
		list types.List
		into *[]string
	}{
		{m.SyncPolicyNames, &s.SyncPolicyNames},
		{m.PoolNames, &s.PoolNames},
		{m.KMSKeyARNs, &s.KMSKeyARNs},
		{m.InstanceRoleARNs, &s.InstanceRoleARNs},
	} {
		if !l.list.IsNull() && !l.list.IsUnknown() {
			diags.Append(l.list.ElementsAs(ctx, l.into, false)...)
		}
	}
	return s, diags
}

func firstNonEmpty(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
