#!/usr/bin/env python3
"""Lists the files of crates/idphoto/src over 800 lines and the functions over 100 lines.
A file may exceed its bound when its module docs say why (a line `//! Size: ...`); a function
may when the line before it (or its doc comment) says so (`// Size: ...`). Exits 1 otherwise."""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "idphoto", "src")
MAX_FILE, MAX_FN = 800, 100
FN = re.compile(r"^\s*(pub(\([a-z]+\))?\s+)?(const\s+)?(unsafe\s+)?fn\s+([A-Za-z0-9_]+)")


def functions(lines):
    """(name, first line, number of lines) of every fn with a body."""
    i = 0
    while i < len(lines):
        m = FN.match(lines[i])
        if not m:
            i += 1
            continue
        depth, started, j = 0, False, i
        while j < len(lines):
            code = lines[j].split("//")[0]
            code = re.sub(r'"(\\.|[^"\\])*"', '""', code)
            code = re.sub(r"'(\\.|[^'\\])'", "''", code)
            if not started and ";" in code and "{" not in code:
                break  # a declaration without a body
            depth += code.count("{") - code.count("}")
            started = started or "{" in code
            if started and depth <= 0:
                yield m.group(5), i, j - i + 1
                break
            j += 1
        i += 1


def main():
    bad = 0
    for root, _, files in os.walk(SRC):
        for f in sorted(files):
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, SRC)
            lines = open(path, encoding="utf-8").read().splitlines()
            if len(lines) > MAX_FILE:
                why = any(l.startswith("//! Size:") for l in lines[:40])
                print(f"{rel}: {len(lines)} lines{'' if why else '  <- over ' + str(MAX_FILE)}")
                bad += not why
            for name, start, n in functions(lines):
                if n > MAX_FN:
                    before = "\n".join(lines[max(0, start - 8):start])
                    why = "// Size:" in before
                    print(f"{rel}:{start + 1}: fn {name}: {n} lines{'' if why else '  <- over ' + str(MAX_FN)}")
                    bad += not why
    print("sizes: ok" if not bad else f"sizes: {bad} over their bounds without a reason")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
