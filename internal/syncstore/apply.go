package syncstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

// Desired is a policy as configured, in plain values.
type Desired struct {
	Name               string
	MasterInstanceID   string
	Paths              []syncagent.Path
	SSHUser            string
	SSHPort            int
	Interval           string
	BandwidthLimitKbps int
	InstallOnMaster    bool
	RotateKeyTrigger   *string
	// KMSKeyID is empty for DefaultKMSKeyID.
	KMSKeyID string
	// Tags go on every SSM object of the policy.
	Tags map[string]string
	// RotateKey asks for a new key pair. Apply makes one on create anyway.
	RotateKey bool
	// ResolveMaster asks for the master's address to be looked up although
	// the master instance is the same. Apply looks it up on create and when
	// the master instance changed anyway.
	ResolveMaster bool
}

// Prior is what the last apply left, as Terraform recorded it.
type Prior struct {
	MasterInstanceID   string
	SSHUser            string
	SSHPort            int
	Interval           string
	BandwidthLimitKbps int
	InstallOnMaster    bool
	KMSKeyID           string
	// AuthorizedKey is the line installed on the master, which Destroy
	// revokes; empty when unknown.
	AuthorizedKey string
}

// MasterFinder returns the private IP address of the master instance.
type MasterFinder func(ctx context.Context, instanceID string) (string, error)

// Env is what Apply and Destroy work with.
type Env struct {
	SSM        API
	FindMaster MasterFinder
	// Progress, when set, receives a line for each step, for the logs.
	Progress func(string)
}

func (e Env) progress(msg string) {
	if e.Progress != nil {
		e.Progress(msg)
	}
}

// Warning is a problem that does not fail the operation, such as a key
// that could not be revoked on a master that may be gone.
type Warning struct {
	Summary string
	Detail  string
}

// Result is the policy as Apply left it.
type Result struct {
	// Record is the policy parameter as written.
	Record Record
	// AuthorizedKey is the master's authorized_keys line for the key.
	AuthorizedKey string
	// UserData is the stand-alone agent's cloud-init part.
	UserData string
	// Warnings are returned with or without an error.
	Warnings []Warning
}

// Apply brings the policy's SSM objects, the master's authorized_keys and
// the clones to want; prior is nil on create. Its rules, in order:
//
//  1. On update the policy parameter is read once, first; nothing else is
//     read twice. The master's address is looked up (FindMaster) on
//     create, when the master instance changed and on ResolveMaster only.
//  2. A sync root that moved without a new key is refused before anything
//     is written: the key would be confined to the wrong directory.
//  3. On create the policy parameter is written first, without
//     overwrite, to claim the name: an existing policy is an error wrapping
//     ErrAlreadyExists and nothing of it is touched. If any later step
//     fails, the key installed on the master is revoked and every object of
//     the policy deleted again (failures there are warnings).
//  4. The master comes before SSM. On update the old key is revoked on the
//     old master and user first when the master, the user or
//     install_on_master changed; a failed revoke is only a warning. Then the
//     new line is installed (with install_on_master, on create, rotation,
//     a new master or user, or install_on_master turned on), removing the
//     old key in the same script on rotation; a failed install is an error
//     and leaves SSM as it was. So the new key is authorized on the master
//     before any clone can read it, and the old one is gone when it is.
//  5. SSM is written in this order: the paths parameter (only when its
//     content changed), the private key (a new key on rotation, the same
//     key re-encrypted when kms_key_id changed), the policy parameter
//     (only when its content changed), the document, the tags. The path
//     list names its key's fingerprint and the agent refuses any other key,
//     so every state between two writes is consistent or refused, and a
//     failure between them leaves a path list naming another key than the
//     policy parameter, which Observe reports as drift.
//  6. Last, on update only, "sync now" is sent to the policy's clones when
//     something they use changed: the paths, the key, the master, the ssh
//     user or port, the interval or the bandwidth limit. Tags do not count.
//
// Run again with nothing changed, Apply reads and writes nothing else.
func Apply(ctx context.Context, env Env, want Desired, prior *Prior) (Result, error) {
	r, err := prepare(ctx, env, want, prior)
	if err != nil {
		return Result{}, err
	}
	if prior == nil {
		err = r.create(ctx)
	} else {
		err = r.update(ctx)
	}
	return Result{Record: r.rec, AuthorizedKey: r.line, UserData: syncagent.RenderCloudInitPart(r.policy), Warnings: r.warnings}, err
}

