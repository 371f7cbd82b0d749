package emulator

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// The strict layer's rules, one test each, against one shared emulator that
// runs AWS's timing 50 times faster.
const strictTestScale = 0.02

var (
	strictOnce sync.Once
	strictSrv  *Server
	strictErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if strictSrv != nil {
		_ = strictSrv.Stop()
	}
	os.Exit(code)
}

// strictCloud is the shared strict emulator and its clients.
type strictCloud struct {
	endpoint string
	ec2      *ec2.Client
	asg      *autoscaling.Client
	elbv2    *elasticloadbalancingv2.Client
	elb      *elasticloadbalancing.Client
	ssm      *ssm.Client
	cw       *cloudwatch.Client
}

func newStrictCloud(t *testing.T) *strictCloud {
	t.Helper()
	requireMoto(t)
	strictOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		strictSrv, strictErr = Start(ctx, Options{
			Port: AnyPort, CacheDir: filepath.Join("..", "..", ".cache"),
			Env: []string{EnvStrict + "=on", fmt.Sprintf("%s=%g", EnvTimeScale, strictTestScale)},
		})
	})
	if strictErr != nil {
		t.Fatalf("starting the strict emulator: %v", strictErr)
	}
	return cloudAt(strictSrv.Endpoint)
}

func cloudAt(endpoint string) *strictCloud {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	return &strictCloud{
		endpoint: endpoint,
		ec2:      ec2.NewFromConfig(cfg),
		asg:      autoscaling.NewFromConfig(cfg),
		elbv2:    elasticloadbalancingv2.NewFromConfig(cfg),
		elb:      elasticloadbalancing.NewFromConfig(cfg),
		ssm:      ssm.NewFromConfig(cfg),
		cw: cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
			o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
		}),
	}
}

func scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * strictTestScale) }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error = %v, want AWS error code %s", err, code)
	}
}

// must returns v, or fails the test (by panicking) on err.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var nameSeq struct {
	sync.Mutex
	n int
}

func uniq(prefix string) string {
	nameSeq.Lock()
	defer nameSeq.Unlock()
	nameSeq.n++
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, nameSeq.n)
}

// network makes a VPC with one /20 subnet and a target group (5 s × 2
// health checks, deregistration delay delay).
type network struct {
	vpc, subnet, tg string
}

func (c *strictCloud) network(t *testing.T, delay int) network {
	t.Helper()
	ctx := context.Background()
	vpc := must(c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}))
	sub := must(c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.0.0/20"), AvailabilityZone: aws.String("us-east-1a")}))
	tg := must(c.elbv2.CreateTargetGroup(ctx, &elasticloadbalancingv2.CreateTargetGroupInput{
		Name: aws.String(uniq("tg")), Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: vpc.Vpc.VpcId,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthyThresholdCount: aws.Int32(2),
	}))
	arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	must(c.elbv2.ModifyTargetGroupAttributes(ctx, &elasticloadbalancingv2.ModifyTargetGroupAttributesInput{
		TargetGroupArn: aws.String(arn),
		Attributes:     []elbv2types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(fmt.Sprint(delay))}},
	}))
	return network{vpc: aws.ToString(vpc.Vpc.VpcId), subnet: aws.ToString(sub.Subnet.SubnetId), tg: arn}
}

func agentUserData() string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte("#!/bin/sh\nCS_LIFECYCLE_HOOK_NAME=first-sync\n"))
	_ = zw.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// group makes a launch template and an Auto Scaling group of desired
// instances in n, with a launch hook of heartbeat seconds when hook is set.
func (c *strictCloud) group(t *testing.T, n network, desired int32, userData string, heartbeat int32) string {
	t.Helper()
	ctx := context.Background()
	lt := must(c.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(uniq("lt")),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro, UserData: aws.String(userData)},
	}))
	name := uniq("asg")
	in := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name),
		LaunchTemplate:       &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("1")},
		MinSize:              aws.Int32(0), MaxSize: aws.Int32(10), DesiredCapacity: aws.Int32(desired),
		VPCZoneIdentifier: aws.String(n.subnet), TargetGroupARNs: []string{n.tg},
	}
	if heartbeat > 0 {
		in.LifecycleHookSpecificationList = []astypes.LifecycleHookSpecification{{
			LifecycleHookName: aws.String("first-sync"), LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_LAUNCHING"),
			DefaultResult: aws.String("ABANDON"), HeartbeatTimeout: aws.Int32(heartbeat),
		}}
	}
	must(c.asg.CreateAutoScalingGroup(ctx, in))
	return name
}

