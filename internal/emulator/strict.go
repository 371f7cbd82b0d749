package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// The strict layer (patches/strict.py) makes moto follow the AWS rules the
// provider depends on: user-data size, lifecycle hooks, deregistration
// delay and connection draining, target health warm-up, scale-in
// deregistration, pending states, eventual consistency and per-call limits.
// It is on by default; each rule cites the AWS page that states it.
const (
	// EnvStrict turns the strict layer off when set to "off" (or "0",
	// "false"). Anything else, or unset, leaves it on.
	EnvStrict = "CLONE_EMULATOR_STRICT"
	// EnvTimeScale multiplies every duration the strict layer enforces
	// (deregistration delay, health warm-up, heartbeat timeout, pending
	// states, consistency window). 1 is AWS's own timing; tests use less.
	EnvTimeScale = "CLONE_EMULATOR_TIME_SCALE"
)

// StrictFromEnv reports whether EnvStrict leaves the strict layer on.
func StrictFromEnv() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(EnvStrict))) {
	case "off", "0", "false", "no":
		return false
	}
	return true
}

// TimeScaleFromEnv reads EnvTimeScale; def when unset or not a positive number.
func TimeScaleFromEnv(def float64) float64 {
	if f, err := strconv.ParseFloat(os.Getenv(EnvTimeScale), 64); err == nil && f > 0 {
		return f
	}
	return def
}

// Event is one thing the strict layer saw happen, in emulator time (Unix
// seconds). Kinds:
//   - "launch": an Auto Scaling launch; Hooked says it entered Pending:Wait,
//     Agent that its user data carries the first-sync agent.
//   - "in_service": the instance entered InService (and its load balancers).
//   - "lifecycle_action": CompleteLifecycleAction or the heartbeat timeout;
//     Result is CONTINUE or ABANDON, Detail says which.
//   - "deregister": a target left a target group or classic ELB (Target);
//     DrainUntil is when its deregistration delay or draining timeout ends.
//   - "terminate": an instance was terminated; Violation is set when it was
//     still registered or draining somewhere (in-flight requests cut).
type Event struct {
	Time       float64 `json:"time"`
	Kind       string  `json:"kind"`
	Instance   string  `json:"instance,omitempty"`
	Group      string  `json:"group,omitempty"`
	Target     string  `json:"target,omitempty"`
	Hooked     bool    `json:"hooked,omitempty"`
	Agent      bool    `json:"agent,omitempty"`
	Result     string  `json:"result,omitempty"`
	DrainUntil float64 `json:"drain_until,omitempty"`
	Violation  string  `json:"violation,omitempty"`
	Detail     string  `json:"detail,omitempty"`
}

// Violations lists, one line each, the terminations among events that cut
// in-flight requests: the instance was still registered or draining.
func Violations(events []Event) []string {
	var out []string
	for _, e := range events {
		if e.Violation != "" {
			out = append(out, e.Instance+": "+e.Violation)
		}
	}
	return out
}

// StandIn programs the clone stand-in for one Auto Scaling group (or, with
// Group empty, for every group without a rule of its own). It plays the
// clone's sync agent: for an instance in Pending:Wait whose user data
// carries the agent, it completes the launch hook with Result after
// DelaySeconds (scaled). Result "NEVER" leaves the hook to its heartbeat
// timeout. Instances without the agent are never completed, as on AWS.
type StandIn struct {
	Group        string  `json:"group,omitempty"`
	Result       string  `json:"result"` // CONTINUE, ABANDON or NEVER
	DelaySeconds float64 `json:"delay_seconds"`
}

// Events returns what the strict layer recorded so far.
func Events(ctx context.Context, endpoint string) ([]Event, error) {
	var out struct {
		Events []Event `json:"events"`
	}
	if err := strictCall(ctx, http.MethodGet, endpoint, "events", nil, &out); err != nil {
		return nil, err
	}
	return out.Events, nil
}

// SetStandIn installs a stand-in rule.
func SetStandIn(ctx context.Context, endpoint string, s StandIn) error {
	return strictCall(ctx, http.MethodPost, endpoint, "stand-in", s, nil)
}

// StrictConfig is what the running strict layer says about itself.
type StrictConfig struct {
	Strict    bool    `json:"strict"`
	TimeScale float64 `json:"time_scale"`
}

// Config asks the emulator whether its strict layer is on, and its time scale.
func Config(ctx context.Context, endpoint string) (StrictConfig, error) {
	var out StrictConfig
	err := strictCall(ctx, http.MethodGet, endpoint, "config", nil, &out)
	return out, err
}

func strictCall(ctx context.Context, method, endpoint, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	url := strings.TrimRight(endpoint, "/") + "/moto-api/clone/" + path
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("strict emulator %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("strict emulator %s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("strict emulator %s %s: %w", method, path, err)
	}
	return nil
}
