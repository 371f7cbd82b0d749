//go:build !unix

package emulator

import (
	"errors"
	"runtime"
	"syscall"
)

var errUnsupported = errors.New("managing moto_server processes is not supported on " + runtime.GOOS)

func sysProcAttr(bool) *syscall.SysProcAttr { return nil }

func signalGroup(int, syscall.Signal) error { return errUnsupported }

func signalProcess(int, syscall.Signal) error { return errUnsupported }

func running(int) bool { return false }

func commandLine(int) (string, error) { return "", errUnsupported }

// listensOn cannot tell on this platform; any answer on the port counts.
func listensOn(int, int) bool { return true }
