package iampolicy

// Unobserved lists, per policy, actions a policy grants that no API call
// shows: AWS checks them on the caller while serving another action, so the
// action log of the acceptance suite cannot contain them. Each has its
// reason.
var Unobserved = map[string]map[string]string{
	"operator": {
		"ec2:RunInstances": "Auto Scaling checks it for whoever creates or updates a group with a launch template; " +
			"the provider never calls it. https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html",
		"iam:PassRole": "Auto Scaling checks it when a group's launch template names an instance profile (iam_instance_profile). " +
			"https://docs.aws.amazon.com/autoscaling/ec2/userguide/us-iam-role.html",
		"iam:CreateServiceLinkedRole": "Auto Scaling (first group of an account) and CloudWatch (first alarm with an EC2 action) create " +
			"their service-linked role as the caller. https://docs.aws.amazon.com/autoscaling/ec2/userguide/autoscaling-service-linked-role.html",
		"kms:Encrypt": "SSM Parameter Store calls KMS as the caller for a SecureString under a customer managed key (kms_key_id); " +
			"the emulator's SSM does not. https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html",
		"kms:Decrypt": "as kms:Encrypt, when the provider reads the private key back to re-encrypt it under a new kms_key_id.",
	},
	"clone": {
		"kms:Decrypt": "SSM Parameter Store calls KMS as the caller when the agent reads the private key under a customer managed key " +
			"(get-parameter --with-decryption). https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html",
	},
}

// Ungranted lists, per policy, actions the callers make that the policy
// deliberately leaves out, each with its reason.
var Ungranted = map[string]map[string]string{
	"operator": {
		"sts:GetCallerIdentity": "needs no permission (an explicit deny cannot stop it). " +
			"https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html",
		"sts:AssumeRole": "made with the source credentials before assume_role's role is in effect: grant it to the source " +
			"principal on the role's ARN, and trust that principal in the role. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html",
		"sts:AssumeRoleWithWebIdentity": "needs no IAM permission: the role's trust policy decides. " +
			"https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html",
		"iam:GetUser": "with skip_credentials_validation the account id is looked up with iam:GetUser first; " +
			"when it is denied, sts:GetCallerIdentity answers.",
		"iam:ListRoles": "the last fallback of the same look-up, reached only when sts:GetCallerIdentity fails too.",
	},
	"clone": {},
}

// Unexercised lists, per policy, actions the provider does call, on paths
// the acceptance suite does not reach, each with its path. They are test
// gaps: a test that reaches one moves it out of this list (the coverage test
// reports each entry the suite did call).
var Unexercised = map[string]map[string]string{
	"operator": {
		"autoscaling:DescribeLaunchConfigurations": "clone_image's in-use check reads the launch configuration of each group " +
			"that launches from one; the suite's groups all use launch templates.",
		"autoscaling:DetachLoadBalancers": "a classic load balancer removed from a pool's classic_elb_names; no test removes one.",
		"elasticloadbalancing:RegisterInstancesWithLoadBalancer": "master.attach_to_load_balancers registers the master with a " +
			"classic load balancer it is not in yet; the seeded master is in the classic load balancer already.",
		"elasticloadbalancing:RemoveTags": "a tag removed from a pool whose master block made a master-only target group; " +
			"no test removes one.",
		"ssm:RemoveTagsFromResource": "a tag removed from a sync policy; no test removes one.",
		"ssm:UpdateDocument": "the sync policy's \"sync now\" document changes only when a provider version renders it " +
			"differently; no test upgrades the provider.",
		"ssm:UpdateDocumentDefaultVersion": "follows ssm:UpdateDocument.",
	},
	"clone": {},
}
