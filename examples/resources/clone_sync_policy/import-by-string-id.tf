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

# Adopt an existing sync policy by its name; everything else is read from SSM.
import {
  to = clone_sync_policy.web
  id = "web"
}

resource "clone_sync_policy" "web" {
  name               = "web"
  master_instance_id = "i-0123456789abcdef0"
  paths              = [{ source = "/srv/app/www", destination = "/var/www" }]
}
