package newcomer

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestSnippetsExtract(t *testing.T) {
	md := "# Title\n" +
		"```hcl\nprovider \"clone\" {}\n```\n" +
		"text\n" +
		"```sh\nmake install\n```\n" +
		"- a list item:\n\n" +
		"  ```terraform fragment\n  resource \"clone_image\" \"x\" {\n    name_prefix = \"x\"\n  }\n  ```\n" +
		"````tf\nlocals {\n  a = \"```\"\n}\n````\n" +
		"```\nno language\n```\n" +
		"```hcl cli-config\nplugin_cache_dir = \"/tmp\"\n```\n"
	got := Snippets(md)
	want := []Snippet{
		{Line: 2, Text: "provider \"clone\" {}\n"},
		{Line: 11, Fragment: true, Text: "resource \"clone_image\" \"x\" {\n  name_prefix = \"x\"\n}\n"},
		{Line: 16, Text: "locals {\n  a = \"```\"\n}\n"},
		{Line: 24, CLIConfig: true, Text: "plugin_cache_dir = \"/tmp\"\n"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Snippets:\n got %+v\nwant %+v", got, want)
	}
}

// A snippetCase is one configuration to check: a whole snippet of a Markdown
// file, a fragment together with the snippets above it, or an examples/
// directory.
type snippetCase struct {
	name string
	// files of the configuration directory.
	files map[string]string
	// raw is the text as shown to the reader, for terraform fmt.
	raw map[string]string
	// cliConfig: files holds a CLI configuration file, cli.tfrc.
	cliConfig bool
}

// collectSnippets finds every configuration a reader can copy: the hcl,
// terraform and tf code blocks of README.md and docs/**/*.md, and every
// directory of examples/ holding .tf files (a resource's import-by-*.tf
// files each on their own, as the docs show them).
func collectSnippets(t *testing.T, root string) []snippetCase {
	t.Helper()
	var cases []snippetCase
	mds := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(root, p)
			mds = append(mds, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, md := range mds {
		src, err := os.ReadFile(filepath.Join(root, md))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, markdownCases(t, md, Snippets(string(src)))...)
	}

	dirs := map[string]map[string]string{}
	err = filepath.WalkDir(filepath.Join(root, "examples"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(p, ".tf") {
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			if strings.HasPrefix(filepath.Base(p), "import-by-") {
				// tfplugindocs shows a resource's import block example
				// (import-by-string-id.tf) on its own, not with resource.tf:
				// it is a configuration of its own.
				rel = filepath.Join(rel, filepath.Base(p))
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if dirs[rel] == nil {
				dirs[rel] = map[string]string{}
			}
			dirs[rel][filepath.Base(p)] = string(src)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir, files := range dirs {
		cases = append(cases, snippetCase{name: dir, files: files, raw: files})
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	return cases
}

// markdownCases turns the snippets of one Markdown file into configurations.
// A whole snippet stands alone. A fragment is checked as part of the last
// whole snippet above it, with the block fragments in between; a fragment of
// bare attributes (`image_id = clone_image.web.previous_image_ids[0]`) is
// wrapped in a locals block, so its references are checked too.
func markdownCases(t *testing.T, md string, snippets []Snippet) []snippetCase {
	t.Helper()
	var (
		cases   []snippetCase
		context map[string]string
	)
	for _, s := range snippets {
		name := fmt.Sprintf("%s:%d", md, s.Line)
		if s.CLIConfig {
			cases = append(cases, snippetCase{name: name, files: map[string]string{"cli.tfrc": s.Text}, raw: map[string]string{"cli.tf": s.Text}, cliConfig: true})
			continue
		}
		if !s.Fragment {
			context = map[string]string{"main.tf": s.Text}
			cases = append(cases, snippetCase{name: name, files: context, raw: map[string]string{"main.tf": s.Text}})
			continue
		}
		if context == nil {
			t.Errorf("%s: a fragment with no whole configuration above it in the file: make it whole (drop \"fragment\" from its info string)", name)
			continue
		}
		files := map[string]string{}
		for k, v := range context {
			files[k] = v
		}
		file := fmt.Sprintf("fragment_%d.tf", s.Line)
		if bareAttributes(s.Text) {
			files[file] = "locals {\n" + s.Text + "}\n"
		} else {
			files[file] = s.Text
			context = files
		}
		cases = append(cases, snippetCase{name: name, files: files, raw: map[string]string{file: s.Text}})
	}
	return cases
}

// bareAttributes tells whether src is attributes only, with no block.
func bareAttributes(src string) bool {
	f, diags := hclsyntax.ParseConfig([]byte(src), "snippet.tf", hcl.InitialPos)
	if diags.HasErrors() {
		return false
	}
	body := f.Body.(*hclsyntax.Body)
	return len(body.Blocks) == 0 && len(body.Attributes) > 0
}

// foreignProviders lists the providers other than clone that files use
// (resource and data source type prefixes, provider blocks): those
// configurations need a registry, so they are checked by terraform fmt only.
func foreignProviders(files map[string]string) []string {
	seen := map[string]bool{}
	for name, src := range files {
		f, diags := hclsyntax.ParseConfig([]byte(src), name, hcl.InitialPos)
		if diags.HasErrors() {
			continue
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			var p string
			switch {
			case (b.Type == "resource" || b.Type == "data" || b.Type == "ephemeral") && len(b.Labels) > 0:
				p, _, _ = strings.Cut(b.Labels[0], "_")
			case b.Type == "provider" && len(b.Labels) > 0:
				p = b.Labels[0]
			}
			if p != "" && p != "clone" && p != "terraform" {
				seen[p] = true
			}
		}
	}
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// declaresClone tells whether a terraform block of files requires the
// clone provider from cloneserver/clone.
func declaresClone(files map[string]string) bool {
	for name, src := range files {
		f, diags := hclsyntax.ParseConfig([]byte(src), name, hcl.InitialPos)
		if diags.HasErrors() {
			continue
		}
		for _, tb := range f.Body.(*hclsyntax.Body).Blocks {
			if tb.Type != "terraform" {
				continue
			}
			for _, rp := range tb.Body.Blocks {
				if a, ok := rp.Body.Attributes["clone"]; ok && rp.Type == "required_providers" &&
					strings.Contains(string(a.Expr.Range().SliceBytes([]byte(src))), "cloneserver/clone") {
					return true
				}
			}
		}
	}
	return false
}

// TestSnippets checks every configuration a reader can copy from README.md,
// docs/ and examples/: `terraform fmt -check` on the text as shown, then
// `terraform init` and `terraform validate` against the provider built by
// `make install`, served from a filesystem mirror with no registry, in a
// home directory of its own. The provider's validators run in validate, so
// placeholder ids fail here.
func TestSnippets(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs terraform init and validate on every snippet of the docs: set TF_ACC=1 (make test)")
	}
	root := repoRoot(t)
	cases := collectSnippets(t, root)
	if len(cases) == 0 {
		t.Fatal("no snippets found")
	}
	mirror := installedPlugins(t)
	home := t.TempDir()
	cliConfig := filepath.Join(home, "terraform.rc")
	// Only the mirror: a configuration needing any other provider, or
	// hashicorp/clone because it names no source, fails at init.
	rc := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"%s/cloneserver/clone\"]\n  }\n}\n", mirror, providerHost())
	if err := os.WriteFile(cliConfig, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	env := cliEnv(t, home, "TF_CLI_CONFIG_FILE="+cliConfig)
	tf := terraform(t)

	seen := map[string]string{}
	for _, c := range cases {
		key := contentKey(c.files)
		if first, ok := seen[key]; ok {
			t.Logf("%s: the same configuration as %s", c.name, first)
			continue
		}
		seen[key] = c.name
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			rawDir := filepath.Join(dir, "as-shown")
			writeFiles(t, rawDir, c.raw)
			if out, errOut, err := run(rawDir, env, tf, "fmt", "-check", "-diff", "-no-color"); err != nil {
				t.Errorf("%s is not terraform fmt clean (make fmt formats examples/):\n%s%s", c.name, out, errOut)
			}
			if c.cliConfig {
				checkCLIConfig(t, c, dir, env, tf)
				return
			}
			if foreign := foreignProviders(c.files); len(foreign) > 0 {
				// Still, pasted on its own it must find this provider.
				if !declaresClone(c.files) {
					t.Errorf("%s uses providers %v and clone, but declares no required_providers clone = { source = \"cloneserver/clone\" }: terraform init would look for hashicorp/clone", c.name, foreign)
				}
				t.Logf("%s uses providers %v besides clone: checked with terraform fmt and for its required_providers only", c.name, foreign)
				return
			}
			cfgDir := filepath.Join(dir, "config")
			writeFiles(t, cfgDir, c.files)
			if out, errOut, err := run(cfgDir, env, tf, "init", "-input=false", "-backend=false", "-no-color"); err != nil {
				t.Fatalf("%s: terraform init: %s\n%s%s", c.name, err, out, errOut)
			}
			if out, errOut, err := run(cfgDir, env, tf, "validate", "-no-color"); err != nil || strings.Contains(out+errOut, "Warning:") {
				t.Fatalf("%s: terraform validate: %v (a warning fails too)\n%s%s\nthe configuration checked:\n%s", c.name, err, out, errOut, dump(c.files))
			}
		})
	}
	// The check above must see a warning when there is one.
	t.Run("a pool with a sync policy and no instance profile warns", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"main.tf": poolWithoutProfile})
		if out, errOut, err := run(dir, env, tf, "init", "-input=false", "-backend=false", "-no-color"); err != nil {
			t.Fatalf("terraform init: %s\n%s%s", err, out, errOut)
		}
		out, errOut, err := run(dir, env, tf, "validate", "-no-color")
		if err != nil || !strings.Contains(out+errOut, "Warning: Clone Pool clones have no instance profile") {
			t.Fatalf("terraform validate: %v, want a warning that the clones have no instance profile:\n%s%s", err, out, errOut)
		}
	})
}

// poolWithoutProfile is a pool whose clones sync but have no role.
const poolWithoutProfile = `terraform {
  required_providers {
    clone = { source = "cloneserver/clone" }
  }
}

resource "clone_pool" "web" {
  name           = "web"
  image_id       = "ami-0123456789abcdef0"
  instance_type  = "t3.micro"
  subnet_ids     = ["subnet-0123456789abcdef0"]
  min_size       = 1
  max_size       = 2
  sync_policy_id = "web"
}
`

// checkCLIConfig has terraform read a CLI configuration snippet: it warns
// about any problem with the file, as Terraform would on the reader's machine.
func checkCLIConfig(t *testing.T, c snippetCase, dir string, env []string, tf string) {
	t.Helper()
	cfgDir := filepath.Join(dir, "cli")
	writeFiles(t, cfgDir, c.files)
	env = append(append([]string{}, env...), "TF_CLI_CONFIG_FILE="+filepath.Join(cfgDir, "cli.tfrc"))
	out, errOut, err := run(cfgDir, env, tf, "version", "-no-color")
	if err != nil || strings.Contains(out+errOut, "problems with the CLI configuration") {
		t.Errorf("%s: terraform does not accept this CLI configuration: %v\n%s%s", c.name, err, out, errOut)
	}
}

// contentKey is the configuration's text whatever its file names: a docs
// page shows its example file as a snippet.
func contentKey(files map[string]string) string {
	texts := make([]string, 0, len(files))
	for _, src := range files {
		texts = append(texts, src)
	}
	sort.Strings(texts)
	return strings.Join(texts, "\x00")
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func dump(files map[string]string) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "--- %s\n%s", n, files[n])
	}
	return b.String()
}
