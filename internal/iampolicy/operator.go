package iampolicy

// group is one statement of the operator policy.
type group struct {
	sid       string
	actions   []string
	resources func(Scope) []string
	condition func(Scope) map[string]map[string][]string
}

func anyResource(Scope) []string { return []string{"*"} }

// operatorGroups are the operator policy's statements, one per kind of
// object. Read-only actions stay on "*" (most support no resource-level
// permissions; the others read objects found by tag or by an id not known
// in advance); so do the EC2 and load-balancing writes, whose resources
// (images, snapshots, launch templates, target groups, listener rules,
// instances) carry ids AWS assigns, not names the provider chooses.
var operatorGroups = []group{
	{
		sid: "Read",
		actions: []string{
			"autoscaling:DescribeAutoScalingGroups",
			"autoscaling:DescribeLaunchConfigurations",
			"autoscaling:DescribeLifecycleHooks",
			"autoscaling:DescribePolicies",
			"autoscaling:DescribeScheduledActions",
			"cloudwatch:DescribeAlarms",
			"ec2:DescribeImages",
			"ec2:DescribeInstances",
			"ec2:DescribeLaunchTemplateVersions",
			"ec2:DescribeLaunchTemplates",
			"ec2:DescribeSnapshots",
			"elasticloadbalancing:DescribeInstanceHealth",
			"elasticloadbalancing:DescribeListeners",
			"elasticloadbalancing:DescribeLoadBalancerAttributes",
			"elasticloadbalancing:DescribeRules",
			"elasticloadbalancing:DescribeTags",
			"elasticloadbalancing:DescribeTargetGroupAttributes",
			"elasticloadbalancing:DescribeTargetGroups",
			"elasticloadbalancing:DescribeTargetHealth",
			"ssm:DescribeParameters",
			"ssm:GetCommandInvocation",
		},
		resources: anyResource,
	},
	{
		// clone_image bakes, tags, deregisters and deletes images and
		// snapshots; clone_pool writes launch templates and terminates
		// clones it retires. ec2:RunInstances is never called by the
		// provider: Auto Scaling checks it for whoever creates or updates a
		// group with a launch template (see Unobserved).
		sid: "EC2",
		actions: []string{
			"ec2:CreateImage",
			"ec2:CreateLaunchTemplate",
			"ec2:CreateLaunchTemplateVersion",
			"ec2:CreateTags",
			"ec2:DeleteLaunchTemplate",
			"ec2:DeleteSnapshot",
			"ec2:DeleteTags",
			"ec2:DeregisterImage",
			"ec2:ModifyLaunchTemplate",
			"ec2:RunInstances",
			"ec2:TerminateInstances",
		},
		resources: anyResource,
	},
	{
		// The pool's Auto Scaling group is named after the pool.
		// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html
		sid: "AutoScalingGroup",
		actions: []string{
			"autoscaling:AttachLoadBalancerTargetGroups",
			"autoscaling:AttachLoadBalancers",
			"autoscaling:CreateAutoScalingGroup",
			"autoscaling:CreateOrUpdateTags",
			"autoscaling:DeleteAutoScalingGroup",
			"autoscaling:DeleteLifecycleHook",
			"autoscaling:DeletePolicy",
			"autoscaling:DeleteScheduledAction",
			"autoscaling:DeleteTags",
			"autoscaling:DetachInstances",
			"autoscaling:DetachLoadBalancerTargetGroups",
			"autoscaling:DetachLoadBalancers",
			"autoscaling:PutLifecycleHook",
			"autoscaling:PutScalingPolicy",
			"autoscaling:PutScheduledUpdateGroupAction",
			"autoscaling:TerminateInstanceInAutoScalingGroup",
			"autoscaling:UpdateAutoScalingGroup",
		},
		resources: func(s Scope) []string { return s.groupARNs() },
	},
	{
		// The master-only target group and its listener rule, and the
		// registration of the master and of retiring clones.
		sid: "LoadBalancing",
		actions: []string{
			"elasticloadbalancing:AddTags",
			"elasticloadbalancing:CreateRule",
			"elasticloadbalancing:CreateTargetGroup",
			"elasticloadbalancing:DeleteRule",
			"elasticloadbalancing:DeleteTargetGroup",
			"elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
			"elasticloadbalancing:DeregisterTargets",
			"elasticloadbalancing:ModifyRule",
			"elasticloadbalancing:RegisterInstancesWithLoadBalancer",
			"elasticloadbalancing:RegisterTargets",
			"elasticloadbalancing:RemoveTags",
			"elasticloadbalancing:SetRulePriorities",
		},
		resources: anyResource,
	},
	{
		// The master's recovery alarm is named POOL-master-recovery.
		// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
		sid: "RecoveryAlarm",
		actions: []string{
			"cloudwatch:DeleteAlarms",
			"cloudwatch:ListTagsForResource",
			"cloudwatch:PutMetricAlarm",
		},
		resources: func(s Scope) []string {
			var out []string
			for _, n := range names(s.PoolNames) {
				out = append(out, s.arn("cloudwatch", s.region(), s.account(), "alarm:"+n+"-master-recovery"))
			}
			return out
		},
	},
	{
		// Auto Scaling's service-linked role, made by the first group of an
		// account, and CloudWatch's, made by the first alarm with an EC2
		// action (the recovery alarm).
		// https://docs.aws.amazon.com/autoscaling/ec2/userguide/autoscaling-service-linked-role.html
		// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
		sid:     "ServiceLinkedRoles",
		actions: []string{"iam:CreateServiceLinkedRole"},
		resources: func(s Scope) []string {
			return []string{
				s.arn("iam", "", s.account(), "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"),
				s.arn("iam", "", s.account(), "role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents"),
			}
		},
		condition: func(Scope) map[string]map[string][]string {
			return map[string]map[string][]string{
				"StringEquals": {"iam:AWSServiceName": {"autoscaling.amazonaws.com", "events.amazonaws.com"}},
			}
		},
	},
	{
		// A pool's iam_instance_profile: passing its role to EC2.
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
		sid:     "PassInstanceRole",
		actions: []string{"iam:PassRole"},
		resources: func(s Scope) []string {
			if len(s.InstanceRoleARNs) == 0 {
				return []string{"*"}
			}
			return append([]string(nil), s.InstanceRoleARNs...)
		},
		condition: func(Scope) map[string]map[string][]string {
			return map[string]map[string][]string{
				"StringEquals": {"iam:PassedToService": {"ec2.amazonaws.com"}},
			}
		},
	},
	{
		// A sync policy's parameters: /clone-sync/NAME/private-key, paths
		// and policy.
		sid: "SyncParameters",
		actions: []string{
			"ssm:AddTagsToResource",
			"ssm:DeleteParameters",
			"ssm:GetParameter",
			"ssm:ListTagsForResource",
			"ssm:PutParameter",
			"ssm:RemoveTagsFromResource",
		},
		resources: func(s Scope) []string { return s.parameterARNs() },
	},
	{
		// A sync policy's "sync now" document, clone-sync-NAME.
		sid: "SyncDocuments",
		actions: []string{
			"ssm:AddTagsToResource",
			"ssm:CreateDocument",
			"ssm:DeleteDocument",
			"ssm:GetDocument",
			"ssm:ListTagsForResource",
			"ssm:RemoveTagsFromResource",
			"ssm:UpdateDocument",
			"ssm:UpdateDocumentDefaultVersion",
		},
		resources: func(s Scope) []string { return s.documentARNs() },
	},
	{
		// "Sync now" on the clones runs the sync policy's document;
		// install_on_master runs AWS-RunShellScript on the master.
		sid:     "SyncCommands",
		actions: []string{"ssm:SendCommand"},
		resources: func(s Scope) []string {
			return append(s.documentARNs(),
				s.arn("ssm", s.region(), "", "document/AWS-RunShellScript"),
				s.arn("ec2", s.region(), s.account(), "instance/*"),
			)
		},
	},
}

// documentARNs are the ARNs of the sync policies' SSM documents.
func (s Scope) documentARNs() []string {
	var out []string
	for _, n := range names(s.SyncPolicyNames) {
		out = append(out, s.arn("ssm", s.region(), s.account(), "document/clone-sync-"+n))
	}
	return out
}
