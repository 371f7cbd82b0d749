# Three clones of the master behind the ALB and a classic ELB; uploads go to the master.
resource "clone_pool" "web" {
  name               = "web"
  image_id           = clone_image.web.image_id
  instance_type      = "t3.small"
  subnet_ids         = var.subnet_ids
  security_group_ids = [var.security_group_id]
  min_size           = 2
  max_size           = 10
  desired_capacity   = 3
  target_group_arns  = [var.target_group_arn]
  classic_elb_names  = [var.classic_elb_name]

  user_data = <<-EOT
    #cloud-config
    runcmd:
      - systemctl restart nginx
  EOT

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

  tags = {
    app = "web"
  }

  timeouts {
    create = "20m"
    update = "20m"
  }
}
