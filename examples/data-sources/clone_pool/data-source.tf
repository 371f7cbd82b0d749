terraform {
  required_providers {
    clone = {
      source = "cloneserver/clone"
    }
  }
}

provider "clone" {
  region = "eu-west-1"
}

data "clone_pool" "web" {
  name = "web"
}

output "unhealthy_clones" {
  value = data.clone_pool.web.unhealthy
}

# Clones an interrupted or failed rollout left on an older launch template
# version; the next apply of the clone_pool rolls them.
output "outdated_clones" {
  value = data.clone_pool.web.outdated_instance_ids
}

output "scaling" {
  value = {
    policies  = data.clone_pool.web.scaling_policy_names
    schedules = data.clone_pool.web.scheduled_action_names
  }
}
