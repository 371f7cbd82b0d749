#!/usr/bin/env python3
"""Streams `go test -json` as one line per finished test, keeps the verbose
text log, and ends with a summary that counts skips and gives their reasons.

Usage: go test -json ./... | scripts/test_report.py LOGFILE

`go test -json` reports every package's events as they happen, where
`go test -v` buffers all but one package's output until it ends.
"""

import json
import re
import sys
import time

LOG_LINE = re.compile(r"^\s+\S+\.go:\d+: (.*)")


def main(log_path):
    start = time.monotonic()
    last_log = {}  # (package, test) -> its last t.Log / t.Skip line
    output = {}  # (package, test) -> its output lines, kept for failures
    results = []  # (package, test, action)
    packages_failed = []

    def stamp():
        s = int(time.monotonic() - start)
        return "[%3dm%02ds]" % (s // 60, s % 60)

    with open(log_path, "w") as log:
        for raw in sys.stdin:
            try:
                ev = json.loads(raw)
            except ValueError:
                # Build errors and the like are not JSON.
                log.write(raw)
                print(stamp(), raw.rstrip("\n"), flush=True)
                continue
            pkg, test, action = ev.get("Package", ""), ev.get("Test"), ev.get("Action")
            short = pkg.rsplit("/", 1)[-1]
            if action == "output":
                text = ev.get("Output", "")
                log.write(text)
                if test:
                    output.setdefault((pkg, test), []).append(text)
                    m = LOG_LINE.match(text)
                    if m:
                        last_log[(pkg, test)] = m.group(1)
                continue
            if action not in ("pass", "fail", "skip"):
                continue
            elapsed = ev.get("Elapsed", 0)
            if test is None:
                if action == "fail":
                    packages_failed.append(pkg)
                print(stamp(), "%s %s (%.1fs)" % ("ok  " if action != "fail" else "FAIL", short, elapsed), flush=True)
                continue
            results.append((pkg, test, action))
            top = "/" not in test
            if top or action != "pass":
                line = "--- %s: %s (%s, %.1fs)" % (action.upper(), test, short, elapsed)
                if action == "skip":
                    line += ": " + last_log.get((pkg, test), "(no reason given)")
                print(stamp(), ("" if top else "    ") + line, flush=True)

    def count(action, acc):
        # Tests are counted once, by their top-level result; a skipped
        # subtest counts as a skip too (a table case that did not run).
        return sum(1 for _, t, a in results
                   if a == action and ("/" not in t or a == "skip") and t.startswith("TestAcc") == acc)

    skips = [(p, t) for p, t, a in results if a == "skip"]
    fails = [(p, t) for p, t, a in results if a == "fail"]
    print()
    print("acceptance tests: %d passed, %d skipped, %d failed; other tests: %d passed, %d skipped, %d failed (full log: %s)" % (
        count("pass", True), count("skip", True), count("fail", True),
        count("pass", False), count("skip", False), count("fail", False), log_path))
    if skips:
        print()
        print("skipped, with the reason each gave:")
        for p, t in skips:
            print("  %s (%s): %s" % (t, p.rsplit("/", 1)[-1], last_log.get((p, t), "(no reason given)")))
    if fails or packages_failed:
        print()
        print("failed tests, with the end of their output:")
        for p, t in fails:
            print("".join(output.get((p, t), [])[-60:]), end="")
        for p in packages_failed:
            if not any(f == p for f, _ in fails):
                print("package %s failed outside any test (build error, panic or TestMain): see %s" % (p, log_path))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".cache/test.log")
