"""Reference CSV parser for the interaction-log fuzz test: Python's csv module.

Reads a JSON list of {"path": ..., "delimiter": ...} on stdin and prints a JSON list with, per
file, {"rows": [[field, ...], ...]} or {"error": "..."} (invalid UTF-8 is an error here).
Quote character '"', default dialect otherwise (doublequote, non-strict).
"""
import csv
import json
import sys

csv.field_size_limit(1 << 30)
results = []
for case in json.load(sys.stdin):
    try:
        with open(case["path"], newline="", encoding="utf-8-sig", errors="strict") as handle:
            results.append({"rows": list(csv.reader(handle, delimiter=case["delimiter"], quotechar='"'))})
    except (csv.Error, UnicodeDecodeError) as error:
        results.append({"error": f"{type(error).__name__}: {error}"})
json.dump(results, sys.stdout, ensure_ascii=True)
