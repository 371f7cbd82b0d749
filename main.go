package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/cloneserver/terraform-provider-clone/internal/provider"
)

// version is set through ldflags (-X main.version=...) by goreleaser and by
// `make build` / `make install`.
var version = "dev"

// `go generate ./...` (and `make generate`) writes the IAM policies to
// examples/iam/, fails when the examples are not `terraform fmt` clean (run
// `make fmt`), then regenerates docs/ with tfplugindocs, the tool pinned in
// tools/go.mod.
//go:generate go run ./internal/iampolicy/gen
//go:generate terraform fmt -check -diff -recursive ./examples/
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
