package pool

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestNextRulePriority(t *testing.T) {
	full := make([]int64, 0, MaxRulePriority)
	for p := int64(MinRulePriority); p <= MaxRulePriority; p++ {
		full = append(full, p)
	}
	for _, tc := range []struct {
		name    string
		used    []int64
		want    int64
		wantErr bool
	}{
		{"empty listener", nil, 1, false},
		{"one above the highest", []int64{5, 1, 30}, 31, false},
		{"gaps below are not filled", []int64{2, 100}, 101, false},
		{"highest taken: lowest free", []int64{1, 2, 4, MaxRulePriority}, 3, false},
		{"every priority taken", full, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NextRulePriority(tc.used)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("NextRulePriority = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestApplyWriteRulePicksNextFreePriority: without rule_priority the write
// rule takes one above the listener's highest rule; later applies keep it
// although other rules were added above it; a move to another listener
// picks again there; a priority another writer took in between is picked
// again.
func TestApplyWriteRulePicksNextFreePriority(t *testing.T) {
	f := newFakeCloud()
	f.rules["arn:rule/foreign-7"] = Rule{ARN: "arn:rule/foreign-7", ListenerARN: testListener, Priority: 7}
	f.rules["arn:rule/foreign-3"] = Rule{ARN: "arn:rule/foreign-3", ListenerARN: testListener, Priority: 3}
	d := testDesired()
	d.Master.RulePriority = 0
	obs := apply(t, f, d, nil)
	if obs.WriteRulePriority != 8 || f.rules[obs.WriteRuleARN].Priority != 8 {
		t.Fatalf("write rule at priority %d (recorded %d), want 8", f.rules[obs.WriteRuleARN].Priority, obs.WriteRulePriority)
	}

	f.rules["arn:rule/foreign-20"] = Rule{ARN: "arn:rule/foreign-20", ListenerARN: testListener, Priority: 20}
	prior := &Prior{Desired: d, Observed: obs}
	f.calls = nil
	obs = apply(t, f, d, prior)
	if obs.WriteRulePriority != 8 || slices.ContainsFunc(f.calls, func(c string) bool {
		return strings.HasPrefix(c, "ModifyRule") || strings.HasPrefix(c, "CreateRule") || strings.HasPrefix(c, "RulePriorities")
	}) {
		t.Fatalf("second apply: priority %d, calls:\n%s", obs.WriteRulePriority, strings.Join(f.calls, "\n"))
	}

	prior = &Prior{Desired: d, Observed: obs}
	d.Master = ptr(*d.Master)
	d.Master.RulePriority = 70
	obs = apply(t, f, d, prior)
	if obs.WriteRulePriority != 70 || f.rules[obs.WriteRuleARN].Priority != 70 || obs.WriteRuleARN != prior.WriteRuleARN {
		t.Fatalf("a configured 70: rule %+v, recorded priority %d; want the same rule at 70", f.rules[obs.WriteRuleARN], obs.WriteRulePriority)
	}
	prior = &Prior{Desired: d, Observed: obs}
	d.Master = ptr(*d.Master)
	d.Master.RulePriority = 0
	obs = apply(t, f, d, prior)
	if obs.WriteRulePriority != 70 {
		t.Fatalf("priority left out again: %d, want 70 kept", obs.WriteRulePriority)
	}

	prior = &Prior{Desired: d, Observed: obs}
	d.Master = ptr(*d.Master)
	d.Master.ListenerARN = "arn:listener/other"
	f.rules["arn:rule/other-41"] = Rule{ARN: "arn:rule/other-41", ListenerARN: "arn:listener/other", Priority: 41}
	f.fail["CreateRule"] = &smithy.GenericAPIError{Code: "PriorityInUse"}
	f.calls = nil
	obs = apply(t, f, d, prior)
	if obs.WriteRulePriority != 42 || f.rules[obs.WriteRuleARN].ListenerARN != "arn:listener/other" {
		t.Fatalf("after the move: rule %+v, recorded priority %d; want priority 42 on arn:listener/other", f.rules[obs.WriteRuleARN], obs.WriteRulePriority)
	}
	if n := countPrefix(f.calls, "RulePriorities arn:listener/other"); n != 2 {
		t.Errorf("listed the new listener's priorities %d times, want 2 (once more after PriorityInUse)", n)
	}
}

// TestApplyWriteRuleKeepsAGivenPriority: a priority in the configuration is
// used as it is, and a taken one is an error, not a silent other choice.
func TestApplyWriteRuleKeepsAGivenPriority(t *testing.T) {
	f := newFakeCloud()
	f.rules["arn:rule/foreign-10"] = Rule{ARN: "arn:rule/foreign-10", ListenerARN: testListener, Priority: 10}
	d := testDesired()
	_, err := Apply(t.Context(), f, d, nil, func(string) {})
	if !PriorityInUse(err) {
		t.Fatalf("priority 10 taken by another rule: error %v, want PriorityInUse", err)
	}
	if n := countPrefix(f.calls, "RulePriorities"); n != 0 {
		t.Errorf("listed priorities %d times for a configured priority", n)
	}
}

func countPrefix(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}
