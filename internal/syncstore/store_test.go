package syncstore

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

type fakeParameters map[string]string

func (f fakeParameters) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	v, ok := f[aws.ToString(in.Name)]
	if !ok {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("no such parameter")}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(v)}}, nil
}

func TestNamesOf(t *testing.T) {
	n := NamesOf("web")
	want := Names{"/clone-sync/web/private-key", "/clone-sync/web/paths", "/clone-sync/web/policy", "clone-sync-web"}
	if n != want {
		t.Errorf("NamesOf(web) = %+v, want %+v", n, want)
	}
}

func testRecord(name string) Record {
	n := NamesOf(name)
	return Record{
		Version: RecordVersion, Name: name, MasterInstanceID: "i-0123456789abcdef0", MasterAddress: "10.0.1.10",
		SSHUser: "clone-sync", SSHPort: 22, Interval: "2m", BandwidthLimitKbps: 800,
		KeyParameter: n.KeyParameter, PathsParameter: n.PathsParameter, DocumentName: n.Document,
	}
}

func TestLoadPolicy(t *testing.T) {
	paths := []syncagent.Path{{Source: "/srv/app/www", Destination: "/var/www", Exclude: []string{"*.tmp"}, Delete: true}}
	doc, err := syncagent.PathsJSON(paths, "SHA256:zzJjKpoBJOV+1N8vyX9RsXDfdbrF+Mi956l15MwXsDo")
	if err != nil {
		t.Fatal(err)
	}
	record, _ := json.Marshal(testRecord("web"))
	api := fakeParameters{"/clone-sync/web/policy": string(record), "/clone-sync/web/paths": doc}

	p, err := LoadPolicy(context.Background(), api, "web")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "web" || p.MasterAddress != "10.0.1.10" || p.Interval != 2*time.Minute || p.BandwidthLimitKbps != 800 ||
		p.KeyParameter != "/clone-sync/web/private-key" || p.PathsParameter != "/clone-sync/web/paths" ||
		p.StatusFile != syncagent.DefaultStatusFile || len(p.Paths) != 1 || p.Paths[0].Exclude[0] != "*.tmp" ||
		p.AutoScalingGroupName != "" || p.LifecycleHookName != "" {
		t.Errorf("LoadPolicy = %+v", p)
	}
	p.AutoScalingGroupName, p.LifecycleHookName = "web-pool", "web-pool-first-sync"
	if !strings.Contains(syncagent.RenderCloudInitPart(p), "#cloud-config") {
		t.Error("the loaded policy does not render")
	}

	if _, err := LoadPolicy(context.Background(), api, "api"); !notfound.Is(err) {
		t.Errorf("missing policy: err = %v, want a notfound.Error", err)
	}
	delete(api, "/clone-sync/web/paths")
	if _, err := LoadPolicy(context.Background(), api, "web"); !notfound.Is(err) {
		t.Errorf("missing paths: err = %v, want a notfound.Error", err)
	}
}

func TestFindPathsKeyFingerprint(t *testing.T) {
	const fp = "SHA256:zzJjKpoBJOV+1N8vyX9RsXDfdbrF+Mi956l15MwXsDo"
	doc, err := syncagent.PathsJSON([]syncagent.Path{{Source: "/srv/app/www", Destination: "/var/www"}}, fp)
	if err != nil {
		t.Fatal(err)
	}
	api := fakeParameters{"/clone-sync/web/paths": doc}
	if list, err := FindPaths(context.Background(), api, "web"); err != nil || list.KeyFingerprint != fp || list.Root != "/srv/app/www" {
		t.Errorf("FindPaths = %+v, %v", list, err)
	}
	api["/clone-sync/web/paths"] = `{"version":1,"root":"/srv/app/www","paths":[{"source":"/srv/app/www","destination":"/var/www","exclude":[],"delete":false}]}`
	if list, err := FindPaths(context.Background(), api, "web"); err != nil || list.KeyFingerprint != "" || len(list.Paths) != 1 {
		t.Errorf("FindPaths of a version 1 list = %+v, %v", list, err)
	}
}

func TestFindRecordRefusesForeignContent(t *testing.T) {
	other := testRecord("other")
	b, _ := json.Marshal(other)
	bad := testRecord("web")
	bad.Interval = "10s"
	badJSON, _ := json.Marshal(bad)
	for name, value := range map[string]string{
		"not json":     "hello",
		"other policy": string(b),
		"no version":   `{"name":"web"}`,
	} {
		api := fakeParameters{"/clone-sync/web/policy": value}
		if _, err := FindRecord(context.Background(), api, "web"); err == nil || notfound.Is(err) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := bad.Policy(nil); err == nil {
		t.Errorf("a record with interval 10s passed validation: %s", badJSON)
	}
}

func TestRedact(t *testing.T) {
	pem, _, err := syncagent.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	escaped, _ := json.Marshal(string(pem))
	lines := strings.Split(strings.TrimSpace(string(pem)), "\n")
	for _, s := range []string{
		"error: " + string(pem),
		"body: " + string(escaped),
		"echo: value " + lines[1] + " rejected",
	} {
		got := Redact(s, pem)
		for _, l := range lines[1 : len(lines)-1] {
			if strings.Contains(got, l) {
				t.Errorf("Redact left key material in %q", got)
			}
		}
	}
}
