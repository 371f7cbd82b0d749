package acctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Call is one AWS API request seen by a Proxy.
type Call struct {
	Service string // from the SigV4 credential scope, e.g. "ec2", "sts"
	Action  string // the Query protocol Action, e.g. "DescribeImages"
	// AccessKey is the access key id that signed the request.
	AccessKey string
	Form      url.Values
	// JSON is the decoded body of a JSON-protocol call (SSM); nil for the
	// Query protocol.
	JSON map[string]any
	// At is when the proxy received the call.
	At time.Time
}

// Fault, when a Proxy's rule returns one, is answered instead of forwarding.
type Fault struct {
	Status int
	Code   string
	// Message defaults to Code.
	Message string
	// Body, when set, is answered verbatim as XML with Status instead of an
	// error document: a rule can return a whole rewritten response.
	Body string
	// Delay holds the call that long first (latency). With neither Status
	// nor Body the call is then forwarded. A caller that gives up during
	// the delay gets no answer and nothing is forwarded.
	Delay time.Duration
}

// Proxy is a reverse proxy in front of the emulator that records every call
// and can answer chosen calls with faults (throttling, 5xx, auth errors).
type Proxy struct {
	URL string

	mu    sync.Mutex
	calls []Call
	rule  func(Call) *Fault
}

// NewProxy starts a proxy to the test endpoint, closed when t ends.
func NewProxy(t testing.TB) *Proxy {
	t.Helper()
	target, err := url.Parse(Endpoint())
	if err != nil || Endpoint() == "" {
		t.Skip("the recording proxy needs an emulator endpoint")
	}
	p := &Proxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		service, accessKey := credentialScope(r.Header.Get("Authorization"))
		if service == "" {
			// Unsigned calls such as sts:AssumeRoleWithWebIdentity.
			service = queryAPIVersions[form.Get("Version")]
		}
		c := Call{Service: service, Action: form.Get("Action"), AccessKey: accessKey, Form: form, At: time.Now()}
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			// JSON protocols (SSM) name the operation in a header.
			_, c.Action, _ = strings.Cut(target, ".")
			_ = json.Unmarshal(body, &c.JSON)
		}
		p.mu.Lock()
		p.calls = append(p.calls, c)
		rule := p.rule
		p.mu.Unlock()
		if rule != nil {
			if f := rule(c); f != nil {
				if !hold(r, f.Delay) {
					return
				}
				if f.Delay == 0 || f.Status != 0 || f.Body != "" {
					writeFault(w, c.Service, *f)
					return
				}
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// hold waits d and reports whether the caller is still there.
func hold(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-r.Context().Done():
		return false
	case <-timer.C:
		return true
	}
}

// SetRule installs the fault rule; nil forwards everything.
func (p *Proxy) SetRule(rule func(Call) *Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule = rule
}

// Calls returns the calls recorded so far.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Count returns how many recorded calls match service and action.
func (p *Proxy) Count(service, action string) int {
	n := 0
	for _, c := range p.Calls() {
		if c.Service == service && c.Action == action {
			n++
		}
	}
	return n
}

// Reset forgets the recorded calls.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}

var queryAPIVersions = map[string]string{
	"2011-06-15": "sts",
	"2016-11-15": "ec2",
	"2011-01-01": "autoscaling",
	"2015-12-01": "elasticloadbalancing",
	"2012-06-01": "elasticloadbalancing",
	"2010-08-01": "monitoring",
}

// credentialScope reads service and access key from a SigV4 header:
// "... Credential=AKID/20260101/us-east-1/ec2/aws4_request, ...".
func credentialScope(auth string) (service, accessKey string) {
	_, after, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	parts := strings.Split(strings.SplitN(after, ",", 2)[0], "/")
	if len(parts) < 4 {
		return "", ""
	}
	return parts[3], parts[0]
}

func writeFault(w http.ResponseWriter, service string, f Fault) {
	if f.Body != "" {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(f.Status)
		fmt.Fprint(w, f.Body)
		return
	}
	msg := f.Message
	if msg == "" {
		msg = f.Code
	}
	switch service {
	case "ec2":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>`, f.Code, msg)
	case "ssm":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", f.Code)
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, f.Code, msg)
	default:
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`, f.Code, msg)
	}
}

// Chaos is a seeded random fault rule for a Proxy: every call is first held
// for Latency, then throttled with probability Throttle or answered with a
// server error with probability ServerError, each as the called service
// answers on AWS; the rest is forwarded. It counts what it injected by
// error code. The same seed and the same sequence of calls give the same
// faults.
type Chaos struct {
	Throttle    float64
	ServerError float64
	Latency     time.Duration

	mu       sync.Mutex
	rng      *rand.Rand
	calls    int
	injected map[string]int
}

// NewChaos returns a Chaos rule drawing from seed; install it with
// proxy.SetRule(chaos.Rule).
func NewChaos(seed uint64, throttle, serverError float64, latency time.Duration) *Chaos {
	return &Chaos{
		Throttle:    throttle,
		ServerError: serverError,
		Latency:     latency,
		rng:         rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		injected:    map[string]int{},
	}
}

// Rule decides the fate of one call.
func (c *Chaos) Rule(call Call) *Fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	f := Fault{Delay: c.Latency}
	switch r := c.rng.Float64(); {
	case r < c.Throttle:
		f.Status, f.Code = ThrottlingError(call.Service)
	case r < c.Throttle+c.ServerError:
		f.Status, f.Code = ServerError(call.Service, c.rng.IntN(2) == 0)
	}
	if f.Code != "" {
		c.injected[f.Code]++
	}
	if f.Code == "" && f.Delay == 0 {
		return nil
	}
	return &f
}

// Calls returns how many calls the rule has decided.
func (c *Chaos) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// Injected returns the faults answered so far by error code.
func (c *Chaos) Injected() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.injected)
}

// ThrottlingError is the status and code with which service refuses a call
// over its request rate: EC2's RequestLimitExceeded (a 503, "Request
// throttling for the Amazon EC2 API"), SSM's ThrottlingException (JSON
// protocol, 400), and the Query APIs' Throttling (Auto Scaling, Elastic Load
// Balancing, CloudWatch, STS: "Rate exceeded", 400).
func ThrottlingError(service string) (status int, code string) {
	switch service {
	case "ec2":
		return http.StatusServiceUnavailable, "RequestLimitExceeded"
	case "ssm":
		return http.StatusBadRequest, "ThrottlingException"
	}
	return http.StatusBadRequest, "Throttling"
}

// ServerError is the status and code of a server-side failure of service:
// an internal error (500) or, when unavailable, a temporary failure (503),
// named as in the service's error reference (EC2 InternalError and
// Unavailable, SSM InternalServerError, the Query APIs' common errors
// InternalFailure and ServiceUnavailable).
func ServerError(service string, unavailable bool) (status int, code string) {
	switch {
	case service == "ec2" && unavailable:
		return http.StatusServiceUnavailable, "Unavailable"
	case service == "ec2":
		return http.StatusInternalServerError, "InternalError"
	case service == "ssm" && unavailable:
		return http.StatusServiceUnavailable, "ServiceUnavailable"
	case service == "ssm":
		return http.StatusInternalServerError, "InternalServerError"
	case unavailable:
		return http.StatusServiceUnavailable, "ServiceUnavailable"
	}
	return http.StatusInternalServerError, "InternalFailure"
}
