terraform {
  required_providers {
    clone = {
      source = "cloneserver/clone"
    }
    aws = {
      source = "hashicorp/aws"
    }
  }
}

provider "clone" {
  region = "eu-west-1"
}

provider "aws" {
  region = "eu-west-1"
}

# The two IAM policies the provider needs, scoped to one pool and its sync
# policy, attached with hashicorp/aws.
data "clone_iam_policy" "web" {
  pool_names        = ["web"]
  sync_policy_names = ["web"]
}

# Whoever runs Terraform (here: a CI role).
resource "aws_iam_role_policy" "terraform" {
  name   = "clone-provider"
  role   = "terraform-ci"
  policy = data.clone_iam_policy.web.operator_policy_json
}

# The clones: the role of the pool's iam_instance_profile.
resource "aws_iam_role" "clone" {
  name = "web-clone"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "clone" {
  name   = "clone-sync-agent"
  role   = aws_iam_role.clone.id
  policy = data.clone_iam_policy.web.clone_policy_json
}

resource "aws_iam_instance_profile" "clone" {
  name = "web-clone"
  role = aws_iam_role.clone.name
}
