package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
)

// hugeItems is how many items each fake answer lists and each request
// names: every body is several megabytes on ONE line, as moto and
// LocalStack answer.
const hugeItems = 40000

// Secrets the fake environment signs with; neither may reach the log.
const (
	sdkLogAccessKey    = "AKIAIOSFODNN7EXAMPLE"
	sdkLogSecretKey    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sdkLogSessionToken = "FwoGZXIvYXdzEXAMPLESESSIONTOKENxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
)

// TestProviderLogging_hugeSingleLinePayloads configures the provider as
// Terraform does, with DEBUG logging on, against a loopback fake AWS that
// answers every call with a multi-megabyte single-line body, then sends a
// multi-megabyte single-line request through every client the provider
// builds, on a context prepared as the resources prepare it. Every call must
// succeed and every logged body must be cut short. Regression for
// "decomposing response: bufio.Scanner: token too long".
func TestProviderLogging_hugeSingleLinePayloads(t *testing.T) {
	// STS: Configure validates the credentials and reads the account with
	// GetCallerIdentity (and first assumes the role), so it is the call.
	for _, tc := range []struct {
		name       string
		assumeRole bool
	}{
		{name: "STS/static credentials"},
		{name: "STS/assume_role", assumeRole: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeHugeAWS(t, true)
			var logs sdkLogBuffer
			ctx := tflogtest.RootLogger(context.Background(), &logs)
			client := configureProviderAgainst(ctx, t, fake.URL, tc.assumeRole, true)
			if client.AccountID != "123456789012" {
				t.Errorf("account id = %q from the padded GetCallerIdentity answer", client.AccountID)
			}
			if tc.assumeRole && fake.calls("AssumeRole") == 0 {
				t.Error("the provider never called AssumeRole")
			}
			checkBoundedSDKLogs(t, logs.Bytes(), []string{"STS/GetCallerIdentity"})
		})
	}

	t.Run("service clients", func(t *testing.T) {
		fake := newFakeHugeAWS(t, false)
		var logs sdkLogBuffer
		ctx := tflogtest.RootLogger(context.Background(), &logs)
		client := configureProviderAgainst(ctx, t, fake.URL, false, false)

		ctx, cancel := operationContext(ctx, client, 2*time.Minute, "clone_pool", "huge")
		defer cancel()
		ids := make([]string, hugeItems)
		for i := range ids {
			ids[i] = fmt.Sprintf("i-%017x", i)
		}

		calls := []struct {
			method string
			want   int
			call   func(ids []string) (int, error)
		}{
			{"EC2/DescribeInstances", hugeItems, func(ids []string) (int, error) {
				out, err := client.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
				if err != nil {
					return 0, err
				}
				return len(out.Reservations[0].Instances), nil
			}},
			{"Auto Scaling/DescribeAutoScalingGroups", hugeItems, func(ids []string) (int, error) {
				out, err := client.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: ids})
				if err != nil {
					return 0, err
				}
				return len(out.AutoScalingGroups[0].Instances), nil
			}},
			{"Elastic Load Balancing v2/DescribeTargetHealth", hugeItems, func(ids []string) (int, error) {
				targets := make([]elbv2types.TargetDescription, len(ids))
				for i, id := range ids {
					targets[i] = elbv2types.TargetDescription{Id: aws.String(id)}
				}
				out, err := client.ELBV2.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{
					TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/huge/0123456789abcdef"),
					Targets:        targets,
				})
				if err != nil {
					return 0, err
				}
				return len(out.TargetHealthDescriptions), nil
			}},
			{"Elastic Load Balancing/DescribeInstanceHealth", hugeItems, func(ids []string) (int, error) {
				instances := make([]elbtypes.Instance, len(ids))
				for i, id := range ids {
					instances[i] = elbtypes.Instance{InstanceId: aws.String(id)}
				}
				out, err := client.ELB.DescribeInstanceHealth(ctx, &elasticloadbalancing.DescribeInstanceHealthInput{
					LoadBalancerName: aws.String("huge"), Instances: instances,
				})
				if err != nil {
					return 0, err
				}
				return len(out.InstanceStates), nil
			}},
			{"CloudWatch/DescribeAlarms", hugeItems, func(ids []string) (int, error) {
				out, err := client.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: ids})
				if err != nil {
					return 0, err
				}
				return len(out.MetricAlarms), nil
			}},
			{"SSM/GetParameters", hugeValueLen, func(ids []string) (int, error) {
				out, err := client.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: ids})
				if err != nil {
					return 0, err
				}
				return len(aws.ToString(out.Parameters[0].Value)), nil
			}},
		}
		methods := []string{}
		for _, c := range calls {
			methods = append(methods, c.method)
			for _, req := range []struct {
				what string
				ids  []string
			}{
				{"a small request and a multi-megabyte single-line answer", ids[:1]},
				{"a multi-megabyte single-line request and answer", ids},
			} {
				n, err := c.call(req.ids)
				if err != nil {
					t.Errorf("%s with %s: %v", c.method, req.what, err)
					continue
				}
				if n != c.want {
					t.Errorf("%s with %s decoded %d items, want %d", c.method, req.what, n, c.want)
				}
			}
		}
		checkBoundedSDKLogs(t, logs.Bytes(), methods)
	})
}

