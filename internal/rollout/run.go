package rollout

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

// Options are the rolling_update settings plus hooks for logs and tests.
type Options struct {
	BatchSize         int
	MinHealthyPercent int
	// HealthTimeout bounds the wait for the new instances of one batch.
	HealthTimeout time.Duration
	// Rollback undoes the rollout when a batch does not become healthy.
	Rollback bool
	// PollInterval between health checks; wait's default when zero.
	PollInterval time.Duration
	// Progress receives a line whenever the state of the rollout changes.
	Progress func(msg string)
	// Sample receives the count of instances healthy in every load
	// balancer after every observation and every retirement.
	Sample func(healthy, desired int)
}

// Result tells what a rollout did.
type Result struct {
	// Batches counts the planned steps run, rollback steps included.
	Batches int
	// Launched lists the instances that came into service, in order.
	Launched []string
	// Retired lists the instances retired, in order.
	Retired []string
	// InstanceIDs are the group's members at the end.
	InstanceIDs []string
	// Healthy counts the members healthy in every load balancer at the end.
	Healthy int
}

const maxRounds = 4

// Run rolls the Auto Scaling group onto to, batch by batch, and returns when
// desired instances run to and are healthy in every load balancer.
//
// Instances running to count as new, anything else as old, so a run after an
// interrupted one continues where that one stopped. Each batch raises the
// group's desired capacity (never above maxSize), waits until the instances
// it launched are healthy everywhere, then retires old ones, unhealthy and
// oldest first, never taking healthy capacity below min_healthy_percent of
// desired. Retire's decrement brings the group back to its size.
//
// When a batch is not healthy within HealthTimeout, Run returns a
// *RollbackError after rolling back to from the same way (the group
// launches from again, the new instances are retired, capacity is restored
// with old ones), or, with Rollback off, a *HealthTimeoutError that leaves
// the pool mixed.
//
// Fleet calls: one SetTemplateVersion and one observation (Instances +
// Health) per run plus one observation per round of planning; per batch one
// SetCapacity, one Retire and one observation per health poll.
func Run(ctx context.Context, f Fleet, from, to Target, desired, maxSize int, o Options) (Result, error) {
	whole := Params{Desired: desired, BatchSize: o.BatchSize, MinHealthyPercent: o.MinHealthyPercent, MaxSize: maxSize}
	switch {
	case to.TemplateVersion == "":
		return Result{}, errors.New("rollout: the launch template version to roll onto is unknown")
	case o.Rollback && from.TemplateVersion == "":
		return Result{}, errors.New("rollout: rollback_on_failure needs the launch template version to roll back to")
	case o.HealthTimeout <= 0:
		return Result{}, fmt.Errorf("health_timeout must be positive, got %s", o.HealthTimeout)
	case maxSize < desired:
		return Result{}, fmt.Errorf("max_size (%d) is below desired capacity (%d)", maxSize, desired)
	}
	if _, err := Plan(whole); err != nil {
		return Result{}, err
	}
	r := &runner{
		fleet:   f,
		opts:    o,
		desired: desired,
		maxSize: maxSize,
		floor:   Floor(whole),
		limit:   min(desired+o.BatchSize, maxSize),
	}
	if err := f.SetTemplateVersion(ctx, to.TemplateVersion); err != nil {
		return Result{}, fmt.Errorf("pointing the group at launch template version %s: %w", to.TemplateVersion, err)
	}
	v, err := r.roll(ctx, to)
	var failed *batchTimeout
	switch {
	case errors.As(err, &failed) && o.Rollback:
		return r.rollback(ctx, from, failed)
	case errors.As(err, &failed):
		return r.result(failed.view), &HealthTimeoutError{
			BatchFailure: failed.BatchFailure,
			To:           to,
			Old:          len(failed.view.live) - failed.view.count(failed.view.fresh),
			New:          failed.view.count(failed.view.fresh),
		}
	case err != nil && ctx.Err() != nil:
		return r.result(v), fmt.Errorf("rollout onto %s interrupted; the next apply continues it: %w", to, err)
	case err != nil:
		return r.result(v), fmt.Errorf("rolling the pool onto %s: %w", to, err)
	}
	r.progress(fmt.Sprintf("rollout complete: %d/%d clones on %s healthy", len(v.healthy), desired, to))
	return r.result(v), nil
}

type runner struct {
	fleet                          Fleet
	opts                           Options
	desired, maxSize, floor, limit int

	phase    string
	batches  int
	steps    int
	launched []string
	retired  []string
	replaced []string
}

