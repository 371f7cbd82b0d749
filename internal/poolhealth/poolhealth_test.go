package poolhealth

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

type reg struct {
	id, state, reason string
}

type fakeV2 struct {
	groups map[string][]reg
	err    error
	calls  map[string]int
}

func (f *fakeV2) DescribeTargetHealth(_ context.Context, in *elasticloadbalancingv2.DescribeTargetHealthInput, _ ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTargetHealthOutput, error) {
	arn := aws.ToString(in.TargetGroupArn)
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[arn]++
	if len(in.Targets) != 0 {
		return nil, errors.New("per-instance call")
	}
	if f.err != nil {
		return nil, f.err
	}
	regs, ok := f.groups[arn]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "TargetGroupNotFound", Message: "One or more target groups not found"}
	}
	out := &elasticloadbalancingv2.DescribeTargetHealthOutput{}
	for _, r := range regs {
		d := elbv2types.TargetHealthDescription{Target: &elbv2types.TargetDescription{Id: aws.String(r.id), Port: aws.Int32(80)}}
		if r.state != "" {
			d.TargetHealth = &elbv2types.TargetHealth{State: elbv2types.TargetHealthStateEnum(r.state), Reason: elbv2types.TargetHealthReasonEnum(r.reason)}
		}
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, d)
	}
	return out, nil
}

type fakeClassic struct {
	elbs  map[string][]reg
	err   error
	calls map[string]int
}

func (f *fakeClassic) DescribeInstanceHealth(_ context.Context, in *elasticloadbalancing.DescribeInstanceHealthInput, _ ...func(*elasticloadbalancing.Options)) (*elasticloadbalancing.DescribeInstanceHealthOutput, error) {
	name := aws.ToString(in.LoadBalancerName)
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[name]++
	if len(in.Instances) != 0 {
		return nil, errors.New("per-instance call")
	}
	if f.err != nil {
		return nil, f.err
	}
	regs, ok := f.elbs[name]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "LoadBalancerNotFound", Message: "There is no ACTIVE Load Balancer named '" + name + "'"}
	}
	out := &elasticloadbalancing.DescribeInstanceHealthOutput{}
	for _, r := range regs {
		out.InstanceStates = append(out.InstanceStates, elbtypes.InstanceState{
			InstanceId: aws.String(r.id), State: aws.String(r.state), ReasonCode: aws.String(r.reason),
		})
	}
	return out, nil
}

const (
	arnWeb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-web/1"
	arnAPI = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-api/2"
)

var (
	tgWeb  = Target{Kind: KindTargetGroup, ID: arnWeb, Name: "tg-web"}
	tgAPI  = Target{Kind: KindTargetGroup, ID: arnAPI, Name: "tg-api"}
	legacy = Target{Kind: KindClassicELB, ID: "legacy"}
)

func newFakes() (*fakeV2, *fakeClassic) {
	v2 := &fakeV2{groups: map[string][]reg{
		arnWeb: {
			{"i-1", "healthy", ""},
			{"i-2", "unhealthy", "Target.FailedHealthChecks"},
			{"i-3", "healthy", ""},
			{"i-4", "draining", "Target.DeregistrationInProgress"},
			{"i-5", "initial", "Elb.InitialHealthChecking"},
		},
		arnAPI: {
			{"i-1", "healthy", ""},
			{"i-2", "healthy", ""},
			{"i-4", "unused", "Target.NotInUse"},
			{"i-5", "healthy", ""},
		},
	}}
	classic := &fakeClassic{elbs: map[string][]reg{
		"legacy": {
			{"i-1", "InService", "N/A"},
			{"i-2", "InService", "N/A"},
			{"i-3", "OutOfService", "Instance"},
			{"i-5", "InService", "N/A"},
		},
	}}
	return v2, classic
}

func TestCollectCallsOncePerTarget(t *testing.T) {
	tests := []struct {
		name        string
		targets     []Target
		wantV2      map[string]int
		wantClassic map[string]int
	}{
		{"no targets", nil, nil, nil},
		{"one target group", []Target{tgWeb}, map[string]int{arnWeb: 1}, nil},
		{"all kinds", []Target{tgWeb, tgAPI, legacy}, map[string]int{arnWeb: 1, arnAPI: 1}, map[string]int{"legacy": 1}},
		{"duplicates read once", []Target{tgWeb, legacy, tgWeb, legacy}, map[string]int{arnWeb: 1}, map[string]int{"legacy": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v2, classic := newFakes()
			r, err := Collect(context.Background(), v2, classic, tt.targets)
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if !reflect.DeepEqual(v2.calls, tt.wantV2) {
				t.Errorf("DescribeTargetHealth calls = %v, want %v", v2.calls, tt.wantV2)
			}
			if !reflect.DeepEqual(classic.calls, tt.wantClassic) {
				t.Errorf("DescribeInstanceHealth calls = %v, want %v", classic.calls, tt.wantClassic)
			}
			if len(r.Targets) != len(tt.wantV2)+len(tt.wantClassic) {
				t.Errorf("report has %d targets", len(r.Targets))
			}
		})
	}
}

