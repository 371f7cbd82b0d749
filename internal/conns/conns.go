// Package conns builds the AWS service clients the provider uses, once, in Configure.
package conns

import (
	"context"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/hashicorp/aws-sdk-go-base/v2/logging"
)

// Endpoints overrides the endpoint of single services. Empty means the SDK's
// own resolution (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, then AWS).
type Endpoints struct {
	AutoScaling string
	CloudWatch  string
	EC2         string
	ELB         string
	ELBV2       string
	SSM         string
	STS         string
}

// AWSClient holds every service client; resources receive it as provider data.
type AWSClient struct {
	AccountID   string
	Partition   string
	Region      string
	DefaultTags map[string]string

	AutoScaling *autoscaling.Client
	CloudWatch  *cloudwatch.Client
	EC2         *ec2.Client
	ELB         *elasticloadbalancing.Client
	ELBV2       *elasticloadbalancingv2.Client
	SSM         *ssm.Client

	logger logging.Logger
}

// New builds every client from one resolved aws.Config, each with the
// provider's SDK logging (WithLogging).
func New(cfg aws.Config, ep Endpoints, logger logging.Logger) *AWSClient {
	cfg = WithLogging(cfg)
	return &AWSClient{
		Region: cfg.Region,
		AutoScaling: autoscaling.NewFromConfig(cfg, func(o *autoscaling.Options) {
			o.BaseEndpoint = endpoint(ep.AutoScaling, o.BaseEndpoint)
		}),
		// CloudWatch >= v1.53 defaults to RPCv2 CBOR; awsQuery works on AWS and on emulators.
		CloudWatch: cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
			o.BaseEndpoint = endpoint(ep.CloudWatch, o.BaseEndpoint)
			o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
		}),
		EC2: ec2.NewFromConfig(cfg, func(o *ec2.Options) {
			o.BaseEndpoint = endpoint(ep.EC2, o.BaseEndpoint)
		}),
		ELB: elasticloadbalancing.NewFromConfig(cfg, func(o *elasticloadbalancing.Options) {
			o.BaseEndpoint = endpoint(ep.ELB, o.BaseEndpoint)
		}),
		ELBV2: elasticloadbalancingv2.NewFromConfig(cfg, func(o *elasticloadbalancingv2.Options) {
			o.BaseEndpoint = endpoint(ep.ELBV2, o.BaseEndpoint)
		}),
		SSM: ssm.NewFromConfig(cfg, func(o *ssm.Options) {
			o.BaseEndpoint = endpoint(ep.SSM, o.BaseEndpoint)
		}),
		logger: logger,
	}
}

func endpoint(override string, current *string) *string {
	if override != "" {
		return aws.String(override)
	}
	return current
}

// Context registers the SDK request logger on ctx so API calls made with it
// are logged through tflog.
func (c *AWSClient) Context(ctx context.Context) context.Context {
	if c.logger == nil {
		return ctx
	}
	return logging.RegisterLogger(ctx, c.logger)
}

// AllTags merges the provider's default_tags with a resource's own tags; the
// resource wins on conflicts.
func (c *AWSClient) AllTags(resourceTags map[string]string) map[string]string {
	out := make(map[string]string, len(c.DefaultTags)+len(resourceTags))
	maps.Copy(out, c.DefaultTags)
	maps.Copy(out, resourceTags)
	return out
}