// configureProviderAgainst runs the provider's own Configure with every
// endpoint at url, as Terraform would with AWS_ENDPOINT_URL set.
func configureProviderAgainst(ctx context.Context, t *testing.T, url string, assumeRole, hugePolicy bool) *conns.AWSClient {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_ENDPOINT_URL", url)
	t.Setenv("AWS_ACCESS_KEY_ID", sdkLogAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sdkLogSecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))

	p := New("test")()
	var schemaResp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &schemaResp)
	typ := schemaResp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	values := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		values[name] = tftypes.NewValue(at, nil)
	}
	values["region"] = tftypes.NewValue(tftypes.String, "us-east-1")
	if assumeRole {
		obj := typ.AttributeTypes["assume_role"].(tftypes.Object)
		role := map[string]tftypes.Value{}
		for name, at := range obj.AttributeTypes {
			role[name] = tftypes.NewValue(at, nil)
		}
		role["role_arn"] = tftypes.NewValue(tftypes.String, "arn:aws:iam::123456789012:role/huge")
		role["session_name"] = tftypes.NewValue(tftypes.String, "huge")
		if hugePolicy {
			// A multi-megabyte single-line request through the credential client.
			role["policy"] = tftypes.NewValue(tftypes.String, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Sid":"`+strings.Repeat("p", hugeValueLen)+`"}]}`)
		}
		values["assume_role"] = tftypes.NewValue(obj, role)
	}

	var resp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{
		Config: tfsdk.Config{Schema: schemaResp.Schema, Raw: tftypes.NewValue(typ, values)},
	}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("Configure against a fake AWS with huge single-line answers: %v", resp.Diagnostics)
	}
	client, ok := resp.ResourceData.(*conns.AWSClient)
	if !ok {
		t.Fatalf("Configure returned %T", resp.ResourceData)
	}
	return client
}

// checkBoundedSDKLogs proves the SDK request logging ran for every method
// (so the test is not green merely because logging was off), that every
// body it logged is cut short, and that no credential reached the log.
func checkBoundedSDKLogs(t *testing.T, raw []byte, methods []string) {
	t.Helper()
	entries, err := tflogtest.MultilineJSONDecode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("decoding the log: %v", err)
	}
	const maxBody = 8 << 10
	seen := map[string]map[string]bool{}
	for _, e := range entries {
		msg, _ := e["@message"].(string)
		if msg != "HTTP Request Sent" && msg != "HTTP Response Received" {
			continue
		}
		method, _ := e["rpc.method"].(string)
		if seen[method] == nil {
			seen[method] = map[string]bool{}
		}
		seen[method][msg] = true
		for _, field := range []string{"http.request.body", "http.response.body"} {
			body, ok := e[field].(string)
			if ok && len(body) > maxBody {
				t.Errorf("%s %q logs %s of %d bytes, want at most %d", method, msg, field, len(body), maxBody)
			}
		}
	}
	for _, m := range methods {
		if !seen[m]["HTTP Request Sent"] || !seen[m]["HTTP Response Received"] {
			t.Errorf("%s: request logged %v, response logged %v; want both (logged methods: %v)",
				m, seen[m]["HTTP Request Sent"], seen[m]["HTTP Response Received"], slices.Sorted(maps.Keys(seen)))
		}
	}
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if len(line) > 64<<10 {
			t.Errorf("a log line is %d bytes long: %.200s…", len(line), line)
		}
	}
	for _, secret := range []string{sdkLogSecretKey, sdkLogSessionToken, sdkLogAccessKey} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the log holds the credential %.8s…", secret)
		}
	}
}

type sdkLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *sdkLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *sdkLogBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// hugeValueLen is the length of the one huge SSM parameter value, of the
// padding in STS answers and of the assume-role policy.
const hugeValueLen = 4 << 20

type fakeHugeAWS struct {
	*httptest.Server
	hugeSTS bool
	mu      sync.Mutex
	actions map[string]int
}

func (f *fakeHugeAWS) calls(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.actions[action]
}

