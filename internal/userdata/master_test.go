package userdata

import (
	"strings"
	"testing"
)

func TestMasterPartsContent(t *testing.T) {
	tests := []struct {
		name    string
		in      MasterSettings
		want    []string
		notWant []string
	}{
		{
			name: "env file and services",
			in:   testMaster,
			want: []string{
				"#cloud-config\n",
				`path: "/etc/clone/master.env"`,
				`permissions: "0644"`,
				`content: "MASTER_ADDRESS=10.0.1.23\nMASTER_INSTANCE_ID=i-0123456789abcdef0\n"`,
				`disable-service, "mysql"]`,
				`disable-service, "redis-server.service"]`,
				"[sh, -c, " + quote(disableServiceScript) + ", disable-service, ",
			},
		},
		{
			name:    "services only",
			in:      MasterSettings{DisableServices: []string{"mysql", "mysql", "postgresql@15-main"}},
			want:    []string{"bootcmd:", `"postgresql@15-main"]`},
			notWant: []string{"write_files", "MASTER_ADDRESS"},
		},
		{
			name:    "env file only, IPv6",
			in:      MasterSettings{Address: "fd00::5", InstanceID: "i-0abcdef12", EnvFile: "/run/master.env"},
			want:    []string{"MASTER_ADDRESS=fd00::5", `path: "/run/master.env"`},
			notWant: []string{"bootcmd"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := MasterParts(tt.in)
			if err != nil {
				t.Fatalf("MasterParts: %v", err)
			}
			if len(parts) != 1 {
				t.Fatalf("got %d parts, want 1", len(parts))
			}
			p := parts[0]
			if p.Filename != MasterPartFilename || p.ContentType != ContentTypeCloudConfig {
				t.Errorf("part = %s %s", p.Filename, p.ContentType)
			}
			for _, w := range tt.want {
				if !strings.Contains(p.Content, w) {
					t.Errorf("content lacks %q:\n%s", w, p.Content)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(p.Content, w) {
					t.Errorf("content has %q:\n%s", w, p.Content)
				}
			}
		})
	}
}

func TestMasterPartsDeduplicatesServices(t *testing.T) {
	parts, err := MasterParts(MasterSettings{DisableServices: []string{"mysql", "mysql"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(parts[0].Content, `"mysql"`); n != 1 {
		t.Errorf("mysql appears %d times, want 1", n)
	}
}

func TestMasterPartsNothingToRender(t *testing.T) {
	for _, m := range []MasterSettings{{}, {Address: "10.0.0.1", InstanceID: "i-0123456789abcdef0"}} {
		parts, err := MasterParts(m)
		if err != nil || parts != nil {
			t.Errorf("MasterParts(%+v) = %v, %v; want no parts", m, parts, err)
		}
	}
}

func TestMasterPartsErrors(t *testing.T) {
	ok := testMaster
	with := func(f func(*MasterSettings)) MasterSettings {
		m := ok
		m.DisableServices = append([]string(nil), ok.DisableServices...)
		f(&m)
		return m
	}
	tests := []struct {
		name string
		in   MasterSettings
		want string
	}{
		{"relative env file", with(func(m *MasterSettings) { m.EnvFile = "etc/master.env" }), "absolute"},
		{"env file with newline", with(func(m *MasterSettings) { m.EnvFile = "/etc/master.env\nX" }), "control characters"},
		{"env file with dotdot", with(func(m *MasterSettings) { m.EnvFile = "/etc/../master.env" }), "clean path"},
		{"env file is a directory", with(func(m *MasterSettings) { m.EnvFile = "/etc/clone/" }), "clean path"},
		{"env file is root", with(func(m *MasterSettings) { m.EnvFile = "/" }), "clean path"},
		{"address missing", with(func(m *MasterSettings) { m.Address = "" }), "not an IP address"},
		{"address with newline", with(func(m *MasterSettings) { m.Address = "10.0.0.1\nEVIL=1" }), "not an IP address"},
		{"instance id invalid", with(func(m *MasterSettings) { m.InstanceID = "i-xyz" }), "not an EC2 instance id"},
		{"service with space", with(func(m *MasterSettings) { m.DisableServices = []string{"my sql"} }), "invalid systemd unit name"},
		{"service with semicolon", with(func(m *MasterSettings) { m.DisableServices = []string{"a;reboot"} }), "invalid systemd unit name"},
		{"service starting with dash", with(func(m *MasterSettings) { m.DisableServices = []string{"--now"} }), "invalid systemd unit name"},
		{"service with quote", with(func(m *MasterSettings) { m.DisableServices = []string{`a"b`} }), "invalid systemd unit name"},
		{"service empty", with(func(m *MasterSettings) { m.DisableServices = []string{""} }), "invalid systemd unit name"},
		{"service too long", with(func(m *MasterSettings) { m.DisableServices = []string{strings.Repeat("a", 256)} }), "invalid systemd unit name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MasterParts(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("MasterParts error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