func (c *strictCloud) members(t *testing.T, group string) map[string]string {
	t.Helper()
	out := must(c.asg.DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}}))
	m := map[string]string{}
	for _, i := range out.AutoScalingGroups[0].Instances {
		m[aws.ToString(i.InstanceId)] = string(i.LifecycleState)
	}
	return m
}

func (c *strictCloud) targetStates(t *testing.T, tg string) map[string]string {
	t.Helper()
	out := must(c.elbv2.DescribeTargetHealth(context.Background(), &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)}))
	m := map[string]string{}
	for _, d := range out.TargetHealthDescriptions {
		m[aws.ToString(d.Target.Id)] = string(d.TargetHealth.State)
	}
	return m
}

// eventually polls cond every 20 ms for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func allIn(m map[string]string, state string) bool {
	if len(m) == 0 {
		return false
	}
	for _, s := range m {
		if s != state {
			return false
		}
	}
	return true
}

func (c *strictCloud) events(t *testing.T, kind, instance string) []Event {
	t.Helper()
	all, err := Events(context.Background(), c.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var out []Event
	for _, e := range all {
		if e.Kind == kind && (instance == "" || e.Instance == instance) {
			out = append(out, e)
		}
	}
	return out
}

// Rule: launch-template user data is at most 16,384 bytes decoded.
func TestStrict_userDataLimit(t *testing.T) {
	c := newStrictCloud(t)
	ctx := context.Background()
	for size, ok := range map[int]bool{16384: true, 16385: false} {
		_, err := c.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
			LaunchTemplateName: aws.String(uniq("ud")),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{UserData: aws.String(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), size)))},
		})
		if ok && err != nil {
			t.Errorf("%d bytes refused: %v", size, err)
		}
		if !ok {
			wantCode(t, err, "InvalidParameterValue")
		}
	}
}