// newFakeHugeAWS answers the calls this test makes with valid, huge,
// single-line bodies: thousands of items, or a multi-megabyte value. STS
// answers are padded only with hugeSTS.
func newFakeHugeAWS(t *testing.T, hugeSTS bool) *fakeHugeAWS {
	f := &fakeHugeAWS{hugeSTS: hugeSTS, actions: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		action := ""
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			action = target[strings.LastIndex(target, ".")+1:]
		} else {
			action = hugeFormAction(body)
		}
		f.mu.Lock()
		f.actions[action]++
		f.mu.Unlock()
		if bytes.IndexByte(body, '\n') >= 0 {
			t.Errorf("%s: request body is not one line", action)
		}
		answer, contentType := hugeAnswer(action)
		if !f.hugeSTS {
			answer = strings.Replace(answer, hugeAnswers.padding, "", 1)
		}
		if answer == "" {
			http.Error(w, "unexpected action "+action, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Amzn-Requestid", "11111111-2222-3333-4444-555555555555")
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(f.Close)
	return f
}

func hugeFormAction(body []byte) string {
	for _, kv := range strings.Split(string(body), "&") {
		if v, ok := strings.CutPrefix(kv, "Action="); ok {
			return v
		}
	}
	return ""
}

var hugeAnswers = struct {
	once    sync.Once
	m       map[string]string
	padding string
}{}

func hugeAnswer(action string) (string, string) {
	hugeAnswers.once.Do(func() {
		hugeAnswers.padding = "<Padding>" + strings.Repeat("x", hugeValueLen) + "</Padding>"
		hugeAnswers.m = buildHugeAnswers(hugeAnswers.padding)
	})
	if action == "GetParameters" {
		return hugeAnswers.m[action], "application/x-amz-json-1.1"
	}
	return hugeAnswers.m[action], "text/xml"
}

func buildHugeAnswers(padding string) map[string]string {
	each := func(format string) string {
		var b strings.Builder
		for i := range hugeItems {
			fmt.Fprintf(&b, format, fmt.Sprintf("i-%017x", i))
		}
		return b.String()
	}
	value, _ := json.Marshal(strings.Repeat("v", hugeValueLen))
	return map[string]string{
		"GetCallerIdentity": `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
			`<Arn>arn:aws:iam::123456789012:user/huge</Arn><UserId>AIDAEXAMPLEUSERID0000</UserId><Account>123456789012</Account>` +
			padding + `</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
		"AssumeRole": `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
			`<AssumedRoleUser><AssumedRoleId>AROAEXAMPLEROLEID0000:huge</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/huge/huge</Arn></AssumedRoleUser>` +
			`<Credentials><AccessKeyId>` + sdkLogAccessKey + `</AccessKeyId><SecretAccessKey>` + sdkLogSecretKey + `</SecretAccessKey>` +
			`<SessionToken>` + sdkLogSessionToken + `</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>` +
			`<PackedPolicySize>6</PackedPolicySize>` + padding + `</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`,
		"DescribeInstances": `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId><reservationSet><item>` +
			`<reservationId>r-0123456789abcdef0</reservationId><ownerId>123456789012</ownerId><instancesSet>` +
			each(`<item><instanceId>%s</instanceId><imageId>ami-12345678</imageId><instanceState><code>16</code><name>running</name></instanceState>`+
				`<instanceType>t3.micro</instanceType><tagSet><item><key>clone:pool</key><value>huge</value></item></tagSet></item>`) +
			`</instancesSet></item></reservationSet></DescribeInstancesResponse>`,
		"DescribeAutoScalingGroups": `<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><DescribeAutoScalingGroupsResult><AutoScalingGroups><member>` +
			`<AutoScalingGroupName>huge</AutoScalingGroupName><MinSize>0</MinSize><MaxSize>100000</MaxSize><DesiredCapacity>` + fmt.Sprint(hugeItems) + `</DesiredCapacity><Instances>` +
			each(`<member><InstanceId>%s</InstanceId><AvailabilityZone>us-east-1a</AvailabilityZone><LifecycleState>InService</LifecycleState><HealthStatus>Healthy</HealthStatus><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>`) +
			`</Instances></member></AutoScalingGroups></DescribeAutoScalingGroupsResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeAutoScalingGroupsResponse>`,
		"DescribeTargetHealth": `<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetHealthResult><TargetHealthDescriptions>` +
			each(`<member><Target><Id>%s</Id><Port>80</Port></Target><HealthCheckPort>80</HealthCheckPort><TargetHealth><State>healthy</State></TargetHealth></member>`) +
			`</TargetHealthDescriptions></DescribeTargetHealthResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeTargetHealthResponse>`,
		"DescribeInstanceHealth": `<DescribeInstanceHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/"><DescribeInstanceHealthResult><InstanceStates>` +
			each(`<member><InstanceId>%s</InstanceId><State>InService</State><ReasonCode>N/A</ReasonCode><Description>N/A</Description></member>`) +
			`</InstanceStates></DescribeInstanceHealthResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeInstanceHealthResponse>`,
		"DescribeAlarms": `<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><DescribeAlarmsResult><MetricAlarms>` +
			each(`<member><AlarmName>%s</AlarmName><StateValue>OK</StateValue><MetricName>StatusCheckFailed_System</MetricName><Namespace>AWS/EC2</Namespace></member>`) +
			`</MetricAlarms></DescribeAlarmsResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeAlarmsResponse>`,
		"GetParameters": `{"InvalidParameters":[],"Parameters":[{"Name":"/clone/huge","Type":"String","Version":1,"Value":` + string(value) + `}]}`,
	}
}
