package iampolicy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Caller is who made a recorded API call, told by its User-Agent.
type Caller int

const (
	// Harness is anything else: the tests' own seeding and audits.
	Harness Caller = iota
	// Provider is the provider (operator policy).
	Provider
	// CLI is the AWS CLI, as a clone's sync agent runs it (clone policy).
	CLI
)

// ProviderUserAgentProduct is the product the provider adds to its
// User-Agent (internal/provider sets it through aws-sdk-go-base).
const ProviderUserAgentProduct = "terraform-provider-clone/"

// CallerOf classifies a User-Agent header.
func CallerOf(userAgent string) Caller {
	switch {
	case strings.Contains(userAgent, ProviderUserAgentProduct):
		return Provider
	case strings.HasPrefix(userAgent, "aws-cli/") || strings.Contains(userAgent, " aws-cli/"):
		return CLI
	}
	return Harness
}

// Call is one line of the emulator's action log
// (internal/emulator/patches/actionlog.py).
type Call struct {
	Service   string `json:"service"`
	Action    string `json:"action"`
	UserAgent string `json:"user_agent"`
}

// ReadCalls parses an action log into the IAM actions each caller made.
func ReadCalls(r io.Reader) (map[Caller][]string, error) {
	seen := map[Caller]map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var c Call
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if c.Service == "" || c.Action == "" {
			return nil, fmt.Errorf("line %d: no service or action: %s", n, line)
		}
		who := CallerOf(c.UserAgent)
		if seen[who] == nil {
			seen[who] = map[string]bool{}
		}
		seen[who][IAMAction(c.Service, c.Action)] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	out := map[Caller][]string{}
	for who, set := range seen {
		for a := range set {
			out[who] = append(out[who], a)
		}
		slices.Sort(out[who])
	}
	return out, nil
}

// Coverage compares a policy's actions with the actions called.
type Coverage struct {
	// Missing are called actions neither granted nor listed in Ungranted.
	Missing []string
	// Unused are granted actions never called and not listed in Unobserved.
	Unused []string
	// StaleExceptions are Ungranted entries that are granted after all, and
	// Unobserved and Unexercised entries that are not granted.
	StaleExceptions []string
	// Exercised are Unexercised entries that were called after all: a test
	// now reaches them, and the entry can go.
	Exercised []string
}

// Exceptions are a policy's listed exceptions, each action with its reason.
type Exceptions struct {
	Unobserved, Unexercised, Ungranted map[string]string
}

// ExceptionsOf returns the exceptions listed for policy ("operator" or
// "clone").
func ExceptionsOf(policy string) Exceptions {
	return Exceptions{Unobserved: Unobserved[policy], Unexercised: Unexercised[policy], Ungranted: Ungranted[policy]}
}

// Check compares granted with called, given the policy's exceptions.
func Check(granted, called []string, ex Exceptions) Coverage {
	unobserved, ungranted := ex.Unobserved, ex.Ungranted
	var c Coverage
	for _, a := range called {
		if !slices.Contains(granted, a) && ungranted[a] == "" {
			c.Missing = append(c.Missing, a)
		}
		if ex.Unexercised[a] != "" {
			c.Exercised = append(c.Exercised, a)
		}
	}
	for _, a := range granted {
		if !slices.Contains(called, a) && unobserved[a] == "" && ex.Unexercised[a] == "" {
			c.Unused = append(c.Unused, a)
		}
		if ungranted[a] != "" {
			c.StaleExceptions = append(c.StaleExceptions, a+" is granted but listed in Ungranted")
		}
	}
	for a := range unobserved {
		if !slices.Contains(granted, a) {
			c.StaleExceptions = append(c.StaleExceptions, a+" is listed in Unobserved but not granted")
		}
	}
	for a := range ex.Unexercised {
		if !slices.Contains(granted, a) {
			c.StaleExceptions = append(c.StaleExceptions, a+" is listed in Unexercised but not granted")
		}
	}
	slices.Sort(c.Missing)
	slices.Sort(c.Unused)
	slices.Sort(c.StaleExceptions)
	slices.Sort(c.Exercised)
	return c
}

// FullScope names every optional resource, so the policies hold every
// statement they can hold: the coverage test checks this one.
var FullScope = Scope{
	SyncPolicyNames:  []string{"web"},
	PoolNames:        []string{"web"},
	KMSKeyARNs:       []string{"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
	InstanceRoleARNs: []string{"arn:aws:iam::123456789012:role/clone"},
}