// Rule: a launched instance waits in Pending:Wait, outside every target
// group, until CompleteLifecycleAction(CONTINUE).
func TestStrict_lifecycleHookHoldsUntilComplete(t *testing.T) {
	c := newStrictCloud(t)
	n := c.network(t, 0)
	name := c.group(t, n, 1, agentUserData(), 3600)
	if err := SetStandIn(context.Background(), c.endpoint, StandIn{Group: name, Result: "NEVER"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "instance in Pending:Wait", func() bool { return allIn(c.members(t, name), "Pending:Wait") })
	var id string
	for id = range c.members(t, name) {
	}
	time.Sleep(scaled(30 * time.Second))
	if s := c.targetStates(t, n.tg); len(s) != 0 {
		t.Fatalf("instance in Pending:Wait is registered: %v", s)
	}
	_, err := c.asg.CompleteLifecycleAction(context.Background(), &autoscaling.CompleteLifecycleActionInput{
		AutoScalingGroupName: aws.String(name), LifecycleHookName: aws.String("first-sync"), InstanceId: aws.String(id), LifecycleActionResult: aws.String("CONTINUE"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.members(t, name)[id]; got != "InService" {
		t.Fatalf("after CONTINUE: %s", got)
	}
	if got := c.targetStates(t, n.tg)[id]; got != "initial" {
		t.Fatalf("target state right after CONTINUE = %q, want initial", got)
	}
	_, err = c.asg.CompleteLifecycleAction(context.Background(), &autoscaling.CompleteLifecycleActionInput{
		AutoScalingGroupName: aws.String(name), LifecycleHookName: aws.String("first-sync"), InstanceId: aws.String(id), LifecycleActionResult: aws.String("CONTINUE"),
	})
	wantCode(t, err, "ValidationError")
}

// Rule: at the heartbeat timeout the hook's default result applies; ABANDON
// terminates the instance and the group launches another. A heartbeat
// extends the wait.
func TestStrict_heartbeatTimeoutAbandons(t *testing.T) {
	c := newStrictCloud(t)
	n := c.network(t, 0)
	name := c.group(t, n, 1, agentUserData(), 100) // 2 s at this scale
	if err := SetStandIn(context.Background(), c.endpoint, StandIn{Group: name, Result: "NEVER"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "Pending:Wait", func() bool { return allIn(c.members(t, name), "Pending:Wait") })
	var first string
	for first = range c.members(t, name) {
	}
	time.Sleep(scaled(60 * time.Second))
	must(c.asg.RecordLifecycleActionHeartbeat(context.Background(), &autoscaling.RecordLifecycleActionHeartbeatInput{
		AutoScalingGroupName: aws.String(name), LifecycleHookName: aws.String("first-sync"), InstanceId: aws.String(first),
	}))
	time.Sleep(scaled(60 * time.Second)) // past the first deadline, inside the extended one
	if got := c.members(t, name)[first]; got != "Pending:Wait" {
		t.Fatalf("after a heartbeat: %q, want still Pending:Wait", got)
	}
	eventually(t, 5*time.Second, "abandoned and replaced", func() bool {
		m := c.members(t, name)
		_, still := m[first]
		return !still && len(m) == 1
	})
	ev := c.events(t, "lifecycle_action", first)
	if len(ev) != 1 || ev[0].Result != "ABANDON" || ev[0].Detail != "heartbeat timeout" {
		t.Fatalf("lifecycle events of %s = %+v", first, ev)
	}
}

// The clone stand-in completes only instances whose user data carries the
// sync agent, and can abandon them.
func TestStrict_standInCompletesOnlyAgentClones(t *testing.T) {
	c := newStrictCloud(t)
	n := c.network(t, 0)
	plain := c.group(t, n, 1, base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\ntrue\n")), 3600)
	agent := c.group(t, n, 1, agentUserData(), 3600)
	abandon := c.group(t, n, 1, agentUserData(), 3600)
	ctx := context.Background()
	for g, r := range map[string]string{plain: "CONTINUE", agent: "CONTINUE", abandon: "ABANDON"} {
		if err := SetStandIn(ctx, c.endpoint, StandIn{Group: g, Result: r, DelaySeconds: 10}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "agent clone in service", func() bool { return allIn(c.members(t, agent), "InService") })
	eventually(t, 5*time.Second, "abandoned clone replaced", func() bool {
		return len(c.events(t, "lifecycle_action", "")) > 0 && len(c.eventsOf(t, abandon, "ABANDON")) > 0
	})
	if !allIn(c.members(t, plain), "Pending:Wait") {
		t.Fatalf("agent-less clone: %v, want Pending:Wait", c.members(t, plain))
	}
}

func (c *strictCloud) eventsOf(t *testing.T, group, result string) []Event {
	var out []Event
	for _, e := range c.events(t, "lifecycle_action", "") {
		if e.Group == group && e.Result == result {
			out = append(out, e)
		}
	}
	return out
}

// Rule: a deregistered target is draining for the deregistration delay, and
// terminating it meanwhile is recorded as a violation.
func TestStrict_deregistrationDelay(t *testing.T) {
	c := newStrictCloud(t)
	ctx := context.Background()
	n := c.network(t, 100) // 2 s at this scale
	ids := c.run(t, n, 2)
	must(c.elbv2.RegisterTargets(ctx, &elasticloadbalancingv2.RegisterTargetsInput{TargetGroupArn: aws.String(n.tg), Targets: targets(ids)}))
	must(c.elbv2.DeregisterTargets(ctx, &elasticloadbalancingv2.DeregisterTargetsInput{TargetGroupArn: aws.String(n.tg), Targets: targets(ids)}))
	if s := c.targetStates(t, n.tg); s[ids[0]] != "draining" || s[ids[1]] != "draining" {
		t.Fatalf("right after deregistration: %v, want draining", s)
	}
	must(c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[:1]}))
	if ev := c.events(t, "terminate", ids[0]); len(ev) != 1 || !strings.Contains(ev[0].Violation, "draining") {
		t.Fatalf("terminate while draining: %+v, want a violation", ev)
	}
	eventually(t, 5*time.Second, "drained", func() bool { _, ok := c.targetStates(t, n.tg)[ids[1]]; return !ok })
	must(c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[1:]}))
	if ev := c.events(t, "terminate", ids[1]); len(ev) != 1 || ev[0].Violation != "" {
		t.Fatalf("terminate after draining: %+v, want no violation", ev)
	}
}

// Rule: a new target is initial for HealthyThresholdCount × interval.
func TestStrict_targetHealthWarmUp(t *testing.T) {
	c := newStrictCloud(t)
	n := c.network(t, 0)
	ids := c.run(t, n, 1)
	eventually(t, 5*time.Second, "running", func() bool { return c.instanceState(t, ids[0]) == "running" })
	must(c.elbv2.RegisterTargets(context.Background(), &elasticloadbalancingv2.RegisterTargetsInput{TargetGroupArn: aws.String(n.tg), Targets: targets(ids)}))
	if s := c.targetStates(t, n.tg)[ids[0]]; s != "initial" {
		t.Fatalf("new target: %q, want initial", s)
	}
	eventually(t, 5*time.Second, "healthy after 2 × 5 s scaled", func() bool { return c.targetStates(t, n.tg)[ids[0]] == "healthy" })
}

// Rule: a classic ELB keeps a deregistered instance InService ("deregistration
// currently in progress") for its connection-draining timeout, and a new one
// OutOfService until its health check passed.
func TestStrict_classicConnectionDraining(t *testing.T) {
	c := newStrictCloud(t)
	ctx := context.Background()
	n := c.network(t, 0)
	name := uniq("clb")
	must(c.elb.CreateLoadBalancer(ctx, &elasticloadbalancing.CreateLoadBalancerInput{
		LoadBalancerName: aws.String(name), Subnets: []string{n.subnet},
		Listeners: []elbtypes.Listener{{Protocol: aws.String("HTTP"), LoadBalancerPort: 80, InstancePort: aws.Int32(80)}},
	}))
	must(c.elb.ConfigureHealthCheck(ctx, &elasticloadbalancing.ConfigureHealthCheckInput{LoadBalancerName: aws.String(name),
		HealthCheck: &elbtypes.HealthCheck{Target: aws.String("HTTP:80/"), Interval: aws.Int32(5), Timeout: aws.Int32(4), HealthyThreshold: aws.Int32(2), UnhealthyThreshold: aws.Int32(2)}}))
	must(c.elb.ModifyLoadBalancerAttributes(ctx, &elasticloadbalancing.ModifyLoadBalancerAttributesInput{LoadBalancerName: aws.String(name),
		LoadBalancerAttributes: &elbtypes.LoadBalancerAttributes{ConnectionDraining: &elbtypes.ConnectionDraining{Enabled: true, Timeout: aws.Int32(100)}}}))
	ids := c.run(t, n, 1)
	eventually(t, 5*time.Second, "running", func() bool { return c.instanceState(t, ids[0]) == "running" })
	must(c.elb.RegisterInstancesWithLoadBalancer(ctx, &elasticloadbalancing.RegisterInstancesWithLoadBalancerInput{LoadBalancerName: aws.String(name), Instances: []elbtypes.Instance{{InstanceId: aws.String(ids[0])}}}))
	health := func() (string, string) {
		out := must(c.elb.DescribeInstanceHealth(ctx, &elasticloadbalancing.DescribeInstanceHealthInput{LoadBalancerName: aws.String(name)}))
		if len(out.InstanceStates) == 0 {
			return "", ""
		}
		return aws.ToString(out.InstanceStates[0].State), aws.ToString(out.InstanceStates[0].Description)
	}
	if s, _ := health(); s != "OutOfService" {
		t.Fatalf("new instance: %q, want OutOfService while registration is in progress", s)
	}
	eventually(t, 5*time.Second, "InService", func() bool { s, _ := health(); return s == "InService" })
	must(c.elb.DeregisterInstancesFromLoadBalancer(ctx, &elasticloadbalancing.DeregisterInstancesFromLoadBalancerInput{LoadBalancerName: aws.String(name), Instances: []elbtypes.Instance{{InstanceId: aws.String(ids[0])}}}))
	if s, d := health(); s != "InService" || !strings.Contains(d, "deregistration currently in progress") {
		t.Fatalf("draining instance: %q %q", s, d)
	}
	eventually(t, 5*time.Second, "drained", func() bool { s, _ := health(); return s == "" })
}

// Rule: scale-in deregisters the instance from the group's target groups,
// waits out the delay, then terminates it.
func TestStrict_scaleInDeregistersAndDrains(t *testing.T) {
	c := newStrictCloud(t)
	n := c.network(t, 100) // 2 s
	name := c.group(t, n, 2, agentUserData(), 0)
	eventually(t, 5*time.Second, "in service", func() bool { return allIn(c.members(t, name), "InService") })
	must(c.asg.UpdateAutoScalingGroup(context.Background(), &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), DesiredCapacity: aws.Int32(1)}))
	var leaving string
	for id, s := range c.members(t, name) {
		if s == "Terminating" {
			leaving = id
		}
	}
	if leaving == "" {
		t.Fatalf("no member Terminating after scale-in: %v", c.members(t, name))
	}
	if s := c.targetStates(t, n.tg)[leaving]; s != "draining" {
		t.Fatalf("scaled-in target: %q, want draining", s)
	}
	eventually(t, 5*time.Second, "terminated after draining", func() bool { return len(c.events(t, "terminate", leaving)) == 1 })
	if ev := c.events(t, "terminate", leaving)[0]; ev.Violation != "" {
		t.Fatalf("scale-in cut traffic: %s", ev.Violation)
	}
	if got := len(c.members(t, name)); got != 1 {
		t.Fatalf("members after scale-in: %d, want 1 (no replacement)", got)
	}
}

// Rule: instances are pending before running, images pending before available.
func TestStrict_pendingStates(t *testing.T) {
	c := newStrictCloud(t)
	n := c.network(t, 0)
	ids := c.run(t, n, 1)
	time.Sleep(scaled(6 * time.Second)) // inside the consistency window no more
	if s := c.instanceState(t, ids[0]); s != "pending" {
		t.Fatalf("new instance: %q, want pending", s)
	}
	eventually(t, 5*time.Second, "running", func() bool { return c.instanceState(t, ids[0]) == "running" })
	img := must(c.ec2.CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String(ids[0]), Name: aws.String(uniq("img"))}))
	time.Sleep(scaled(6 * time.Second))
	state := func() string {
		out := must(c.ec2.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(img.ImageId)}}))
		return string(out.Images[0].State)
	}
	if s := state(); s != "pending" {
		t.Fatalf("new image: %q, want pending", s)
	}
	eventually(t, 5*time.Second, "available", func() bool { return state() == "available" })
}

