package syncstore

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

// Unit tests of what the drift table (internal/provider/drift_*_test.go)
// found the sync store doing wrong after a change out of band.

// TestApplyWritesAPolicyParameterDeletedOutOfBandAgain: a policy whose
// policy parameter was deleted, its other objects left, is damaged, not
// gone. Leftovers names what is left, and an update with a new key (the
// public key went with the parameter) writes the policy parameter again.
func TestApplyWritesAPolicyParameterDeletedOutOfBandAgain(t *testing.T) {
	f, want, prior, _ := created(t)
	ctx := context.Background()
	if _, err := f.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{policyParam}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Observe(ctx, f, "web"); !notfound.Is(err) {
		t.Fatalf("Observe = %v, want not found", err)
	}
	left, err := Leftovers(ctx, f, "web")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"parameter " + keyParam, "parameter " + pathsParam, "document " + document}; !slices.Equal(left, want) {
		t.Fatalf("Leftovers = %q, want %q", left, want)
	}

	want.RotateKey = true
	res, err := Apply(ctx, f.env(), want, prior)
	if err != nil {
		t.Fatalf("Apply = %v", err)
	}
	rec, err := FindRecord(ctx, f, "web")
	if err != nil {
		t.Fatalf("the policy parameter was not written again: %v", err)
	}
	if rec.KeyFingerprint != res.Record.KeyFingerprint || rec.KeyParameterVersion == 0 || rec.MasterAddress == "" {
		t.Errorf("record %+v, want the new key %s, its parameter's version and the master's address", rec, res.Record.KeyFingerprint)
	}
	if o := observe(t, f); !o.PathsCurrent || !o.KeyCurrent || !o.DocumentPresent {
		t.Errorf("after the apply: %+v", o)
	}

	// Without a new key the update cannot know the public key: it fails.
	if _, err := f.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{policyParam}}); err != nil {
		t.Fatal(err)
	}
	want.RotateKey = false
	if _, err := Apply(ctx, f.env(), want, prior); !notfound.Is(err) {
		t.Errorf("Apply without a new key = %v, want not found", err)
	}
}
