package conns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/aws-sdk-go-base/v2/logging"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// fakeEC2 answers DescribeInstances with n instances on one line, records
// the request body, and can break the answer after some bytes.
type fakeEC2 struct {
	n         int
	breakAt   int // > 0: the answer fails with errBroken after that many bytes
	gotLength int64
	gotBody   []byte
}

var errBroken = errors.New("connection broke mid-answer")

func (f *fakeEC2) Do(r *http.Request) (*http.Response, error) {
	f.gotLength = r.ContentLength
	f.gotBody, _ = io.ReadAll(r.Body)
	var b strings.Builder
	b.WriteString(`<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId><reservationSet><item><reservationId>r-1</reservationId><instancesSet>`)
	for i := range f.n {
		fmt.Fprintf(&b, "<item><instanceId>i-%017x</instanceId></item>", i)
	}
	b.WriteString(`</instancesSet></item></reservationSet></DescribeInstancesResponse>`)
	var body io.Reader = strings.NewReader(b.String())
	if f.breakAt > 0 {
		body = io.MultiReader(io.LimitReader(body, int64(f.breakAt)), errorReader{errBroken})
	}
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"text/xml"}},
		ContentLength: -1, Body: io.NopCloser(body), Request: r,
	}, nil
}

type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }

func testClient(t *testing.T, fake *fakeEC2, extra ...func(*middleware.Stack) error) (*AWSClient, context.Context, *bytes.Buffer) {
	t.Helper()
	cfg := aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, nil
		}),
		HTTPClient:       fake,
		RetryMaxAttempts: 1,
		APIOptions:       extra,
	}
	var logs bytes.Buffer
	ctx, logger := logging.NewTfLogger(tflogtest.RootLogger(context.Background(), &logs))
	// WithLogging twice (as Configure and New both apply it) must not
	// register the middleware twice.
	c := New(WithLogging(cfg), Endpoints{EC2: "http://127.0.0.1:1"}, logger)
	return c, c.Context(ctx), &logs
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("i-%017x", i)
	}
	return out
}

// TestLogging_hugeBodiesPassIntact: a multi-megabyte single-line request
// and answer go through unchanged and are logged cut short.
func TestLogging_hugeBodiesPassIntact(t *testing.T) {
	fake := &fakeEC2{n: 50000}
	c, ctx, logs := testClient(t, fake)
	out, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids(100000)})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	if got := len(out.Reservations[0].Instances); got != fake.n {
		t.Errorf("decoded %d instances, want %d", got, fake.n)
	}
	if int64(len(fake.gotBody)) != fake.gotLength || fake.gotLength < 2<<20 ||
		!bytes.HasPrefix(fake.gotBody, []byte("Action=DescribeInstances&")) || !bytes.Contains(fake.gotBody, []byte("&InstanceId.100000=i-0000000000001869f&")) {
		t.Errorf("the request body arrived altered: %d bytes of %d announced", len(fake.gotBody), fake.gotLength)
	}
	entries, err := tflogtest.MultilineJSONDecode(logs)
	if err != nil {
		t.Fatal(err)
	}
	logged := map[string]int{}
	for _, e := range entries {
		msg := e["@message"].(string)
		logged[msg]++
		if e["rpc.method"] != nil && e["rpc.method"] != "EC2/DescribeInstances" {
			t.Errorf("rpc.method = %v", e["rpc.method"])
		}
		for _, f := range []string{"http.request.body", "http.response.body"} {
			if body, ok := e[f].(string); ok && (len(body) > 5000 || !strings.HasSuffix(body, "[truncated...]")) {
				t.Errorf("%s: %s of %d bytes, not cut short", msg, f, len(body))
			}
		}
	}
	if logged["HTTP Request Sent"] != 1 || logged["HTTP Response Received"] != 1 {
		t.Errorf("logged %v, want the request and the response once each", logged)
	}
}

// TestLogging_quietContext: a call on a context with logging.NullLogger (as
// the calls carrying the sync policy's private key use) logs nothing.
func TestLogging_quietContext(t *testing.T) {
	c, ctx, logs := testClient(t, &fakeEC2{n: 3})
	quiet := logging.RegisterLogger(ctx, logging.NullLogger{})
	if _, err := c.EC2.DescribeInstances(quiet, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Errorf("a quiet call logged: %s", logs)
	}
}

// TestLogging_readErrorKept: an answer that breaks after the logged prefix
// fails the call with its own error, as it would unlogged.
func TestLogging_readErrorKept(t *testing.T) {
	for _, at := range []int{100, 10000} {
		c, ctx, _ := testClient(t, &fakeEC2{n: 1000, breakAt: at})
		_, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if !errors.Is(err, errBroken) {
			t.Errorf("answer broken at byte %d: err = %v, want %v", at, err, errBroken)
		}
	}
}

// TestLogging_replacesAWSBaseLogger: a config that still carries
// aws-sdk-go-base's own request/response logger loses it.
func TestLogging_replacesAWSBaseLogger(t *testing.T) {
	failing := func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc(awsbaseLoggerID,
			func(context.Context, middleware.DeserializeInput, middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				return middleware.DeserializeOutput{}, middleware.Metadata{}, errors.New("bufio.Scanner: token too long")
			}), middleware.After)
	}
	c, ctx, _ := testClient(t, &fakeEC2{n: 3}, failing)
	if _, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatal(err)
	}
}
