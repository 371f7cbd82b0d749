package syncstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

type ssmSendCommand = ssm.SendCommandInput

type fakeParameter struct {
	value   string
	kind    ssmtypes.ParameterType
	version int64
	keyID   string
}

// fakeSSM is SSM in memory, plus the EC2 master lookup. Every call is
// recorded as "Action target"; fail may answer any of them with an error.
// Commands succeed at once unless commandFails says otherwise.
type fakeSSM struct {
	API // nil: a call the fake does not implement panics
	t   *testing.T

	params  map[string]*fakeParameter
	docs    map[string]string
	tags    map[string]map[string]string
	masters map[string]string
	sent    []*ssm.SendCommandInput

	calls []string
	fail  func(call string) error
	// commandFails, when set, fails the command sent by in.
	commandFails func(in *ssmSendCommand) bool
	failed       map[string]bool
}

const (
	testMaster      = "i-0aaaaaaaaaaaaaaaa"
	testOtherMaster = "i-0bbbbbbbbbbbbbbbb"
)

func newFakeSSM(t *testing.T) *fakeSSM {
	return &fakeSSM{
		t:       t,
		params:  map[string]*fakeParameter{},
		docs:    map[string]string{},
		tags:    map[string]map[string]string{},
		masters: map[string]string{testMaster: "10.0.1.10", testOtherMaster: "10.0.1.20"},
		failed:  map[string]bool{},
	}
}

func (f *fakeSSM) env() Env {
	return Env{
		SSM: f,
		FindMaster: func(_ context.Context, id string) (string, error) {
			if err := f.call("FindMaster", id); err != nil {
				return "", err
			}
			address, ok := f.masters[id]
			if !ok {
				return "", notfound.New("master instance", id)
			}
			return address, nil
		},
		Progress: func(msg string) { f.t.Log(msg) },
	}
}

func (f *fakeSSM) call(action, target string) error {
	c := action + " " + target
	f.calls = append(f.calls, c)
	if f.fail != nil {
		return f.fail(c)
	}
	return nil
}

// failOn fails the calls listed with an SSM internal error.
func failOn(calls ...string) func(string) error {
	return func(c string) error {
		if slices.Contains(calls, c) {
			return &ssmtypes.InternalServerError{Message: aws.String("injected failure of " + c)}
		}
		return nil
	}
}

// writes returns the recorded calls that change something.
func (f *fakeSSM) writes() []string {
	var out []string
	for _, c := range f.calls {
		for _, w := range []string{"PutParameter", "DeleteParameters", "CreateDocument", "UpdateDocument", "DeleteDocument",
			"AddTagsToResource", "RemoveTagsFromResource", "SendCommand"} {
			if strings.HasPrefix(c, w+" ") {
				out = append(out, c)
			}
		}
	}
	return out
}

func (f *fakeSSM) reset() { f.calls, f.sent = nil, nil }

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	name := aws.ToString(in.Name)
	if err := f.call("GetParameter", name); err != nil {
		return nil, err
	}
	p, ok := f.params[name]
	if !ok {
		return nil, &ssmtypes.ParameterNotFound{}
	}
	if p.kind == ssmtypes.ParameterTypeSecureString && !aws.ToBool(in.WithDecryption) {
		return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String("encrypted"), Version: p.version}}, nil
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(p.value), Version: p.version}}, nil
}

func (f *fakeSSM) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	name := aws.ToString(in.Name)
	if err := f.call("PutParameter", name); err != nil {
		return nil, err
	}
	p, ok := f.params[name]
	if ok && !aws.ToBool(in.Overwrite) {
		return nil, &ssmtypes.ParameterAlreadyExists{}
	}
	if !ok {
		p = &fakeParameter{}
		f.params[name] = p
		f.tags[name] = tagMap(in.Tags)
	}
	p.value, p.kind, p.keyID = aws.ToString(in.Value), in.Type, ""
	if p.kind == ssmtypes.ParameterTypeSecureString {
		p.keyID = EffectiveKMSKeyID(aws.ToString(in.KeyId))
	}
	p.version++
	return &ssm.PutParameterOutput{Version: p.version}, nil
}

