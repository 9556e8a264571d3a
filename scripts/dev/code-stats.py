#!/usr/bin/env python3
"""Code-health numbers of the Rust sources: files over 400 lines, functions over 80 lines,
`pub` items, and import cycles between the modules of each crate.

    scripts/dev/code-stats.py [--cycles-only] [ROOT]

A module's imports are its `crate::…`, `super::…` and `self::…` paths (in `use` and inline),
each resolved to the longest module prefix that exists; a cycle is a strongly connected
component of more than one module in that graph. Exit 1 with --cycles-only when there is one,
so CI can refuse a new cycle.
"""
import re
import sys
from pathlib import Path

args = [a for a in sys.argv[1:] if not a.startswith("--")]
cycles_only = "--cycles-only" in sys.argv
root = Path(args[0] if args else ".")


def crate_roots(root):
    """(crate name, its src folder) for every crate: the workspace's crates/*, and the root."""
    found = []
    for manifest in sorted(root.glob("crates/*/Cargo.toml")) + [root / "Cargo.toml"]:
        src = manifest.parent / "src"
        if src.is_dir():
            found.append((manifest.parent.name if manifest.parent != root else "ablate", src))
    return found


def module_path(src, file):
    rel = file.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "bin" or parts == ["main"]:
        return None
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return tuple(parts)


def strip_comments_and_strings(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def references(module, text):
    """Module paths this module's code names (crate-relative)."""
    refs = set()
    # Expand `use a::{b, c::{d}}` groups into flat paths.
    for use in re.finditer(r"\buse\s+([^;]+);", text):
        for path in expand(use.group(1).replace(" ", "").replace("\n", "")):
            refs.add(path)
    for inline in re.finditer(r"\b((?:crate|super|self)(?:::\w+)+)", text):
        refs.add(inline.group(1))
    resolved = set()
    for ref in refs:
        parts = ref.split("::")
        if parts[0] == "crate":
            base = []
            parts = parts[1:]
        elif parts[0] in ("super", "self"):
            base = list(module)
            while parts and parts[0] in ("super", "self"):
                if parts[0] == "super":
                    base = base[:-1]
                parts = parts[1:]
        else:
            continue
        resolved.add(tuple(base + parts))
    return resolved


def expand(path):
    m = re.match(r"^(.*?)\{(.*)\}$", path)
    if not m:
        return [path.split(" as ")[0]]
    prefix, inner = m.group(1), m.group(2)
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    out = []
    for item in filter(None, items):
        out.extend(prefix + p for p in expand(item))
    return out


def tarjan(graph):
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            sccs.append(scc)

    for v in graph:
        if v not in index:
            visit(v)
    return sccs


def functions_over(text, limit):
    """(name, lines) of functions longer than `limit` lines, by brace matching."""
    lines = text.split("\n")
    long = []
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)(?:pub(?:\([^)]*\))?\s+)?(?:const\s+|async\s+|unsafe\s+)*fn\s+(\w+)", line)
        if not m:
            continue
        depth, started = 0, False
        for j in range(i, len(lines)):
            code = strip_comments_and_strings(lines[j])
            if not started and ";" in code and "{" not in code:
                break
            depth += code.count("{") - code.count("}")
            started = started or "{" in code
            if started and depth <= 0:
                if j - i + 1 > limit:
                    long.append((m.group(2), j - i + 1))
                break
    return long


total_cycles = []
big_files, long_fns, pub_items = [], [], 0
for crate, src in crate_roots(root):
    files = sorted(src.rglob("*.rs"))
    modules = {}
    for file in files:
        text = file.read_text()
        n = text.count("\n")
        if n > 400:
            big_files.append((str(file.relative_to(root)), n))
        long_fns.extend((str(file.relative_to(root)), name, size) for name, size in functions_over(text, 80))
        pub_items += len(re.findall(r"^\s*pub\s+(?:(?:const|async|unsafe)\s+)*(?:fn|struct|enum|const|static|type|trait|mod|use)\b", text, re.M))
        path = module_path(src, file)
        if path is not None:
            modules[path] = strip_comments_and_strings(text)
    graph = {}
    for path, text in modules.items():
        targets = set()
        for ref in references(path, text):
            while ref and ref not in modules:
                ref = ref[:-1]
            # A reference to an ancestor module (its items) is not an import of a sibling.
            if ref and ref != path and ref != path[: len(ref)]:
                targets.add(ref)
        graph[path] = targets
    for scc in tarjan(graph):
        if len(scc) > 1:
            total_cycles.append((crate, sorted("::".join(p) for p in scc)))

if not cycles_only:
    print(f"files over 400 lines: {len(big_files)}")
    for f, n in sorted(big_files, key=lambda x: -x[1]):
        print(f"  {n:5}  {f}")
    print(f"functions over 80 lines: {len(long_fns)}")
    for f, name, n in sorted(long_fns, key=lambda x: -x[2]):
        print(f"  {n:5}  {f}: {name}")
    print(f"pub items: {pub_items}")
print(f"import cycles: {len(total_cycles)}")
for crate, scc in total_cycles:
    print(f"  {crate}: {' ↔ '.join(scc)}")
sys.exit(1 if cycles_only and total_cycles else 0)
