#!/usr/bin/env python3
"""Import cycles between the files of src/ (issue 12: imports go one way).

Builds a file-level graph from every `crate::a::b` and `super::x` path outside comments and
test modules (each path resolved to the longest module prefix that is a file), prints each
cycle with its edges, and exits 1 if there is one. `-v` also prints every file's imports.
Run by scripts/test.sh; usage: scripts/import-cycles.py [src] [-v].
"""
import os, re, sys, itertools
args = [a for a in sys.argv[1:] if a != '-v']
root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src')
mods = {}  # module path tuple -> file
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p = os.path.join(d, f)
        rel = os.path.relpath(p, root)[:-3].split(os.sep)
        if rel[-1] in ('mod', 'lib'): rel = rel[:-1]
        if rel == ['main']: continue
        mods[tuple(rel)] = p
def resolve(path):
    # longest module prefix
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in mods: return tuple(path[:n])
    return None
edges = {}
for m, p in mods.items():
    src = open(p).read()
    # strip test modules
    i = src.find('#[cfg(test)]')
    if i >= 0: src = src[:i]
    src = re.sub(r'//[^\n]*', '', src)
    is_mod = p.endswith('mod.rs') or p.endswith('lib.rs')
    base = list(m) if is_mod else list(m[:-1])
    out = set()
    # expand use groups roughly: capture paths
    for mt in re.finditer(r'\b(crate|super)((?:::\w+)+)(?:::\{([^}]*)\})?', src):
        kind, rest, group = mt.group(1), mt.group(2), mt.group(3)
        parts = rest.strip(':').split('::')
        if kind == 'crate': cur = []
        else:
            cur = base[:]
            # count additional supers
            while parts and parts[0] == 'super':
                cur = cur[:-1]; parts = parts[1:]
            # `super` from a non-mod file refers to parent module = base
            if is_mod: cur = cur[:-1]
        full = cur + parts
        cands = [full]
        if group:
            for g in group.split(','):
                g = g.strip().split(' ')[0].split('::')
                if g and g[0] and g[0] != 'self': cands.append(full + g)
        for c in cands:
            r = resolve(c)
            if r and r != m: out.add(r)
    edges[m] = out
# cycles via Tarjan
index = {}; low = {}; st = []; on = set(); sccs = []; c = [0]
sys.setrecursionlimit(10000)
def sc(v):
    index[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in index: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
for v in mods:
    if v not in index: sc(v)
for comp in sccs:
    names = sorted('/'.join(x) for x in comp)
    print('CYCLE:', ' '.join(names))
    cs = set(comp)
    for a in sorted(comp):
        for b in sorted(edges[a] & cs):
            print('   ', '/'.join(a), '->', '/'.join(b))
if '-v' in sys.argv:
    for m in sorted(edges):
        print('/'.join(m), '->', ', '.join(sorted('/'.join(x) for x in edges[m])))
sys.exit(1 if sccs else 0)