// Rule: a freshly created id is briefly unknown to Describe calls by id.
// The window is 5 s at the test's time scale (0.1 s): on a loaded machine a
// Describe may come later than that, so only an attempt whose Describe was
// sent within half the window counts, and a few attempts are made.
func TestStrict_eventualConsistency(t *testing.T) {
	c := newStrictCloud(t)
	n := c.network(t, 0)
	var ids []string
	counted := false
	for attempt := 0; attempt < 8 && !counted; attempt++ {
		ids = c.run(t, n, 1)
		sent := time.Now()
		_, err := c.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: ids})
		if err == nil && time.Since(sent) > scaled(5*time.Second)/2 {
			continue // the Describe may have reached the emulator after the window
		}
		counted = true
		wantCode(t, err, "InvalidInstanceID.NotFound")
	}
	if !counted {
		t.Skipf("no Describe reached the emulator within %s of RunInstances in 8 attempts: the machine is too loaded to test the window", scaled(5*time.Second)/2)
	}
	eventually(t, 5*time.Second, "visible", func() bool {
		_, err := c.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: ids})
		return err == nil
	})
}

// Rules: per-call limits on ids, page sizes and filter values, one subtest
// each, with the limit itself accepted where a call can show it.
func TestStrict_perCallLimits(t *testing.T) {
	c := newStrictCloud(t)
	ctx := context.Background()
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("i-%017x", i)
		}
		return out
	}
	t.Run("DetachInstances at most 20 ids", func(t *testing.T) {
		_, err := c.asg.DetachInstances(ctx, &autoscaling.DetachInstancesInput{AutoScalingGroupName: aws.String("any"), InstanceIds: many(21), ShouldDecrementDesiredCapacity: aws.Bool(true)})
		wantCode(t, err, "ValidationError")
	})
	t.Run("load balancer attachments at most 10 per call", func(t *testing.T) {
		arns := make([]string, 11)
		for i := range arns {
			arns[i] = fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-%d/0123456789abcdef", i)
		}
		group := aws.String("any")
		_, err := c.asg.AttachLoadBalancerTargetGroups(ctx, &autoscaling.AttachLoadBalancerTargetGroupsInput{AutoScalingGroupName: group, TargetGroupARNs: arns})
		wantCode(t, err, "ValidationError")
		_, err = c.asg.DetachLoadBalancerTargetGroups(ctx, &autoscaling.DetachLoadBalancerTargetGroupsInput{AutoScalingGroupName: group, TargetGroupARNs: arns})
		wantCode(t, err, "ValidationError")
		_, err = c.asg.AttachLoadBalancers(ctx, &autoscaling.AttachLoadBalancersInput{AutoScalingGroupName: group, LoadBalancerNames: many(11)})
		wantCode(t, err, "ValidationError")
		_, err = c.asg.DetachLoadBalancers(ctx, &autoscaling.DetachLoadBalancersInput{AutoScalingGroupName: group, LoadBalancerNames: many(11)})
		wantCode(t, err, "ValidationError")
	})
	t.Run("TerminateInstances at most 1000 ids", func(t *testing.T) {
		_, err := c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: many(1001)})
		wantCode(t, err, "InvalidParameterValue")
	})
	t.Run("SetInstanceProtection at most 50 ids", func(t *testing.T) {
		_, err := c.asg.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: aws.String("any"), InstanceIds: many(51), ProtectedFromScaleIn: aws.Bool(true)})
		wantCode(t, err, "ValidationError")
	})
	t.Run("DescribeInstances MaxResults 5 to 1000", func(t *testing.T) {
		for mr, ok := range map[int32]bool{4: false, 5: true, 1000: true, 1001: false} {
			_, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(mr)})
			if ok && err != nil {
				t.Errorf("MaxResults %d refused: %v", mr, err)
			}
			if !ok {
				wantCode(t, err, "InvalidParameterValue")
			}
		}
		_, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), InstanceIds: many(1)})
		wantCode(t, err, "InvalidParameterCombination")
	})
	t.Run("at most 200 filter values", func(t *testing.T) {
		must(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: many(200)}}}))
		_, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: many(201)}}})
		wantCode(t, err, "FilterLimitExceeded")
	})
	t.Run("DescribeAutoScalingGroups MaxRecords at most 100", func(t *testing.T) {
		must(c.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(100)}))
		_, err := c.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(101)})
		wantCode(t, err, "ValidationError")
	})
}

