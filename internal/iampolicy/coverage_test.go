package iampolicy

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// EnvActionsLog names the emulator's action log this test reads. The
// acceptance suite writes it (scripts/test.sh sets CLONE_EMULATOR_ACTIONS_LOG
// for the suite, then runs this test with CLONE_IAM_ACTIONS_LOG set to the
// same file). Two names, so this package's tests in the suite itself do not
// read a log still being written.
const EnvActionsLog = "CLONE_IAM_ACTIONS_LOG"

// TestPolicyCoversCalledActions checks each policy against the actions the
// whole acceptance suite called: every action the provider called is in the
// operator policy and every action a clone's AWS CLI called is in the clone
// policy (or listed in Ungranted with its reason), and every action a policy
// grants was called (or is listed in Unobserved with its reason).
func TestPolicyCoversCalledActions(t *testing.T) {
	path := os.Getenv(EnvActionsLog)
	if path == "" {
		t.Skipf("%s is not set: this test reads the action log of a whole acceptance run (make test)", EnvActionsLog)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("no action log at %s: the acceptance suite did not run", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	calls, err := ReadCalls(f)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}

	for _, p := range []struct {
		name   string
		caller Caller
		doc    Document
		whose  string
	}{
		{"operator", Provider, Operator(FullScope), "the provider (User-Agent " + ProviderUserAgentProduct + ")"},
		{"clone", CLI, Clone(FullScope), "the AWS CLI (User-Agent aws-cli/), as a clone's sync agent runs it"},
	} {
		t.Run(p.name, func(t *testing.T) {
			called := calls[p.caller]
			if len(called) == 0 {
				if p.caller == CLI {
					t.Skipf("%s holds no call by %s: no test booted a clone's user data with the real AWS CLI, so the clone policy is unchecked", path, p.whose)
				}
				t.Fatalf("%s holds no call by %s", path, p.whose)
			}
			c := Check(p.doc.Actions(), called, ExceptionsOf(p.name))
			for _, a := range c.Missing {
				t.Errorf("%s called %s, which the %s policy does not grant: add it to the policy (or to Ungranted with the reason)", p.whose, a, p.name)
			}
			for _, a := range c.Unused {
				t.Errorf("the %s policy grants %s, which the acceptance suite never called: remove it (or list it in Unobserved with the reason)", p.name, a)
			}
			for _, s := range c.StaleExceptions {
				t.Errorf("%s policy: %s", p.name, s)
			}
			for _, a := range c.Exercised {
				t.Logf("note: %s is listed in Unexercised, but the suite called it: the entry can go", a)
			}
			t.Logf("%s policy: %d actions called by %s: %s", p.name, len(called), p.whose, strings.Join(called, " "))
		})
	}
}
