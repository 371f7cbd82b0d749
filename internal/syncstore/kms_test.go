package syncstore

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

func TestValidateKMSKeyID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"1234abcd-12ab-34cd-56ef-1234567890ab", true},
		{"mrk-1234abcd12ab34cd56ef1234567890ab", true},
		{"alias/aws/ssm", true},
		{"alias/clone-sync_keys/web", true},
		{"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", true},
		{"arn:aws:kms:eu-west-2:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab", true},
		{"arn:aws:kms:us-east-1:123456789012:alias/clone-sync", true},
		{"arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/clone-sync", true},
		{"arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", true},
		{"", false},
		{"clone-sync", false},
		{"alias/", false},
		{"alias/aws", false},
		{"alias/with space", false},
		{"alias/x\ny", false},
		{"1234abcd-12ab-34cd-56ef", false},
		{"arn:aws:kms:us-east-1:123456789012:key/clone-sync", false},
		{"arn:aws:kms:us-east-1:1234:alias/clone-sync", false},
		{"arn:aws:s3:::bucket", false},
		{"arn:aws:kms:us-east-1:123456789012:alias/", false},
		{"alias/" + strings.Repeat("a", 2048), false},
	} {
		if err := ValidateKMSKeyID(tc.id); (err == nil) != tc.ok {
			t.Errorf("ValidateKMSKeyID(%q) = %v, want ok %v", tc.id, err, tc.ok)
		}
	}
}

func TestRecordKMSKeyIDFrom(t *testing.T) {
	const arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	for _, tc := range []struct {
		name                string
		configured, onWrite string
		reported, want      string
		wantOK              bool
	}{
		{"default", "", "", "alias/aws/ssm", "", true},
		{"default reported at write", "", "alias/aws/ssm", "alias/aws/ssm", "", true},
		{"explicit default", "alias/aws/ssm", "", "alias/aws/ssm", "alias/aws/ssm", true},
		{"alias as written", "alias/clone", "", "alias/clone", "alias/clone", true},
		{"alias spelled as SSM answered", "alias/clone", arn, arn, "alias/clone", true},
		{"moved to another key", "alias/clone", arn, "alias/other", "alias/other", false},
		{"moved back to the default", "alias/clone", "alias/clone", "alias/aws/ssm", "", false},
		{"moved off the default", "", "alias/aws/ssm", arn, arn, false},
		{"no key reported", "alias/clone", "", "", "", false},
	} {
		r := Record{KMSKeyID: tc.configured, KeyParameterKeyID: tc.onWrite}
		got, ok := r.KMSKeyIDFrom(ParameterInfo{Type: ssmtypes.ParameterTypeSecureString, KeyID: tc.reported})
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s: KMSKeyIDFrom(%q) = %q, %v; want %q, %v", tc.name, tc.reported, got, ok, tc.want, tc.wantOK)
		}
	}
}

// keyStore is an API holding one SecureString, as SSM would.
type keyStore struct {
	API
	value, keyID string
	version      int64
}

func (k *keyStore) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if !aws.ToBool(in.WithDecryption) {
		return nil, &ssmtypes.InvalidKeyId{Message: aws.String("test reads only with decryption")}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(k.value), Version: k.version}}, nil
}

func (k *keyStore) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	k.value, k.keyID = aws.ToString(in.Value), aws.ToString(in.KeyId)
	k.version++
	return &ssm.PutParameterOutput{Version: k.version}, nil
}

func TestReencryptPrivateKey(t *testing.T) {
	pem, pub, err := syncagent.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	fp, err := syncagent.KeyFingerprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k := &keyStore{}
	if v, err := PutPrivateKey(ctx, k, "web", pem, ""); err != nil || v != 1 || k.keyID != DefaultKMSKeyID {
		t.Fatalf("PutPrivateKey = %d, %v; key id %q", v, err, k.keyID)
	}
	if v, err := ReencryptPrivateKey(ctx, k, "web", "alias/clone", fp); err != nil || v != 2 || k.keyID != "alias/clone" || k.value != string(pem) {
		t.Fatalf("ReencryptPrivateKey = %d, %v; key id %q, key kept %v", v, err, k.keyID, k.value == string(pem))
	}
	if _, err := ReencryptPrivateKey(ctx, k, "web", "", "SHA256:zzJjKpoBJOV+1N8vyX9RsXDfdbrF+Mi956l15MwXsDo"); err == nil || k.version != 2 {
		t.Errorf("re-encrypting another key: err %v, version %d", err, k.version)
	}
	k.value = "not a key"
	if _, err := ReencryptPrivateKey(ctx, k, "web", "", fp); err == nil || strings.Contains(err.Error(), "not a key") {
		t.Errorf("re-encrypting a foreign value: err %v", err)
	}
}
