package newcomer

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

// TestSeedVariablesDeclared holds that every configuration that reads the
// seed's tfvars file declares every variable the file sets: the README's
// recipe for trying a configuration on the emulator and the demo.
// Terraform warns "Value for undeclared variable" about any other (a new
// user's trial found the recipe missing clone_instance_profile once the
// seed set it).
func TestSeedVariablesDeclared(t *testing.T) {
	root := repoRoot(t)
	var set []string
	for _, line := range strings.Split(strings.TrimSpace(new(seed.World).TFVars()), "\n") {
		set = append(set, strings.TrimSpace(strings.SplitN(line, "=", 2)[0]))
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var recipe string
	for _, s := range Snippets(string(readme)) {
		if strings.Contains(s.Text, "var.master_instance_id") {
			recipe = s.Text
		}
	}
	if recipe == "" {
		t.Fatal("README.md: no snippet reads var.master_instance_id (the recipe for the local emulator)")
	}
	demo, err := os.ReadFile(filepath.Join(root, "examples", "demo", "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"README.md's emulator recipe": recipe, "examples/demo/variables.tf": string(demo)} {
		for _, v := range set {
			if !regexp.MustCompile(`variable\s+"` + regexp.QuoteMeta(v) + `"`).MatchString(src) {
				t.Errorf("%s does not declare variable %q, which the seed's tfvars set", name, v)
			}
		}
	}
}
