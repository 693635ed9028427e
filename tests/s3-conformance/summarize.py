#!/usr/bin/env python3
"""Pass counts of a ceph/s3-tests junit report: overall, in issue 4's scope, and by feature.

usage: summarize.py REPORT.xml [scope.tsv]
"""
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

report = sys.argv[1]
scope_file = sys.argv[2] if len(sys.argv) > 2 else Path(__file__).with_name("scope.tsv")
scope = {}
for line in open(scope_file, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    name, _file, feature, in_out, note = (line.rstrip("\n").split("\t") + [""])[:5]
    scope[name] = (feature, in_out, "AWS today:" in note)

passed = {}
for case in ET.parse(report).iter("testcase"):
    name = case.get("name")
    if any(child.tag == "skipped" for child in case):
        continue
    passed[name] = not any(child.tag in ("failure", "error") for child in case)

unknown = sorted(n for n in passed if n not in scope)
by = defaultdict(lambda: [0, 0])
total = [0, 0]
inscope = [0, 0]
aws_fails = [0, 0]
for name, ok in passed.items():
    feature, in_out, aws = scope.get(name, ("unclassified", "in", False))
    for bucket in (total, by[(in_out, feature)]) + ((inscope,) if in_out == "in" else ()):
        bucket[0] += ok
        bucket[1] += 1
    if in_out == "in" and aws and not ok:
        aws_fails[1] += 1

pct = lambda p: f"{100 * p[0] / p[1]:.1f} %" if p[1] else "-"
print(f"overall:  {total[0]} / {total[1]} passed ({pct(total)})")
print(f"in scope: {inscope[0]} / {inscope[1]} passed ({pct(inscope)})")
rest = [inscope[0], inscope[1] - aws_fails[1]]
print(f"in scope, without the {aws_fails[1]} failures current AWS gives too: {rest[0]} / {rest[1]} ({pct(rest)})")
for in_out in ("in", "out"):
    print(f"\n{in_out.upper()} of scope, by feature:")
    for (io, feature), p in sorted(by.items(), key=lambda kv: (-kv[1][1], kv[0][1])):
        if io == in_out:
            print(f"  {feature:<52} {p[0]:>4} / {p[1]:<4}")
if unknown:
    print(f"\n{len(unknown)} tests not in scope.tsv (counted IN): {' '.join(unknown[:20])}")
