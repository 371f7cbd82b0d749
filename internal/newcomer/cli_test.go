package newcomer

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
)

func TestMain(m *testing.M) {
	code := acctest.Main(m)
	removePluginDir()
	os.Exit(code)
}

// repoRoot is the module root: go test runs in the package directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// dropEnv are the variables of the caller that would let Terraform or make
// find something other than what a newcomer has: another CLI configuration,
// plugin cache or data directory, a provider served in-process, the
// caller's make variables.
var dropEnv = []string{
	"HOME", "TF_CLI_CONFIG_FILE", "TERRAFORM_CONFIG", "TF_PLUGIN_CACHE_DIR", "TF_DATA_DIR",
	"TF_REATTACH_PROVIDERS", "TF_LOG", "TF_LOG_PATH", "TF_LOG_CORE", "TF_LOG_PROVIDER",
	"TF_CLI_ARGS", "TF_WORKSPACE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VERSION", "PLUGIN_DIR",
}

var (
	goEnvOnce sync.Once
	goEnv     []string
)

// cliEnv is the environment of a newcomer whose home directory is home.
// Go keeps the caller's build and module caches, so `make install` in a
// fresh home is a warm build that downloads nothing.
func cliEnv(t testing.TB, home string, extra ...string) []string {
	t.Helper()
	goEnvOnce.Do(func() {
		for _, name := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
			out, err := exec.Command("go", "env", name).Output()
			if err == nil {
				goEnv = append(goEnv, name+"="+strings.TrimSpace(string(out)))
			}
		}
	})
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !dropped(name) {
			env = append(env, kv)
		}
	}
	env = append(env, goEnv...)
	env = append(env, "HOME="+home, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	return append(env, extra...)
}

func dropped(name string) bool {
	for _, d := range dropEnv {
		if name == d || (strings.HasPrefix(d, "TF_CLI_ARGS") && strings.HasPrefix(name, d)) {
			return true
		}
	}
	return false
}

// run runs a command in dir and returns its standard output and error.
func run(dir string, env []string, name string, args ...string) (string, string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// terraform is the CLI under test: acctest.Main found it (TF_ACC_TERRAFORM_PATH).
func terraform(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		t.Fatal("TF_ACC_TERRAFORM_PATH is not set: run the tests through acctest.Main")
	}
	return bin
}

var (
	pluginOnce sync.Once
	pluginDir  string
	pluginErr  string
)

// providerHost is the registry host the CLI under test resolves
// cloneserver/clone to: registry.terraform.io, or, for OpenTofu,
// registry.opentofu.org (TF_ACC_PROVIDER_HOST, as make testacc-tofu sets).
func providerHost() string {
	if h := os.Getenv("TF_ACC_PROVIDER_HOST"); h != "" {
		return h
	}
	return "registry.terraform.io"
}

// installedPlugins runs `make install PLUGIN_DIR=...` once for the package
// and returns the directory, a filesystem mirror holding only this provider.
func installedPlugins(t testing.TB) string {
	t.Helper()
	pluginOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clone-newcomer-plugins-") //nolint:usetesting // one mirror for the whole package, removed by TestMain
		if err != nil {
			pluginErr = err.Error()
			return
		}
		pluginDir = dir
		home := filepath.Join(dir, "home")
		if err := os.Mkdir(home, 0o755); err != nil {
			pluginErr = err.Error()
			return
		}
		mirror := filepath.Join(dir, "mirror")
		stdout, stderr, err := run(repoRoot(t), cliEnv(t, home), "make", "install", "PLUGIN_DIR="+mirror, "PLUGIN_HOST="+providerHost())
		if err != nil {
			pluginErr = "make install: " + err.Error() + "\n" + stdout + stderr
		}
	})
	if pluginErr != "" {
		t.Fatal(pluginErr)
	}
	return filepath.Join(pluginDir, "mirror")
}

func removePluginDir() {
	if pluginDir != "" {
		_ = os.RemoveAll(pluginDir)
	}
}
