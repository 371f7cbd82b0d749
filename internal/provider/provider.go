// Package provider implements the clone provider: the Clone Server pattern as Terraform resources.
package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	awsbase "github.com/hashicorp/aws-sdk-go-base/v2"
	awsbasediag "github.com/hashicorp/aws-sdk-go-base/v2/diag"
	"github.com/hashicorp/aws-sdk-go-base/v2/logging"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
)

var _ provider.Provider = &CloneProvider{}

// CloneProvider is the clone provider.
type CloneProvider struct {
	version string
}

// New returns a constructor for the provider at the given version.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &CloneProvider{version: version}
	}
}

func (p *CloneProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "clone"
	resp.Version = p.version
}

var (
	roleARNRegexp = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/.+$`)
	regionRegexp  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	urlRegexp     = regexp.MustCompile(`^https?://\S+$`)
)

func (p *CloneProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The clone provider turns the Clone Server pattern into infrastructure as code: " +
			"bake the single existing server (the master) into an image, run a pool of clones from it " +
			"behind the load balancer, and keep their files in sync with the master. Authentication works " +
			"like the `hashicorp/aws` provider: environment variables, shared files and profiles, " +
			"assume role, and Terraform Cloud dynamic credentials (web identity).",
		Attributes: map[string]schema.Attribute{
			"region": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "AWS region. Defaults to `AWS_REGION` / `AWS_DEFAULT_REGION` or the profile's region.",
				Validators:          []validator.String{stringvalidator.RegexMatches(regionRegexp, "must be an AWS region name such as us-east-1")},
			},
			"profile": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Named profile from the shared config and credentials files. Defaults to `AWS_PROFILE`.",
			},
			"access_key": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Access key ID. Prefer environment variables or a profile. Left out, the credentials come from `AWS_ACCESS_KEY_ID`, the profile, web identity, or the container or instance role, as for `hashicorp/aws`.",
			},
			"secret_key": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Secret access key, set together with `access_key`. Prefer environment variables or a profile. Left out, as for `access_key`.",
			},
			"token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Session token for temporary credentials. Left out, `AWS_SESSION_TOKEN` or none.",
			},
			"shared_config_files": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Shared config files. Defaults to `~/.aws/config`.",
			},
			"shared_credentials_files": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Shared credentials files. Defaults to `~/.aws/credentials`.",
			},
			"max_retries": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Maximum attempts for a throttled or failed API call. Defaults to 25, like the AWS provider.",
			},
			"skip_credentials_validation": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Skip the STS GetCallerIdentity check at configure time (default `false`). Useful for endpoints without STS.",
			},
		},
		Blocks: map[string]schema.Block{
			"assume_role":                   providerAssumeRoleBlock(),
			"assume_role_with_web_identity": providerAssumeRoleWithWebIdentityBlock(),
			"endpoints":                     providerEndpointsBlock(),
			"default_tags":                  providerDefaultTagsBlock(),
		},
	}
}

func (p *CloneProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	tflog.Info(ctx, "configuring the Clone Server provider", map[string]any{"version": p.version})
	var data providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if data.anyUnknown() {
		resp.Diagnostics.AddError("Provider configuration not yet known",
			"The clone provider's configuration depends on values known only after apply. Configure it from values known at plan time.")
		return
	}

	cfg, ep, defaultTags, diags := data.awsbaseConfig(ctx, p.version)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	ctx, logger := logging.NewTfLogger(ctx)
	cfg.Logger = logger
	// aws-sdk-go-base's request/response logger fails any call, its own
	// credential and identity calls included, whose body has a line over
	// 64 KiB. It stays off; conns.WithLogging logs the clients instead.
	cfg.SuppressDebugLog = true
	ctx, awsCfg, awsDiags := awsbase.GetAwsConfig(ctx, cfg)
	resp.Diagnostics.Append(convertAWSBaseDiags(awsDiags)...)
	if resp.Diagnostics.HasError() {
		return
	}
	awsCfg = conns.WithLogging(awsCfg)
	if !regionRegexp.MatchString(awsCfg.Region) {
		resp.Diagnostics.AddAttributeError(path.Root("region"), "Missing or invalid AWS region",
			fmt.Sprintf("The clone provider needs a region (got %q). Set `region` in the provider block or AWS_REGION.", awsCfg.Region))
		return
	}

	accountID, partition, idDiags := awsbase.GetAwsAccountIDAndPartition(ctx, awsCfg, cfg)
	resp.Diagnostics.Append(convertAWSBaseDiags(idDiags)...)
	if resp.Diagnostics.HasError() {
		return
	}

	client := conns.New(awsCfg, ep, logger)
	client.AccountID = accountID
	client.Partition = partition
	resp.Diagnostics.Append(validateDefaultTags(defaultTags)...)
	if resp.Diagnostics.HasError() {
		return
	}
	client.DefaultTags = defaultTags
	if data.defaultTagsUnknown() {
		defaultTagsPending.Store(client, struct{}{})
	}
	tflog.Debug(ctx, "configured AWS clients", map[string]any{"region": awsCfg.Region, "account_id": accountID})

	resp.ResourceData = client
	resp.DataSourceData = client
}

