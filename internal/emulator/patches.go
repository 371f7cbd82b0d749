package emulator

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sitecustomize fixes moto bugs that would hide real code paths; see the
// file itself for each fix and why it matches AWS.
//
//go:embed patches/sitecustomize.py
var sitecustomize []byte

// writePatches writes the patch module into a directory named after its
// content, so concurrent starts share one copy, and returns the directory.
func writePatches() (string, error) {
	sum := sha256.Sum256(sitecustomize)
	dir := filepath.Join(os.TempDir(), "clone-moto-patches-"+hex.EncodeToString(sum[:6]))
	file := filepath.Join(dir, "sitecustomize.py")
	if current, err := os.ReadFile(file); err == nil && string(current) == string(sitecustomize) {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "sitecustomize-*.tmp")
	if err != nil {
		return "", fmt.Errorf("writing moto patches: %w", err)
	}
	if _, err := tmp.Write(sitecustomize); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing moto patches: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("writing moto patches: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return "", fmt.Errorf("writing moto patches: %w", err)
	}
	return dir, nil
}

func joinPath(first, rest string) string {
	if rest == "" {
		return first
	}
	return strings.Join([]string{first, rest}, string(os.PathListSeparator))
}
