# Import by image set id (the resource id) ...
terraform import clone_image.web cis-0a1b2c3d4e5f60718
# ... or by the id of any AMI in the set.
terraform import clone_image.web ami-0123456789abcdef0