// view is one observation of the group.
type view struct {
	live    []Instance
	fresh   map[string]bool
	healthy map[string]bool
	report  poolhealth.Report
}

func (v view) count(set map[string]bool) int {
	n := 0
	for _, inst := range v.live {
		if set[inst.ID] {
			n++
		}
	}
	return n
}

func (v view) good(inst Instance) bool { return v.fresh[inst.ID] && v.healthy[inst.ID] }

// stale returns the members still to be replaced: old ones and new ones
// that are not healthy, except those in keep.
func (v view) stale(keep map[string]bool) []Instance {
	var out []Instance
	for _, inst := range v.live {
		if !v.good(inst) && !keep[inst.ID] {
			out = append(out, inst)
		}
	}
	return out
}

func (v view) without(ids []string) view {
	gone := setOf(ids)
	out := v
	out.live = nil
	out.healthy = make(map[string]bool, len(v.healthy))
	for _, inst := range v.live {
		if gone[inst.ID] {
			continue
		}
		out.live = append(out.live, inst)
		if v.healthy[inst.ID] {
			out.healthy[inst.ID] = true
		}
	}
	return out
}

// batchTimeout is a batch that did not become healthy in time.
type batchTimeout struct {
	BatchFailure
	view view
}

func (e *batchTimeout) Error() string { return e.describe() }

// roll replaces the stale members until desired healthy members run to. A
// round observes, settles the group at desired capacity, then runs the plan
// for the members still stale; it usually takes one round, and a second
// that only confirms.
func (r *runner) roll(ctx context.Context, to Target) (view, error) {
	for round := 1; ; round++ {
		v, err := r.observe(ctx, to)
		if err != nil {
			return v, err
		}
		if len(v.stale(nil)) == 0 && len(v.live) == r.desired {
			return v, nil
		}
		if round > maxRounds {
			return v, fmt.Errorf("rollout does not converge after %d rounds: %d clones, %d desired, %d of them still to replace by healthy clones on %s",
				maxRounds, len(v.live), r.desired, len(v.stale(nil)), to)
		}
		if v, err = r.settle(ctx, v, to); err != nil {
			return v, err
		}
		steps, err := Plan(r.remaining(v))
		if err != nil {
			return v, err
		}
		total := r.batches + len(steps)
		if len(steps) > 0 {
			r.progress(fmt.Sprintf("%srolling %d %s onto %s in %d %s of up to %d, keeping at least %d healthy",
				strings.Replace(r.phase, " ", ": ", 1), len(v.stale(nil)), clones(len(v.stale(nil))), to, len(steps), plural(len(steps), "batch", "batches"), r.opts.BatchSize, r.floor))
		}
		for _, s := range steps {
			r.batches++
			r.steps++
			if v, err = r.step(ctx, v, to, s, fmt.Sprintf("%sbatch %d/%d", r.phase, r.batches, total)); err != nil {
				return v, err
			}
		}
	}
}

// settle brings the group to desired capacity: members above it (left by an
// interrupted surge) are retired, stale and unhealthy first; members missing
// are launched on to.
func (r *runner) settle(ctx context.Context, v view, to Target) (view, error) {
	var err error
	if surplus := len(v.live) - r.desired; surplus > 0 {
		if v, err = r.retire(ctx, v, r.pick(v, v.live, surplus), r.phase+"trimming to desired capacity"); err != nil {
			return v, err
		}
	}
	if deficit := r.desired - len(v.live); deficit > 0 {
		if v, _, err = r.launch(ctx, v, to, deficit, r.phase+"filling to desired capacity"); err != nil {
			return v, err
		}
	}
	return v, nil
}

// remaining is the plan's view of a settled group: the healthy new members
// stay, the stale ones are the pool to roll, and the floor they must keep is
// what the healthy new members do not already cover.
func (r *runner) remaining(v view) Params {
	stale := len(v.stale(nil))
	good := len(v.live) - stale
	return Params{
		Desired:           stale,
		BatchSize:         r.opts.BatchSize,
		MinHealthyPercent: percentFor(stale, r.floor-good),
		MaxSize:           max(r.maxSize-good, stale),
	}
}

// percentFor returns the lowest percent whose Floor over n is at least
// floor.
func percentFor(n, floor int) int {
	for p := 0; p < 100; p++ {
		if Floor(Params{Desired: n, MinHealthyPercent: p}) >= floor {
			return p
		}
	}
	return 100
}