func (f *fakeSSM) DeleteParameters(_ context.Context, in *ssm.DeleteParametersInput, _ ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error) {
	if err := f.call("DeleteParameters", strings.Join(in.Names, ",")); err != nil {
		return nil, err
	}
	out := &ssm.DeleteParametersOutput{}
	for _, n := range in.Names {
		if _, ok := f.params[n]; ok {
			delete(f.params, n)
			delete(f.tags, n)
			out.DeletedParameters = append(out.DeletedParameters, n)
		} else {
			out.InvalidParameters = append(out.InvalidParameters, n)
		}
	}
	return out, nil
}

func (f *fakeSSM) DescribeParameters(_ context.Context, in *ssm.DescribeParametersInput, _ ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error) {
	name := in.ParameterFilters[0].Values[0]
	if err := f.call("DescribeParameters", name); err != nil {
		return nil, err
	}
	out := &ssm.DescribeParametersOutput{}
	if p, ok := f.params[name]; ok {
		meta := ssmtypes.ParameterMetadata{Name: aws.String(name), Type: p.kind, Version: p.version}
		if p.keyID != "" {
			meta.KeyId = aws.String(p.keyID)
		}
		out.Parameters = append(out.Parameters, meta)
	}
	return out, nil
}

func (f *fakeSSM) ListTagsForResource(_ context.Context, in *ssm.ListTagsForResourceInput, _ ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error) {
	id := aws.ToString(in.ResourceId)
	if err := f.call("ListTagsForResource", id); err != nil {
		return nil, err
	}
	return &ssm.ListTagsForResourceOutput{TagList: tagList(f.tags[id])}, nil
}

func (f *fakeSSM) AddTagsToResource(_ context.Context, in *ssm.AddTagsToResourceInput, _ ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error) {
	id := aws.ToString(in.ResourceId)
	if err := f.call("AddTagsToResource", id); err != nil {
		return nil, err
	}
	if f.tags[id] == nil {
		f.tags[id] = map[string]string{}
	}
	maps.Copy(f.tags[id], tagMap(in.Tags))
	return &ssm.AddTagsToResourceOutput{}, nil
}

func (f *fakeSSM) RemoveTagsFromResource(_ context.Context, in *ssm.RemoveTagsFromResourceInput, _ ...func(*ssm.Options)) (*ssm.RemoveTagsFromResourceOutput, error) {
	id := aws.ToString(in.ResourceId)
	if err := f.call("RemoveTagsFromResource", id); err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(f.tags[id], k)
	}
	return &ssm.RemoveTagsFromResourceOutput{}, nil
}

func (f *fakeSSM) GetDocument(_ context.Context, in *ssm.GetDocumentInput, _ ...func(*ssm.Options)) (*ssm.GetDocumentOutput, error) {
	name := aws.ToString(in.Name)
	if err := f.call("GetDocument", name); err != nil {
		return nil, err
	}
	content, ok := f.docs[name]
	if !ok {
		return nil, &ssmtypes.InvalidDocument{}
	}
	return &ssm.GetDocumentOutput{Name: in.Name, Content: aws.String(content)}, nil
}

func (f *fakeSSM) CreateDocument(_ context.Context, in *ssm.CreateDocumentInput, _ ...func(*ssm.Options)) (*ssm.CreateDocumentOutput, error) {
	name := aws.ToString(in.Name)
	if err := f.call("CreateDocument", name); err != nil {
		return nil, err
	}
	if _, ok := f.docs[name]; ok {
		return nil, &ssmtypes.DocumentAlreadyExists{}
	}
	f.docs[name], f.tags[name] = aws.ToString(in.Content), tagMap(in.Tags)
	return &ssm.CreateDocumentOutput{}, nil
}