// Rules: target group names ≤ 32 characters, ≤ 50 tags per resource, ≤ 5
// condition values per listener rule, SSM parameter size per tier.
func TestStrict_namesTagsAndSizes(t *testing.T) {
	c := newStrictCloud(t)
	ctx := context.Background()
	n := c.network(t, 0)
	t.Run("target group name at most 32 characters", func(t *testing.T) {
		tg := func(name string) error {
			_, err := c.elbv2.CreateTargetGroup(ctx, &elasticloadbalancingv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(n.vpc)})
			return err
		}
		if err := tg(strings.Repeat("b", 32)); err != nil {
			t.Fatalf("32 characters refused: %v", err)
		}
		wantCode(t, tg(strings.Repeat("a", 33)), "ValidationError")
		wantCode(t, tg("-edge"), "ValidationError")
	})
	t.Run("at most 50 tags per resource", func(t *testing.T) {
		ids := c.run(t, n, 1)
		tags := func(from, count int) []ec2types.Tag {
			var out []ec2types.Tag
			for i := from; i < from+count; i++ {
				out = append(out, ec2types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
			}
			return out
		}
		must(c.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: tags(0, 45)}))
		must(c.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: tags(40, 10)})) // 50 keys, 5 of them again
		_, err := c.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: tags(50, 1)})
		wantCode(t, err, "TagLimitExceeded")
	})
	t.Run("at most 5 condition values per listener rule", func(t *testing.T) {
		lb := must(c.elbv2.CreateLoadBalancer(ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{Name: aws.String(uniq("alb")), Subnets: []string{n.subnet}}))
		l := must(c.elbv2.CreateListener(ctx, &elasticloadbalancingv2.CreateListenerInput{
			LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(80),
			DefaultActions: []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: aws.String(n.tg)}},
		}))
		rule := func(priority int32, paths ...string) error {
			_, err := c.elbv2.CreateRule(ctx, &elasticloadbalancingv2.CreateRuleInput{
				ListenerArn: l.Listeners[0].ListenerArn, Priority: aws.Int32(priority),
				Conditions: []elbv2types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbv2types.PathPatternConditionConfig{Values: paths}}},
				Actions:    []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: aws.String(n.tg)}},
			})
			return err
		}
		if err := rule(10, "/a", "/b", "/c", "/d", "/e"); err != nil {
			t.Fatalf("5 condition values refused: %v", err)
		}
		wantCode(t, rule(11, "/a", "/b", "/c", "/d", "/e", "/f"), "TooManyConditionValues")
	})
	t.Run("SSM parameter value 4 KB Standard, 8 KB Advanced", func(t *testing.T) {
		put := func(tier string, size int) error {
			_, err := c.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/" + uniq("p")), Type: "String", Tier: ssmtypes.ParameterTier(tier), Value: aws.String(strings.Repeat("x", size))})
			return err
		}
		if err := put("Standard", 4096); err != nil {
			t.Fatalf("4,096 bytes refused in Standard: %v", err)
		}
		wantCode(t, put("Standard", 4097), "ValidationException")
		if err := put("Advanced", 8192); err != nil {
			t.Fatalf("8,192 bytes refused in Advanced: %v", err)
		}
		wantCode(t, put("Advanced", 8193), "ValidationException")
	})
}