// Destroy is Apply's mirror: it revokes prior's key on the master when it
// was installed there (a failure is only a warning: the master may be
// gone), then deletes the policy's document and parameters. Objects
// already gone are not an error.
func Destroy(ctx context.Context, env Env, name string, prior Prior) ([]Warning, error) {
	r := &run{env: env, want: Desired{Name: name}}
	if prior.InstallOnMaster {
		r.revoke(ctx, prior.MasterInstanceID, prior.SSHUser, prior.AuthorizedKey)
	}
	env.progress("deleting the sync policy's SSM document and parameters")
	return r.warnings, Delete(ctx, env.SSM, name)
}

// run is one Apply: the decisions made up front and what it did so far.
type run struct {
	env   Env
	want  Desired
	prior *Prior
	// old is the policy parameter before the apply; zero on create.
	old Record
	// rec is the policy parameter to write.
	rec         Record
	policy      syncagent.Policy
	privateKey  []byte
	line        string
	pathsDoc    string
	rotate      bool
	masterMoved bool
	userMoved   bool
	warnings    []Warning
}

func prepare(ctx context.Context, env Env, want Desired, prior *Prior) (*run, error) {
	r := &run{env: env, want: want, prior: prior, rotate: prior == nil || want.RotateKey}
	root, err := syncagent.SyncRoot(syncagent.Sources(want.Paths))
	if err != nil {
		return nil, err
	}
	// rebuild: the policy parameter was deleted out of band, and is
	// written again from want; Read planned a new key, as the public key
	// went with it.
	rebuild := false
	if prior != nil {
		r.old, err = FindRecord(ctx, env.SSM, want.Name)
		if rebuild = notfound.Is(err) && r.rotate; err != nil && !rebuild {
			return nil, err
		}
	}
	r.masterMoved = prior == nil || want.MasterInstanceID != prior.MasterInstanceID
	r.userMoved = prior != nil && want.SSHUser != prior.SSHUser
	address := r.old.MasterAddress
	if r.masterMoved || want.ResolveMaster || rebuild {
		if address, err = env.FindMaster(ctx, want.MasterInstanceID); err != nil {
			return nil, err
		}
	}
	if !r.rotate && r.old.SyncRoot != root {
		return nil, fmt.Errorf("the key %s was issued for sync root %s, not %s: refresh and plan again so that the new root gets a new key", r.old.KeyFingerprint, r.old.SyncRoot, root)
	}
	publicKey, fingerprint := r.old.PublicKey, r.old.KeyFingerprint
	if r.rotate {
		env.progress("generating a new ed25519 key pair")
		if r.privateKey, publicKey, err = syncagent.GenerateKey(); err != nil {
			return nil, err
		}
		if fingerprint, err = syncagent.KeyFingerprint(publicKey); err != nil {
			return nil, err
		}
	}
	r.line = syncagent.AuthorizedKeyLine(publicKey, []string{root})
	if r.pathsDoc, err = syncagent.PathsJSON(want.Paths, fingerprint); err != nil {
		return nil, err
	}
	r.rec = r.record(address, root, publicKey, fingerprint)
	if r.policy, err = r.rec.Policy(want.Paths); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *run) record(address, root, publicKey, fingerprint string) Record {
	names := NamesOf(r.want.Name)
	return Record{
		Version:             RecordVersion,
		Name:                r.want.Name,
		MasterInstanceID:    r.want.MasterInstanceID,
		MasterAddress:       address,
		SSHUser:             r.want.SSHUser,
		SSHPort:             r.want.SSHPort,
		Interval:            r.want.Interval,
		BandwidthLimitKbps:  r.want.BandwidthLimitKbps,
		InstallOnMaster:     r.want.InstallOnMaster,
		RotateKeyTrigger:    r.want.RotateKeyTrigger,
		PublicKey:           publicKey,
		KeyFingerprint:      fingerprint,
		KeyParameterVersion: r.old.KeyParameterVersion,
		KMSKeyID:            r.want.KMSKeyID,
		SyncRoot:            root,
		KeyParameter:        names.KeyParameter,
		PathsParameter:      names.PathsParameter,
		DocumentName:        names.Document,
	}
}

// claimNames fails, naming it, when the document or a parameter a new
// policy would write already exists: without the policy parameter, which a
// create writes first, they are not the policy's own, and the policy never
// adopts, changes or deletes what it did not create.
func claimNames(ctx context.Context, api API, name string) error {
	names := NamesOf(name)
	if _, err := FindParameterInfo(ctx, api, names.PolicyParameter); err == nil {
		// A policy by that name: CreateRecord refuses it, with a hint to
		// import it.
		return nil
	} else if !notfound.Is(err) {
		return err
	}
	if _, err := FindDocument(ctx, api, name); err == nil {
		return foreignError(name, "SSM document", names.Document)
	} else if !notfound.Is(err) {
		return err
	}
	for _, p := range []string{names.KeyParameter, names.PathsParameter} {
		if _, err := FindParameterInfo(ctx, api, p); err == nil {
			return foreignError(name, "SSM parameter", p)
		} else if !notfound.Is(err) {
			return err
		}
	}
	return nil
}

