// Command gen writes the IAM policies of package iampolicy, unscoped, to
// examples/iam/, where the IAM guide (templates/guides/iam.md.tmpl) reads
// them. main.go runs it before tfplugindocs (make generate).
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/cloneserver/terraform-provider-clone/internal/iampolicy"
)

func main() {
	dir := flag.String("dir", filepath.Join("examples", "iam"), "directory to write the policies to")
	flag.Parse()
	for name, content := range iampolicy.DocFiles() {
		if err := os.WriteFile(filepath.Join(*dir, name), []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
