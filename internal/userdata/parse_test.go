package userdata

import (
	"slices"
	"testing"
)

func TestParseRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		user string
		m    MasterSettings
	}{
		{"master and script", "#!/bin/sh\necho hi\n", MasterSettings{
			Address: "10.0.1.5", InstanceID: "i-0123456789abcdef0", EnvFile: "/etc/clone/master.env",
			DisableServices: []string{"mysql", "redis-server.service"},
		}},
		{"master only", "", MasterSettings{DisableServices: []string{"mysql"}}},
		{"non-ASCII user part", "#cloud-config\nwrite_files: [{path: /tmp/x, content: \"grüße\"}]\n",
			MasterSettings{Address: "10.0.1.5", InstanceID: "i-0123456789abcdef0", EnvFile: "/run/m.env"}},
		{"user part only", "#!/bin/sh\ntrue\n", MasterSettings{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := MasterParts(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Assemble(parts, tt.user)
			if err != nil {
				t.Fatal(err)
			}
			rendered, err := Render(parts, tt.user)
			if err != nil {
				t.Fatal(err)
			}
			for form, data := range map[string]string{"assembled": doc, "rendered": string(rendered)} {
				got, err := Parse(data)
				if err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				if got.User != tt.user || got.EnvFile != tt.m.EnvFile || !slices.Equal(got.DisableServices, tt.m.DisableServices) {
					t.Errorf("%s: Parse = %+v, want user %q env %q services %v", form, got, tt.user, tt.m.EnvFile, tt.m.DisableServices)
				}
			}
		})
	}
}

func TestParseSyncAgent(t *testing.T) {
	agent := "#cloud-config\nwrite_files:\n  - path: /etc/clone/agent.env\n    content: |\n      INTERVAL=60\n"
	data, err := Render([]Part{{Filename: SyncAgentFilename, ContentType: ContentTypeCloudConfig, Content: agent}}, "#!/bin/sh\ntrue\n")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if got.SyncAgent != agent || got.User != "#!/bin/sh\ntrue\n" {
		t.Errorf("Parse = %+v, want the agent %q and the user's script", got, agent)
	}
}

func TestParseCorrupt(t *testing.T) {
	if _, err := Parse("\x1f\x8b\x08\x00garbage"); err == nil {
		t.Error("Parse accepted a corrupt gzip stream")
	}
}
