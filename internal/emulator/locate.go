package emulator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	motoRequirement = "moto[server]==5.2.1"
	minPython       = "3.10"
)

// Locate finds moto_server: on PATH, then in cacheDir/venv. Failing both, it
// installs moto into cacheDir/venv when PyPI is reachable. Otherwise the error
// names what is missing and how to install it.
func Locate(cacheDir string) (string, error) {
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	if cacheDir == "" {
		return "", missing("", "no cache directory was given to install it into")
	}
	venv := filepath.Join(cacheDir, "venv")
	bin := filepath.Join(venv, "bin", "moto_server")
	if isExecutable(bin) {
		return filepath.Abs(bin)
	}
	if err := installVenv(venv); err != nil {
		return "", err
	}
	if !isExecutable(bin) {
		return "", missing(venv, "pip finished but "+bin+" does not exist")
	}
	return filepath.Abs(bin)
}

func installVenv(venv string) error {
	python, err := exec.LookPath("python3")
	if err != nil {
		return missing(venv, "python3 is not on PATH")
	}
	version, err := output(30*time.Second, python, "-c", `import sys; print("%d.%d" % sys.version_info[:2])`)
	if err != nil {
		return missing(venv, "python3 does not run: "+err.Error())
	}
	if !atLeast(version, minPython) {
		return missing(venv, "python3 is "+version+", moto needs "+minPython+" or newer")
	}
	if _, err := output(30*time.Second, python, "-m", "pip", "--version"); err != nil {
		return missing(venv, "pip is not installed for "+python+" (Debian: apt-get install python3-pip)")
	}

	probe, err := os.MkdirTemp("", "moto-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(probe)
	if _, err := output(2*time.Minute, python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
		"--quiet", "--dest", probe, "moto==5.2.1"); err != nil {
		return missing(venv, "PyPI is unreachable: pip download moto==5.2.1 failed: "+err.Error())
	}

	if _, err := output(2*time.Minute, python, "-m", "venv", venv); err != nil {
		_ = os.RemoveAll(venv)
		return missing(venv, "python3 -m venv failed (Debian: apt-get install python3-venv): "+err.Error())
	}
	if _, err := output(15*time.Minute, filepath.Join(venv, "bin", "python"), "-m", "pip", "install",
		"--disable-pip-version-check", "--quiet", motoRequirement); err != nil {
		_ = os.RemoveAll(venv)
		return missing(venv, "pip install '"+motoRequirement+"' into "+venv+" failed: "+err.Error())
	}
	return nil
}

func missing(venv, reason string) error {
	where := "it is not on PATH"
	hint := ""
	if venv != "" {
		where += " and not in " + filepath.Join(venv, "bin")
		hint = fmt.Sprintf(" (or: python3 -m venv %s && %s install '%s')", venv, filepath.Join(venv, "bin", "pip"), motoRequirement)
	}
	return fmt.Errorf("moto_server not found: %s, and it cannot be installed automatically: %s. "+
		"Install moto's server with Python %s or newer: pip install '%s'%s",
		where, reason, minPython, motoRequirement, hint)
}

func output(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s", timeout)
		}
		if text != "" {
			lines := strings.Split(text, "\n")
			err = fmt.Errorf("%w: %s", err, lines[len(lines)-1])
		}
		return "", err
	}
	return text, nil
}

func atLeast(version, minimum string) bool {
	parse := func(v string) (int, int) {
		major, minor, _ := strings.Cut(v, ".")
		a, _ := strconv.Atoi(major)
		b, _ := strconv.Atoi(minor)
		return a, b
	}
	va, vb := parse(version)
	ma, mb := parse(minimum)
	return va > ma || (va == ma && vb >= mb)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
