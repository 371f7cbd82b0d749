package syncstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

const (
	policyParam = "/clone-sync/web/policy"
	pathsParam  = "/clone-sync/web/paths"
	keyParam    = "/clone-sync/web/private-key"
	document    = "clone-sync-web"
	allParams   = keyParam + "," + pathsParam + "," + policyParam
	installCmd  = "SendCommand AWS-RunShellScript " + testMaster
	syncNow     = "SendCommand clone-sync-web tag:clone:sync-policy=web"
)

func testDesired() Desired {
	return Desired{
		Name:             "web",
		MasterInstanceID: testMaster,
		Paths:            []syncagent.Path{{Source: "/srv/app/www", Destination: "/var/www", Exclude: []string{"*.tmp"}, Delete: true}},
		SSHUser:          syncagent.DefaultSSHUser,
		SSHPort:          22,
		Interval:         "5m",
		InstallOnMaster:  true,
		Tags:             map[string]string{"env": "test"},
	}
}

// priorOf is the state Terraform saves after want was applied with res.
func priorOf(want Desired, res Result) *Prior {
	return &Prior{
		MasterInstanceID: want.MasterInstanceID, SSHUser: want.SSHUser, SSHPort: want.SSHPort,
		Interval: want.Interval, BandwidthLimitKbps: want.BandwidthLimitKbps,
		InstallOnMaster: want.InstallOnMaster, KMSKeyID: want.KMSKeyID, AuthorizedKey: res.AuthorizedKey,
	}
}

// created returns a fake holding policy web as created from testDesired,
// its prior state, and forgets the calls that created it.
func created(t *testing.T) (*fakeSSM, Desired, *Prior, Result) {
	t.Helper()
	f := newFakeSSM(t)
	want := testDesired()
	res, err := Apply(context.Background(), f.env(), want, nil)
	if err != nil || len(res.Warnings) > 0 {
		t.Fatalf("creating: %v %v", err, res.Warnings)
	}
	f.reset()
	return f, want, priorOf(want, res), res
}

func wantWrites(t *testing.T, f *fakeSSM, want ...string) {
	t.Helper()
	if got := f.writes(); !slices.Equal(got, want) {
		t.Errorf("writes:\n got %q\nwant %q", got, want)
	}
}

