package userdata

import "testing"

func TestSplit(t *testing.T) {
	in := []Part{
		{Filename: "a.cfg", ContentType: ContentTypeCloudConfig, Content: "#cloud-config\nruncmd: [[true]]\n"},
		{Filename: "b.cfg", ContentType: ContentTypeCloudConfig, Content: "#cloud-config\nwrite_files: [{path: /x, content: \"caf\u00e9\"}]\n"},
	}
	user := "#!/bin/sh\necho hi\n"
	raw, err := Render(in, user)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Split(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]Part(nil), in...), Part{Filename: UserPartFilename, ContentType: ContentTypeShellScript, Content: user})
	if len(got) != len(want) {
		t.Fatalf("got %d parts, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != (Part{Filename: want[i].Filename, ContentType: want[i].ContentType, Content: want[i].Content}) {
			t.Errorf("part %d: got %+v, want %+v", i, got[i], want[i])
		}
	}

	single, err := Split([]byte(user))
	if err != nil || len(single) != 1 || single[0].Content != user || single[0].ContentType != ContentTypeShellScript {
		t.Errorf("a single script: %+v, %v", single, err)
	}
}
