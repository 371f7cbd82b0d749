// Package iampolicy holds the two least-privilege IAM policies of the
// provider: the operator policy, for whoever runs Terraform (every AWS action
// the provider calls), and the clone policy, for the clones' instance profile
// (what a clone's sync agent calls with the AWS CLI). The docs
// (examples/iam/*.json, rendered into the IAM guide) and the clone_iam_policy
// data source are both made from this package, and
// TestPolicyCoversCalledActions checks both against the actions the
// acceptance suite really called.
//
// Resource ARN formats and the resource types each action supports follow the
// Service Authorization Reference:
// https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
package iampolicy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

// Version is the IAM policy language version.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
const Version = "2012-10-17"

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document. Condition maps an operator to
// condition keys and their values.
type Statement struct {
	Sid       string                         `json:"Sid"`
	Effect    string                         `json:"Effect"`
	Action    []string                       `json:"Action"`
	Resource  []string                       `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// Scope narrows the policies' resources. Every field is optional: an empty
// Partition is "aws", an empty Region or AccountID matches any ("*"), empty
// name lists match every sync policy or pool, no KMS keys means the
// AWS-managed key alias/aws/ssm (which needs no IAM permission), and no
// instance role ARNs lets iam:PassRole pass any role, to EC2 only.
type Scope struct {
	Partition string
	Region    string
	AccountID string

	// SyncPolicyNames are clone_sync_policy names: their SSM parameters
	// (/clone-sync/NAME/*) and documents (clone-sync-NAME).
	SyncPolicyNames []string
	// PoolNames are clone_pool names, which are the Auto Scaling group names.
	PoolNames []string
	// KMSKeyARNs are the customer managed keys given as kms_key_id of sync
	// policies, as key ARNs.
	KMSKeyARNs []string
	// InstanceRoleARNs are the roles of the instance profiles given as
	// iam_instance_profile of pools.
	InstanceRoleARNs []string
}

func (s Scope) partition() string { return or(s.Partition, "aws") }
func (s Scope) region() string    { return or(s.Region, "*") }
func (s Scope) account() string   { return or(s.AccountID, "*") }

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func names(list []string) []string {
	if len(list) == 0 {
		return []string{"*"}
	}
	return list
}

func (s Scope) arn(service, region, account, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", s.partition(), service, region, account, resource)
}

// ssmViaService limits KMS use to requests SSM Parameter Store makes on the
// caller's behalf.
// https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
func (s Scope) ssmViaService() map[string]map[string][]string {
	return map[string]map[string][]string{
		"StringLike": {"kms:ViaService": {"ssm." + s.region() + ".amazonaws.com"}},
	}
}

// parameterARNs are the ARNs of the sync policies' SSM parameters under
// their path, or of the parameters named by leaves under it (the leading
// "/" of a parameter name is not part of its ARN).
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html#awssystemsmanager-resources-for-iam-policies
func (s Scope) parameterARNs(leaves ...string) []string {
	var out []string
	for _, n := range names(s.SyncPolicyNames) {
		if len(leaves) == 0 {
			out = append(out, s.arn("ssm", s.region(), s.account(), "parameter/clone-sync/"+n+"/*"))
		}
		for _, l := range leaves {
			out = append(out, s.arn("ssm", s.region(), s.account(), "parameter/clone-sync/"+n+"/"+l))
		}
	}
	return out
}

// Operator is the policy for whoever runs Terraform with this provider.
func Operator(s Scope) Document {
	d := Document{Version: Version}
	for _, g := range operatorGroups {
		st := Statement{Sid: g.sid, Effect: "Allow", Action: g.actions, Resource: g.resources(s)}
		if g.condition != nil {
			st.Condition = g.condition(s)
		}
		d.Statement = append(d.Statement, st)
	}
	if len(s.KMSKeyARNs) > 0 {
		d.Statement = append(d.Statement, Statement{
			Sid: "SyncKeyEncryption", Effect: "Allow",
			Action:    []string{"kms:Decrypt", "kms:Encrypt"},
			Resource:  slices.Clone(s.KMSKeyARNs),
			Condition: s.ssmViaService(),
		})
	}
	return d
}

// Clone is the policy for the clones' instance profile.
func Clone(s Scope) Document {
	d := Document{Version: Version, Statement: []Statement{
		{
			// The agent reads the path list and the private key of its
			// sync policy (aws ssm get-parameter --with-decryption).
			Sid: "ReadSyncParameters", Effect: "Allow",
			Action:   []string{"ssm:GetParameter"},
			Resource: s.parameterARNs("paths", "private-key"),
		},
		{
			// After its first sync the agent lets the clone into service
			// (aws autoscaling complete-lifecycle-action).
			// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html#amazonec2autoscaling-resources-for-iam-policies
			Sid: "CompleteFirstSyncHook", Effect: "Allow",
			Action:   []string{"autoscaling:CompleteLifecycleAction"},
			Resource: s.groupARNs(),
		},
		{
			// When its first sync fails, the agent tags its own instance
			// clone:first-sync=REASON, so that the apply can say why the
			// clone never came into service (aws ec2 create-tags). Only
			// that tag key, only on instances of the pools' groups (Auto
			// Scaling tags each instance aws:autoscaling:groupName).
			// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
			// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-tagkeys
			// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-tagging.html
			Sid: "ReportFirstSync", Effect: "Allow",
			Action:   []string{"ec2:CreateTags"},
			Resource: []string{s.arn("ec2", s.region(), s.account(), "instance/*")},
			Condition: map[string]map[string][]string{
				"StringLike":                {"aws:ResourceTag/aws:autoscaling:groupName": names(s.PoolNames)},
				"ForAllValues:StringEquals": {"aws:TagKeys": {pool.TagFirstSync}},
			},
		},
	}}
	if len(s.KMSKeyARNs) > 0 {
		d.Statement = append(d.Statement, Statement{
			Sid: "DecryptSyncKey", Effect: "Allow",
			Action:    []string{"kms:Decrypt"},
			Resource:  slices.Clone(s.KMSKeyARNs),
			Condition: s.ssmViaService(),
		})
	}
	return d
}

func (s Scope) groupARNs() []string {
	var out []string
	for _, n := range names(s.PoolNames) {
		out = append(out, s.arn("autoscaling", s.region(), s.account(), "autoScalingGroup:*:autoScalingGroupName/"+n))
	}
	return out
}

// JSON renders d as indented JSON, as the docs show it and
// aws_iam_policy's policy argument takes it.
func (d Document) JSON() string {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		panic(err) // only strings, lists and maps: cannot fail
	}
	return string(b)
}

// Actions lists every action of d, sorted, without duplicates.
func (d Document) Actions() []string {
	var out []string
	for _, st := range d.Statement {
		out = append(out, st.Action...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// IAMAction names an API call as IAM does: the service prefix of the IAM
// action namespace and the operation. Classic and v2 load balancing share
// the elasticloadbalancing prefix.
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_elasticloadbalancingv2.html
func IAMAction(service, operation string) string {
	prefix := strings.ToLower(service)
	switch prefix {
	case "elb", "elbv2", "elasticloadbalancingv2":
		prefix = "elasticloadbalancing"
	case "monitoring":
		prefix = "cloudwatch"
	}
	return prefix + ":" + operation
}

// DocFiles are the files under examples/iam/ the docs show: each policy,
// unscoped, by file name.
func DocFiles() map[string]string {
	return map[string]string{
		"operator-policy.json": Operator(Scope{}).JSON() + "\n",
		"clone-policy.json":    Clone(Scope{}).JSON() + "\n",
	}
}
