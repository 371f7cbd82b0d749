package userdata

import (
	"encoding/base64"
	"flag"
	"io"
	"mime"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var testMaster = MasterSettings{
	Address:         "10.0.1.23",
	InstanceID:      "i-0123456789abcdef0",
	EnvFile:         "/etc/clone/master.env",
	DisableServices: []string{"mysql", "redis-server.service"},
}

const (
	shellUserData = "#!/bin/bash\nset -eu\necho hello > /var/tmp/hello\n"
	cloudUserData = "#cloud-config\npackages:\n  - nginx\nruncmd:\n  - [systemctl, restart, nginx]\n"
)

var syncAgentPart = Part{
	Filename:    "clone-sync-agent.cfg",
	ContentType: ContentTypeCloudConfig,
	Content:     "#cloud-config\nwrite_files:\n  - path: \"/etc/clone/sync.env\"\n    content: \"SYNC_PARAMETER=/clone/web/paths\\n\"\n",
}

func mustMasterParts(t *testing.T, m MasterSettings) []Part {
	t.Helper()
	parts, err := MasterParts(m)
	if err != nil {
		t.Fatalf("MasterParts: %v", err)
	}
	return parts
}

func TestAssembleGolden(t *testing.T) {
	master := mustMasterParts(t, testMaster)
	servicesOnly := mustMasterParts(t, MasterSettings{DisableServices: []string{"mysql"}})

	tests := []struct {
		name  string
		parts []Part
		user  string
	}{
		{"no_master", []Part{syncAgentPart}, shellUserData},
		{"master_env_and_services", master, ""},
		{"master_services_only", servicesOnly, ""},
		{"user_shell_script", master, shellUserData},
		{"user_cloud_config", master, cloudUserData},
		{"extra_sync_agent_part", append(append([]Part{}, master...), syncAgentPart), cloudUserData},
		{"user_non_ascii", master, "#!/bin/sh\necho 'héllo wörld'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Assemble(tt.parts, tt.user)
			if err != nil {
				t.Fatalf("Assemble: %v", err)
			}
			again, err := Assemble(tt.parts, tt.user)
			if err != nil || again != got {
				t.Fatalf("Assemble is not deterministic")
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading %s (run with -update to create it): %v", golden, err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update to accept)\n--- got ---\n%s", golden, got)
			}
		})
	}
}

type parsedPart struct {
	filename, contentType, mergeType, content string
}

func parse(t *testing.T, doc string) []parsedPart {
	t.Helper()
	header, body, ok := strings.Cut(doc, "\n\n")
	if !ok {
		t.Fatalf("no header/body separator")
	}
	ct := strings.TrimPrefix(strings.Split(header, "\n")[0], "Content-Type: ")
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil || mediaType != "multipart/mixed" {
		t.Fatalf("top-level content type %q: %v", ct, err)
	}
	r := multipart.NewReader(strings.NewReader(body), params["boundary"])
	var out []parsedPart
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("reading part: %v", err)
		}
		content := string(raw)
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(content, "\n", ""))
			if err != nil {
				t.Fatalf("decoding part %s: %v", p.FileName(), err)
			}
			content = string(dec)
		}
		partType, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part content type: %v", err)
		}
		out = append(out, parsedPart{
			filename:    p.FileName(),
			contentType: partType,
			mergeType:   p.Header.Get("Merge-Type"),
			content:     content,
		})
	}
}

