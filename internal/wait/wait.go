// Package wait is the provider's one waiting mechanism: poll a check on a
// ticker until it is done, fails, or the context (the resource timeout) ends.
package wait

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Check reports whether the awaited condition holds. A non-nil error stops
// the wait at once. status describes the current state for progress logs and
// for the timeout error.
type Check func(ctx context.Context) (done bool, status string, err error)

// Options tune a wait.
type Options struct {
	// Interval between checks; the first check runs immediately.
	Interval time.Duration
	// MaxInterval, when above Interval, makes the wait back off: the pause
	// after each check grows by half, up to MaxInterval. A long wait then
	// costs tens of API calls, not hundreds (AWS rate-limits calls per
	// account: https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
	MaxInterval time.Duration
	// Progress, when set, is called with the status after every check whose
	// status differs from the previous one.
	Progress func(status string)
}

// TimeoutError is returned when the context ends before the check is done.
type TimeoutError struct {
	LastStatus string
	Err        error
}

func (e *TimeoutError) Error() string {
	if e.LastStatus == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s (last state: %s)", e.Err, e.LastStatus)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// For polls check until it reports done. It returns a *TimeoutError when
// ctx's deadline passes, between checks or during one (whatever error that
// check then returns), and check's error otherwise.
func For(ctx context.Context, opts Options, check Check) error {
	interval := opts.Interval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	timer := time.NewTimer(interval)
	defer timer.Stop()

	var last string
	for {
		done, status, err := check(ctx)
		if err != nil {
			// A deadline that ends during a check fails its AWS call; that
			// is the wait running out, not the call failing.
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &TimeoutError{LastStatus: last, Err: ctx.Err()}
			}
			return err
		}
		if status != last && opts.Progress != nil {
			opts.Progress(status)
		}
		last = status
		if done {
			return nil
		}
		timer.Reset(interval)
		select {
		case <-ctx.Done():
			return &TimeoutError{LastStatus: last, Err: ctx.Err()}
		case <-timer.C:
		}
		interval = next(interval, opts.MaxInterval)
	}
}

// next is the pause after pause: half as long again, capped at ceiling.
func next(pause, ceiling time.Duration) time.Duration {
	if ceiling <= pause {
		return pause
	}
	return min(pause+pause/2, ceiling)
}

// IsTimeout reports whether err came from a wait that ran out of time.
func IsTimeout(err error) bool {
	var te *TimeoutError
	return errors.As(err, &te)
}