// Rule: the EC2 recover action only on instance types that support it.
func TestStrict_recoverActionInstanceTypes(t *testing.T) {
	c := newStrictCloud(t)
	ctx := context.Background()
	n := c.network(t, 0)
	for typ, ok := range map[ec2types.InstanceType]bool{ec2types.InstanceTypeT3Micro: true, ec2types.InstanceTypeM1Small: false} {
		out := must(c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), InstanceType: typ, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(n.subnet)}))
		_, err := c.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(uniq("recover")), Namespace: aws.String("AWS/EC2"), MetricName: aws.String("StatusCheckFailed_System"),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: out.Instances[0].InstanceId}},
			Statistic:  cwtypes.StatisticMinimum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(2), Threshold: aws.Float64(0),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{"arn:aws:automate:us-east-1:ec2:recover"},
		})
		if ok && err != nil {
			t.Errorf("%s refused: %v", typ, err)
		}
		if !ok {
			// The SDK reports CloudWatch's query-protocol ValidationError as ValidationException.
			wantCode(t, err, "ValidationException")
			// Like AWS, the refusal names neither: the provider must.
			if strings.Contains(err.Error(), string(typ)) || strings.Contains(err.Error(), aws.ToString(out.Instances[0].InstanceId)) {
				t.Errorf("error names instance or type, which AWS's does not: %v", err)
			}
		}
	}
}

