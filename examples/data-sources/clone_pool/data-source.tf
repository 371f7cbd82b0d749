data "clone_pool" "web" {
  name = "web"
}

output "unhealthy_clones" {
  value = data.clone_pool.web.unhealthy
}