func foreignError(policy, kind, name string) error {
	return fmt.Errorf("%s %s already exists and was not created by Clone Sync Policy (%s): "+
		"the policy never adopts, changes or deletes an object it did not create. Delete or rename that %s, or give the policy another name",
		kind, name, policy, kind)
}

func (r *run) create(ctx context.Context) error {
	name := r.want.Name
	if err := claimNames(ctx, r.env.SSM, name); err != nil {
		return err
	}
	r.rec.Creating = true
	created, err := CreateRecord(ctx, r.env.SSM, r.rec, r.want.Tags)
	if errors.Is(err, ErrAlreadyExists) {
		if err = r.takeOver(ctx, err); err == nil {
			created, err = CreateRecord(ctx, r.env.SSM, r.rec, r.want.Tags)
		}
	}
	if err != nil {
		return err
	}
	r.old.stored = created.stored
	installed := false
	err = func() error {
		if r.rec.InstallOnMaster {
			if err := r.install(ctx, nil); err != nil {
				return err
			}
			installed = true
		}
		if err := r.write(ctx); err != nil {
			return err
		}
		// Last, the policy parameter loses its Creating mark: from here on
		// the name is claimed by a finished policy.
		written := r.rec
		r.rec.Creating = false
		return PutRecord(ctx, r.env.SSM, r.rec, written)
	}()
	if err == nil {
		return nil
	}
	r.env.progress("creation failed; removing what was created: " + err.Error())
	if installed {
		r.revoke(ctx, r.rec.MasterInstanceID, r.rec.SSHUser, r.line)
	}
	if derr := Delete(ctx, r.env.SSM, name); derr != nil {
		r.warn(fmt.Sprintf("Cleaning up Clone Sync Policy (%s)", name), derr.Error())
	}
	return err
}

// takeOver removes what an interrupted create of the same policy left: its
// policy parameter still carries the Creating mark. Its key is revoked on
// the master where that create may have installed it (a failure is only a
// warning), then its document and parameters are deleted. A finished policy
// of that name is an error wrapping exists: it belongs to another
// configuration or was never imported.
func (r *run) takeOver(ctx context.Context, exists error) error {
	name := r.want.Name
	left, err := FindRecord(ctx, r.env.SSM, name)
	if err != nil && !notfound.Is(err) {
		return err
	}
	if err != nil || !left.Creating {
		return fmt.Errorf("a sync policy named %s already exists (%w); import it with terraform import", name, exists)
	}
	r.env.progress("taking over what an interrupted create of this policy left")
	if left.InstallOnMaster && left.PublicKey != "" {
		r.revoke(ctx, left.MasterInstanceID, left.SSHUser, left.PublicKey)
	}
	if err := Delete(ctx, r.env.SSM, name); err != nil {
		return fmt.Errorf("removing what an interrupted create of sync policy %s left: %w", name, err)
	}
	return nil
}

func (r *run) update(ctx context.Context) error {
	p := r.prior
	if p.InstallOnMaster && (r.masterMoved || r.userMoved || !r.rec.InstallOnMaster) {
		r.revoke(ctx, p.MasterInstanceID, p.SSHUser, r.old.PublicKey)
	}
	if r.rec.InstallOnMaster && (r.rotate || r.masterMoved || r.userMoved || !p.InstallOnMaster) {
		var revoke []string
		if blob, err := syncagent.KeyBlob(r.old.PublicKey); err == nil && r.rotate {
			revoke = append(revoke, blob)
		}
		if err := r.install(ctx, revoke); err != nil {
			return err
		}
	}
	return r.write(ctx)
}

// write makes the SSM writes in the order Apply documents.
func (r *run) write(ctx context.Context) error {
	api, name, old := r.env.SSM, r.want.Name, r.old
	pathsChanged, err := PutPaths(ctx, api, name, r.pathsDoc)
	if err != nil {
		return err
	}
	if err := r.writeKey(ctx); err != nil {
		return err
	}
	if err := PutRecord(ctx, api, r.rec, old); err != nil {
		return err
	}
	if err := EnsureDocument(ctx, api, name, syncagent.RenderRunCommandDocument(r.policy), r.want.Tags); err != nil {
		return err
	}
	if err := SyncTags(ctx, api, name, r.want.Tags); err != nil {
		return err
	}
	cloneFacing := pathsChanged || r.rotate || r.masterMoved || r.userMoved || r.agentChanged()
	if r.prior == nil || !cloneFacing {
		return nil
	}
	id, err := SendSyncNow(ctx, api, name)
	if err != nil {
		return err
	}
	r.env.progress(fmt.Sprintf("sent sync now to the policy's clones (command %s, target tag:%s=%s)", id, InstanceTag, name))
	return nil
}

