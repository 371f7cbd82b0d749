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

# Adopt an existing image set: its id (cis-...) or the id of any AMI in it.
# The configuration must match what the set was baked from.
import {
  to = clone_image.web
  id = "cis-0a1b2c3d4e5f60718"
}

resource "clone_image" "web" {
  source_instance_id = "i-0123456789abcdef0"
  name_prefix        = "web"
}