func (p *CloneProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewCloneImageResource,
		NewClonePoolResource,
		NewCloneSyncPolicyResource,
	}
}

func (p *CloneProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewCloneImageDataSource,
		NewClonePoolDataSource,
		NewCloneIAMPolicyDataSource,
	}
}

type providerModel struct {
	Region                    types.String                `tfsdk:"region"`
	Profile                   types.String                `tfsdk:"profile"`
	AccessKey                 types.String                `tfsdk:"access_key"`
	SecretKey                 types.String                `tfsdk:"secret_key"`
	Token                     types.String                `tfsdk:"token"`
	SharedConfigFiles         types.List                  `tfsdk:"shared_config_files"`
	SharedCredentialsFiles    types.List                  `tfsdk:"shared_credentials_files"`
	MaxRetries                types.Int64                 `tfsdk:"max_retries"`
	SkipCredentialsValidation types.Bool                  `tfsdk:"skip_credentials_validation"`
	AssumeRole                *assumeRoleModel            `tfsdk:"assume_role"`
	AssumeRoleWithWebIdentity *assumeRoleWebIdentityModel `tfsdk:"assume_role_with_web_identity"`
	Endpoints                 *endpointsModel             `tfsdk:"endpoints"`
	DefaultTags               *defaultTagsModel           `tfsdk:"default_tags"`
}

type assumeRoleModel struct {
	RoleARN        types.String `tfsdk:"role_arn"`
	SessionName    types.String `tfsdk:"session_name"`
	ExternalID     types.String `tfsdk:"external_id"`
	Duration       types.String `tfsdk:"duration"`
	Policy         types.String `tfsdk:"policy"`
	SourceIdentity types.String `tfsdk:"source_identity"`
	Tags           types.Map    `tfsdk:"tags"`
}

type assumeRoleWebIdentityModel struct {
	RoleARN              types.String `tfsdk:"role_arn"`
	SessionName          types.String `tfsdk:"session_name"`
	WebIdentityToken     types.String `tfsdk:"web_identity_token"`
	WebIdentityTokenFile types.String `tfsdk:"web_identity_token_file"`
	Duration             types.String `tfsdk:"duration"`
	Policy               types.String `tfsdk:"policy"`
}

type endpointsModel struct {
	AutoScaling types.String `tfsdk:"autoscaling"`
	CloudWatch  types.String `tfsdk:"cloudwatch"`
	EC2         types.String `tfsdk:"ec2"`
	ELB         types.String `tfsdk:"elb"`
	ELBV2       types.String `tfsdk:"elbv2"`
	SSM         types.String `tfsdk:"ssm"`
	STS         types.String `tfsdk:"sts"`
}

type defaultTagsModel struct {
	Tags types.Map `tfsdk:"tags"`
}

func (m providerModel) anyUnknown() bool {
	for _, v := range []interface{ IsUnknown() bool }{
		m.Region, m.Profile, m.AccessKey, m.SecretKey, m.Token,
		m.SharedConfigFiles, m.SharedCredentialsFiles, m.MaxRetries, m.SkipCredentialsValidation,
	} {
		if v.IsUnknown() {
			return true
		}
	}
	return false
}

