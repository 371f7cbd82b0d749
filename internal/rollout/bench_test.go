package rollout

import (
	"context"
	"testing"
	"time"
)

func BenchmarkPlan(b *testing.B) {
	p := Params{Desired: 200, BatchSize: 7, MinHealthyPercent: 90, MaxSize: 205}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Plan(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRun rolls 12 clones in batches of 3 against the in-memory fleet
// and reports the fleet calls each batch costs when new clones are healthy
// at the first poll.
func BenchmarkRun(b *testing.B) {
	const desired, maxSize, batch = 12, 15, 3
	var calls, batches int
	for b.Loop() {
		f := newFakeFleet(nil, desired, maxSize, desired)
		res, err := Run(context.Background(), f, oldTarget, newTarget, desired, maxSize, Options{
			BatchSize: batch, MinHealthyPercent: 100, HealthTimeout: time.Second, Rollback: true, PollInterval: time.Millisecond,
		})
		if err != nil {
			b.Fatal(err)
		}
		calls += len(f.trace)
		batches += res.Batches
	}
	b.ReportMetric(float64(calls)/float64(batches), "fleet-calls/batch")
}
