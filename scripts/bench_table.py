"""Renders the pool scale benchmark's JSON lines as Markdown tables of
medians: per size and step, the AWS calls (total, mutating), wall time,
call rate, and the actions that make up most calls."""
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
print("| clones | step | calls | mutating | wall s | calls/s | most calls (median run) |")
print("|---:|---|---:|---:|---:|---:|---|")
for n in sizes:
    for step in ORDER:
        runs = rows.get((n, step))
        if not runs:
            continue
        total = statistics.median(r["total"] for r in runs)
        mutating = statistics.median(r["mutating"] for r in runs)
        secs = statistics.median(r["seconds"] for r in runs)
        mid = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]
        top = sorted(mid.get("by_action") or {}, key=lambda k: -mid["by_action"][k])[:4]
        most = ", ".join("%s %d" % (k.split(":", 1)[1], mid["by_action"][k]) for k in top)
        rate = "" if step == "raw-describe" or secs == 0 else "%.1f" % (total / secs)
        calls = "" if step == "raw-describe" else "%g" % total
        mut = "" if step == "raw-describe" else "%g" % mutating
        print("| %d | %s | %s | %s | %.1f | %s | %s |" % (n, step, calls, mut, secs, rate, most))
