terraform {
  required_providers {
    clone = {
      source = "cloneserver/clone"
    }
  }
}

# Credentials and region come from the usual AWS sources (environment,
# shared files, profiles, Terraform Cloud dynamic credentials), exactly as
# for the hashicorp/aws provider.
provider "clone" {
  region = "eu-west-1"

  assume_role {
    role_arn     = "arn:aws:iam::123456789012:role/clone-deployer"
    session_name = "terraform"
  }

  default_tags {
    tags = {
      team = "web"
    }
  }
}

# Against LocalStack or moto, point every service at one endpoint:
#   export AWS_ENDPOINT_URL=http://127.0.0.1:4566
# or set single services in an endpoints block:
#   endpoints {
#     ec2 = "http://127.0.0.1:4566"
#   }