// Turning the strict layer off is explicit, and gives plain moto back.
func TestStrict_offSwitch(t *testing.T) {
	requireMoto(t)
	srv, err := Start(startCtx(t), Options{Port: AnyPort, CacheDir: filepath.Join("..", "..", ".cache"), Env: []string{EnvStrict + "=off"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Stop() }()
	c := cloudAt(srv.Endpoint)
	_, err = c.ec2.CreateLaunchTemplate(context.Background(), &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(uniq("ud")),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{UserData: aws.String(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 20000)))},
	})
	if err != nil {
		t.Fatalf("with the strict layer off, moto's own leniency is back: %v", err)
	}
	if _, err := Config(context.Background(), srv.Endpoint); err == nil {
		t.Fatal("the strict layer's API answers with the layer off")
	}
}

func (c *strictCloud) run(t *testing.T, n network, count int32) []string {
	t.Helper()
	out := must(c.ec2.RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(count), MaxCount: aws.Int32(count), SubnetId: aws.String(n.subnet),
	}))
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

func (c *strictCloud) instanceState(t *testing.T, id string) string {
	t.Helper()
	out, err := c.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return "unknown"
	}
	return string(out.Reservations[0].Instances[0].State.Name)
}

func targets(ids []string) []elbv2types.TargetDescription {
	var out []elbv2types.TargetDescription
	for _, id := range ids {
		out = append(out, elbv2types.TargetDescription{Id: aws.String(id), Port: aws.Int32(80)})
	}
	return out
}

