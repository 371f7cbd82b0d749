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

# Adopt an existing pool by its name (the name of its Auto Scaling group).
import {
  to = clone_pool.web
  id = "web"
}

resource "clone_pool" "web" {
  name          = "web"
  image_id      = "ami-0123456789abcdef0"
  instance_type = "t3.small"
  subnet_ids    = ["subnet-0a1b2c3d4e5f60718"]
  min_size      = 2
  max_size      = 8
}
