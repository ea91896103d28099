#!/usr/bin/env python3
"""Finds import cycles between sibling modules of each crate.

A module `a` that names `crate::b` (or `super::b`) depends on `b`; when `a` and `b` sit in
different subtrees, the dependency counts between the two siblings under their common parent.
Any strongly connected group of two or more siblings is a cycle and fails the check. Exit 1
when one is found, so CI can run it.
"""
import os
import re
import sys

CRATES = ["core", "data", "echo5d", "echo5-tui"]
PATH_RE = re.compile(r"\b(crate|super)((?:::\w+)+)")
GROUP_RE = re.compile(r"\b(crate|super)::\{([^}]*)\}")


def module_of(src, path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def strip_comments(text):
    return re.sub(r"//[^\n]*", "", text)


def refs(text, here, is_mod_file):
    """Module paths (tuples) named from a file whose module path is `here`."""
    out = []
    base_super = here[:-1] if here else ()
    for root, rest in PATH_RE.findall(text):
        parts = tuple(p for p in rest.split("::") if p)
        out.append(((), parts) if root == "crate" else (base_super, parts))
    for root, inner in GROUP_RE.findall(text):
        for item in inner.split(","):
            first = item.strip().split("::")[0].strip()
            if first and first != "self" and re.match(r"^\w+$", first):
                out.append(((), (first,)) if root == "crate" else (base_super, (first,)))
    return out


def check(crate):
    src = os.path.join(crate, "src")
    modules = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if f.endswith(".rs"):
                p = os.path.join(dirpath, f)
                modules[module_of(src, p)] = p
    known = set(modules)
    edges = {}
    for mod, path in modules.items():
        text = strip_comments(open(path, encoding="utf-8").read())
        for base, parts in refs(text, mod, path.endswith("mod.rs")):
            target = base
            for p in parts:
                if base + (p,) in known or target + (p,) in known:
                    target = target + (p,)
                else:
                    break
            if target == base or target == mod:
                continue
            # The pair of siblings under the common parent.
            i = 0
            while i < min(len(mod), len(target)) and mod[i] == target[i]:
                i += 1
            if i >= len(mod) or i >= len(target):
                continue  # a module naming its own ancestor or descendant
            a, b = mod[: i + 1], target[: i + 1]
            edges.setdefault(a, set()).add(b)
    return find_cycles(edges)


def find_cycles(edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def main():
    sys.setrecursionlimit(10000)
    bad = False
    for crate in CRATES:
        for comp in check(crate):
            bad = True
            names = ", ".join("::".join(m) for m in comp)
            print(f"{crate}: sibling modules import each other: {names}")
    if not bad:
        print("no import cycles between sibling modules")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
