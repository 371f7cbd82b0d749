# The Clone Server pattern on the seeded single-server system.
# `make demo` seeds the system (seed.auto.tfvars) and applies this
# configuration against the local emulator; `make demo-rollout` bumps
# `release`, which re-bakes the image and rolls the pool onto it.

terraform {
  required_providers {
    clone = {
      source = "cloneserver/clone"
    }
  }
}

provider "clone" {
  region = var.region

  default_tags {
    tags = {
      project = "clone-demo"
    }
  }
}

# Step 1: bake the master into an image, keeping two earlier images for rollback.
resource "clone_image" "web" {
  source_instance_id = var.master_instance_id
  name_prefix        = "clone-demo-web"
  description        = "Clone of the clone-demo master web server"
  retain_previous    = 2

  triggers = {
    release = var.release
  }
}

# Step 2: keep the clones' content in sync with the master.
resource "clone_sync_policy" "web" {
  name               = "clone-demo-web"
  master_instance_id = var.master_instance_id
  interval           = "2m"
  install_on_master  = true

  paths = [
    {
      source      = "/var/www/html"
      destination = "/var/www/html"
      exclude     = ["*.tmp"]
      delete      = true
    },
    {
      source      = "/var/www/static"
      destination = "/var/www/static"
    },
  ]
}

# Step 3: three clones beside the master behind the ALB and the classic ELB;
# uploads go to the master, the master's database stays off the clones.
resource "clone_pool" "web" {
  name                 = "clone-demo-web"
  image_id             = clone_image.web.image_id
  instance_type        = "t3.micro"
  subnet_ids           = var.subnet_ids
  security_group_ids   = [var.security_group_id]
  min_size             = 2
  max_size             = 6
  desired_capacity     = 3
  target_group_arns    = [var.target_group_arn]
  classic_elb_names    = [var.classic_elb_name]
  iam_instance_profile = var.clone_instance_profile # the clone policy: the agent reads SSM, completes the first-sync hook
  sync_policy_id       = clone_sync_policy.web.id
  sync_agent_sha256    = clone_sync_policy.web.agent_sha256 # a changed agent rolls the pool in the same apply

  master {
    instance_id              = var.master_instance_id
    attach_to_load_balancers = true
    write_paths              = ["/upload/*"]
    listener_arn             = var.listener_arn
    rule_priority            = 10
    env_file                 = "/etc/clone/master.env"
    disable_services         = ["mysql"]
    recovery_alarm           = true
  }
}

data "clone_pool" "web" {
  name = clone_pool.web.name

  depends_on = [clone_pool.web]
}

output "image_id" {
  description = "The image the clones start from."
  value       = clone_image.web.image_id
}

output "previous_image_ids" {
  description = "Earlier images kept for rollback, newest first."
  value       = clone_image.web.previous_image_ids
}

output "clones" {
  description = "The pool's clones."
  value       = clone_pool.web.instance_ids
}

output "healthy_clones" {
  description = "Clones healthy in every load balancer the pool is attached to."
  value       = "${data.clone_pool.web.healthy_count}/${length(data.clone_pool.web.instance_ids)}"
}

output "unhealthy_clones" {
  description = "Where and why a clone is not healthy (empty when all are)."
  value       = data.clone_pool.web.unhealthy
}

output "upload_rule" {
  description = "The listener rule that sends /upload/* to the master."
  value       = clone_pool.web.write_rule_arn
}

output "sync_authorized_key" {
  description = "The read-only key the clones pull with (installed on the master)."
  value       = clone_sync_policy.web.authorized_key
}
