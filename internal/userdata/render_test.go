package userdata

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

// agentPart is the sync agent's part as a pool renders it.
func agentPart(t testing.TB) Part {
	t.Helper()
	p := syncagent.Policy{
		Name:                 "tf-acc-test-0123abcd-sync",
		Interval:             5 * time.Minute,
		PathsParameter:       "/clone/sync/tf-acc-test-0123abcd-sync/paths",
		KeyParameter:         "/clone/sync/tf-acc-test-0123abcd-sync/key",
		LifecycleHookName:    "tf-acc-test-0123abcd-first-sync",
		AutoScalingGroupName: "tf-acc-test-0123abcd",
	}.WithDefaults()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return Part{Filename: "clone-sync-agent.cfg", ContentType: ContentTypeCloudConfig, Content: syncagent.RenderCloudInitPart(p)}
}

// noisyScript returns a shell script of exactly size bytes whose bulk is
// pseudo-random base64 text, which compresses about as badly as text can.
func noisyScript(size int) string {
	const head, tail = "#!/bin/sh\ncat >/dev/null <<'NOISE'\n", "NOISE\n"
	rng := rand.New(rand.NewPCG(8, 8))
	raw := make([]byte, size)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	noise := base64.StdEncoding.EncodeToString(raw)
	var b strings.Builder
	b.WriteString(head)
	for rest := size - len(head) - len(tail); rest > 0; {
		n := min(76, rest-1)
		b.WriteString(noise[:n])
		b.WriteString("\n")
		noise, rest = noise[n:], rest-n-1
	}
	b.WriteString(tail)
	return b.String()
}

func TestRenderGzipHeader(t *testing.T) {
	parts := append(mustMasterParts(t, testMaster), agentPart(t))
	got, err := Render(parts, shellUserData)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Render(parts, shellUserData)
	if err != nil || !bytes.Equal(got, again) {
		t.Fatal("Render is not deterministic")
	}
	// RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS. No name, comment or extra
	// field, no modification time, the maximum compression level.
	if len(got) < 10 || !IsGzip(got) || got[2] != 8 {
		t.Fatalf("not a deflate gzip stream: % x", got[:min(10, len(got))])
	}
	if got[3] != 0 {
		t.Errorf("gzip flags %#x, want none (no name, comment or extra field)", got[3])
	}
	if !bytes.Equal(got[4:8], []byte{0, 0, 0, 0}) {
		t.Errorf("gzip modification time % x, want zero", got[4:8])
	}
	if got[8] != 2 {
		t.Errorf("gzip XFL %d, want 2 (maximum compression)", got[8])
	}
	zr, err := gzip.NewReader(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header %+v, want no name and no time", zr.Header)
	}
}

func TestRenderRoundTrips(t *testing.T) {
	master := mustMasterParts(t, testMaster)
	agent := agentPart(t)
	tests := []struct {
		name  string
		parts []Part
		user  string
	}{
		{"master", master, ""},
		{"agent", []Part{agent}, ""},
		{"master, agent and script", append(append([]Part{}, master...), agent), shellUserData},
		{"master, agent and cloud-config", append(append([]Part{}, master...), agent), cloudUserData},
		{"master, agent and a large script", append(append([]Part{}, master...), agent), noisyScript(8000)},
		{"non-ASCII user part", master, "#!/bin/sh\necho 'grüße'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := Render(tt.parts, tt.user)
			if err != nil {
				t.Fatal(err)
			}
			if !IsGzip(data) {
				t.Fatal("user data with pool parts is not gzip-compressed")
			}
			doc, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Assemble(tt.parts, tt.user)
			if err != nil || doc != want {
				t.Fatalf("Decode(Render) differs from Assemble (%v)", err)
			}
			got := parse(t, doc)
			wantParts := append([]Part{}, tt.parts...)
			if tt.user != "" {
				wantParts = append(wantParts, Part{Filename: UserPartFilename, ContentType: DetectContentType(tt.user), Content: tt.user})
			}
			if len(got) != len(wantParts) {
				t.Fatalf("%d parts, want %d", len(got), len(wantParts))
			}
			for i, p := range wantParts {
				if got[i].filename != p.Filename || got[i].contentType != p.ContentType || got[i].content != p.Content {
					t.Errorf("part %d (%s) did not survive: got %s %s, %d bytes", i, p.Filename, got[i].filename, got[i].contentType, len(got[i].content))
				}
			}
			for i, line := range strings.Split(doc, "\n") {
				if len(line) > 998 {
					t.Errorf("line %d of the document is %d characters long", i+1, len(line))
				}
			}
		})
	}
}

// TestRenderNoDoubleEncoding proves the pool's own parts travel as text: no
// line over MIME's limit, nothing base64-encoded, and the agent's hook
// setting is plain text once the user data is decompressed.
func TestRenderNoDoubleEncoding(t *testing.T) {
	parts := append(mustMasterParts(t, testMaster), agentPart(t))
	data, err := Render(parts, cloudUserData)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(doc, "Content-Transfer-Encoding: base64") {
		t.Error("a part of ASCII text was base64-encoded")
	}
	for _, p := range parts {
		for i, line := range strings.Split(p.Content, "\n") {
			if len(line) > 998 {
				t.Errorf("%s: line %d is %d characters long", p.Filename, i+1, len(line))
			}
		}
	}
	if !strings.Contains(doc, "CS_LIFECYCLE_HOOK_NAME=tf-acc-test-0123abcd-first-sync\n") {
		t.Error("the agent's hook setting is not plain text in the decompressed user data")
	}
}

