# Import by pool name (the name of its Auto Scaling group).
terraform import clone_pool.web web