func (r *runner) step(ctx context.Context, v view, to Target, s Step, stage string) (view, error) {
	var err error
	var launched map[string]bool
	good := len(v.live) - len(v.stale(nil))
	if n := min(s.Launch, r.limit-len(v.live), r.desired-good); n > 0 {
		if v, launched, err = r.launch(ctx, v, to, n, stage); err != nil {
			return v, err
		}
	}
	if n := min(s.Retire, len(v.stale(launched))); n > 0 {
		return r.retire(ctx, v, r.pick(v, v.stale(launched), n), stage)
	}
	return v, nil
}

// launch grows the group by n and waits until n members it did not have
// before run to and are healthy everywhere.
func (r *runner) launch(ctx context.Context, v view, to Target, n int, stage string) (view, map[string]bool, error) {
	known := make(map[string]bool, len(v.live))
	for _, inst := range v.live {
		known[inst.ID] = true
	}
	size := len(v.live) + n
	r.progress(fmt.Sprintf("%s: launching %d new %s, group size %d", stage, n, clones(n), size))
	if err := r.fleet.SetCapacity(ctx, size, r.maxSize); err != nil {
		return v, nil, fmt.Errorf("%s: setting desired capacity to %d: %w", stage, size, err)
	}

	wctx, cancel := context.WithTimeout(ctx, r.opts.HealthTimeout)
	defer cancel()
	last := v
	var tracked []Instance
	err := wait.For(wctx, wait.Options{Interval: r.opts.PollInterval, MaxInterval: 8 * r.opts.PollInterval, Progress: r.progress}, func(context.Context) (bool, string, error) {
		obs, err := r.observe(ctx, to)
		if err != nil {
			return false, "", err
		}
		last, tracked = obs, nil
		ready := 0
		for _, inst := range obs.live {
			if obs.fresh[inst.ID] && !known[inst.ID] {
				tracked = append(tracked, inst)
				if obs.healthy[inst.ID] {
					ready++
				}
			}
		}
		return ready >= n, stage + ": " + progressLine(obs, tracked, n), nil
	})
	launched := make(map[string]bool, len(tracked))
	for _, inst := range tracked {
		launched[inst.ID] = true
	}
	switch {
	case err == nil:
		for _, inst := range tracked {
			if last.healthy[inst.ID] {
				r.launched = append(r.launched, inst.ID)
			}
		}
		return last, launched, nil
	case wait.IsTimeout(err) && ctx.Err() == nil:
		return last, launched, &batchTimeout{BatchFailure: r.failure(stage, last, tracked, n), view: last}
	}
	return last, launched, fmt.Errorf("%s: waiting for %d new %s: %w", stage, n, clones(n), err)
}

func (r *runner) failure(stage string, v view, tracked []Instance, want int) BatchFailure {
	ids := make([]string, len(tracked))
	for i, inst := range tracked {
		ids[i] = inst.ID
	}
	why := v.report.Unhealthy(ids)
	var failed []Failure
	for _, inst := range tracked {
		if v.healthy[inst.ID] {
			continue
		}
		reasons := HeldReasons(inst.Lifecycle, inst.FirstSync)
		held := reasons != nil
		if !held && inst.Lifecycle != LifecycleInService {
			reasons = append(reasons, "lifecycle "+cmp.Or(inst.Lifecycle, "unknown"))
		}
		failed = append(failed, Failure{InstanceID: inst.ID, Reasons: append(reasons, why[inst.ID]...), Held: held})
	}
	slices.SortFunc(failed, func(a, b Failure) int { return cmp.Compare(a.InstanceID, b.InstanceID) })
	return BatchFailure{Stage: stage, Timeout: r.opts.HealthTimeout, Failed: failed, Missing: max(0, want-len(tracked))}
}

// progressLine reads "1/2 new clones healthy in tg-web, 2/2 in clb-web".
func progressLine(v view, tracked []Instance, want int) string {
	if len(v.report.Targets) == 0 {
		n := 0
		for _, inst := range tracked {
			if v.healthy[inst.ID] {
				n++
			}
		}
		return fmt.Sprintf("%d/%d new clones in service (no load balancer attached)", n, want)
	}
	parts := make([]string, len(v.report.Targets))
	for i, t := range v.report.Targets {
		n := 0
		for _, inst := range tracked {
			if t.Instances[inst.ID].Healthy {
				n++
			}
		}
		name := cmp.Or(t.Target.Name, t.Target.ID)
		if i == 0 {
			parts[i] = fmt.Sprintf("%d/%d new clones healthy in %s", n, want, name)
		} else {
			parts[i] = fmt.Sprintf("%d/%d in %s", n, want, name)
		}
	}
	return strings.Join(parts, ", ")
}

