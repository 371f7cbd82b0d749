// Package newcomer tests what a new user of the provider does first, with
// the Terraform CLI and no registry: copy a configuration from the README,
// docs/ or examples/ and validate it, and `make install` the provider, then
// `terraform init` and `terraform plan` in an empty directory. Snippets finds
// the HCL code blocks of a Markdown file; the rest is tests.
package newcomer