func TestCollectErrors(t *testing.T) {
	boom := errors.New("Throttling")
	tests := []struct {
		name       string
		targets    []Target
		noV2       bool
		noClassic  bool
		v2Err      error
		classicErr error
		want       string
		wantCalls  int
	}{
		{"unknown kind", []Target{{Kind: "nlb", ID: "x"}}, false, false, nil, nil, `unknown kind "nlb"`, 0},
		{"missing id", []Target{tgWeb, {Kind: KindTargetGroup, Name: "tg-x"}}, false, false, nil, nil, "has no id", 0},
		{"no v2 client", []Target{tgWeb}, true, false, nil, nil, "no elasticloadbalancingv2 client", 0},
		{"no classic client", []Target{legacy}, false, true, nil, nil, "no elasticloadbalancing client", 0},
		{"v2 fails", []Target{tgWeb}, false, false, boom, nil, "target group tg-web (" + arnWeb + "): Throttling", 1},
		{"classic fails", []Target{legacy}, false, false, nil, boom, "classic load balancer legacy: Throttling", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v2, classic := newFakes()
			v2.err, classic.err = tt.v2Err, tt.classicErr
			var v2API ELBV2API = v2
			var classicAPI ELBAPI = classic
			if tt.noV2 {
				v2API = nil
			}
			if tt.noClassic {
				classicAPI = nil
			}
			_, err := Collect(context.Background(), v2API, classicAPI, tt.targets)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Collect error = %v, want it to contain %q", err, tt.want)
			}
			if tt.v2Err != nil && !errors.Is(err, tt.v2Err) || tt.classicErr != nil && !errors.Is(err, tt.classicErr) {
				t.Errorf("error %v does not wrap the API error", err)
			}
			if calls := len(v2.calls) + len(classic.calls); calls != tt.wantCalls {
				t.Errorf("made %d calls, want %d", calls, tt.wantCalls)
			}
		})
	}
}

