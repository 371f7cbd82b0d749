"""Renders the pool scale benchmark's JSON lines as Markdown: a table of
medians per size and step (AWS calls, mutating calls, wall time, call rate,
the actions that make up most calls), then issue 9's targets checked
against those medians."""
import json
import statistics
import sys
from collections import defaultdict

ORDER = ["create", "plan", "raw-describe", "scale-in", "scale-out", "rollout", "destroy"]

rows = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[(r["size"], r["step"])].append(r)
sizes = sorted({k[0] for k in rows})


def med(n, step, field):
    runs = rows.get((n, step))
    return statistics.median(r[field] for r in runs) if runs else None


print("| clones | step | calls | mutating | wall s | calls/s | most calls (median run) |")
print("|---:|---|---:|---:|---:|---:|---|")
for n in sizes:
    for step in ORDER:
        runs = rows.get((n, step))
        if not runs:
            continue
        total, mutating, secs = med(n, step, "total"), med(n, step, "mutating"), med(n, step, "seconds")
        mid = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]
        top = sorted(mid.get("by_action") or {}, key=lambda k: -mid["by_action"][k])[:4]
        most = ", ".join("%s %d" % (k.split(":", 1)[1], mid["by_action"][k]) for k in top)
        rate = "%.1f" % (total / secs) if secs else ""
        print("| %d | %s | %g | %g | %.1f | %s | %s |" % (n, step, total, mutating, secs, rate, most))

small = 20 if 20 in sizes else sizes[0]
big = sizes[-1]
checks = []


def check(what, target, measured, ok):
    checks.append("| %s | %s | %s | %s |" % (what, target, measured, "yes" if ok else "**no**"))


plans = [(n, med(n, "plan", "total"), med(n, "plan", "mutating")) for n in sizes]
check("plan/refresh of the pool", "≤ 11 calls at any size, 0 mutating",
      ", ".join("%d: %g/%g" % p for p in plans), all(t <= 11 and m == 0 for _, t, m in plans))
outs = [(n, med(n, "scale-out", "mutating")) for n in sizes]
check("scale-out (n/2 → n)", "≤ 3 mutating calls", ", ".join("%d: %g" % o for o in outs), all(m <= 3 for _, m in outs))
m = med(big, "scale-in", "mutating")
check("scale-in %d → %d" % (big, big // 2), "≤ 40 mutating calls", "%g" % m, m <= 40)
a, b = med(small, "rollout", "total"), med(big, "rollout", "total")
check("rollout in 4 batches", "calls at %d ≤ 1.5 × calls at %d" % (big, small), "%g vs %g (%.2f×)" % (b, a, b / a), b <= 1.5 * a)
m = med(big, "destroy", "mutating")
check("destroy of %d clones" % big, "≤ 60 mutating calls", "%g" % m, m <= 60)
p10, pbig, raw = med(sizes[0], "plan", "seconds"), med(big, "plan", "seconds"), med(big, "raw-describe", "seconds")
check("plan wall time at %d" % big, "≤ 2 × at %d + the emulator's own time for the same describes" % sizes[0],
      "%.1f s ≤ 2 × %.1f s + %.1f s = %.1f s" % (pbig, p10, raw, 2 * p10 + raw), pbig <= 2 * p10 + raw)
print()
print("| target | wanted | measured (medians) | met |")
print("|---|---|---|---|")
print("\n".join(checks))
