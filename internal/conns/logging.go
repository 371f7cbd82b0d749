package conns

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	smithylogging "github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/hashicorp/aws-sdk-go-base/v2/logging"
)

// The SDK request logging of every client the provider builds.
//
// aws-sdk-go-base's own request/response logger reads bodies with a
// bufio.Scanner, and one line over 64 KiB fails the API call itself with
// "bufio.Scanner: token too long": moto and LocalStack answer on one line,
// and a request naming thousands of ids is one line too. The provider turns
// that logger off (awsbase.Config.SuppressDebugLog, which also covers the
// STS clients aws-sdk-go-base builds for credentials) and registers this one
// on its clients instead. It writes the same messages and fields through the
// same library helpers (masked Authorization, session token and access
// keys), but reads at most a short prefix of each body, never changes what
// is sent or received, and never fails a call: what it cannot log it skips.

const (
	fieldsMiddlewareID = "CLONE_LogFields"
	loggerMiddlewareID = "CLONE_RequestResponseLogger"
	// awsbaseLoggerID is aws-sdk-go-base's own request/response logger.
	awsbaseLoggerID = "TF_AWS_RequestResponseLogger"

	// Logged body prefixes, as aws-sdk-go-base logs them.
	maxLoggedRequestBody  = 1024
	maxLoggedResponseBody = logging.MaxResponseBodyLen
)

// WithLogging returns cfg set to log, on every client built from it, each
// HTTP request and response at DEBUG (bodies cut to a short prefix) and the
// SDK's retries and deprecation warnings, through the logger registered on
// the call's context (AWSClient.Context). A context without a logger, or
// with logging.NullLogger (calls that carry secrets), logs nothing. Applying
// it more than once is harmless.
func WithLogging(cfg aws.Config) aws.Config {
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), addLogging)
	cfg.ClientLogMode |= aws.LogRetries | aws.LogDeprecatedUsage
	cfg.Logger = sdkLogger{}
	return cfg
}

func addLogging(stack *middleware.Stack) error {
	if _, ok := stack.Deserialize.Get(loggerMiddlewareID); ok {
		return nil
	}
	// Should a config with aws-sdk-go-base's logger still reach here, its
	// failure-prone logger goes.
	_, _ = stack.Deserialize.Remove(awsbaseLoggerID)
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc(fieldsMiddlewareID, setLogFields), middleware.After); err != nil {
		return err
	}
	// Last in the deserialize step: next to the wire, before any decoding.
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc(loggerMiddlewareID, logRequestResponse), middleware.After)
}

// setLogFields names the call in every log line made during it, retries
// included, with aws-sdk-go-base's field names.
func setLogFields(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	logger := logging.RetrieveLogger(ctx)
	ctx = logger.SetField(ctx, "rpc.system.name", "aws-api")
	ctx = logger.SetField(ctx, "rpc.method", awsmiddleware.GetServiceID(ctx)+"/"+awsmiddleware.GetOperationName(ctx))
	ctx = logger.SetField(ctx, "aws.region", awsmiddleware.GetRegion(ctx))
	ctx = logger.SetField(ctx, string(logging.AwsSdkKey), "aws-sdk-go-v2")
	return next.HandleInitialize(ctx, in)
}

func logRequestResponse(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	logger := logging.RetrieveLogger(ctx)
	if !logger.IsDebug(ctx) {
		return next.HandleDeserialize(ctx, in)
	}
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		if fields, err := requestFields(ctx, req); err == nil {
			logger.Debug(ctx, "HTTP Request Sent", fields)
		}
	}
	start := time.Now()
	out, metadata, err := next.HandleDeserialize(ctx, in)
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil && resp.Response != nil {
		logger.Debug(ctx, "HTTP Response Received", responseFields(resp.Response, time.Since(start)))
	}
	return out, metadata, err
}

// requestFields decomposes req as aws-sdk-go-base does, from a copy that
// holds only the first bytes of the body. They are read in place (ReadAt
// from the current offset), so the stream the call sends is untouched; a
// stream that cannot be read that way is not logged.
func requestFields(ctx context.Context, req *smithyhttp.Request) (map[string]any, error) {
	var body []byte
	stream := req.GetStream()
	if r, ok := stream.(interface {
		io.ReaderAt
		io.Seeker
	}); ok {
		if pos, err := r.Seek(0, io.SeekCurrent); err == nil {
			buf := make([]byte, maxLoggedRequestBody+1)
			n, _ := r.ReadAt(buf, pos)
			body = buf[:n]
		}
	}
	logged := req.Request.Clone(ctx)
	logged.Body = http.NoBody
	if len(body) > 0 {
		logged.Body = io.NopCloser(bytes.NewReader(body))
	}
	fields, err := logging.DecomposeHTTPRequest(ctx, logged)
	if err == nil && stream != nil && body == nil {
		fields["http.request.body"] = "[not logged]"
	}
	return fields, err
}

// responseFields reads at most maxLoggedResponseBody+1 bytes of the body
// and puts them back in front of the rest, read errors included, for the
// SDK's deserializer.
func responseFields(resp *http.Response, elapsed time.Duration) map[string]any {
	fields := map[string]any{
		"http.duration":    elapsed.Milliseconds(),
		"http.status_code": resp.StatusCode,
	}
	if resp.ContentLength >= 0 {
		fields["http.response_content_length"] = resp.ContentLength
	}
	for _, kv := range logging.DecomposeResponseHeaders(resp) {
		fields[string(kv.Key)] = kv.Value.AsInterface()
	}
	if resp.Body == nil {
		return fields
	}
	prefix := make([]byte, maxLoggedResponseBody+1)
	n, err := io.ReadFull(resp.Body, prefix)
	prefix = prefix[:n]
	var rest io.Reader = resp.Body
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		rest = errReader{err}
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(prefix), rest), resp.Body}

	// The prefix is far below bufio.MaxScanTokenSize: this cannot fail.
	if body, err := logging.ReadTruncatedBody(bufio.NewScanner(bytes.NewReader(prefix)), maxLoggedResponseBody); err == nil {
		fields["http.response.body"] = body
	}
	return fields
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// sdkLogger hands the SDK's own messages (ClientLogMode) to the logger
// registered on the call's context, as aws-sdk-go-base's does.
type sdkLogger struct{ ctx context.Context }

func (l sdkLogger) WithContext(ctx context.Context) smithylogging.Logger { return sdkLogger{ctx: ctx} }

func (l sdkLogger) Logf(classification smithylogging.Classification, format string, v ...any) {
	if l.ctx == nil {
		return
	}
	logger := logging.RetrieveLogger(l.ctx)
	if classification == smithylogging.Warn {
		logger.Warn(l.ctx, fmt.Sprintf(format, v...))
		return
	}
	logger.Debug(l.ctx, fmt.Sprintf(format, v...))
}