func observe(t *testing.T, f *fakeSSM) Observed {
	t.Helper()
	o, err := Observe(context.Background(), f, "web")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Rules 1, 3 and 5 on create: the master is looked up before anything is
// written, the policy parameter claims the name first, the key goes onto
// the master before SSM, then paths, private key, policy, document, tags;
// no "sync now".
func TestApplyCreateOrder(t *testing.T) {
	f := newFakeSSM(t)
	res, err := Apply(context.Background(), f.env(), testDesired(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.calls[0] != "FindMaster "+testMaster {
		t.Errorf("first call %q, want the master lookup", f.calls[0])
	}
	wantWrites(t, f,
		"PutParameter "+policyParam,
		installCmd,
		"PutParameter "+pathsParam,
		"PutParameter "+keyParam,
		"PutParameter "+policyParam,
		"CreateDocument "+document,
		"AddTagsToResource "+pathsParam,
		"AddTagsToResource "+keyParam,
		"PutParameter "+policyParam,
	)
	if scripts := f.keyScripts(testMaster); len(scripts) != 1 || !installs(scripts[0], res.AuthorizedKey) {
		t.Errorf("key scripts %q do not install %q", scripts, res.AuthorizedKey)
	}
	o := observe(t, f)
	if !o.PathsCurrent || !o.KeyCurrent || !o.DocumentPresent || len(o.Drift) > 0 || o.Record.MasterAddress != "10.0.1.10" ||
		o.Record.KeyParameterKeyID != DefaultKMSKeyID || o.Tags["env"] != "test" {
		t.Errorf("after create: %+v", o)
	}
	for id, tags := range f.tags {
		if tags["env"] != "test" {
			t.Errorf("%s not tagged: %v", id, tags)
		}
	}
}

// Rule 3: an existing policy is not taken over, and nothing of it is
// touched or deleted.
func TestApplyCreateRefusesAnExistingPolicy(t *testing.T) {
	f, _, _, _ := created(t)
	before := f.params[policyParam].value
	_, err := Apply(context.Background(), f.env(), testDesired(), nil)
	if !errors.Is(err, ErrAlreadyExists) || !strings.Contains(err.Error(), "terraform import") {
		t.Fatalf("err = %v, want ErrAlreadyExists with a hint to import", err)
	}
	wantWrites(t, f, "PutParameter "+policyParam)
	if f.params[policyParam].value != before || len(f.params) != 3 || len(f.docs) != 1 {
		t.Error("the existing policy was changed")
	}
}

// Rule 3: a document or parameter by a name a new policy would write,
// without the policy parameter, is another's: the create fails naming it
// before writing anything.
func TestApplyCreateRefusesForeignObjects(t *testing.T) {
	for _, foreign := range []string{document, keyParam, pathsParam} {
		t.Run(foreign, func(t *testing.T) {
			f := newFakeSSM(t)
			if foreign == document {
				f.docs[document] = "{}"
			} else {
				f.params[foreign] = &fakeParameter{value: "theirs", kind: ssmtypes.ParameterTypeString, version: 1}
			}
			_, err := Apply(context.Background(), f.env(), testDesired(), nil)
			if err == nil || !strings.Contains(err.Error(), foreign) || !strings.Contains(err.Error(), "not created by Clone Sync Policy") {
				t.Fatalf("err = %v, want one naming %s", err, foreign)
			}
			wantWrites(t, f)
		})
	}
}

// A create killed after claiming the name (terraform SIGKILLed, so no
// cleanup ran) leaves the policy parameter marked Creating; the next create
// revokes that create's key, deletes its objects and creates the policy
// anew. Once a create has finished, the name is refused.
func TestApplyCreateTakesOverAnInterruptedCreate(t *testing.T) {
	for _, killAt := range []string{"SendCommand", "PutParameter " + keyParam, "CreateDocument " + document, "AddTagsToResource " + keyParam} {
		t.Run(killAt, func(t *testing.T) {
			f := newFakeSSM(t)
			f.fail = func(call string) error {
				if strings.HasPrefix(call, killAt) {
					panic("killed")
				}
				return nil
			}
			func() {
				defer func() { _ = recover() }()
				_, _ = Apply(context.Background(), f.env(), testDesired(), nil)
				t.Fatal("the kill did not happen")
			}()
			f.fail = nil
			firstKeys := f.keyScripts(testMaster)

			res, err := Apply(context.Background(), f.env(), testDesired(), nil)
			if err != nil {
				t.Fatalf("the create after the kill: %s", err)
			}
			rec, err := FindRecord(context.Background(), f, "web")
			if err != nil || rec.Creating {
				t.Fatalf("record %+v (err %v): want a finished policy", rec, err)
			}
			if len(firstKeys) == 1 {
				scripts := f.keyScripts(testMaster)
				if len(scripts) != 3 || !installs(scripts[1], "") {
					t.Errorf("key scripts after the kill: %d, want the killed create's key revoked, then the new one installed", len(scripts))
				}
				if !installs(scripts[len(scripts)-1], res.AuthorizedKey) {
					t.Errorf("the new key is not installed last")
				}
			}

			_, err = Apply(context.Background(), f.env(), testDesired(), nil)
			if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), "import") {
				t.Fatalf("a second create of a finished policy: err = %v, want already exists; import it", err)
			}
		})
	}
}

// Rule 3: a create that fails after claiming the name revokes the key it
// installed and deletes what it wrote.
func TestApplyCreateFailureRemovesWhatItCreated(t *testing.T) {
	f := newFakeSSM(t)
	f.fail = failOn("PutParameter " + keyParam)
	res, err := Apply(context.Background(), f.env(), testDesired(), nil)
	if err == nil || len(res.Warnings) > 0 {
		t.Fatalf("err = %v, warnings %v", err, res.Warnings)
	}
	wantWrites(t, f,
		"PutParameter "+policyParam,
		installCmd,
		"PutParameter "+pathsParam,
		"PutParameter "+keyParam,
		installCmd,
		"DeleteDocument "+document,
		"DeleteParameters "+allParams,
	)
	scripts := f.keyScripts(testMaster)
	if len(scripts) != 2 || !installs(scripts[1], "") || !revokes(t, scripts[1], res.AuthorizedKey) {
		t.Errorf("the second key script does not revoke the installed key:\n%s", scripts[len(scripts)-1])
	}
	if len(f.params) != 0 || len(f.docs) != 0 {
		t.Errorf("left behind: %v %v", f.params, f.docs)
	}
}

// Rule 3: failures while cleaning up are warnings next to the error.
func TestApplyCreateCleanupFailuresAreWarnings(t *testing.T) {
	f := newFakeSSM(t)
	f.fail = failOn("PutParameter "+keyParam, "DeleteParameters "+allParams)
	f.commandFails = func(in *ssmSendCommand) bool { return strings.Contains(in.Parameters["commands"][0], "\nline=''\n") }
	res, err := Apply(context.Background(), f.env(), testDesired(), nil)
	if err == nil || !strings.Contains(err.Error(), keyParam) {
		t.Fatalf("err = %v, want the failed write", err)
	}
	var summaries []string
	for _, w := range res.Warnings {
		summaries = append(summaries, w.Summary)
	}
	want := []string{"Revoking the key of Clone Sync Policy (web) on " + testMaster, "Cleaning up Clone Sync Policy (web)"}
	if !slices.Equal(summaries, want) {
		t.Errorf("warnings %q, want %q", summaries, want)
	}
}

// Rule 1 and the idempotent re-run: with nothing changed, Apply reads the
// policy once, checks paths, document and tags, and writes nothing.
func TestApplyRerunWritesNothing(t *testing.T) {
	f, want, prior, before := created(t)
	res, err := Apply(context.Background(), f.env(), want, prior)
	if err != nil || len(res.Warnings) > 0 {
		t.Fatal(err, res.Warnings)
	}
	wantWrites(t, f)
	wantCalls := []string{
		"GetParameter " + policyParam, "GetParameter " + pathsParam, "GetDocument " + document,
		"ListTagsForResource " + policyParam, "ListTagsForResource " + pathsParam,
		"ListTagsForResource " + keyParam, "ListTagsForResource " + document,
	}
	if !slices.Equal(f.calls, wantCalls) {
		t.Errorf("calls:\n got %q\nwant %q", f.calls, wantCalls)
	}
	if res.Record.KeyFingerprint != before.Record.KeyFingerprint || res.AuthorizedKey != before.AuthorizedKey || res.UserData != before.UserData {
		t.Error("the re-run changed the result")
	}
}

// Rule 1: the master's address is looked up again only on request or for
// another master.
func TestApplyLooksUpTheMasterOnlyWhenAsked(t *testing.T) {
	f, want, prior, _ := created(t)
	f.masters[testMaster] = "10.0.1.99"
	want.ResolveMaster = true
	res, err := Apply(context.Background(), f.env(), want, prior)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(f.calls, "FindMaster "+testMaster) || res.Record.MasterAddress != "10.0.1.99" {
		t.Errorf("address %s after calls %q", res.Record.MasterAddress, f.calls)
	}
	// Today only another master instance, not a new address of the same
	// one, sends "sync now".
	wantWrites(t, f, "PutParameter "+policyParam)

	f.reset()
	delete(f.masters, testOtherMaster)
	want.ResolveMaster, want.MasterInstanceID = false, testOtherMaster
	if _, err := Apply(context.Background(), f.env(), want, priorOf(testDesired(), res)); !notfound.Is(err) {
		t.Fatalf("a missing master: err = %v, want not found", err)
	}
	wantWrites(t, f)
}

// Rule 2: a sync root that moved needs a new key; without one nothing is
// written.
func TestApplyRefusesAMovedRootWithoutANewKey(t *testing.T) {
	f, want, prior, _ := created(t)
	want.Paths = append(want.Paths, syncagent.Path{Source: "/srv/app/uploads", Destination: "/srv/uploads"})
	_, err := Apply(context.Background(), f.env(), want, prior)
	if err == nil || !strings.Contains(err.Error(), "sync root") {
		t.Fatalf("err = %v", err)
	}
	if !slices.Equal(f.calls, []string{"GetParameter " + policyParam}) {
		t.Errorf("calls %q", f.calls)
	}
}

// Rules 4 and 5 on rotation: the new key is installed on the master, with
// the old one removed in the same script, before SSM gets it; then paths,
// private key, policy, and last "sync now".
func TestApplyRotationInstallsTheNewKeyFirst(t *testing.T) {
	f, want, prior, old := created(t)
	want.Paths = append(want.Paths, syncagent.Path{Source: "/srv/app/uploads", Destination: "/srv/uploads"})
	want.RotateKey = true
	res, err := Apply(context.Background(), f.env(), want, prior)
	if err != nil {
		t.Fatal(err)
	}
	wantWrites(t, f,
		installCmd,
		"PutParameter "+pathsParam,
		"PutParameter "+keyParam,
		"PutParameter "+policyParam,
		syncNow,
	)
	scripts := f.keyScripts(testMaster)
	if len(scripts) != 1 || !installs(scripts[0], res.AuthorizedKey) || !revokes(t, scripts[0], old.Record.PublicKey) {
		t.Errorf("the key script does not replace the old key with the new:\n%s", scripts)
	}
	if !strings.Contains(res.AuthorizedKey, `"rrsync -ro /srv/app"`) || res.Record.KeyFingerprint == old.Record.KeyFingerprint {
		t.Errorf("authorized key %s, fingerprint %s", res.AuthorizedKey, res.Record.KeyFingerprint)
	}
	if o := observe(t, f); !o.PathsCurrent || !o.KeyCurrent || o.Paths.KeyFingerprint != res.Record.KeyFingerprint {
		t.Errorf("after rotation: %+v", o)
	}
}

// Rule 4: a failed install stops the apply before SSM is written, so the
// clones keep the key the master still accepts.
func TestApplyFailedInstallWritesNothingToSSM(t *testing.T) {
	f, want, prior, old := created(t)
	f.commandFails = func(*ssmSendCommand) bool { return true }
	want.RotateKey = true
	_, err := Apply(context.Background(), f.env(), want, prior)
	if err == nil || !strings.Contains(err.Error(), "installing the sync key") {
		t.Fatalf("err = %v", err)
	}
	wantWrites(t, f, installCmd)
	if o := observe(t, f); o.Record.KeyFingerprint != old.Record.KeyFingerprint || !o.PathsCurrent || !o.KeyCurrent {
		t.Errorf("SSM changed: %+v", o)
	}
}

// Rule 5: a rotation interrupted between the SSM writes leaves a path list
// naming the new key and a policy naming the old one, which Observe
// reports; the next apply (no new key: the state kept the old one)
// rewrites the list.
func TestApplyInterruptedRotationIsDriftThenRepaired(t *testing.T) {
	f, want, prior, old := created(t)
	f.fail = failOn("PutParameter " + keyParam)
	rotate := want
	rotate.RotateKey = true
	if _, err := Apply(context.Background(), f.env(), rotate, prior); err == nil {
		t.Fatal("no error")
	}
	wantWrites(t, f, installCmd, "PutParameter "+pathsParam, "PutParameter "+keyParam)
	o := observe(t, f)
	if o.PathsCurrent || !o.KeyCurrent || o.Record.KeyFingerprint != old.Record.KeyFingerprint || len(o.Drift) != 1 {
		t.Fatalf("after the interruption: %+v", o)
	}

	f.fail = nil
	f.reset()
	if _, err := Apply(context.Background(), f.env(), want, prior); err != nil {
		t.Fatal(err)
	}
	wantWrites(t, f, "PutParameter "+pathsParam, syncNow)
	if o := observe(t, f); !o.PathsCurrent || len(o.Drift) > 0 {
		t.Errorf("after the repair: %+v", o)
	}
}

// Rule 4: a new master gets the key only after the old master lost it.
func TestApplyNewMasterRevokesOnTheOldMasterFirst(t *testing.T) {
	f, want, prior, old := created(t)
	want.MasterInstanceID = testOtherMaster
	res, err := Apply(context.Background(), f.env(), want, prior)
	if err != nil || len(res.Warnings) > 0 {
		t.Fatal(err, res.Warnings)
	}
	wantWrites(t, f,
		installCmd,
		"SendCommand AWS-RunShellScript "+testOtherMaster,
		"PutParameter "+policyParam,
		syncNow,
	)
	if s := f.keyScripts(testMaster); len(s) != 1 || !installs(s[0], "") || !revokes(t, s[0], old.Record.PublicKey) {
		t.Errorf("old master's script does not only revoke: %q", s)
	}
	if s := f.keyScripts(testOtherMaster); len(s) != 1 || !installs(s[0], old.AuthorizedKey) {
		t.Errorf("new master's script does not install the key: %q", s)
	}
	if res.Record.MasterAddress != "10.0.1.20" {
		t.Errorf("master address %s", res.Record.MasterAddress)
	}
}

// Rule 4: a revoke that fails is a warning; the apply goes on.
func TestApplyFailedRevokeIsAWarning(t *testing.T) {
	f, want, prior, _ := created(t)
	f.commandFails = func(in *ssmSendCommand) bool { return slices.Equal(in.InstanceIds, []string{testMaster}) }
	want.MasterInstanceID = testOtherMaster
	res, err := Apply(context.Background(), f.env(), want, prior)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Summary != "Revoking the key of Clone Sync Policy (web) on "+testMaster ||
		!strings.Contains(res.Warnings[0].Detail, "sshd user is locked") {
		t.Errorf("warnings %+v", res.Warnings)
	}
	if o := observe(t, f); o.Record.MasterInstanceID != testOtherMaster {
		t.Errorf("the apply stopped: %+v", o.Record)
	}
}

// Rule 4: install_on_master turned off revokes the key; turned on installs
// it without rotating it.
func TestApplyInstallOnMasterSwitch(t *testing.T) {
	f, want, prior, res := created(t)
	want.InstallOnMaster = false
	if _, err := Apply(context.Background(), f.env(), want, prior); err != nil {
		t.Fatal(err)
	}
	wantWrites(t, f, installCmd, "PutParameter "+policyParam)
	if s := f.keyScripts(testMaster); !installs(s[0], "") || !revokes(t, s[0], res.Record.PublicKey) {
		t.Errorf("script does not revoke: %s", s)
	}

	f.reset()
	prior.InstallOnMaster, want.InstallOnMaster = false, true
	again, err := Apply(context.Background(), f.env(), want, prior)
	if err != nil {
		t.Fatal(err)
	}
	wantWrites(t, f, installCmd, "PutParameter "+policyParam)
	if again.Record.KeyFingerprint != res.Record.KeyFingerprint || !installs(f.keyScripts(testMaster)[0], res.AuthorizedKey) {
		t.Error("turning install_on_master on rotated the key or did not install it")
	}
}

// Rule 6: "sync now" follows what the clones use, not tags or the KMS key.
func TestApplySyncNowFollowsWhatClonesUse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Desired)
		sent   bool
	}{
		{"tags", func(d *Desired) { d.Tags = map[string]string{"team": "web"} }, false},
		{"kms key", func(d *Desired) { d.KMSKeyID = "alias/clone" }, false},
		{"paths in the same root", func(d *Desired) { d.Paths[0].Exclude = nil }, true},
		{"interval", func(d *Desired) { d.Interval = "2m" }, true},
		{"bandwidth", func(d *Desired) { d.BandwidthLimitKbps = 800 }, true},
		{"ssh port", func(d *Desired) { d.SSHPort = 2222 }, true},
		{"ssh user", func(d *Desired) { d.SSHUser = "deploy" }, true},
		{"rotation", func(d *Desired) { d.RotateKey = true }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, want, prior, _ := created(t)
			want.Paths = slices.Clone(want.Paths)
			tc.change(&want)
			if _, err := Apply(context.Background(), f.env(), want, prior); err != nil {
				t.Fatal(err)
			}
			writes := f.writes()
			if sent := slices.Contains(writes, syncNow); sent != tc.sent {
				t.Errorf("sync now sent %v, want %v (writes %q)", sent, tc.sent, writes)
			}
			if tc.sent && writes[len(writes)-1] != syncNow {
				t.Errorf("sync now is not the last write: %q", writes)
			}
		})
	}
}

