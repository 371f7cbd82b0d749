# Import by policy name; everything else is read from SSM.
terraform import clone_sync_policy.web web
