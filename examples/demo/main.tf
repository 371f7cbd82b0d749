# The Clone Server pattern on the seeded single-server system.
# `make demo` seeds the system (seed.auto.tfvars) and applies this
# configuration against the local emulator.

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

output "image_id" {
  description = "The image the clones start from."
  value       = clone_image.web.image_id
}

output "previous_image_ids" {
  description = "Earlier images kept for rollback, newest first."
  value       = clone_image.web.previous_image_ids
}
