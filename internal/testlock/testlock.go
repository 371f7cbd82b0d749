// Package testlock lets tests in different packages, which go test runs at
// the same time, keep out of each other's way on what they share: the
// host's user database.
package testlock

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// HostUsers holds a lock on the host's user database until t ends: shared
// for a test that adds and deletes its own user with useradd and userdel,
// exclusive for one that bind-mounts a copy of /etc/passwd in a mount
// namespace (useradd replaces /etc/passwd by rename, which detaches such a
// mount). The lock file is in the repository's .cache directory.
func HostUsers(t testing.TB, exclusive bool) {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testlock: cannot find the repository")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", ".cache")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "host-users.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatalf("testlock: locking %s: %v", f.Name(), err)
	}
	t.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}
