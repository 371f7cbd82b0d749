//go:build linux

package emulator

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestHelperProcess(t *testing.T) {
	if os.Getenv("EMULATOR_HELPER_PROCESS") != "1" {
		t.Skip("helper for TestStart_diesWithParent")
	}
	s, err := Start(context.Background(), Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(s.Endpoint)
	select {}
}

func TestStart_diesWithParent(t *testing.T) {
	requireMoto(t)
	t.Parallel()
	ctx := startCtx(t)

	parent := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	parent.Env = append(os.Environ(), "EMULATOR_HELPER_PROCESS=1")
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = parent.Process.Kill(); _ = parent.Wait() })

	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		t.Fatalf("helper said %q, %v", line, err)
	}
	endpoint := strings.TrimSpace(line)
	if err := Reachable(ctx, endpoint); err != nil {
		t.Fatal(err)
	}

	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()

	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	deadline := time.After(15 * time.Second)
	for Reachable(ctx, endpoint) == nil {
		select {
		case <-deadline:
			t.Fatalf("moto_server at %s still answers 15s after its parent was killed", endpoint)
		case <-ticker.C:
		}
	}
}
