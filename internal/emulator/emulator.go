// Package emulator runs moto_server, the AWS-compatible test cloud, on loopback.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// DefaultPort is LocalStack's edge port, so the same suite runs against LocalStack.
const DefaultPort = 4566

// AnyPort asks for any free port.
const AnyPort = -1

const (
	defaultStartTimeout = 90 * time.Second
	stopGrace           = 10 * time.Second
	pollInterval        = 100 * time.Millisecond
	autoPortAttempts    = 3
)

type Options struct {
	// Host defaults to 127.0.0.1. Anything that is not loopback is refused:
	// moto accepts any credentials.
	Host string
	// Port 0 means 4566 if it is free, otherwise any free port; AnyPort
	// means any free port, never 4566 (tests use it so they never collide
	// with a demo or with each other on the default port).
	Port int
	// CacheDir is the repository's ignored cache directory; a venv with moto
	// may live in CacheDir/venv. Empty means no venv is looked for or made.
	CacheDir string
	// Log receives moto's output; nil discards it. Detached servers log to a
	// file next to their pid file instead.
	Log io.Writer
	// Env is added to moto's environment, e.g. EnvTimeScale+"=0.02".
	Env []string
}

type Server struct {
	Endpoint string
	// Reused is true when StartDetached found this server already running
	// (recorded in its pid file) instead of starting it.
	Reused bool

	pid     int
	pidFile string
	exited  chan struct{}

	stopOnce sync.Once
	stopErr  error
}

var errExited = errors.New("moto_server exited before it answered")

// Start runs moto_server as a child in its own process group. On Linux the
// child gets SIGTERM when the parent dies, so it never outlives a test binary.
func Start(ctx context.Context, o Options) (*Server, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	bin, err := Locate(o.CacheDir)
	if err != nil {
		return nil, err
	}
	return launch(ctx, o, bin, false, o.Log)
}

// Stop terminates the process group Start created (for a detached server: the
// pid recorded in its pid file) and waits for it to exit.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.pidFile != "" {
			_, s.stopErr = StopDetached(s.pidFile)
			s.reap()
			return
		}
		s.stopErr = s.stopGroup()
	})
	return s.stopErr
}

// Pid is moto_server's process id.
func (s *Server) Pid() int { return s.pid }

func (s *Server) stopGroup() error {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if err := signalGroup(s.pid, sig); err != nil {
			return fmt.Errorf("stopping moto_server (pid %d): %w", s.pid, err)
		}
		select {
		case <-s.exited:
			return nil
		case <-time.After(stopGrace):
		}
	}
	return fmt.Errorf("stopping moto_server (pid %d): still running after SIGKILL", s.pid)
}

// reap waits for a detached child this process started, so it is not left
// a zombie when this process exits.
func (s *Server) reap() {
	if s.exited == nil {
		return
	}
	select {
	case <-s.exited:
	case <-time.After(stopGrace):
	}
}

// Reachable reports whether something answers HTTP at endpoint. Any HTTP
// response counts: moto and LocalStack answer / differently.
func Reachable(ctx context.Context, endpoint string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return fmt.Errorf("emulator endpoint %q: %w", endpoint, err)
	}
	client := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true},
		Timeout:   2 * time.Second,
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("emulator at %s does not answer: %w", endpoint, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.Body.Close()
}

func (o Options) withDefaults() (Options, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if !isLoopback(o.Host) {
		return o, fmt.Errorf("emulator host %q is not a loopback address: moto accepts any credentials, so it may only listen on 127.0.0.1, ::1 or localhost", o.Host)
	}
	if o.Port < AnyPort || o.Port > 65535 {
		return o, fmt.Errorf("emulator port %d is out of range", o.Port)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}

func endpointFor(host string, port int) string {
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

func pickPort(host string, port int) (int, error) {
	if port > 0 {
		return port, nil
	}
	if port == 0 {
		if l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(DefaultPort))); err == nil {
			return DefaultPort, l.Close()
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port on %s: %w", host, err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("finding a free port on %s: unexpected address %v", host, l.Addr())
	}
	return addr.Port, nil
}

// launch retries with another port when the port was chosen here and moto
// exits early, which is what losing the race for that port looks like.
func launch(ctx context.Context, o Options, bin string, detached bool, out io.Writer) (*Server, error) {
	attempts := 1
	if o.Port <= 0 {
		attempts = autoPortAttempts
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	var err error
	for range attempts {
		var port int
		if port, err = pickPort(o.Host, o.Port); err != nil {
			return nil, err
		}
		var s *Server
		s, err = launchOnce(ctx, bin, o.Host, port, detached, out, o.Env)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errExited) {
			return nil, err
		}
	}
	return nil, err
}

func launchOnce(ctx context.Context, bin, host string, port int, detached bool, out io.Writer, env []string) (*Server, error) {
	cmd := exec.Command(bin, "-H", host, "-p", strconv.Itoa(port))
	cmd.SysProcAttr = sysProcAttr(detached)
	patches, err := writePatches()
	if err != nil {
		return nil, err
	}
	cmd.Env = append(append(os.Environ(), env...), "PYTHONPATH="+joinPath(patches, os.Getenv("PYTHONPATH")))
	tail := &tailBuffer{max: 4 << 10}
	if f, ok := out.(*os.File); ok {
		cmd.Stdout, cmd.Stderr = f, f
	} else {
		w := io.MultiWriter(out, tail)
		cmd.Stdout, cmd.Stderr = w, w
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s := &Server{
		Endpoint: endpointFor(host, port),
		pid:      cmd.Process.Pid,
		exited:   make(chan struct{}),
	}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()

	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		probeCtx, cancel := context.WithTimeout(ctx, time.Second)
		err := Reachable(probeCtx, s.Endpoint)
		cancel()
		select {
		case <-s.exited:
			return nil, fmt.Errorf("%w (%s on port %d): %s", errExited, bin, port, tail.String())
		default:
		}
		if err == nil && listensOn(s.pid, port) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			_ = s.Stop()
			return nil, fmt.Errorf("waiting for moto_server at %s to answer: %w", s.Endpoint, ctx.Err())
		case <-s.exited:
		case <-ticker.C:
		}
	}
}

type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) == 0 {
		return "(no output)"
	}
	return string(t.buf)
}