// A target group or classic load balancer deleted out of band while the
// group still lists it does not fail the read: it is reported gone and
// counts nowhere, so health, drains and refresh go on with the others.
func TestCollectGoneTargets(t *testing.T) {
	v2, classic := newFakes()
	goneTG := Target{Kind: KindTargetGroup, ID: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/deleted/0123456789abcdef", Name: "deleted"}
	goneELB := Target{Kind: KindClassicELB, ID: "deleted-elb", Name: "deleted-elb"}
	r, err := Collect(context.Background(), v2, classic, []Target{tgWeb, goneTG, legacy, goneELB})
	if err != nil {
		t.Fatalf("Collect with a deleted target group and classic load balancer: %v", err)
	}
	if !reflect.DeepEqual(r.Gone, []Target{goneTG, goneELB}) {
		t.Errorf("Gone = %v, want the deleted target group and classic load balancer", r.Gone)
	}
	for _, th := range r.Targets {
		if th.Target == goneTG || th.Target == goneELB {
			t.Errorf("gone target %s is in Targets", th.Target.Name)
		}
	}
	if len(r.Targets) != 2 {
		t.Errorf("Targets has %d entries, want the 2 that exist", len(r.Targets))
	}
	if want := collect(t, tgWeb, legacy).Healthy(allIDs); !reflect.DeepEqual(r.Healthy(allIDs), want) {
		t.Errorf("Healthy = %v, want %v as without the gone targets", r.Healthy(allIDs), want)
	}
}

func collect(t *testing.T, targets ...Target) Report {
	t.Helper()
	v2, classic := newFakes()
	r, err := Collect(context.Background(), v2, classic, targets)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	return r
}

var allIDs = []string{"i-1", "i-2", "i-3", "i-4", "i-5", "i-6"}

func TestHealthy(t *testing.T) {
	tests := []struct {
		name    string
		targets []Target
		ids     []string
		want    []string
	}{
		{"no load balancer: all running count", nil, allIDs, allIDs},
		{"one target group", []Target{tgWeb}, allIDs, []string{"i-1", "i-3"}},
		{"healthy in every target group", []Target{tgWeb, tgAPI}, allIDs, []string{"i-1"}},
		{"classic", []Target{legacy}, allIDs, []string{"i-1", "i-2", "i-5"}},
		{"all three", []Target{tgWeb, tgAPI, legacy}, allIDs, []string{"i-1"}},
		{"input order kept, duplicates dropped", []Target{legacy}, []string{"i-5", "i-1", "i-5"}, []string{"i-5", "i-1"}},
		{"none asked", []Target{tgWeb}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collect(t, tt.targets...).Healthy(tt.ids); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Healthy = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnhealthy(t *testing.T) {
	tests := []struct {
		name    string
		targets []Target
		ids     []string
		want    map[string][]string
	}{
		{"no load balancer", nil, allIDs, map[string][]string{}},
		{
			name:    "all three",
			targets: []Target{tgWeb, tgAPI, legacy},
			ids:     allIDs,
			want: map[string][]string{
				"i-2": {"tg-web: unhealthy (Target.FailedHealthChecks)"},
				"i-3": {"tg-api: not registered", "legacy: OutOfService (Instance)"},
				"i-4": {"tg-web: draining (Target.DeregistrationInProgress)", "tg-api: unused (Target.NotInUse)", "legacy: not registered"},
				"i-5": {"tg-web: initial (Elb.InitialHealthChecking)"},
				"i-6": {"tg-web: not registered", "tg-api: not registered", "legacy: not registered"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collect(t, tt.targets...).Unhealthy(tt.ids); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Unhealthy =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	tests := []struct {
		name    string
		targets []Target
		ids     []string
		want    []string
	}{
		{"no load balancer", nil, []string{"i-1", "i-2"}, []string{"2/2 clones running (no load balancer attached)"}},
		{"per target", []Target{tgWeb, tgAPI, legacy}, allIDs, []string{
			"2/6 clones healthy in tg-web", "3/6 clones healthy in tg-api", "3/6 clones healthy in legacy",
		}},
		{"name falls back to id", []Target{{Kind: KindClassicELB, ID: "legacy"}}, []string{"i-3", "i-3"}, []string{"0/1 clones healthy in legacy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collect(t, tt.targets...).Progress(tt.ids); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Progress = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAbsent(t *testing.T) {
	tests := []struct {
		name    string
		targets []Target
		ids     []string
		want    bool
	}{
		{"no load balancer", nil, allIDs, true},
		{"no ids", []Target{tgWeb}, nil, true},
		{"never registered", []Target{tgWeb, tgAPI, legacy}, []string{"i-6", "i-7"}, true},
		{"draining and unused count as gone", []Target{tgWeb, tgAPI}, []string{"i-4", "i-6"}, true},
		{"unhealthy still registered", []Target{tgWeb}, []string{"i-2"}, false},
		{"registered in classic only", []Target{tgAPI, legacy}, []string{"i-3"}, false},
		{"one of many still registered", []Target{tgWeb}, []string{"i-4", "i-6", "i-1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collect(t, tt.targets...).Absent(tt.ids); got != tt.want {
				t.Errorf("Absent(%v) = %v, want %v", tt.ids, got, tt.want)
			}
		})
	}
}

func TestCombine(t *testing.T) {
	healthy := State{State: "healthy", Healthy: true, Active: true}
	unhealthy := State{State: "unhealthy", Reason: "Target.Timeout", Active: true}
	initial := State{State: "initial", Active: true}
	draining := State{State: "draining", Reason: "Target.DeregistrationInProgress"}
	unused := State{State: "unused"}
	tests := []struct {
		name string
		regs []State
		want State
	}{
		{"none", nil, State{}},
		{"one healthy", []State{healthy}, healthy},
		{"all ports healthy", []State{healthy, healthy}, healthy},
		{"one port unhealthy", []State{healthy, unhealthy, initial}, unhealthy},
		{"draining port ignored", []State{draining, healthy}, healthy},
		{"draining shown after active unhealthy", []State{draining, initial}, initial},
		{"only inactive", []State{unused, draining}, unused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := combine(tt.regs); got != tt.want {
				t.Errorf("combine = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStateFromV2(t *testing.T) {
	tests := []struct {
		in   *elbv2types.TargetHealth
		want State
	}{
		{nil, State{State: "unknown", Active: true}},
		{&elbv2types.TargetHealth{State: "healthy"}, State{State: "healthy", Healthy: true, Active: true}},
		{&elbv2types.TargetHealth{State: "initial", Reason: "Elb.RegistrationInProgress"}, State{State: "initial", Reason: "Elb.RegistrationInProgress", Active: true}},
		{&elbv2types.TargetHealth{State: "unavailable"}, State{State: "unavailable", Active: true}},
		{&elbv2types.TargetHealth{State: "unhealthy.draining"}, State{State: "unhealthy.draining"}},
		{&elbv2types.TargetHealth{State: "draining"}, State{State: "draining"}},
		{&elbv2types.TargetHealth{State: "unused", Reason: "Target.NotInUse"}, State{State: "unused", Reason: "Target.NotInUse"}},
	}
	for _, tt := range tests {
		if got := stateFromV2(tt.in); got != tt.want {
			t.Errorf("stateFromV2(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestStateFromClassic(t *testing.T) {
	tests := []struct {
		state, reason string
		want          State
	}{
		{"InService", "N/A", State{State: "InService", Healthy: true, Active: true}},
		{"OutOfService", "ELB", State{State: "OutOfService", Reason: "ELB", Active: true}},
		{"Unknown", "", State{State: "Unknown", Active: true}},
		{"", "", State{State: "Unknown", Active: true}},
	}
	for _, tt := range tests {
		if got := stateFromClassic(tt.state, tt.reason); got != tt.want {
			t.Errorf("stateFromClassic(%q, %q) = %+v, want %+v", tt.state, tt.reason, got, tt.want)
		}
	}
}