// Rule: Auto Scaling pages DescribeScheduledActions and DescribePolicies,
// 50 items by default, 100 at most.
func TestStrict_autoScalingPages(t *testing.T) {
	c := newStrictCloud(t)
	ctx := context.Background()
	n := c.network(t, 0)
	name := c.group(t, n, 0, "", 0)
	const actions = 60
	for i := range actions {
		must(c.asg.PutScheduledUpdateGroupAction(ctx, &autoscaling.PutScheduledUpdateGroupActionInput{
			AutoScalingGroupName: aws.String(name), ScheduledActionName: aws.String(fmt.Sprintf("a-%02d", i)),
			Recurrence: aws.String("0 22 * * *"), DesiredCapacity: aws.Int32(0),
		}))
	}
	first := must(c.asg.DescribeScheduledActions(ctx, &autoscaling.DescribeScheduledActionsInput{AutoScalingGroupName: aws.String(name)}))
	if len(first.ScheduledUpdateGroupActions) != 50 || first.NextToken == nil {
		t.Fatalf("first page: %d actions, next token %v; want 50 and a token", len(first.ScheduledUpdateGroupActions), first.NextToken)
	}
	seen := 0
	p := autoscaling.NewDescribeScheduledActionsPaginator(c.asg, &autoscaling.DescribeScheduledActionsInput{AutoScalingGroupName: aws.String(name)})
	for p.HasMorePages() {
		seen += len(must(p.NextPage(ctx)).ScheduledUpdateGroupActions)
	}
	if seen != actions {
		t.Fatalf("paginated: %d actions, want %d", seen, actions)
	}
	_, err := c.asg.DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String(name), MaxRecords: aws.Int32(101)})
	wantCode(t, err, "ValidationError")
}

// Rule: Auto Scaling registers a member when it enters service, not on a
// capacity change: a member deregistered to drain stays out while the
// group scales or other members are detached.
func TestStrict_capacityChangeRegistersNothing(t *testing.T) {
	c := newStrictCloud(t)
	ctx := context.Background()
	n := c.network(t, 100)
	name := c.group(t, n, 3, agentUserData(), 0)
	eventually(t, 5*time.Second, "in service", func() bool { return allIn(c.members(t, name), "InService") })
	ids := slices.Sorted(maps.Keys(c.members(t, name)))
	must(c.elbv2.DeregisterTargets(ctx, &elasticloadbalancingv2.DeregisterTargetsInput{TargetGroupArn: aws.String(n.tg), Targets: targets(ids[:2])}))
	must(c.asg.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), DesiredCapacity: aws.Int32(4)}))
	must(c.asg.DetachInstances(ctx, &autoscaling.DetachInstancesInput{AutoScalingGroupName: aws.String(name), InstanceIds: ids[:1], ShouldDecrementDesiredCapacity: aws.Bool(true)}))
	states := c.targetStates(t, n.tg)
	for _, id := range ids[:2] {
		if states[id] != "draining" {
			t.Errorf("deregistered member %s is %q after a capacity change and a detach, want draining", id, states[id])
		}
	}
}

// moto bug fixed in sitecustomize: a terminated instance gives its private
// address back to its subnet, as on AWS, so a small subnet can launch far
// more instances over time than it has addresses.
func TestPatch_terminationReleasesAddresses(t *testing.T) {
	c := newStrictCloud(t)
	ctx := context.Background()
	vpc := must(c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")}))
	sub := must(c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.0.0/28"), AvailabilityZone: aws.String("us-east-1a")}))
	n := network{subnet: aws.ToString(sub.Subnet.SubnetId)}
	for round := range 4 { // 4 × 8 launches in a subnet of at most 16 addresses
		ids := c.run(t, n, 8)
		if len(ids) != 8 {
			t.Fatalf("round %d: launched %d instances, want 8", round, len(ids))
		}
		must(c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}))
	}
}
