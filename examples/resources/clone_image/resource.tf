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

# Bake the master into an image. Bumping `release` re-bakes in place and
# keeps the two previous images for rollback.
resource "clone_image" "web" {
  source_instance_id = "i-0123456789abcdef0"
  name_prefix        = "web"
  description        = "Clone of the web master"
  retain_previous    = 2

  triggers = {
    release = "2026-11-27"
  }

  tags = {
    app = "web"
  }
}

# Roll back by pointing consumers at the previous image:
#   image_id = clone_image.web.previous_image_ids[0]
