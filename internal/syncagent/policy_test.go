package syncagent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestValidatePath(t *testing.T) {
	for _, c := range []struct {
		in, wantErr string
	}{
		{"/var/www", ""},
		{"/var/www/", ""},
		{"/srv/it's a $(dir)*", ""},
		{"/srv/-rf", ""},
		{"/srv/日本", ""},
		{"/srv/..data", ""},
		{"", "empty"},
		{"var/www", "absolute"},
		{"./var", "absolute"},
		{"/", "root directory"},
		{"//./", "root directory"},
		{"/var/../etc", "'..'"},
		{"/var/..", "'..'"},
		{"/var/www\x00", "control characters"},
		{"/var/www\n", "control characters"},
		{"/var/www\r", "control characters"},
		{"/var/\twww", "control characters"},
		{"/var/\u00a0www", "whitespace"},
		{"/var/\u3000www", "whitespace"},
		{"/var/\xffwww", "UTF-8"},
	} {
		err := ValidatePath(c.in)
		if c.wantErr == "" && err != nil {
			t.Errorf("ValidatePath(%q) = %v, want nil", c.in, err)
		}
		if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("ValidatePath(%q) = %v, want an error containing %q", c.in, err, c.wantErr)
		}
	}
}

func TestValidateExclude(t *testing.T) {
	for _, ok := range []string{"*.log", "/cache/", "+ literal", " lead", "!", "a b\tc"} {
		if err := ValidateExclude(ok); err != nil {
			t.Errorf("ValidateExclude(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a\nb", "a\x00", "a\rb", "\xfe"} {
		if err := ValidateExclude(bad); err == nil {
			t.Errorf("ValidateExclude(%q) = nil, want an error", bad)
		}
	}
}

func TestValidateInterval(t *testing.T) {
	if err := ValidateInterval(time.Minute); err != nil {
		t.Errorf("1m: %v", err)
	}
	for _, d := range []time.Duration{0, -time.Minute, 59 * time.Second} {
		if err := ValidateInterval(d); err == nil || !strings.Contains(err.Error(), "minimum is 1m0s") {
			t.Errorf("ValidateInterval(%s) = %v", d, err)
		}
	}
}

func TestSyncRoot(t *testing.T) {
	for _, c := range []struct {
		sources []string
		want    string
		wantErr string
	}{
		{[]string{"/var/www/html"}, "/var/www/html", ""},
		{[]string{"/var/www/html/"}, "/var/www/html", ""},
		{[]string{"/var/www/html", "/var/www/static"}, "/var/www", ""},
		{[]string{"/var/www/html", "/var/www/html/img"}, "/var/www/html", ""},
		{[]string{"/srv/a/b", "/srv/ab"}, "/srv", ""},
		{[]string{"/var//./www/x", "/var/www/y"}, "/var/www", ""},
		{[]string{"/var/www", "/etc/app"}, "", "share no directory below /"},
		{nil, "", "at least one"},
		{[]string{"relative"}, "", "absolute"},
	} {
		got, err := SyncRoot(c.sources)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("SyncRoot(%q) = %q, %v; want error %q", c.sources, got, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("SyncRoot(%q) = %q, %v; want %q", c.sources, got, err, c.want)
		}
	}
}

// testFingerprint is ssh-keygen -l -E sha256 of testPublicKey.
const (
	testPublicKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKrIcs1sNKTjkJzrZ7F7z6zFsNLqNqBSlpSXnsyvEZzw"
	testFingerprint = "SHA256:zzJjKpoBJOV+1N8vyX9RsXDfdbrF+Mi956l15MwXsDo"
)

func TestPathsJSON(t *testing.T) {
	got, err := PathsJSON([]Path{
		{Source: "/srv/app/www", Destination: "/srv/app/www", Exclude: []string{"*.log"}, Delete: true},
		{Source: "/srv/app/uploads", Destination: "/data/uploads"},
	}, testFingerprint)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":2,"root":"/srv/app","key_fingerprint":"` + testFingerprint + `","paths":[` +
		`{"source":"/srv/app/www","destination":"/srv/app/www","exclude":["*.log"],"delete":true},` +
		`{"source":"/srv/app/uploads","destination":"/data/uploads","exclude":[],"delete":false}]}`
	if got != want {
		t.Errorf("PathsJSON:\n got %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Error("PathsJSON is not valid JSON")
	}
	for name, paths := range map[string][]Path{
		"none":          nil,
		"bad source":    {{Source: "/a/../b", Destination: "/b"}},
		"bad dest":      {{Source: "/a", Destination: "b"}},
		"bad exclude":   {{Source: "/a", Destination: "/b", Exclude: []string{""}}},
		"no common dir": {{Source: "/a", Destination: "/b"}, {Source: "/c", Destination: "/d"}},
	} {
		if _, err := PathsJSON(paths, testFingerprint); err == nil {
			t.Errorf("%s: PathsJSON accepted %+v", name, paths)
		}
	}
	for _, fp := range []string{"", "MD5:zz:jj", "SHA256:short", testFingerprint + "=", "SHA256:zzJjKpoBJOV+1N8vyX9RsXDfdbrF+Mi956l15MwXsD\n"} {
		if _, err := PathsJSON([]Path{{Source: "/a", Destination: "/b"}}, fp); err == nil {
			t.Errorf("PathsJSON accepted key fingerprint %q", fp)
		}
	}
}

func validPolicy() Policy {
	return Policy{
		Name:           "web",
		MasterAddress:  "10.0.1.23",
		Interval:       5 * time.Minute,
		PathsParameter: "/clone/web/paths",
		KeyParameter:   "/clone/web/key",
	}.WithDefaults()
}

func TestPolicyValidate(t *testing.T) {
	if err := validPolicy().Validate(); err != nil {
		t.Fatalf("valid policy: %v", err)
	}
	for _, c := range []struct {
		name    string
		mutate  func(*Policy)
		wantErr string
	}{
		{"name with slash", func(p *Policy) { p.Name = "a/b" }, "name"},
		{"empty name", func(p *Policy) { p.Name = "" }, "name"},
		{"address with space", func(p *Policy) { p.MasterAddress = "10.0.0.1 -oProxyCommand=x" }, "master address"},
		{"address starting with dash", func(p *Policy) { p.MasterAddress = "-oProxyCommand=x" }, "master address"},
		{"user with shell text", func(p *Policy) { p.SSHUser = "a$(id)" }, "ssh user"},
		{"port", func(p *Policy) { p.SSHPort = 70000 }, "ssh port"},
		{"interval", func(p *Policy) { p.Interval = 30 * time.Second }, "interval"},
		{"bandwidth too small", func(p *Policy) { p.BandwidthLimitKbps = 4 }, "bandwidth"},
		{"negative bandwidth", func(p *Policy) { p.BandwidthLimitKbps = -1 }, "bandwidth"},
		{"paths parameter", func(p *Policy) { p.PathsParameter = "" }, "paths parameter"},
		{"key parameter", func(p *Policy) { p.KeyParameter = "a b" }, "key parameter"},
		{"status file with space", func(p *Policy) { p.StatusFile = "/var/lib/a b.json" }, "status file"},
		{"status file with dotdot", func(p *Policy) { p.StatusFile = "/var/../x.json" }, "status file"},
		{"hook without group", func(p *Policy) { p.LifecycleHookName = "h" }, "together"},
		{"group name with newline", func(p *Policy) { p.LifecycleHookName, p.AutoScalingGroupName = "h", "g\n" }, "auto scaling group name"},
		{"bad path", func(p *Policy) { p.Paths = []Path{{Source: "/a\n", Destination: "/b"}} }, "paths[0].source"},
	} {
		p := validPolicy()
		c.mutate(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", c.name, err, c.wantErr)
		}
	}
	p := validPolicy()
	p.MasterAddress = ""
	if err := p.Validate(); err != nil {
		t.Errorf("empty master address (read from the env file): %v", err)
	}
	for _, addr := range []string{"fd00::5", "master.internal", "ip-10-0-0-1.ec2.internal."} {
		if err := ValidateMasterAddress(addr); err != nil {
			t.Errorf("ValidateMasterAddress(%q) = %v", addr, err)
		}
	}
}
