package syncstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/hashicorp/aws-sdk-go-base/v2/logging"

	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

// DefaultKMSKeyID is the AWS-managed key SSM encrypts SecureString
// parameters with when no key is given. The private key is written with it
// explicitly, so that leaving a customer key returns the parameter to it.
const DefaultKMSKeyID = "alias/aws/ssm"

const (
	kmsKeyUUID  = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`
	kmsKeyMRK   = `mrk-[0-9a-fA-F]{32}`
	kmsAlias    = `alias/[A-Za-z0-9/_-]+`
	kmsARNStart = `arn:aws(-[a-z]+)*:kms:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:`
)

var kmsKeyIDRegexp = regexp.MustCompile(`^(` + kmsKeyUUID + `|` + kmsKeyMRK + `|` + kmsAlias + `|` +
	kmsARNStart + `(key/(` + kmsKeyUUID + `|` + kmsKeyMRK + `)|` + kmsAlias + `))$`)

// ValidateKMSKeyID checks the shape of a KMS key reference as PutParameter
// takes it: a key id, an alias (alias/NAME), or the ARN of a key or alias.
// It cannot tell whether the key exists.
func ValidateKMSKeyID(id string) error {
	switch {
	case len(id) > 2048:
		return errors.New("must be at most 2048 characters")
	case id == "alias/" || id == "alias/aws" || id == "alias/aws/":
		return fmt.Errorf("alias %q names no key", id)
	case !kmsKeyIDRegexp.MatchString(id):
		return fmt.Errorf("must be a KMS key id (1234abcd-12ab-34cd-56ef-1234567890ab or mrk-...), an alias "+
			"(alias/NAME) or a key or alias ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or :alias/NAME), got %q", id)
	}
	return nil
}

// EffectiveKMSKeyID is the key a SecureString written with kmsKeyID is
// encrypted with: kmsKeyID, or DefaultKMSKeyID when it is empty.
func EffectiveKMSKeyID(kmsKeyID string) string {
	if kmsKeyID == "" {
		return DefaultKMSKeyID
	}
	return kmsKeyID
}

// ReencryptPrivateKey rewrites the policy's private key, unchanged, with
// kmsKeyID (empty: DefaultKMSKeyID) and returns the parameter's new
// version. It refuses when the stored key's fingerprint is not fingerprint:
// a key replaced out of band is rotated, not carried over. The caller needs
// kms:Decrypt on the current key and kms:Encrypt on the new one. The key is
// read and written with SDK request logging off and never leaves this
// function.
func ReencryptPrivateKey(ctx context.Context, api API, name, kmsKeyID, fingerprint string) (int64, error) {
	parameter := NamesOf(name).KeyParameter
	quiet := logging.RegisterLogger(ctx, logging.NullLogger{})
	out, err := api.GetParameter(quiet, &ssm.GetParameterInput{Name: aws.String(parameter), WithDecryption: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("reading parameter %s to re-encrypt it: %w", parameter, err)
	}
	key := []byte(aws.ToString(out.Parameter.Value))
	got, err := syncagent.PrivateKeyFingerprint(key)
	if err != nil {
		return 0, fmt.Errorf("parameter %s does not hold a private key this provider wrote; rotate the key (rotate_key_trigger) instead", parameter)
	}
	if got != fingerprint {
		return 0, fmt.Errorf("parameter %s holds key %s, not the policy's key %s; refresh and plan again so that the key is rotated", parameter, got, fingerprint)
	}
	return PutPrivateKey(ctx, api, name, key, kmsKeyID)
}

// KMSKeyIDFrom returns the kms_key_id of the policy as seen in key, the
// private key parameter's metadata: r.KMSKeyID while SSM reports the key r
// was written with (in the spelling of the request or of SSM's answer to
// it), otherwise the reported key, empty for DefaultKMSKeyID. ok is false
// on such drift.
func (r Record) KMSKeyIDFrom(key ParameterInfo) (kmsKeyID string, ok bool) {
	if key.KeyID == EffectiveKMSKeyID(r.KMSKeyID) || (r.KeyParameterKeyID != "" && key.KeyID == r.KeyParameterKeyID) {
		return r.KMSKeyID, true
	}
	if key.KeyID == DefaultKMSKeyID {
		return "", false
	}
	return key.KeyID, false
}
