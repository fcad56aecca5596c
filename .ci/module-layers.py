#!/usr/bin/env python3
"""Checks the layering of crates/idphoto/src: every module (top-level folder or file) may use
only modules below it in LAYERS, and the files inside a folder import each other without
cycles. Prints the module graph; exits 1 on a violation.

Reads `crate::a::b` paths and `use super::x` in the library code (a file's `#[cfg(test)]`
part and the test-only files are left out: tests may use any module)."""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "idphoto", "src")

# bottom first: a module may use the modules before it
LAYERS = [
    "error", "raster", "spec", "report", "nn", "decode", "face", "matte", "geometry",
    "render", "encode", "check", "options", "pipeline", "engine", "internals", "lib",
]
TEST_ONLY = {"test_support"}


def module_of(rel):
    parts = rel[:-3].split(os.sep)
    return parts[0]


def test_only_files():
    """Files declared as `#[cfg(test)] mod name;`: tests, left out like test modules."""
    out = set()
    for root, _, files in os.walk(SRC):
        for f in files:
            if not f.endswith(".rs"):
                continue
            text = open(os.path.join(root, f), encoding="utf-8").read()
            folder = root if f in ("mod.rs", "lib.rs") else os.path.join(root, f[:-3])
            for name in re.findall(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+(\w+)\s*;", text):
                for cand in (os.path.join(folder, name + ".rs"), os.path.join(folder, name, "mod.rs")):
                    out.add(os.path.normpath(cand))
    return out


def rust_files():
    tests = test_only_files()
    for root, _, files in os.walk(SRC):
        for f in sorted(files):
            if f.endswith(".rs"):
                path = os.path.join(root, f)
                rel = os.path.relpath(path, SRC)
                if module_of(rel) in TEST_ONLY or os.path.normpath(path) in tests:
                    continue
                text = open(path, encoding="utf-8").read()
                # the library code: what precedes the file's tests
                yield rel, strip_comments(text).split("#[cfg(test)]\nmod ")[0]


def strip_comments(text):
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def main():
    ok = True
    deps = {}
    files = dict(rust_files())
    for rel, text in files.items():
        src = text
        mod = module_of(rel)
        used = set(re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", src))
        deps.setdefault(mod, set()).update(u for u in used if u != mod)
    unknown = sorted(set(deps) - set(LAYERS))
    if unknown:
        print(f"modules missing from LAYERS: {unknown}")
        ok = False
    rank = {m: i for i, m in enumerate(LAYERS)}
    print("module -> modules it uses")
    for mod in sorted(deps, key=lambda m: rank.get(m, 99)):
        used = sorted(deps[mod], key=lambda m: rank.get(m, 99))
        print(f"  {mod:12} -> {', '.join(used) or '-'}")
        for u in used:
            if u in rank and mod in rank and rank[u] > rank[mod]:
                print(f"LAYER VIOLATION: {mod} uses {u}, which is above it")
                ok = False
    # file-level cycles inside each folder (imports through super:: and crate::<folder>::)
    folders = {}
    for rel in files:
        d = os.path.dirname(rel)
        if d:
            folders.setdefault(d, []).append(rel)
    for d, rels in sorted(folders.items()):
        names = {os.path.basename(r)[:-3]: r for r in rels}
        graph = {}
        crate_prefix = "crate::" + d.replace(os.sep, "::") + "::"
        for name, rel in names.items():
            src = files[rel]
            refs = set(re.findall(r"\bsuper::([a-z_][a-z0-9_]*)", src))
            refs |= set(re.findall(re.escape(crate_prefix) + r"([a-z_][a-z0-9_]*)", src))
            graph[name] = {r for r in refs if r in names and r != name}
            if name != "mod" and re.search(r"\bsuper::[A-Z_a-z]", src):
                # `super::Item` names an item of mod.rs itself
                items = set(re.findall(r"\bsuper::([A-Za-z_][A-Za-z0-9_]*)", src)) - set(names)
                if items:
                    graph[name].add("mod")
        cycle = find_cycle(graph)
        if cycle:
            print(f"CYCLE in {d}/: {' -> '.join(cycle)}")
            ok = False
    print("layers and folders: ok" if ok else "FAILED")
    return 0 if ok else 1


def find_cycle(graph):
    state = {}
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


if __name__ == "__main__":
    sys.exit(main())
