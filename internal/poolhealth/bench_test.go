package poolhealth

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkCollect reads the health of 100 instances in 4 target groups and
// 2 classic ELBs and reports the API calls one collection makes.
func BenchmarkCollect(b *testing.B) {
	v2 := &fakeV2{groups: map[string][]reg{}}
	classic := &fakeClassic{elbs: map[string][]reg{}}
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-%017x", i)
	}
	var targets []Target
	for i := range 4 {
		arn := fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-%d/%d", i, i)
		targets = append(targets, Target{Kind: KindTargetGroup, ID: arn, Name: fmt.Sprintf("tg-%d", i)})
		for _, id := range ids {
			v2.groups[arn] = append(v2.groups[arn], reg{id, "healthy", ""})
		}
	}
	for i := range 2 {
		name := fmt.Sprintf("clb-%d", i)
		targets = append(targets, Target{Kind: KindClassicELB, ID: name})
		for _, id := range ids {
			classic.elbs[name] = append(classic.elbs[name], reg{id, "InService", "N/A"})
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r, err := Collect(ctx, v2, classic, targets)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Healthy(ids)) != len(ids) {
			b.Fatal("not all healthy")
		}
	}
	calls := 0
	for _, n := range v2.calls {
		calls += n
	}
	for _, n := range classic.calls {
		calls += n
	}
	b.ReportMetric(float64(calls)/float64(b.N), "api-calls/op")
}
