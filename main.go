package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/cloneserver/terraform-provider-clone/internal/provider"
)

// version is set by goreleaser through ldflags.
var version = "dev"

// `go generate ./...` (and `make generate`) writes the IAM policies to
// examples/iam/, formats the examples and
// regenerates docs/ with tfplugindocs, the tool pinned in tools/go.mod.
//go:generate go run ./internal/iampolicy/gen
//go:generate terraform fmt -recursive ./examples/
//go:generate go -C tools tool tfplugindocs generate --provider-dir .. --provider-name clone --rendered-provider-name "Clone Server"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/cloneserver/clone",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
