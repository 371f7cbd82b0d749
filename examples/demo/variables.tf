# Values written by the seeder into seed.auto.tfvars.

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_id" {
  type = string
}

variable "master_instance_id" {
  type = string
}

variable "target_group_arn" {
  type = string
}

variable "listener_arn" {
  type = string
}

variable "classic_elb_name" {
  type = string
}

variable "clone_instance_profile" {
  description = "The clones' instance profile, whose role holds the clone policy (seeded)."
  type        = string
}

variable "release" {
  description = "Bump to re-bake the image and roll the pool onto it."
  type        = string
  default     = "v1"
}
