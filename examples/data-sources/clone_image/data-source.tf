# The newest image of a clone_image set ...
data "clone_image" "current" {
  set_id = clone_image.web.id
}

# ... or the newest image you own whose name starts with a prefix.
data "clone_image" "latest_web" {
  name_prefix = "web-"
}