// cloudInitReader reads user data the way cloud-init's user_data.py does
// (decompress when gzip, parse the MIME message from text, decode each
// part's payload) and loads each cloud-config part with PyYAML.
const cloudInitReader = `
import email, gzip, json, sys, yaml
data = sys.stdin.buffer.read()
if data[:2] == b"\x1f\x8b":
    data = gzip.decompress(data)
msg = email.message_from_string(data.decode("utf-8"))
out = []
for part in msg.walk():
    if part.is_multipart():
        continue
    payload = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    if part.get_content_type() == "text/cloud-config":
        assert isinstance(yaml.safe_load(payload), dict)
    out.append({"filename": part.get_filename(), "content_type": part.get_content_type(), "content": payload})
json.dump(out, sys.stdout)
`

func TestRenderReadsLikeCloudInit(t *testing.T) {
	if err := exec.Command("python3", "-c", "import yaml").Run(); err != nil {
		t.Skip("python3 with PyYAML is not installed")
	}
	parts := append(mustMasterParts(t, testMaster), agentPart(t))
	for _, user := range []string{cloudUserData, noisyScript(4000), "#!/bin/sh\r\necho 'grüße'\r\n"} {
		data, err := Render(parts, user)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("python3", "-c", cloudInitReader)
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("reading the user data as cloud-init does: %v", err)
		}
		var got []struct {
			Filename    string `json:"filename"`
			ContentType string `json:"content_type"`
			Content     string `json:"content"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		want := append(append([]Part{}, parts...), Part{Filename: UserPartFilename, ContentType: DetectContentType(user), Content: user})
		if len(got) != len(want) {
			t.Fatalf("cloud-init would read %d parts, want %d", len(got), len(want))
		}
		for i, p := range want {
			if got[i].Filename != p.Filename || got[i].ContentType != p.ContentType || got[i].Content != p.Content {
				t.Errorf("part %d: cloud-init would read %s (%s), %d bytes; want %s (%s), %d bytes",
					i, got[i].Filename, got[i].ContentType, len(got[i].Content), p.Filename, p.ContentType, len(p.Content))
			}
		}
	}
}

func TestRenderPassThrough(t *testing.T) {
	for _, user := range []string{"", shellUserData, "<powershell>\nhostname\n</powershell>\n"} {
		data, err := Render(nil, user)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != user {
			t.Errorf("Render(nil, %q) = %q, want it unchanged", user, data)
		}
		if doc, err := Decode(data); err != nil || doc != user {
			t.Errorf("Decode(%q) = %q, %v", user, doc, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	var bomb bytes.Buffer
	w := gzip.NewWriter(&bomb)
	_, _ = w.Write(make([]byte, maxDecoded+1))
	_ = w.Close()
	for name, data := range map[string][]byte{
		"truncated": {0x1f, 0x8b, 0x08, 0x00, 0x00},
		"too large": bomb.Bytes(),
	} {
		if _, err := Decode(data); err == nil {
			t.Errorf("%s: Decode succeeded", name)
		}
	}
}

func TestMeasure(t *testing.T) {
	parts := append(mustMasterParts(t, testMaster), agentPart(t))
	user := noisyScript(4000)
	s, err := Measure(parts, user)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := Render(parts, user)
	own, _ := Render(parts, "")
	if s.Total != len(all) || s.Pool != len(own) {
		t.Errorf("Measure = %+v, want total %d and pool %d", s, len(all), len(own))
	}
	if !s.Fits() {
		t.Errorf("master, agent and a 4,000-byte script take %d bytes, over %d", s.Total, Limit)
	}
	// The pool's own parts (master settings with two services to disable,
	// the sync agent) take at most 6 KB, leaving at least 10 KB of the
	// limit to the user.
	if s.Pool > 6144 {
		t.Errorf("the pool's own parts take %d bytes of %d", s.Pool, Limit)
	}
	t.Logf("pool's own share %d bytes; with a 4,000-byte script %d bytes", s.Pool, s.Total)

	if s, err := Measure(nil, user); err != nil || s != (Sizes{Total: len(user)}) {
		t.Errorf("Measure without pool parts = %+v, %v; want the user's size and no pool share", s, err)
	}
	if s, err := Measure(parts, noisyScript(Limit)); err != nil || s.Fits() {
		t.Errorf("a %d-byte incompressible script fits: %+v, %v", Limit, s, err)
	}
	if _, err := Measure(parts, "Content-Type: multipart/mixed; boundary=x\n\n--x--\n"); err == nil {
		t.Error("Measure accepted user data Assemble refuses")
	}
}

func TestSizesErr(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sizes     Sizes
		estimated bool
		want      []string
	}{
		{"fits", Sizes{Total: 16384, Pool: 5000}, false, nil},
		{"over with the pool's parts", Sizes{Total: 17210, Pool: 5131}, false, []string{
			"would be 17210 bytes gzip-compressed, over EC2's limit of 16384 bytes",
			"own share (master settings and sync agent) is 5131 bytes, which leaves 11253 bytes for user_data",
		}},
		{"estimated", Sizes{Total: 17210, Pool: 5131}, true, []string{
			"would be about 17210 bytes gzip-compressed", "is about 5131 bytes, which leaves about 11253 bytes",
		}},
		{"no parts of the pool", Sizes{Total: 16385}, false, []string{
			"would be 16385 bytes, over EC2's limit of 16384 bytes", "own share is 0 bytes",
		}},
	} {
		err := tc.sizes.Err(tc.estimated)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %s", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("%s: no error for user data over the limit", tc.name)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: message lacks %q:\n%s", tc.name, w, err)
			}
		}
	}
}
