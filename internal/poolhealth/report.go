package poolhealth

import "fmt"

// State is an instance's health in one load balancer.
type State struct {
	// State as the load balancer reports it: "healthy", "draining",
	// "InService", "OutOfService", ...
	State string
	// Reason is the reason code, when there is one.
	Reason string
	// Healthy means the load balancer sends it traffic.
	Healthy bool
	// Active means registered and neither draining nor unused.
	Active bool
}

func (s State) String() string {
	if s.Reason == "" {
		return s.State
	}
	return fmt.Sprintf("%s (%s)", s.State, s.Reason)
}

// combine folds the registrations of one instance in one load balancer (an
// instance can be registered on several ports): it is healthy when it has an
// active registration and every active registration is healthy, and it is
// shown by its first active unhealthy registration.
func combine(regs []State) State {
	if len(regs) == 0 {
		return State{}
	}
	shown := regs[0]
	healthy, active := true, false
	for _, r := range regs {
		if !r.Active {
			continue
		}
		if !active || (shown.Healthy && !r.Healthy) {
			shown = r
		}
		active = true
		healthy = healthy && r.Healthy
	}
	shown.Healthy = active && healthy
	shown.Active = active
	return shown
}

// TargetHealth is the health of every instance registered with one target.
type TargetHealth struct {
	Target    Target
	Instances map[string]State
}

// Report is the pool's health across every attached load balancer.
type Report struct {
	Targets []TargetHealth
	// Gone are the targets asked about that no longer exist.
	Gone []Target
}

// Healthy returns, in their order, the instances healthy in every attached
// load balancer. With no load balancer attached every instance counts as
// healthy: the caller passes only running instances.
func (r Report) Healthy(instanceIDs []string) []string {
	var out []string
	for _, id := range unique(instanceIDs) {
		if r.healthyEverywhere(id) {
			out = append(out, id)
		}
	}
	return out
}

func (r Report) healthyEverywhere(id string) bool {
	for _, t := range r.Targets {
		if !t.Instances[id].Healthy {
			return false
		}
	}
	return true
}

// Unhealthy returns, for every instance not healthy everywhere, why not: one
// "tg-web: unhealthy (Target.FailedHealthChecks)" or "tg-web: not registered"
// per load balancer, in the order of the targets.
func (r Report) Unhealthy(instanceIDs []string) map[string][]string {
	out := make(map[string][]string)
	for _, id := range unique(instanceIDs) {
		for _, t := range r.Targets {
			s, ok := t.Instances[id]
			switch {
			case !ok:
				out[id] = append(out[id], t.Target.displayName()+": not registered")
			case !s.Healthy:
				out[id] = append(out[id], t.Target.displayName()+": "+s.String())
			}
		}
	}
	return out
}

// Progress returns one "3/5 clones healthy in tg-web" line per load balancer.
func (r Report) Progress(instanceIDs []string) []string {
	ids := unique(instanceIDs)
	if len(r.Targets) == 0 {
		return []string{fmt.Sprintf("%d/%d clones running (no load balancer attached)", len(ids), len(ids))}
	}
	out := make([]string, 0, len(r.Targets))
	for _, t := range r.Targets {
		n := 0
		for _, id := range ids {
			if t.Instances[id].Healthy {
				n++
			}
		}
		out = append(out, fmt.Sprintf("%d/%d clones healthy in %s", n, len(ids), t.Target.displayName()))
	}
	return out
}

// Absent tells whether none of the instances is still actively registered
// with any load balancer: draining and unused registrations do not count.
func (r Report) Absent(instanceIDs []string) bool {
	for _, id := range instanceIDs {
		for _, t := range r.Targets {
			if t.Instances[id].Active {
				return false
			}
		}
	}
	return true
}

func unique(ids []string) []string {
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
