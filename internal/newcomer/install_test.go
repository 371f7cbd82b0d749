package newcomer

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
)

const installConfig = `terraform {
  required_providers {
    clone = {
      source = "cloneserver/clone"
    }
  }
}

provider "clone" {}

resource "clone_image" "web" {
  source_instance_id = "i-0123456789abcdef0"
  name_prefix        = "newcomer"
}
`

// TestAccInstall_initPlan is a newcomer's first run: `make install` in a
// home of its own, then `terraform init` and `terraform plan` in an empty
// directory, with no CLI configuration: Terraform finds the provider in
// its implied local mirror directory, never in a registry. The plan runs
// against the test cloud (acctest.Main points AWS_ENDPOINT_URL at it) and
// the provider logs the version make set in the binary.
func TestAccInstall_initPlan(t *testing.T) {
	acctest.SkipUnlessAcc(t)
	t.Parallel()
	home := t.TempDir()
	env := cliEnv(t, home)

	stdout, stderr, err := run(repoRoot(t), env, "make", "install", "PLUGIN_HOST="+providerHost())
	if err != nil {
		t.Fatalf("make install: %s\n%s%s", err, stdout, stderr)
	}
	osArch := runtime.GOOS + "_" + runtime.GOARCH
	bins, err := filepath.Glob(filepath.Join(home, ".terraform.d", "plugins", providerHost(), "cloneserver", "clone", "*", osArch, "terraform-provider-clone_v*"))
	if err != nil || len(bins) != 1 {
		t.Fatalf("make install: want one provider in ~/.terraform.d/plugins/%s/cloneserver/clone/VERSION/%s/, found %v (%v)\n%s", providerHost(), osArch, bins, err, stdout)
	}
	version := filepath.Base(filepath.Dir(filepath.Dir(bins[0])))
	if filepath.Base(bins[0]) != "terraform-provider-clone_v"+version {
		t.Errorf("installed binary %s does not carry its directory's version %s", bins[0], version)
	}
	if strings.Contains(version, "-") {
		t.Errorf("make install's default version %s is a pre-release: terraform init would not pick it without an exact version constraint", version)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(installConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	tf := terraform(t)
	stdout, stderr, err = run(dir, env, tf, "init", "-input=false", "-no-color")
	if err != nil {
		t.Fatalf("terraform init: %s\n%s%s", err, stdout, stderr)
	}
	if want := "Installed cloneserver/clone v" + version; !strings.Contains(stdout, want) {
		t.Errorf("terraform init: want %q in its output:\n%s", want, stdout)
	}

	stdout, stderr, err = run(dir, append(env, "TF_LOG_PROVIDER=INFO"), tf, "plan", "-input=false", "-no-color")
	if err != nil {
		t.Fatalf("terraform plan: %s\n%s%s", err, stdout, tail(stderr, 40))
	}
	if !strings.Contains(stdout, "Plan: 1 to add, 0 to change, 0 to destroy.") {
		t.Errorf("terraform plan: want one image to add:\n%s", stdout)
	}
	if !strings.Contains(stderr, "configuring the Clone Server provider") || !strings.Contains(stderr, "version="+version) {
		t.Errorf("terraform plan: want the provider to log its version %s at configure time (TF_LOG_PROVIDER=INFO), log:\n%s", version, tail(stderr, 40))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