// agentChanged reports whether a setting the agent runs with changed.
func (r *run) agentChanged() bool {
	p := r.prior
	return r.want.SSHPort != p.SSHPort || r.want.Interval != p.Interval || r.want.BandwidthLimitKbps != p.BandwidthLimitKbps
}

// writeKey writes a new private key on rotation, re-encrypts the current
// one when kms_key_id changed, and records which KMS key SSM reports.
func (r *run) writeKey(ctx context.Context) error {
	api, name, rec := r.env.SSM, r.want.Name, &r.rec
	kmsKey := EffectiveKMSKeyID(rec.KMSKeyID)
	parameter := NamesOf(name).KeyParameter
	var err error
	switch {
	case r.rotate:
		r.env.progress(fmt.Sprintf("writing the private key %s to its SecureString parameter %s with KMS key %s", rec.KeyFingerprint, parameter, kmsKey))
		if rec.KeyParameterVersion, err = PutPrivateKey(ctx, api, name, r.privateKey, rec.KMSKeyID); err != nil {
			return err
		}
	case rec.KMSKeyID != r.prior.KMSKeyID:
		r.env.progress(fmt.Sprintf("re-encrypting the private key %s in %s with another KMS key, %s", rec.KeyFingerprint, parameter, kmsKey))
		if rec.KeyParameterVersion, err = ReencryptPrivateKey(ctx, api, name, rec.KMSKeyID, rec.KeyFingerprint); err != nil {
			return fmt.Errorf("re-encrypting the private key with KMS key %s: %w", kmsKey, err)
		}
	case rec.KMSKeyID == r.old.KMSKeyID:
		rec.KeyParameterKeyID = r.old.KeyParameterKeyID
	}
	if rec.KeyParameterVersion != r.old.KeyParameterVersion {
		rec.KeyParameterKeyID = reportedKeyID(ctx, api, parameter, rec.KeyParameterVersion)
	}
	return nil
}

// reportedKeyID returns the KeyId SSM reports for version of the private
// key parameter, or "" when it does not report that version yet: Observe
// then compares with kms_key_id as written.
func reportedKeyID(ctx context.Context, api API, parameter string, version int64) string {
	info, err := FindParameterInfo(ctx, api, parameter)
	if err != nil || info.Version != version {
		return ""
	}
	return info.KeyID
}

func (r *run) install(ctx context.Context, revoke []string) error {
	script, err := syncagent.RenderInstallKeyScript(r.rec.SSHUser, r.line, revoke)
	if err != nil {
		return err
	}
	return r.runOnMaster(ctx, r.rec.MasterInstanceID, "installing the sync key for "+r.rec.SSHUser, script)
}

// revoke removes key (a public key or an authorized_keys line) from
// user's authorized_keys on the master. A failure is only a warning: the
// master may be gone, and leaving the key must not block the apply.
func (r *run) revoke(ctx context.Context, instanceID, user, key string) {
	blob, err := syncagent.KeyBlob(key)
	if err != nil {
		return
	}
	script, err := syncagent.RenderInstallKeyScript(user, "", []string{blob})
	if err == nil {
		err = r.runOnMaster(ctx, instanceID, "revoking the sync key of "+user, script)
	}
	if err != nil {
		r.warn(fmt.Sprintf("Revoking the key of Clone Sync Policy (%s) on %s", r.want.Name, instanceID),
			fmt.Sprintf("The key may still be authorized for %s on the master; remove the line ending in %q from its authorized_keys. %s", user, blob, err))
	}
}

func (r *run) runOnMaster(ctx context.Context, instanceID, what, script string) error {
	id, err := RunOnMaster(ctx, r.env.SSM, instanceID, r.want.Name, script)
	if err != nil {
		return err
	}
	r.env.progress(fmt.Sprintf("%s on the master %s (command %s)", what, instanceID, id))
	err = WaitCommand(ctx, r.env.SSM, id, instanceID, func(status string) {
		r.env.progress(fmt.Sprintf("waiting for the master: %s (command %s: %s)", what, id, status))
	})
	if err != nil {
		return fmt.Errorf("%s on master %s: %w", what, instanceID, err)
	}
	return nil
}

func (r *run) warn(summary, detail string) {
	r.warnings = append(r.warnings, Warning{Summary: summary, Detail: detail})
}