func (f *fakeSSM) UpdateDocument(_ context.Context, in *ssm.UpdateDocumentInput, _ ...func(*ssm.Options)) (*ssm.UpdateDocumentOutput, error) {
	name := aws.ToString(in.Name)
	if err := f.call("UpdateDocument", name); err != nil {
		return nil, err
	}
	if f.docs[name] == aws.ToString(in.Content) {
		return nil, &ssmtypes.DuplicateDocumentContent{}
	}
	f.docs[name] = aws.ToString(in.Content)
	return &ssm.UpdateDocumentOutput{DocumentDescription: &ssmtypes.DocumentDescription{DocumentVersion: aws.String("2")}}, nil
}

func (f *fakeSSM) UpdateDocumentDefaultVersion(_ context.Context, in *ssm.UpdateDocumentDefaultVersionInput, _ ...func(*ssm.Options)) (*ssm.UpdateDocumentDefaultVersionOutput, error) {
	if err := f.call("UpdateDocumentDefaultVersion", aws.ToString(in.Name)); err != nil {
		return nil, err
	}
	return &ssm.UpdateDocumentDefaultVersionOutput{}, nil
}

func (f *fakeSSM) DeleteDocument(_ context.Context, in *ssm.DeleteDocumentInput, _ ...func(*ssm.Options)) (*ssm.DeleteDocumentOutput, error) {
	name := aws.ToString(in.Name)
	if err := f.call("DeleteDocument", name); err != nil {
		return nil, err
	}
	if _, ok := f.docs[name]; !ok {
		return nil, &ssmtypes.InvalidDocument{}
	}
	delete(f.docs, name)
	delete(f.tags, name)
	return &ssm.DeleteDocumentOutput{}, nil
}

// SendCommand records a key command as "SendCommand AWS-RunShellScript
// INSTANCE" and a sync now as "SendCommand DOCUMENT tag:KEY=VALUE".
func (f *fakeSSM) SendCommand(_ context.Context, in *ssm.SendCommandInput, _ ...func(*ssm.Options)) (*ssm.SendCommandOutput, error) {
	target := strings.Join(in.InstanceIds, ",")
	for _, t := range in.Targets {
		target += aws.ToString(t.Key) + "=" + strings.Join(t.Values, ",")
	}
	if err := f.call("SendCommand", aws.ToString(in.DocumentName)+" "+target); err != nil {
		return nil, err
	}
	f.sent = append(f.sent, in)
	id := fmt.Sprintf("cmd-%d", len(f.sent))
	f.failed[id] = f.commandFails != nil && f.commandFails(in)
	return &ssm.SendCommandOutput{Command: &ssmtypes.Command{CommandId: aws.String(id)}}, nil
}

func (f *fakeSSM) GetCommandInvocation(_ context.Context, in *ssm.GetCommandInvocationInput, _ ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error) {
	id := aws.ToString(in.CommandId)
	if err := f.call("GetCommandInvocation", id); err != nil {
		return nil, err
	}
	if f.failed[id] {
		return &ssm.GetCommandInvocationOutput{Status: ssmtypes.CommandInvocationStatusFailed, StandardErrorContent: aws.String("sshd user is locked")}, nil
	}
	return &ssm.GetCommandInvocationOutput{Status: ssmtypes.CommandInvocationStatusSuccess}, nil
}

// keyScripts returns the scripts of the key commands sent to instance.
func (f *fakeSSM) keyScripts(instance string) []string {
	var out []string
	for _, in := range f.sent {
		if aws.ToString(in.DocumentName) == ShellDocument && slices.Equal(in.InstanceIds, []string{instance}) {
			out = append(out, in.Parameters["commands"][0])
		}
	}
	return out
}

func tagMap(tags []ssmtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func tagList(m map[string]string) []ssmtypes.Tag {
	var out []ssmtypes.Tag
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// installs reports whether script installs line; revokes whether it
// removes the key blob of pub.
func installs(script, line string) bool {
	return strings.Contains(script, "\nline="+syncagent.ShellQuote(line)+"\n")
}

func revokes(t *testing.T, script, pub string) bool {
	t.Helper()
	blob, err := syncagent.KeyBlob(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(script, syncagent.ShellQuote(" "+blob))
}
