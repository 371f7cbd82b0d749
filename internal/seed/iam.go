package seed

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/cloneserver/terraform-provider-clone/internal/iampolicy"
)

// ec2TrustPolicy lets EC2 instances take the role: what an instance
// profile's role needs
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html).
const ec2TrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// clonePolicyName is the role's inline policy: the clone policy of
// internal/iampolicy.
const clonePolicyName = "clone"

// ensureCloneInstanceProfile makes the instance profile a site's clones
// run with: a role EC2 may assume, holding the clone policy scoped to the
// pools and sync policies named <seed>-*. The instance profile and the
// role share one name, as the IAM console makes them.
func (s *seeder) ensureCloneInstanceProfile(ctx context.Context) error {
	name := resourceName(s.name, "clone")
	_, err := s.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var missing *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &missing):
		if _, err := s.iam.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 aws.String(name),
			AssumeRolePolicyDocument: aws.String(ec2TrustPolicy),
			Description:              aws.String("The clones of seed " + s.name),
			Tags:                     []iamtypes.Tag{{Key: aws.String(TagSeed), Value: aws.String(s.name)}},
		}); err != nil {
			return fmt.Errorf("creating IAM role %s: %w", name, err)
		}
	case err != nil:
		return fmt.Errorf("reading IAM role %s: %w", name, err)
	}
	scope := iampolicy.Scope{PoolNames: []string{s.name + "-*"}, SyncPolicyNames: []string{s.name + "-*"}}
	if _, err := s.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       aws.String(name),
		PolicyName:     aws.String(clonePolicyName),
		PolicyDocument: aws.String(iampolicy.Clone(scope).JSON()),
	}); err != nil {
		return fmt.Errorf("putting the clone policy on IAM role %s: %w", name, err)
	}

	out, err := s.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	var roles []iamtypes.Role
	switch {
	case errors.As(err, &missing):
		if _, err := s.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{
			InstanceProfileName: aws.String(name),
			Tags:                []iamtypes.Tag{{Key: aws.String(TagSeed), Value: aws.String(s.name)}},
		}); err != nil {
			return fmt.Errorf("creating IAM instance profile %s: %w", name, err)
		}
	case err != nil:
		return fmt.Errorf("reading IAM instance profile %s: %w", name, err)
	default:
		roles = out.InstanceProfile.Roles
	}
	if len(roles) == 0 {
		if _, err := s.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{
			InstanceProfileName: aws.String(name),
			RoleName:            aws.String(name),
		}); err != nil {
			return fmt.Errorf("adding IAM role %s to instance profile %s: %w", name, name, err)
		}
	}
	s.w.CloneInstanceProfile = name
	return nil
}
