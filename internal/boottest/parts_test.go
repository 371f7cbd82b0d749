//go:build linux

package boottest

import (
	"testing"

	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

func TestParts(t *testing.T) {
	in := []userdata.Part{
		{Filename: "a.cfg", ContentType: userdata.ContentTypeCloudConfig, Content: "#cloud-config\nruncmd: [[true]]\n"},
		{Filename: "b.cfg", ContentType: userdata.ContentTypeCloudConfig, Content: "#cloud-config\nwrite_files: [{path: /x, content: \"caf\u00e9\"}]\n"},
	}
	user := "#!/bin/sh\necho hi\n"
	raw, err := userdata.Render(in, user)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parts(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]userdata.Part(nil), in...), userdata.Part{Filename: userdata.UserPartFilename, ContentType: userdata.ContentTypeShellScript, Content: user})
	if len(got) != len(want) {
		t.Fatalf("got %d parts, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != (Part{Filename: want[i].Filename, ContentType: want[i].ContentType, Content: want[i].Content}) {
			t.Errorf("part %d: got %+v, want %+v", i, got[i], want[i])
		}
	}

	single, err := Parts([]byte(user))
	if err != nil || len(single) != 1 || single[0].Content != user || single[0].ContentType != userdata.ContentTypeShellScript {
		t.Errorf("a single script: %+v, %v", single, err)
	}
}
