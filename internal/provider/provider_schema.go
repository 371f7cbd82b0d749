package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// providerAssumeRoleBlock is the assume_role block.
func providerAssumeRoleBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Assume an IAM role before making any call. Left out, the provider calls AWS with the credentials it found.",
		// role_arn cannot be Required: see clonePoolMasterBlock.
		Validators: []validator.Object{objectvalidator.AlsoRequires(path.MatchRelative().AtName("role_arn"))},
		Attributes: map[string]schema.Attribute{
			"role_arn": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "**Required in an `assume_role` block** (listed as optional only because the block is): ARN of the role to assume.",
				Validators:          []validator.String{stringvalidator.RegexMatches(roleARNRegexp, "must be an IAM role ARN")},
			},
			"session_name": sessionNameAttr(),
			"external_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "External ID the role's trust policy requires: 2 to 1224 characters. Left out, none is sent.",
				Validators: []validator.String{
					stringvalidator.LengthBetween(2, 1224),
					stringvalidator.RegexMatches(externalIDRegexp, "must be letters, digits and _ + = , . @ : / -"),
				},
			},
			"duration": sessionDurationAttr("15 minutes, the AWS SDK's default"),
			"policy":   sessionPolicyAttr(),
			"source_identity": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Source identity passed to the assumed role. Left out, none.",
				Validators:          []validator.String{stringvalidator.RegexMatches(sessionNameRegexp, "must be 2-64 letters, digits and _ + = , . @ -")},
			},
			"tags": schema.MapAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: "Session tags. Left out, none."},
		},
	}
}

// providerAssumeRoleWithWebIdentityBlock is the assume_role_with_web_identity block.
func providerAssumeRoleWithWebIdentityBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Assume an IAM role with an OIDC web identity token, as Terraform Cloud dynamic credentials do. " +
			"Without this block the SDK still honours `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`.",
		Validators: []validator.Object{
			objectvalidator.AlsoRequires(path.MatchRelative().AtName("role_arn")),
			// Block-level: an attribute validator would also fire on the
			// null attributes of an absent block.
			oneOfInBlock{"web_identity_token", "web_identity_token_file"},
		},
		Attributes: map[string]schema.Attribute{
			"role_arn": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "**Required in an `assume_role_with_web_identity` block** (listed as optional only because the block is): ARN of the role to assume.",
				Validators:          []validator.String{stringvalidator.RegexMatches(roleARNRegexp, "must be an IAM role ARN")},
			},
			"session_name": sessionNameAttr(),
			"web_identity_token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "The OIDC token itself. Set exactly one of `web_identity_token` and `web_identity_token_file`.",
				Validators: []validator.String{stringvalidator.ConflictsWith(
					path.MatchRelative().AtParent().AtName("web_identity_token_file"))},
			},
			"web_identity_token_file": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "File holding the OIDC token. Set exactly one of `web_identity_token` and `web_identity_token_file`.",
			},
			"duration": sessionDurationAttr("what STS gives, 1 hour"),
			"policy":   sessionPolicyAttr(),
		},
	}
}

// providerEndpointsBlock is the endpoints block.
func providerEndpointsBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Per-service endpoint overrides, for LocalStack, moto or VPC endpoints. Left out, every service " +
			"uses `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, else AWS's own endpoint.",
		Attributes: map[string]schema.Attribute{
			"autoscaling": endpointAttr("EC2 Auto Scaling"),
			"cloudwatch":  endpointAttr("CloudWatch"),
			"ec2":         endpointAttr("EC2"),
			"elb":         endpointAttr("Classic Elastic Load Balancing"),
			"elbv2":       endpointAttr("Elastic Load Balancing v2 (ALB/NLB)"),
			"ssm":         endpointAttr("Systems Manager"),
			"sts":         endpointAttr("STS"),
		},
	}
}

// providerDefaultTagsBlock is the default_tags block.
func providerDefaultTagsBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Tags applied to everything the provider creates; a resource's own `tags` win. Left out, none.",
		Attributes: map[string]schema.Attribute{
			"tags": schema.MapAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "The tags. Left out, none. " + tagsLimitsDescription,
				Validators:          tagsValidators(),
			},
		},
	}
}

// endpointAttr overrides the endpoint of one service.
func endpointAttr(service string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		MarkdownDescription: fmt.Sprintf("Endpoint URL for %s. Overrides `AWS_ENDPOINT_URL_*` and `AWS_ENDPOINT_URL`; left out, those apply, else AWS's own endpoint.", service),
		Validators:          []validator.String{stringvalidator.RegexMatches(urlRegexp, "must be an http(s) URL")},
	}
}

// STS's shapes of a role session name, a source identity and an external id
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
var (
	sessionNameRegexp = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDRegexp  = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
)

// sessionNameAttr is the name of an assumed-role session.
func sessionNameAttr() schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		MarkdownDescription: "Session name recorded in CloudTrail. Left out, the AWS SDK names the session after the current time.",
		Validators:          []validator.String{stringvalidator.RegexMatches(sessionNameRegexp, "must be 2-64 letters, digits and _ + = , . @ -")},
	}
}

// sessionDurationAttr is how long an assumed-role session lasts; leftOut
// says how long when it is left out.
func sessionDurationAttr(leftOut string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		MarkdownDescription: "How long the assumed-role session lasts, as a Go duration (`1h`). 15m to 12h. Left out, " + leftOut + ".",
		Validators:          []validator.String{durationBetween(15*time.Minute, 12*time.Hour)},
	}
}

// sessionPolicyAttr narrows an assumed role.
func sessionPolicyAttr() schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		MarkdownDescription: "Inline session policy (JSON) that narrows the role. Left out, the session has the role's own permissions.",
	}
}

// oneOfInBlock requires one of the named attributes of a single block
// that is present; ConflictsWith on them forbids more than one.
type oneOfInBlock []string

func (v oneOfInBlock) Description(context.Context) string {
	return fmt.Sprintf("one of %s must be set in the block", strings.Join(v, ", "))
}

func (v oneOfInBlock) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v oneOfInBlock) ValidateObject(_ context.Context, req validator.ObjectRequest, resp *validator.ObjectResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	attrs := req.ConfigValue.Attributes()
	for _, name := range v {
		if a, ok := attrs[name]; ok && !a.IsNull() {
			return
		}
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Missing Attribute Configuration",
		fmt.Sprintf("%s needs one of %s.", req.Path, strings.Join(v, ", ")))
}