// pick chooses up to n of candidates to retire: unhealthy first, then old
// before new, not in service before in service, oldest first. It stops
// where retiring a healthy one would take healthy capacity below the floor.
func (r *runner) pick(v view, candidates []Instance, n int) []string {
	order := slices.Clone(candidates)
	slices.SortStableFunc(order, func(a, b Instance) int {
		return cmp.Or(
			compareBool(v.healthy[a.ID], v.healthy[b.ID]),
			compareBool(v.fresh[a.ID], v.fresh[b.ID]),
			compareBool(a.Lifecycle == LifecycleInService, b.Lifecycle == LifecycleInService),
			a.LaunchTime.Compare(b.LaunchTime),
			cmp.Compare(a.ID, b.ID),
		)
	})
	healthy := len(v.healthy)
	var out []string
	for _, inst := range order {
		if len(out) == n {
			break
		}
		if v.healthy[inst.ID] {
			if healthy <= r.floor {
				break
			}
			healthy--
		}
		out = append(out, inst.ID)
	}
	return out
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func (r *runner) retire(ctx context.Context, v view, ids []string, stage string) (view, error) {
	if len(ids) == 0 {
		return v, nil
	}
	r.progress(fmt.Sprintf("%s: retiring %d %s: %s", stage, len(ids), clones(len(ids)), strings.Join(ids, ", ")))
	if err := r.fleet.Retire(ctx, ids); err != nil {
		return v, fmt.Errorf("%s: retiring %s: %w", stage, strings.Join(ids, ", "), err)
	}
	r.retired = append(r.retired, ids...)
	for _, id := range ids {
		if !v.fresh[id] {
			r.replaced = append(r.replaced, id)
		}
	}
	v = v.without(ids)
	r.sample(len(v.healthy))
	return v, nil
}

func (r *runner) observe(ctx context.Context, to Target) (view, error) {
	all, err := r.fleet.Instances(ctx)
	if err != nil {
		return view{}, fmt.Errorf("listing the group's instances: %w", err)
	}
	old, fresh := Classify(all, to)
	v := view{
		live:    append(old, fresh...),
		fresh:   make(map[string]bool, len(fresh)),
		healthy: make(map[string]bool, len(all)),
	}
	for _, inst := range fresh {
		v.fresh[inst.ID] = true
	}
	if len(v.live) > 0 {
		ids, inService := make([]string, 0, len(v.live)), make([]string, 0, len(v.live))
		for _, inst := range v.live {
			ids = append(ids, inst.ID)
			if inst.Lifecycle == LifecycleInService {
				inService = append(inService, inst.ID)
			}
		}
		if v.report, err = r.fleet.Health(ctx, ids); err != nil {
			return view{}, fmt.Errorf("reading load balancer health of %d clones: %w", len(ids), err)
		}
		for _, id := range v.report.Healthy(inService) {
			v.healthy[id] = true
		}
	}
	r.sample(len(v.healthy))
	return v, nil
}

// rollback points the group back at from and rolls onto it the same way:
// the failed instances are unhealthy, so they are retired first, and the
// healthy new ones are replaced surge first.
func (r *runner) rollback(ctx context.Context, from Target, cause *batchTimeout) (Result, error) {
	e := &RollbackError{BatchFailure: cause.BatchFailure, From: from}
	r.progress(cause.describe() + "; rolling back to " + from.String())
	if err := r.fleet.SetTemplateVersion(ctx, from.TemplateVersion); err != nil {
		e.Err = fmt.Errorf("pointing the group back at launch template version %s: %w", from.TemplateVersion, err)
		return r.result(cause.view), e
	}
	r.phase, r.batches = "rollback ", 0
	replacedBefore := len(r.replaced)
	v, err := r.roll(ctx, from)
	e.Retired = slices.Clone(r.replaced[replacedBefore:])
	e.Healthy = len(v.healthy)
	e.Err = err
	if err == nil {
		r.progress(fmt.Sprintf("rollback complete: %d/%d clones on %s healthy", len(v.healthy), r.desired, from))
	}
	return r.result(v), e
}

func (r *runner) result(v view) Result {
	ids := make([]string, len(v.live))
	for i, inst := range v.live {
		ids[i] = inst.ID
	}
	slices.Sort(ids)
	return Result{Batches: r.steps, Launched: r.launched, Retired: r.retired, InstanceIDs: ids, Healthy: len(v.healthy)}
}

func (r *runner) progress(msg string) {
	if r.opts.Progress != nil {
		r.opts.Progress(msg)
	}
}

func (r *runner) sample(healthy int) {
	if r.opts.Sample != nil {
		r.opts.Sample(healthy, r.desired)
	}
}

func setOf(ids []string) map[string]bool {
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
