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

# Mirror the web root and the uploads of the master to every clone.
# Changing `paths` replaces nothing: clones read the list on every run and
# get a "sync now" right away.
resource "clone_sync_policy" "web" {
  name               = "web"
  master_instance_id = "i-0123456789abcdef0"
  interval           = "2m"
  install_on_master  = true

  paths = [
    {
      source      = "/srv/app/www"
      destination = "/var/www"
      exclude     = ["*.tmp", "cache/"]
      delete      = true
    },
    {
      source      = "/srv/app/uploads"
      destination = "/srv/uploads"
    },
  ]

  # Bump to generate a new key pair in place.
  rotate_key_trigger = "2026-12"

  # Encrypt the private key with your own KMS key (default: aws/ssm). The
  # clones' instance profile needs kms:Decrypt on it. Changing it re-encrypts
  # the same key in place.
  kms_key_id = "alias/clone-sync"

  tags = {
    app = "web"
  }
}

# Clones of the pool get the agent and enter service after their first sync.
#   resource "clone_pool" "web" {
#     sync_policy_id    = clone_sync_policy.web.id
#     sync_agent_sha256 = clone_sync_policy.web.agent_sha256 # agent changes roll the pool in the same apply
#     ...
#   }

# Without install_on_master, install this line for the ssh user yourself.
output "master_authorized_key" {
  value = clone_sync_policy.web.authorized_key
}