func TestAssembleParses(t *testing.T) {
	master := mustMasterParts(t, testMaster)
	tests := []struct {
		name  string
		parts []Part
		user  string
		want  []parsedPart
	}{
		{
			name:  "master and shell script",
			parts: master,
			user:  shellUserData,
			want: []parsedPart{
				{MasterPartFilename, ContentTypeCloudConfig, MergeType, master[0].Content},
				{UserPartFilename, ContentTypeShellScript, "", shellUserData},
			},
		},
		{
			name:  "sync agent, cloud-config without trailing newline",
			parts: []Part{syncAgentPart},
			user:  strings.TrimSuffix(cloudUserData, "\n"),
			want: []parsedPart{
				{syncAgentPart.Filename, ContentTypeCloudConfig, MergeType, syncAgentPart.Content},
				{UserPartFilename, ContentTypeCloudConfig, MergeType, strings.TrimSuffix(cloudUserData, "\n")},
			},
		},
		{
			name:  "no user data",
			parts: append(append([]Part{}, master...), syncAgentPart),
			want: []parsedPart{
				{MasterPartFilename, ContentTypeCloudConfig, MergeType, master[0].Content},
				{syncAgentPart.Filename, ContentTypeCloudConfig, MergeType, syncAgentPart.Content},
			},
		},
		{
			name:  "non-ascii and CRLF user data survives base64",
			parts: master,
			user:  "#!/bin/sh\r\necho 'grüße'\r\n",
			want: []parsedPart{
				{MasterPartFilename, ContentTypeCloudConfig, MergeType, master[0].Content},
				{UserPartFilename, ContentTypeShellScript, "", "#!/bin/sh\r\necho 'grüße'\r\n"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Assemble(tt.parts, tt.user)
			if err != nil {
				t.Fatalf("Assemble: %v", err)
			}
			got := parse(t, doc)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d parts, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("part %d:\n got %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestAssembleBoundaryChangesWithContent(t *testing.T) {
	a, err := Assemble([]Part{syncAgentPart}, shellUserData)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Assemble([]Part{syncAgentPart}, shellUserData+"true\n")
	if err != nil {
		t.Fatal(err)
	}
	boundary := func(s string) string {
		_, params, _ := mime.ParseMediaType(strings.TrimPrefix(strings.SplitN(s, "\n", 2)[0], "Content-Type: "))
		return params["boundary"]
	}
	if boundary(a) == boundary(b) {
		t.Errorf("boundary did not change with content: %s", boundary(a))
	}
}

func TestAssembleBoundaryAvoidsContent(t *testing.T) {
	first := boundaryFor([]Part{syncAgentPart})
	tricky := Part{Filename: "tricky", ContentType: ContentTypePlain, Content: "x"}
	parts := []Part{syncAgentPart, tricky}
	tricky.Content = boundaryFor(parts)
	parts[1] = tricky
	got := boundaryFor(parts)
	if strings.Contains(tricky.Content, got) {
		t.Errorf("boundary %s occurs in content", got)
	}
	if first == "" || got == "" {
		t.Error("empty boundary")
	}
}

func TestAssemblePassThrough(t *testing.T) {
	for _, user := range []string{"", shellUserData, cloudUserData} {
		got, err := Assemble(nil, user)
		if err != nil {
			t.Fatalf("Assemble(nil, %q): %v", user, err)
		}
		if got != user {
			t.Errorf("Assemble(nil, %q) = %q, want it unchanged", user, got)
		}
	}
}

func TestAssembleErrors(t *testing.T) {
	tests := []struct {
		name  string
		parts []Part
		user  string
		want  string
	}{
		{"empty filename", []Part{{ContentType: ContentTypePlain}}, "", "invalid filename"},
		{"filename with quote", []Part{{Filename: `a"b`, ContentType: ContentTypePlain}}, "", "invalid filename"},
		{"content type with newline", []Part{{Filename: "a", ContentType: "text/plain\nX: y"}}, "", "invalid content type"},
		{"duplicate filename", []Part{syncAgentPart, syncAgentPart}, "", "duplicate filename"},
		{"reserved filename", []Part{{Filename: UserPartFilename, ContentType: ContentTypePlain}}, "echo", "reserved"},
		{"user multipart", []Part{syncAgentPart}, "Content-Type: multipart/mixed; boundary=x\n\n--x--\n", "already a MIME multipart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Assemble(tt.parts, tt.user)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Assemble error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDetectContentType(t *testing.T) {
	tests := []struct {
		content, want string
	}{
		{"#cloud-config\n", ContentTypeCloudConfig},
		{"#cloud-config-archive\n- type: text/x-shellscript\n", ContentTypeCloudConfigArchive},
		{"#cloud-config-jsonp\n[]", ContentTypeJSONPatch},
		{"#!/bin/bash\n", ContentTypeShellScript},
		{"#!/usr/bin/env python3\n", ContentTypeShellScript},
		{"#cloud-boothook\n", ContentTypeBoothook},
		{"#include\nhttps://example.com/a\n", ContentTypeIncludeURL},
		{"#part-handler\n", ContentTypePartHandler},
		{"## template: jinja\n#cloud-config\n", ContentTypeJinja2},
		{"just some text", ContentTypePlain},
		{" #cloud-config\n", ContentTypePlain},
		{"\x1f\x8b\x08\x00\xff", ContentTypeBinary},
	}
	for _, tt := range tests {
		if got := DetectContentType(tt.content); got != tt.want {
			t.Errorf("DetectContentType(%q) = %q, want %q", tt.content, got, tt.want)
		}
	}
}
