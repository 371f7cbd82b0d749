//go:build linux

package boottest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Network is a "clone" and a "master" network namespace joined by a veth
// pair, each end holding the address its instance has in the test cloud.
type Network struct {
	Clone, Master string
}

// NewNetwork creates the two namespaces (named clone-XXXX and master-XXXX,
// so parallel runs never share one), links them and gives the clone end
// cloneIP and the master end masterIP, both in 10.0.0.0/8. The clone's
// loopback also holds 169.254.169.254, the instance metadata address. The
// namespaces, and with them the veth pair, are deleted when t ends.
func NewNetwork(t testing.TB, cloneIP, masterIP string) *Network {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	n := &Network{Clone: "clone-" + id, Master: "master-" + id}
	for _, ns := range []string{n.Clone, n.Master} {
		ipCmd(t, "netns", "add", ns)
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("ip netns del %s: %v %s", ns, err, out)
			}
		})
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	}
	vc, vm := "vc"+id, "vm"+id
	ipCmd(t, "link", "add", vc, "netns", n.Clone, "type", "veth", "peer", "name", vm, "netns", n.Master)
	ipCmd(t, "-n", n.Clone, "addr", "add", cloneIP+"/8", "dev", vc)
	ipCmd(t, "-n", n.Master, "addr", "add", masterIP+"/8", "dev", vm)
	ipCmd(t, "-n", n.Clone, "link", "set", vc, "up")
	ipCmd(t, "-n", n.Master, "link", "set", vm, "up")
	ipCmd(t, "-n", n.Clone, "addr", "add", "169.254.169.254/32", "dev", "lo")
	return n
}

func ipCmd(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ListenIn opens a TCP listener on addr inside network namespace ns: the
// calling goroutine's thread enters ns, listens and returns to its own
// namespace. The socket stays in ns; accepting and serving on it work from
// any thread, while connections the server dials go out from the test's
// own namespace (where the test cloud listens on loopback).
func ListenIn(ns, addr string) (net.Listener, error) {
	runtime.LockOSThread()
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer own.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer target.Close()
	if err := setns(target); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("entering network namespace %s: %w", ns, err)
	}
	l, lerr := net.Listen("tcp", addr)
	if err := setns(own); err != nil {
		// The thread stays locked, so Go retires it with this goroutine
		// rather than run other goroutines in the wrong namespace.
		if l != nil {
			l.Close()
		}
		return nil, fmt.Errorf("returning from network namespace %s: %w", ns, err)
	}
	runtime.UnlockOSThread()
	if lerr != nil {
		return nil, fmt.Errorf("listening on %s in network namespace %s: %w", addr, ns, lerr)
	}
	return l, nil
}

func setns(f *os.File) error {
	return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
}
