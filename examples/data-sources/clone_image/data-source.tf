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

resource "clone_image" "web" {
  source_instance_id = "i-0123456789abcdef0"
  name_prefix        = "web"
}

# The newest image of a clone_image set ...
data "clone_image" "current" {
  set_id = clone_image.web.id
}

# ... or the newest image you own whose name starts with a prefix.
data "clone_image" "latest_web" {
  name_prefix = "web-"
}
