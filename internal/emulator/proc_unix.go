//go:build unix

package emulator

import (
	"errors"
	"syscall"
)

func signalGroup(pgid int, sig syscall.Signal) error {
	return ignoreGone(syscall.Kill(-pgid, sig))
}

func signalProcess(pid int, sig syscall.Signal) error {
	return ignoreGone(syscall.Kill(pid, sig))
}

func ignoreGone(err error) error {
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