func (m providerModel) awsbaseConfig(ctx context.Context, version string) (*awsbase.Config, conns.Endpoints, map[string]string, diag.Diagnostics) {
	var diags diag.Diagnostics
	// aws-sdk-go-base prints CallerDocumentationURL after "Please see" when it
	// finds no credentials. The provider is not on the Terraform Registry: it
	// names the page that exists, the provider docs in the repository.
	cfg := &awsbase.Config{
		AccessKey:              m.AccessKey.ValueString(),
		SecretKey:              m.SecretKey.ValueString(),
		Token:                  m.Token.ValueString(),
		Profile:                m.Profile.ValueString(),
		Region:                 m.Region.ValueString(),
		MaxRetries:             25,
		CallerName:             "Terraform Clone Provider",
		CallerDocumentationURL: "the Authentication section of the provider documentation (docs/index.md of https://github.com/cloneserver/terraform-provider-clone)",
		SkipCredsValidation:    m.SkipCredentialsValidation.ValueBool(),
		UserAgent: awsbase.UserAgentProducts{
			{Name: "terraform-provider-clone", Version: version, Comment: "+https://github.com/cloneserver/terraform-provider-clone"},
		},
	}
	if !m.MaxRetries.IsNull() {
		cfg.MaxRetries = int(m.MaxRetries.ValueInt64())
	}
	if os.Getenv("AWS_EC2_METADATA_DISABLED") == "true" {
		cfg.EC2MetadataServiceEnableState = imds.ClientDisabled
	}
	diags.Append(m.SharedConfigFiles.ElementsAs(ctx, &cfg.SharedConfigFiles, false)...)
	diags.Append(m.SharedCredentialsFiles.ElementsAs(ctx, &cfg.SharedCredentialsFiles, false)...)

	if ar := m.AssumeRole; ar != nil {
		role := awsbase.AssumeRole{
			RoleARN:        ar.RoleARN.ValueString(),
			SessionName:    ar.SessionName.ValueString(),
			ExternalID:     ar.ExternalID.ValueString(),
			Policy:         ar.Policy.ValueString(),
			SourceIdentity: ar.SourceIdentity.ValueString(),
		}
		role.Duration = parseDurationOrZero(ar.Duration)
		diags.Append(ar.Tags.ElementsAs(ctx, &role.Tags, false)...)
		cfg.AssumeRole = append(cfg.AssumeRole, role)
	}
	if wi := m.AssumeRoleWithWebIdentity; wi != nil {
		cfg.AssumeRoleWithWebIdentity = &awsbase.AssumeRoleWithWebIdentity{
			RoleARN:              wi.RoleARN.ValueString(),
			SessionName:          wi.SessionName.ValueString(),
			WebIdentityToken:     wi.WebIdentityToken.ValueString(),
			WebIdentityTokenFile: wi.WebIdentityTokenFile.ValueString(),
			Policy:               wi.Policy.ValueString(),
			Duration:             parseDurationOrZero(wi.Duration),
		}
	}

	var ep conns.Endpoints
	if e := m.Endpoints; e != nil {
		ep = conns.Endpoints{
			AutoScaling: e.AutoScaling.ValueString(),
			CloudWatch:  e.CloudWatch.ValueString(),
			EC2:         e.EC2.ValueString(),
			ELB:         e.ELB.ValueString(),
			ELBV2:       e.ELBV2.ValueString(),
			SSM:         e.SSM.ValueString(),
			STS:         e.STS.ValueString(),
		}
		cfg.StsEndpoint = ep.STS
	}

	defaultTags := map[string]string{}
	if dt := m.DefaultTags; dt != nil {
		if mapKnown(dt.Tags) {
			diags.Append(dt.Tags.ElementsAs(ctx, &defaultTags, false)...)
		}
	}
	return cfg, ep, defaultTags, diags
}

// validateDefaultTags checks default_tags as tagsValidators does. Values
// unknown while planning reach no validator, so Configure checks what it
// gets before any resource is applied with them.
func validateDefaultTags(tags map[string]string) diag.Diagnostics {
	var diags diag.Diagnostics
	at := path.Root("default_tags").AtName("tags")
	if len(tags) > maxTags {
		diags.AddAttributeError(at, "Too many tags", fmt.Sprintf("default_tags has %d tags; the provider allows %d.", len(tags), maxTags))
	}
	for k, v := range tags {
		switch {
		case reservedTagKey.MatchString(k):
			diags.AddAttributeError(at.AtMapKey(k), "Reserved tag key", fmt.Sprintf("%s: tag key %q must not start with \"aws:\" or \"clone:\".", at.AtMapKey(k), k))
		case checkTagString(k, 1, maxTagKeyLen) != "":
			diags.AddAttributeError(at.AtMapKey(k), "Invalid tag key", fmt.Sprintf("%s: tag key %q %s.", at.AtMapKey(k), k, checkTagString(k, 1, maxTagKeyLen)))
		case checkTagString(v, 0, maxTagValueLen) != "":
			diags.AddAttributeError(at.AtMapKey(k), "Invalid tag value", fmt.Sprintf("%s: tag value %q %s.", at.AtMapKey(k), v, checkTagString(v, 0, maxTagValueLen)))
		}
	}
	return diags
}

// defaultTagsUnknown tells whether default_tags depend on values known only
// after apply. Terraform then configures the provider twice: with unknown
// values for the plan, with known ones for the apply.
func (m providerModel) defaultTagsUnknown() bool {
	return m.DefaultTags != nil && !mapKnown(m.DefaultTags.Tags)
}

func parseDurationOrZero(v types.String) time.Duration {
	d, err := time.ParseDuration(v.ValueString())
	if err != nil {
		return 0
	}
	return d
}

// convertAWSBaseDiags turns aws-sdk-go-base diagnostics into framework ones,
// once, at provider level: a bad credential is one error, not one per resource.
func convertAWSBaseDiags(in awsbasediag.Diagnostics) diag.Diagnostics {
	var out diag.Diagnostics
	for _, d := range in {
		switch d.Severity() {
		case awsbasediag.SeverityError:
			out.AddError("Invalid AWS credentials or configuration for the clone provider", d.Summary()+"\n\n"+d.Detail())
		case awsbasediag.SeverityWarning:
			out.AddWarning(d.Summary(), d.Detail())
		}
	}
	return out
}
