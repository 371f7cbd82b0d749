package wait

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name       string
		doneAt     int
		failAt     int
		timeout    time.Duration
		wantErr    error
		wantTO     bool
		wantChecks int
	}{
		{name: "done at once", doneAt: 1, timeout: time.Second, wantChecks: 1},
		{name: "done after three", doneAt: 3, timeout: time.Second, wantChecks: 3},
		{name: "error stops", doneAt: 10, failAt: 2, timeout: time.Second, wantErr: boom, wantChecks: 2},
		{name: "timeout", doneAt: 1000, timeout: 50 * time.Millisecond, wantTO: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			checks := 0
			var progress []string
			err := For(ctx, Options{Interval: 5 * time.Millisecond, Progress: func(s string) { progress = append(progress, s) }},
				func(context.Context) (bool, string, error) {
					checks++
					if checks == tc.failAt {
						return false, "", boom
					}
					return checks >= tc.doneAt, fmt.Sprintf("%d/%d", min(checks, tc.doneAt), tc.doneAt), nil
				})
			if tc.wantTO {
				if !IsTimeout(err) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("want timeout error, got %v", err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if checks != tc.wantChecks {
				t.Fatalf("checks = %d, want %d", checks, tc.wantChecks)
			}
			if tc.wantErr == nil && len(progress) != tc.wantChecks {
				t.Fatalf("progress = %v, want one entry per changed status", progress)
			}
		})
	}
}

// A deadline that passes during a check is a timeout, with the last status,
// not the error the interrupted check returns; a check failing on its own
// is that failure.
func TestForDeadlineDuringACheck(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	calls := 0
	err := For(ctx, Options{Interval: time.Millisecond}, func(ctx context.Context) (bool, string, error) {
		calls++
		if calls == 1 {
			return false, "1/2 healthy", nil
		}
		<-ctx.Done()
		return false, "", fmt.Errorf("describing target health: %w", ctx.Err())
	})
	var te *TimeoutError
	if !errors.As(err, &te) || te.LastStatus != "1/2 healthy" {
		t.Fatalf("err = %v, want a timeout with the last status", err)
	}
	boom := errors.New("AccessDenied")
	err = For(context.Background(), Options{Interval: time.Millisecond}, func(context.Context) (bool, string, error) { return false, "", boom })
	if !errors.Is(err, boom) || IsTimeout(err) {
		t.Fatalf("err = %v, want the check's own error", err)
	}
}

func TestNextBacksOffToCeiling(t *testing.T) {
	pause := time.Second
	var got []time.Duration
	for range 7 {
		got = append(got, pause)
		pause = next(pause, 5*time.Second)
	}
	want := []time.Duration{time.Second, 1500 * time.Millisecond, 2250 * time.Millisecond, 3375 * time.Millisecond, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	if !slices.Equal(got, want) {
		t.Fatalf("pauses %v, want %v", got, want)
	}
	if next(time.Second, 0) != time.Second {
		t.Fatal("without MaxInterval the pause must stay fixed")
	}
}

// A 10-minute wait polled from 2 s with a 15 s ceiling costs about 45
// checks, not the 300 a fixed 2 s interval costs.
func TestBackoffCallsForTenMinutes(t *testing.T) {
	checks, elapsed, pause := 0, time.Duration(0), 2*time.Second
	for elapsed < 10*time.Minute {
		checks++
		elapsed += pause
		pause = next(pause, 15*time.Second)
	}
	if checks > 50 {
		t.Fatalf("%d checks in 10 minutes, want at most 50", checks)
	}
}
