package syncstore

import (
	"context"
	"fmt"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

// Observed is a policy as found in SSM. Objects deleted or changed out of
// band are reported, not repaired: the next Apply writes them again.
type Observed struct {
	// Record is the policy parameter.
	Record Record
	// Paths is the path list; nil when the paths parameter is missing.
	Paths *syncagent.PathList
	// PathsCurrent is false when the paths parameter is missing or names
	// another key than Record (an interrupted rotation or a version 1 list).
	PathsCurrent bool
	// KeyPresent is false when the private key parameter is missing.
	KeyPresent bool
	// KeyCurrent is false when the private key parameter is missing or
	// not the SecureString version this provider wrote: the key must rotate.
	KeyCurrent bool
	// KMSKeyID is the kms_key_id as the private key parameter shows it:
	// Record.KMSKeyID unless the parameter was re-encrypted out of band.
	KMSKeyID string
	// DocumentPresent is false when the document is missing.
	DocumentPresent bool
	// Tags are the policy parameter's, which stand for the policy's.
	Tags map[string]string
	// Drift says what was found changed, a line each, for the logs.
	Drift []string
}

// Observe reads policy name: the policy parameter (a notfound.Error when
// it is missing: the policy is gone), the path list, the private key's
// metadata, the document and the tags, one call each.
func Observe(ctx context.Context, api API, name string) (Observed, error) {
	rec, err := FindRecord(ctx, api, name)
	if err != nil {
		return Observed{}, err
	}
	o := Observed{Record: rec, KMSKeyID: rec.KMSKeyID}
	names := NamesOf(name)

	list, err := FindPaths(ctx, api, name)
	switch {
	case notfound.Is(err):
		o.drift("paths parameter %s was deleted; the next apply recreates it", names.PathsParameter)
	case err != nil:
		return Observed{}, err
	default:
		o.Paths, o.PathsCurrent = &list, list.KeyFingerprint == rec.KeyFingerprint
		if !o.PathsCurrent {
			o.drift("paths parameter %s names key %q, not the policy's key %s (an interrupted rotation or a version 1 path list); "+
				"clones refuse to sync until the next apply rewrites it", names.PathsParameter, list.KeyFingerprint, rec.KeyFingerprint)
		}
	}

	if err := o.observeKey(ctx, api, names.KeyParameter); err != nil {
		return Observed{}, err
	}

	_, err = FindDocument(ctx, api, name)
	switch {
	case notfound.Is(err):
		o.drift("document %s was deleted; the next apply recreates it", names.Document)
	case err != nil:
		return Observed{}, err
	default:
		o.DocumentPresent = true
	}

	if o.Tags, err = FindTags(ctx, api, name); err != nil {
		return Observed{}, err
	}
	return o, nil
}

func (o *Observed) observeKey(ctx context.Context, api API, parameter string) error {
	rec := o.Record
	key, err := FindParameterInfo(ctx, api, parameter)
	switch {
	case notfound.Is(err):
		o.drift("private key parameter %s was deleted; the next apply rotates the key", parameter)
		return nil
	case err != nil:
		return err
	}
	o.KeyPresent = true
	o.KeyCurrent = key.Type == ssmtypes.ParameterTypeSecureString && key.Version == rec.KeyParameterVersion
	if !o.KeyCurrent {
		o.drift("private key parameter %s was changed outside Terraform (%s version %d, expected version %d); the next apply rotates the key",
			parameter, key.Type, key.Version, rec.KeyParameterVersion)
	}
	if kmsKeyID, ok := rec.KMSKeyIDFrom(key); !ok {
		if key.Type == ssmtypes.ParameterTypeSecureString {
			o.drift("private key parameter %s is encrypted with KMS key %q, not kms_key_id %s; the next apply re-encrypts it",
				parameter, key.KeyID, EffectiveKMSKeyID(rec.KMSKeyID))
		}
		o.KMSKeyID = kmsKeyID
	}
	return nil
}

func (o *Observed) drift(format string, args ...any) {
	o.Drift = append(o.Drift, fmt.Sprintf(format, args...))
}

// Leftovers lists, by name, the objects of policy name that exist: the
// document and the key and paths parameters. Read asks when the policy
// parameter is gone: with leftovers, the policy was damaged out of band,
// not deleted, and the next apply writes the policy parameter again.
func Leftovers(ctx context.Context, api API, name string) ([]string, error) {
	names := NamesOf(name)
	var left []string
	for _, p := range []string{names.KeyParameter, names.PathsParameter} {
		_, err := FindParameterInfo(ctx, api, p)
		switch {
		case err == nil:
			left = append(left, "parameter "+p)
		case !notfound.Is(err):
			return nil, err
		}
	}
	_, err := FindDocument(ctx, api, name)
	switch {
	case err == nil:
		left = append(left, "document "+names.Document)
	case !notfound.Is(err):
		return nil, err
	}
	return left, nil
}
