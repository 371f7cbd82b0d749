package emulator

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// patches fix moto bugs that would hide real code paths (sitecustomize.py),
// make moto follow AWS's rules (strict.py, the strict layer), and record the
// actions it serves when CLONE_EMULATOR_ACTIONS_LOG names a file
// (actionlog.py); see each file for every fix and rule, and the AWS page it
// follows.
//
//go:embed patches/*.py
var patches embed.FS

// writePatches writes the patch modules into a directory named after their
// content, so concurrent starts share one copy, and returns the directory.
func writePatches() (string, error) {
	files, err := fs.Glob(patches, "patches/*.py")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	contents := make(map[string][]byte, len(files))
	for _, f := range files {
		b, err := patches.ReadFile(f)
		if err != nil {
			return "", err
		}
		contents[filepath.Base(f)] = b
		h.Write([]byte(f))
		h.Write(b)
	}
	dir := filepath.Join(os.TempDir(), "clone-moto-patches-"+hex.EncodeToString(h.Sum(nil)[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	for name, b := range contents {
		if err := writeIfChanged(filepath.Join(dir, name), b); err != nil {
			return "", fmt.Errorf("writing moto patches: %w", err)
		}
	}
	return dir, nil
}

func writeIfChanged(file string, content []byte) error {
	if current, err := os.ReadFile(file); err == nil && string(current) == string(content) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+"-*.tmp")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

func joinPath(first, rest string) string {
	if rest == "" {
		return first
	}
	return strings.Join([]string{first, rest}, string(os.PathListSeparator))
}
