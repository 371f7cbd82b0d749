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

# The master: the one server the site runs on today.
variable "master_instance_id" {
  type    = string
  default = "i-0123456789abcdef0"
}

# The clones start from an image baked from the master; a re-bake rolls the pool.
resource "clone_image" "web" {
  source_instance_id = var.master_instance_id
  name_prefix        = "web"
}

# Three clones of the master behind the ALB and a classic ELB; uploads go to the master.
resource "clone_pool" "web" {
  name               = "web"
  image_id           = clone_image.web.image_id
  instance_type      = "t3.small"
  subnet_ids         = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
  security_group_ids = ["sg-0a1b2c3d4e5f60718"]
  min_size           = 2
  max_size           = 10
  desired_capacity   = 3
  target_group_arns  = ["arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0a1b2c3d4e5f6071"]
  classic_elb_names  = ["web-classic"]

  user_data = <<-EOT
    #cloud-config
    runcmd:
      - systemctl restart nginx
  EOT

  master {
    instance_id              = var.master_instance_id
    attach_to_load_balancers = true
    write_paths              = ["/upload/*"]
    listener_arn             = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/0a1b2c3d4e5f6071/8a9b0c1d2e3f4a5b"
    rule_priority            = 10
    env_file                 = "/etc/clone/master.env"
    disable_services         = ["mysql"]
    recovery_alarm           = true
  }

  # A re-bake rolls the pool one clone at a time: a new clone must be healthy
  # in the ALB and the classic ELB before an old one is retired; after 10
  # minutes without health the pool rolls back and the apply fails.
  rolling_update {
    batch_size          = 1
    min_healthy_percent = 100
    health_timeout      = "10m"
    rollback_on_failure = true
  }

  # Autoscaling owns desired capacity from now on: its moves are not a diff.
  scaling {
    target_cpu_percent = 60

    schedule {
      name             = "night"
      recurrence       = "0 22 * * *"
      min_size         = 2
      desired_capacity = 2
    }

    schedule {
      name             = "morning"
      recurrence       = "0 7 * * 1-5"
      desired_capacity = 4
    }
  }

  tags = {
    app = "web"
  }

  timeouts {
    create = "20m"
    update = "20m"
  }
}
