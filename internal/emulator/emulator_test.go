package emulator

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func requireMoto(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts moto_server; skipped with -short")
	}
	if _, err := Locate(filepath.Join("..", "..", ".cache")); err != nil {
		t.Skipf("moto_server unavailable: %v", err)
	}
}

func startCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1":   true,
		"127.0.0.2":   true,
		"::1":         true,
		"localhost":   true,
		"0.0.0.0":     false,
		"::":          false,
		"10.0.0.5":    false,
		"example.com": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestStart_refusesNonLoopbackHost(t *testing.T) {
	for _, host := range []string{"0.0.0.0", "192.168.1.10", "::", "example.com"} {
		s, err := Start(context.Background(), Options{Host: host})
		if err == nil {
			_ = s.Stop()
			t.Fatalf("Start(Host: %q) succeeded, want refusal", host)
		}
		if !strings.Contains(err.Error(), "not a loopback address") {
			t.Errorf("Start(Host: %q) error = %v", host, err)
		}
	}
}

func TestStart_answersAndStops(t *testing.T) {
	requireMoto(t)
	t.Parallel()
	ctx := startCtx(t)

	s, err := Start(ctx, Options{Port: AnyPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q", s.Endpoint)
	}
	if err := Reachable(ctx, s.Endpoint); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if running(s.pid) {
		t.Errorf("moto_server pid %d still running after Stop", s.pid)
	}
	if err := Reachable(ctx, s.Endpoint); err == nil {
		t.Errorf("%s still answers after Stop", s.Endpoint)
	}
}

func TestStart_fallsBackWhenDefaultPortTaken(t *testing.T) {
	requireMoto(t)
	t.Parallel()
	ctx := startCtx(t)

	if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(DefaultPort))); err == nil {
		t.Cleanup(func() { l.Close() })
	}

	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if port := endpointPort(t, s.Endpoint); port == DefaultPort {
		t.Fatalf("Endpoint %s uses the taken port %d", s.Endpoint, DefaultPort)
	}
	if err := Reachable(ctx, s.Endpoint); err != nil {
		t.Fatal(err)
	}
}

func TestStart_explicitPortTakenByAnotherServer(t *testing.T) {
	requireMoto(t)
	t.Parallel()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = http.Serve(l, http.NotFoundHandler()) }()
	t.Cleanup(func() { l.Close() })
	port := l.Addr().(*net.TCPAddr).Port

	s, err := Start(startCtx(t), Options{Port: port})
	if err == nil {
		_ = s.Stop()
		t.Fatalf("Start on taken port %d succeeded", port)
	}
}

func TestStartDetached_reusesAndStops(t *testing.T) {
	requireMoto(t)
	t.Parallel()
	ctx := startCtx(t)
	pidFile := filepath.Join(t.TempDir(), "emulator.pid")

	first, err := StartDetached(ctx, Options{}, pidFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Stop() })
	if _, err := os.Stat(filepath.Join(filepath.Dir(pidFile), "emulator.log")); err != nil {
		t.Errorf("log file: %v", err)
	}

	second, err := StartDetached(ctx, Options{}, pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if first.Reused || !second.Reused {
		t.Errorf("Reused = %t for the first start, %t for the second; want false, true", first.Reused, second.Reused)
	}
	if second.Endpoint != first.Endpoint || second.pid != first.pid {
		t.Errorf("second start = %s (pid %d), want reuse of %s (pid %d)", second.Endpoint, second.pid, first.Endpoint, first.pid)
	}
	if got, err := Status(ctx, pidFile); err != nil || got != first.Endpoint {
		t.Errorf("Status = %q, %v; want %q", got, err, first.Endpoint)
	}

	stopped, err := StopDetached(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if stopped == nil || stopped.pid != first.pid || stopped.Endpoint != first.Endpoint {
		t.Errorf("StopDetached = %+v, want the server at %s (pid %d)", stopped, first.Endpoint, first.pid)
	}
	if running(first.pid) {
		t.Errorf("pid %d still running after StopDetached", first.pid)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file after stop: %v", err)
	}
	if stopped, err := StopDetached(pidFile); err != nil || stopped != nil {
		t.Errorf("second StopDetached = %v, %v; want nothing stopped", stopped, err)
	}
	if _, err := Status(ctx, pidFile); err == nil {
		t.Error("Status succeeded after stop")
	}
}

func TestStopDetached_refusesOtherProcess(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "emulator.pid")
	if err := writePidFile(pidFile, pidRecord{pid: os.Getpid(), endpoint: "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	_, err := StopDetached(pidFile)
	if err == nil || !strings.Contains(err.Error(), "not moto_server") {
		t.Fatalf("StopDetached on the test binary's pid: %v", err)
	}
}

func TestLocate_venv(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	cache := t.TempDir()
	bin := filepath.Join(cache, "venv", "bin", "moto_server")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Locate(cache)
	if err != nil {
		t.Fatal(err)
	}
	if got != bin {
		t.Errorf("Locate = %q, want %q", got, bin)
	}
}

func TestLocate_missingSaysHowToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Locate(t.TempDir())
	if err == nil {
		t.Fatal("Locate succeeded with an empty PATH")
	}
	for _, want := range []string{"python3 is not on PATH", "pip install 'moto[server]==5.2.1'", "Python 3.10"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestAtLeast(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    bool
	}{{"3.9", false}, {"3.10", true}, {"3.11", true}, {"4.0", true}, {"2.7", false}} {
		if got := atLeast(tc.version, "3.10"); got != tc.want {
			t.Errorf("atLeast(%q) = %v", tc.version, got)
		}
	}
}

func endpointPort(t *testing.T, endpoint string) int {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}