// Rule 5: another KMS key re-encrypts the same private key in place.
func TestApplyKMSKeyChangeKeepsTheKey(t *testing.T) {
	f, want, prior, old := created(t)
	key := f.params[keyParam].value
	want.KMSKeyID = "alias/clone"
	res, err := Apply(context.Background(), f.env(), want, prior)
	if err != nil {
		t.Fatal(err)
	}
	wantWrites(t, f, "PutParameter "+keyParam, "PutParameter "+policyParam)
	p := f.params[keyParam]
	if p.value != key || p.keyID != "alias/clone" || res.Record.KeyFingerprint != old.Record.KeyFingerprint ||
		res.Record.KeyParameterVersion != p.version || res.Record.KeyParameterKeyID != "alias/clone" {
		t.Errorf("key kept %v, parameter %+v, record %+v", p.value == key, p, res.Record)
	}
	if o := observe(t, f); o.KMSKeyID != "alias/clone" || len(o.Drift) > 0 {
		t.Errorf("after re-encryption: %+v", o)
	}
}

// Destroy: the key leaves the master before the objects leave SSM; a
// failed revoke is a warning; objects already gone are not an error.
func TestDestroyRevokesThenDeletes(t *testing.T) {
	f, _, prior, res := created(t)
	f.commandFails = func(*ssmSendCommand) bool { return true }
	warnings, err := Destroy(context.Background(), f.env(), "web", *prior)
	if err != nil {
		t.Fatal(err)
	}
	wantWrites(t, f, installCmd, "DeleteDocument "+document, "DeleteParameters "+allParams)
	if s := f.keyScripts(testMaster); !installs(s[0], "") || !revokes(t, s[0], res.Record.PublicKey) {
		t.Errorf("script does not revoke: %s", s)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0].Summary, "Revoking the key of Clone Sync Policy (web)") {
		t.Errorf("warnings %+v", warnings)
	}
	if len(f.params) != 0 || len(f.docs) != 0 {
		t.Errorf("left behind: %v %v", f.params, f.docs)
	}

	f.reset()
	prior.InstallOnMaster = false
	if warnings, err := Destroy(context.Background(), f.env(), "web", *prior); err != nil || len(warnings) > 0 {
		t.Errorf("destroying again: %v %v", err, warnings)
	}
	wantWrites(t, f, "DeleteDocument "+document, "DeleteParameters "+allParams)
}

// Observe reports what was deleted or changed out of band.
func TestObserveDrift(t *testing.T) {
	f, _, _, res := created(t)
	delete(f.params, pathsParam)
	delete(f.docs, document)
	f.params[keyParam].version++
	f.params[keyParam].keyID = "alias/other"
	o := observe(t, f)
	if o.Paths != nil || o.PathsCurrent || o.DocumentPresent || !o.KeyPresent || o.KeyCurrent ||
		o.KMSKeyID != "alias/other" || len(o.Drift) != 4 || o.Record.KeyFingerprint != res.Record.KeyFingerprint {
		t.Errorf("%+v", o)
	}
	delete(f.params, keyParam)
	if o := observe(t, f); o.KeyPresent || o.KeyCurrent || o.KMSKeyID != "" {
		t.Errorf("deleted key: %+v", o)
	}
	delete(f.params, policyParam)
	if _, err := Observe(context.Background(), f, "web"); !notfound.Is(err) {
		t.Errorf("deleted policy: err = %v, want not found", err)
	}
}
