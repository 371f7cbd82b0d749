package pool

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
)

func TestTargetGroupDelay(t *testing.T) {
	attr := func(k, v string) elbv2types.TargetGroupAttribute {
		return elbv2types.TargetGroupAttribute{Key: aws.String(k), Value: aws.String(v)}
	}
	tests := []struct {
		name    string
		attrs   []elbv2types.TargetGroupAttribute
		want    time.Duration
		wantErr bool
	}{
		{"set", []elbv2types.TargetGroupAttribute{attr("stickiness.enabled", "false"), attr("deregistration_delay.timeout_seconds", "5")}, 5 * time.Second, false},
		{"zero", []elbv2types.TargetGroupAttribute{attr("deregistration_delay.timeout_seconds", "0")}, 0, false},
		{"AWS default when not named", []elbv2types.TargetGroupAttribute{attr("stickiness.enabled", "false")}, 300 * time.Second, false},
		{"AWS default without attributes", nil, 300 * time.Second, false},
		{"not a number", []elbv2types.TargetGroupAttribute{attr("deregistration_delay.timeout_seconds", "5s")}, 0, true},
		{"negative", []elbv2types.TargetGroupAttribute{attr("deregistration_delay.timeout_seconds", "-1")}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TargetGroupDelay(tt.attrs)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("TargetGroupDelay = %s, %v; want %s, error %t", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestClassicDrainTimeout(t *testing.T) {
	tests := []struct {
		name  string
		attrs *elbtypes.LoadBalancerAttributes
		want  time.Duration
	}{
		{"no attributes", nil, 0},
		{"draining not reported", &elbtypes.LoadBalancerAttributes{}, 0},
		{"draining off", &elbtypes.LoadBalancerAttributes{ConnectionDraining: &elbtypes.ConnectionDraining{Enabled: false, Timeout: aws.Int32(60)}}, 0},
		{"draining on", &elbtypes.LoadBalancerAttributes{ConnectionDraining: &elbtypes.ConnectionDraining{Enabled: true, Timeout: aws.Int32(10)}}, 10 * time.Second},
		{"draining on, AWS default timeout", &elbtypes.LoadBalancerAttributes{ConnectionDraining: &elbtypes.ConnectionDraining{Enabled: true}}, 300 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassicDrainTimeout(tt.attrs); got != tt.want {
				t.Errorf("ClassicDrainTimeout = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestListed(t *testing.T) {
	tg := poolhealth.Target{Kind: poolhealth.KindTargetGroup, ID: "arn:tg", Name: "tg"}
	clb := poolhealth.Target{Kind: poolhealth.KindClassicELB, ID: "clb", Name: "clb"}
	ids := []string{"i-1", "i-2", "i-3", "i-4"}
	tests := []struct {
		name string
		th   poolhealth.TargetHealth
		want []string
	}{
		{
			// Draining is not gone; unused (deregistered, asked by id) and
			// not listed are.
			name: "target group",
			th: poolhealth.TargetHealth{Target: tg, Instances: map[string]poolhealth.State{
				"i-1": {State: "draining", Reason: "Target.DeregistrationInProgress"},
				"i-2": {State: "healthy", Healthy: true, Active: true},
				"i-3": {State: "unused", Reason: "Target.NotRegistered"},
				"i-9": {State: "healthy", Healthy: true, Active: true},
			}},
			want: []string{"i-1", "i-2"},
		},
		{
			// A classic load balancer reports a draining instance
			// InService until its timeout ends, then drops it.
			name: "classic load balancer",
			th: poolhealth.TargetHealth{Target: clb, Instances: map[string]poolhealth.State{
				"i-2": {State: "InService", Healthy: true, Active: true},
				"i-4": {State: "OutOfService", Active: true},
			}},
			want: []string{"i-2", "i-4"},
		},
		{name: "nothing listed", th: poolhealth.TargetHealth{Target: tg}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listed(tt.th, ids); !slices.Equal(got, tt.want) {
				t.Errorf("listed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDrainDeadline(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tg := poolhealth.Target{Kind: poolhealth.KindTargetGroup, ID: "arn:tg", Name: "tg-web"}
	clb := poolhealth.Target{Kind: poolhealth.KindClassicELB, ID: "clb-web", Name: "clb-web"}
	tests := []struct {
		name string
		d    drain
		want time.Time
		line string
	}{
		{"target group", drain{target: tg, ids: []string{"i-1", "i-2"}, since: at, delay: 10 * time.Second}, at.Add(10 * time.Second),
			"waiting up to 10s for 2 clones to drain from target group tg-web"},
		{"classic", drain{target: clb, ids: []string{"i-1"}, since: at, delay: 300 * time.Second}, at.Add(5 * time.Minute),
			"waiting up to 5m0s for 1 clone to drain from classic load balancer clb-web"},
		{"no delay", drain{target: clb, ids: []string{"i-1"}, since: at}, at,
			"waiting up to 0s for 1 clone to drain from classic load balancer clb-web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.deadline(); !got.Equal(tt.want) {
				t.Errorf("deadline = %s, want %s", got, tt.want)
			}
			if got := tt.d.String(); got != tt.line {
				t.Errorf("String = %q, want %q", got, tt.line)
			}
		})
	}
}

// TestWaitDrainedPastDeadlines: drains whose delay already passed need no
// describe call (the clients are nil) and no wait.
func TestWaitDrainedPastDeadlines(t *testing.T) {
	past := time.Now().Add(-time.Minute)
	drains := []drain{
		{target: poolhealth.Target{Kind: poolhealth.KindTargetGroup, ID: "arn:tg", Name: "tg"}, ids: []string{"i-1"}, since: past, delay: 30 * time.Second},
		{target: poolhealth.Target{Kind: poolhealth.KindClassicELB, ID: "clb", Name: "clb"}, ids: []string{"i-1"}, since: time.Now()},
	}
	start := time.Now()
	if err := (Clients{}).waitDrained(context.Background(), drains, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("waited %s", d)
	}
}

// TestWaitDrainedTimeout: the operation's timeout ending before the drain
// is an error that names the clones, and nothing is described before the
// first poll interval.
func TestWaitDrainedTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	drains := []drain{{target: poolhealth.Target{Kind: poolhealth.KindTargetGroup, ID: "arn:tg", Name: "tg"}, ids: []string{"i-2", "i-1"}, since: time.Now(), delay: time.Minute}}
	err := (Clients{}).waitDrained(ctx, drains, nil)
	if err == nil || !strings.Contains(err.Error(), "[i-1 i-2]") || !strings.Contains(err.Error(), "drain") {
		t.Fatalf("err = %v, want a drain timeout naming i-1 and i-2", err)
	}
}
