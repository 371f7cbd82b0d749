package seed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/cloneserver/terraform-provider-clone/internal/emulator"
)

const testRegion = "us-east-1"

var endpoint string

func TestMain(m *testing.M) {
	if os.Getenv("TF_ACC") == "" {
		os.Exit(m.Run())
	}
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	srv, err := emulator.Start(ctx, emulator.Options{Port: emulator.AnyPort, CacheDir: filepath.Join("..", "..", ".cache")})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the emulator:", err)
		os.Exit(1)
	}
	endpoint = srv.Endpoint
	code := m.Run()
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the emulator:", err)
	}
	os.Exit(code)
}

func testConfig(t *testing.T) (context.Context, aws.Config) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("TF_ACC is not set: seeding needs the moto emulator; run with TF_ACC=1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithBaseEndpoint(endpoint),
	)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, cfg
}

func uniqueName(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

func TestRun_idempotent(t *testing.T) {
	ctx, cfg := testConfig(t)
	t.Parallel()
	name := uniqueName(t, "tf-acc-test-seed-")

	first, err := Run(ctx, cfg, name)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Run(ctx, cfg, name)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("second Run differs:\nfirst:  %+v\nsecond: %+v", first, second)
	}
	for field, v := range map[string]string{
		"VpcID": first.VpcID, "SecurityGroupID": first.SecurityGroupID, "MasterInstanceID": first.MasterInstanceID,
		"MasterPrivateIP": first.MasterPrivateIP, "LoadBalancerArn": first.LoadBalancerArn,
		"LoadBalancerDNS": first.LoadBalancerDNS, "ListenerArn": first.ListenerArn, "TargetGroupArn": first.TargetGroupArn,
	} {
		if v == "" {
			t.Errorf("%s is empty", field)
		}
	}
	if len(first.SubnetIDs) != 2 {
		t.Fatalf("SubnetIDs = %v, want 2", first.SubnetIDs)
	}

	ec2c := ec2.NewFromConfig(cfg)
	instances, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{filter("tag:"+TagSeed, name), filter("tag:"+TagRole, "master")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var masters []ec2types.Instance
	for _, r := range instances.Reservations {
		masters = append(masters, r.Instances...)
	}
	if len(masters) != 1 {
		t.Fatalf("DescribeInstances found %d masters, want 1", len(masters))
	}
	m := masters[0]
	if m.InstanceType != ec2types.InstanceTypeT3Micro {
		t.Errorf("master instance type = %s", m.InstanceType)
	}
	if got := tagValue(m.Tags, "Name"); got != name+"-master" {
		t.Errorf("master Name tag = %q", got)
	}

	subnets, err := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: first.SubnetIDs})
	if err != nil {
		t.Fatal(err)
	}
	if len(subnets.Subnets) != 2 || aws.ToString(subnets.Subnets[0].AvailabilityZone) == aws.ToString(subnets.Subnets[1].AvailabilityZone) {
		t.Errorf("subnets not in two zones: %+v", subnets.Subnets)
	}

	health, err := elbv2.NewFromConfig(cfg).DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(first.TargetGroupArn)})
	if err != nil {
		t.Fatal(err)
	}
	var targetIDs []string
	for _, d := range health.TargetHealthDescriptions {
		targetIDs = append(targetIDs, aws.ToString(d.Target.Id))
	}
	if !reflect.DeepEqual(targetIDs, []string{first.MasterInstanceID}) {
		t.Errorf("target group targets = %v, want only the master %s", targetIDs, first.MasterInstanceID)
	}

	classic, err := elb.NewFromConfig(cfg).DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String(first.ClassicELBName)})
	if err != nil {
		t.Fatal(err)
	}
	var classicIDs []string
	for _, st := range classic.InstanceStates {
		classicIDs = append(classicIDs, aws.ToString(st.InstanceId))
	}
	if !reflect.DeepEqual(classicIDs, []string{first.MasterInstanceID}) {
		t.Errorf("classic ELB instances = %v, want only the master %s", classicIDs, first.MasterInstanceID)
	}

	iamc := iam.NewFromConfig(cfg)
	profile, err := iamc.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(first.CloneInstanceProfile)})
	if err != nil {
		t.Fatalf("the clones' instance profile %q: %v", first.CloneInstanceProfile, err)
	}
	if roles := profile.InstanceProfile.Roles; len(roles) != 1 || aws.ToString(roles[0].RoleName) != first.CloneInstanceProfile {
		t.Fatalf("instance profile %s has roles %+v, want its own role", first.CloneInstanceProfile, roles)
	}
	policy, err := iamc.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(first.CloneInstanceProfile), PolicyName: aws.String(clonePolicyName)})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(policy.PolicyDocument)) // IAM returns it URL-encoded
	for _, want := range []string{"autoscaling:CompleteLifecycleAction", "autoScalingGroupName/" + name + "-*", "parameter/clone-sync/" + name + "-*/paths"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the clone role's policy lacks %q:\n%s", want, doc)
		}
	}

	vars := first.TFVars()
	for _, want := range []string{first.VpcID, first.SubnetIDs[1], first.MasterInstanceID, first.ListenerArn, first.CloneInstanceProfile, `region                 = "us-east-1"`} {
		if !strings.Contains(vars, want) {
			t.Errorf("TFVars lacks %q:\n%s", want, vars)
		}
	}
}

func TestRun_longName(t *testing.T) {
	ctx, cfg := testConfig(t)
	t.Parallel()
	name := uniqueName(t, "tf-acc-test-seed-with-a-rather-long-name-")

	w, err := Run(ctx, cfg, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{w.TargetGroupName, w.ClassicELBName} {
		if len(n) > maxLBNameLen {
			t.Errorf("%q is longer than %d", n, maxLBNameLen)
		}
	}
}

func tagValue(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
