package emulator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StartDetached starts moto_server in its own session so it outlives the
// caller, and records its pid and endpoint in pidFile. A server already
// recorded there is reused if it is moto_server and still answers. Its output
// goes to pidFile with the extension .log.
func StartDetached(ctx context.Context, o Options, pidFile string) (*Server, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if rec, err := readPidFile(pidFile); err == nil && isMoto(rec.pid) {
		if err := Reachable(ctx, rec.endpoint); err != nil {
			return nil, fmt.Errorf("moto_server (pid %d from %s) runs but does not answer: %w; stop it first", rec.pid, pidFile, err)
		}
		if o.Port != 0 && rec.port() != o.Port {
			return nil, fmt.Errorf("moto_server (pid %d from %s) already runs at %s, not on port %d: stop it first", rec.pid, pidFile, rec.endpoint, o.Port)
		}
		return &Server{Endpoint: rec.endpoint, Reused: true, pid: rec.pid, pidFile: pidFile}, nil
	}

	bin, err := Locate(o.CacheDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o755); err != nil {
		return nil, err
	}
	logPath := strings.TrimSuffix(pidFile, filepath.Ext(pidFile)) + ".log"
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening emulator log: %w", err)
	}
	defer logFile.Close()

	s, err := launch(ctx, o, bin, true, logFile)
	if err != nil {
		return nil, fmt.Errorf("%w (log: %s)", err, logPath)
	}
	if err := writePidFile(pidFile, pidRecord{pid: s.pid, endpoint: s.Endpoint}); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	s.pidFile = pidFile
	return s, nil
}

// StopDetached stops the server recorded in pidFile: only that pid, and only
// if its command line shows moto_server. It returns the server it stopped, or
// nil when none was running: a missing pid file or an exited server is not an
// error (the stale pid file is removed).
func StopDetached(pidFile string) (*Server, error) {
	rec, err := readPidFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var stopped *Server
	if running(rec.pid) {
		cmdline, err := commandLine(rec.pid)
		if err != nil {
			return nil, fmt.Errorf("checking pid %d from %s: %w", rec.pid, pidFile, err)
		}
		if cmdline != "" && !strings.Contains(cmdline, "moto_server") {
			_ = os.Remove(pidFile)
			return nil, fmt.Errorf("pid %d from %s is not moto_server but %q: not killed; stale pid file removed", rec.pid, pidFile, cmdline)
		}
		if err := stopPid(rec.pid); err != nil {
			return nil, err
		}
		stopped = &Server{Endpoint: rec.endpoint, pid: rec.pid}
	}
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return stopped, err
	}
	return stopped, nil
}

// Status returns the endpoint of the server recorded in pidFile if it is
// moto_server and answers.
func Status(ctx context.Context, pidFile string) (string, error) {
	rec, err := readPidFile(pidFile)
	if err != nil {
		return "", fmt.Errorf("no emulator recorded: %w", err)
	}
	if !isMoto(rec.pid) {
		return "", fmt.Errorf("moto_server (pid %d from %s) is not running", rec.pid, pidFile)
	}
	if err := Reachable(ctx, rec.endpoint); err != nil {
		return "", err
	}
	return rec.endpoint, nil
}

func isMoto(pid int) bool {
	if !running(pid) {
		return false
	}
	cmdline, err := commandLine(pid)
	return err == nil && strings.Contains(cmdline, "moto_server")
}

func stopPid(pid int) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if err := signalProcess(pid, sig); err != nil {
			return fmt.Errorf("stopping moto_server (pid %d): %w", pid, err)
		}
		deadline := time.After(stopGrace)
	wait:
		for running(pid) {
			select {
			case <-deadline:
				break wait
			case <-ticker.C:
			}
		}
		if !running(pid) {
			return nil
		}
	}
	return fmt.Errorf("stopping moto_server (pid %d): still running after SIGKILL", pid)
}

type pidRecord struct {
	pid      int
	endpoint string
}

func (r pidRecord) port() int {
	u, err := url.Parse(r.endpoint)
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

func readPidFile(path string) (pidRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return pidRecord{}, err
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return pidRecord{}, fmt.Errorf("pid file %s: want \"PID ENDPOINT\", got %q", path, b)
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 0 {
		return pidRecord{}, fmt.Errorf("pid file %s: bad pid %q", path, fields[0])
	}
	return pidRecord{pid: pid, endpoint: fields[1]}, nil
}

func writePidFile(path string, rec pidRecord) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".emulator-pid-*")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(tmp, "%d\n%s\n", rec.pid, rec.endpoint)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing pid file %s: %w", path, err)
	}
	return nil
}
