//go:build linux

package boottest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// IMDS stands in for the instance metadata service inside the clone's
// network namespace, at 169.254.169.254:80, the way IMDSv2 answers: a PUT
// for a session token first, then GETs carrying it
// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html).
// It serves the instance id, the region and the credentials of an instance
// profile role (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html#instance-metadata-security-credentials).
type IMDS struct {
	InstanceID, Region, AvailabilityZone string
	Role, AccessKeyID, SecretAccessKey   string

	mu    sync.Mutex
	paths []string
}

const imdsToken = "boot-test-imds-token"

// Serve starts the stand-in in network namespace ns until t ends.
func (m *IMDS) Serve(t testing.TB, ns string) {
	t.Helper()
	l, err := ListenIn(ns, "169.254.169.254:80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(m.handle), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// Paths lists the paths the clone asked for, in order.
func (m *IMDS) Paths() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.paths...)
}

func (m *IMDS) handle(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.paths = append(m.paths, r.Method+" "+r.URL.Path)
	m.mu.Unlock()
	if r.URL.Path == "/latest/api/token" {
		if r.Method != http.MethodPut || r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "token requests are PUTs with a TTL header", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(imdsToken))
		return
	}
	if r.Header.Get("X-aws-ec2-metadata-token") != imdsToken {
		http.Error(w, "IMDSv2 is required: no or wrong token", http.StatusUnauthorized)
		return
	}
	creds := "/latest/meta-data/iam/security-credentials/"
	switch p := r.URL.Path; p {
	case "/latest/meta-data/instance-id":
		_, _ = w.Write([]byte(m.InstanceID))
	case "/latest/meta-data/placement/region":
		_, _ = w.Write([]byte(m.Region))
	case "/latest/meta-data/placement/availability-zone":
		_, _ = w.Write([]byte(m.AvailabilityZone))
	case creds, strings.TrimSuffix(creds, "/"):
		_, _ = w.Write([]byte(m.Role))
	case creds + m.Role:
		_ = json.NewEncoder(w).Encode(map[string]string{
			"Code":            "Success",
			"LastUpdated":     time.Now().UTC().Format(time.RFC3339),
			"Type":            "AWS-HMAC",
			"AccessKeyId":     m.AccessKeyID,
			"SecretAccessKey": m.SecretAccessKey,
			"Token":           "boot-test-session-token",
			"Expiration":      time.Now().Add(6 * time.Hour).UTC().Format(time.RFC3339),
		})
	default:
		http.NotFound(w, r)
	}
}

// CloudCall is one AWS API call the clone made through a CloudProxy.
type CloudCall struct {
	Host, Action, UserAgent string
	Status                  int
}

// CloudProxy is the clone's way to the test cloud: a TLS listener on
// 127.0.0.1:443 inside the clone's network namespace, for the AWS host
// names the clone's /etc/hosts points there, with a certificate for them
// signed by CA. It forwards every call unchanged (host, headers, SigV4
// signature, body) to the test cloud's endpoint and records it.
type CloudProxy struct {
	// CA is the PEM of the certificate authority the clone must trust.
	CA []byte

	mu    sync.Mutex
	calls []CloudCall
}

// NewCloudProxy serves in network namespace ns until t ends, forwarding to
// endpoint (http://127.0.0.1:PORT in the test's namespace), for the
// certificate names hosts.
func NewCloudProxy(t testing.TB, ns, endpoint string, hosts []string) *CloudProxy {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil || target.Host == "" {
		t.Fatalf("the boot test needs the test cloud's endpoint, got %q", endpoint)
	}
	caPEM, cert := issue(t, hosts)
	p := &CloudProxy{CA: caPEM}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the host the CLI signed
		},
		ModifyResponse: func(resp *http.Response) error {
			r := resp.Request
			action := r.Header.Get("X-Amz-Target")
			if _, op, ok := strings.Cut(action, "."); ok {
				action = op
			}
			if action == "" {
				action = r.URL.Query().Get("Action")
			}
			if action == "" {
				if f, ok := r.Context().Value(formKey{}).(string); ok {
					action = f
				}
			}
			p.mu.Lock()
			p.calls = append(p.calls, CloudCall{Host: r.Host, Action: action, UserAgent: r.Header.Get("User-Agent"), Status: resp.StatusCode})
			p.mu.Unlock()
			return nil
		},
	}
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		p.mu.Lock()
		p.calls = append(p.calls, CloudCall{Host: r.Host, Action: r.Header.Get("X-Amz-Target"), UserAgent: r.Header.Get("User-Agent"), Status: http.StatusBadGateway})
		p.mu.Unlock()
		http.Error(w, "boot test: the test cloud is unreachable: "+err.Error(), http.StatusBadGateway)
	}
	l, err := ListenIn(ns, "127.0.0.1:443")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           withQueryAction(rp),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

// Calls lists the calls forwarded so far.
func (p *CloudProxy) Calls() []CloudCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]CloudCall(nil), p.calls...)
}

type formKey struct{}

// withQueryAction reads the Action of a Query-protocol call (Auto Scaling)
// from its form body, leaving the body intact for the test cloud.
func withQueryAction(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if v, err := url.ParseQuery(string(body)); err == nil {
				r = r.WithContext(context.WithValue(r.Context(), formKey{}, v.Get("Action")))
			}
		}
		next.ServeHTTP(w, r)
	})
}

func issue(t testing.TB, hosts []string) ([]byte, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "clone boot test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: hosts[0]},
		DNSNames:     hosts,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}
