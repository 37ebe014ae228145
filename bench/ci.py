#!/usr/bin/env python3
"""CI jobs on fresh runners (issue 9): what a job costs after `docker buildx prune -af`, for the
cargo, apt and pip cases of bench/cases/, on the CI engine of scripts/ci-engine.sh (a second
dockerd next to a registry on 127.0.0.1:5000, so wiping it never touches the shared engine).

Per case, set-up jobs (not timed) fill the registry the way earlier pipeline runs would: a stock
job with `--cache-to type=registry,mode=max,compression=zstd` (as the README's CI recipes), and a
hoard job with the same plus its cache image
(`HOARD_CACHE_EXPORT=1`). Then per repetition, each after a change (cargo: MARKER in
app/src/report.rs; apt, pip: a new BENCH_BUST build arg):

* stock-ci:       wipe, stock frontend, nothing from the registry (a fresh runner, no cache);
* stock-cf:       wipe, stock frontend with `--cache-from` of the stock layers;
* hoard-ci:       wipe, hoard with `HOARD_CACHE_FROM=<cache image>` and `--cache-from` of its
                  layers; then its export (`HOARD_CACHE_EXPORT=1`, pushed), timed separately;
* hoard-warm:     no wipe, the next change on the same builder with the same arguments (a
                  persistent runner that receives the seed every job).

And, per case, the warm local rebuild the issue compares with: hoard without CI arguments on a
builder that built the case once (warm-local, one untimed warm-up, then the repetitions).

Recorded per build: wall clock around `docker buildx build`; bytes into the CI engine's build
containers (tx_bytes of its bridge hoardci0: registry pulls go over loopback and are not
counted, so this is what the RUN steps downloaded); what the tools print; for hoard-ci the
seed import (the longest seed vertex, one per cache, plus the longest primer, from the plain
progress output)
and, for the export, the cache image's size (index label, uncompressed) and its layer blobs.

Writes bench/results/ci-<date>.json, bench/CI.md and bench/results/ci.png. Called by
`bench/run.sh ci [--reps N] [--cases cargo,apt,pip]`. Holds /run/hoard-ci/jobs.lock (the
lock tests/ci_cache_e2e.rs takes) for the whole run.
"""

import argparse
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import driver  # noqa: E402  (tool_metrics, fmt_bytes, MARKER_RE)

REGISTRY = "localhost:5000"
BRIDGE_TX = "/sys/class/net/hoardci0/statistics/tx_bytes"
VARIANTS = ["stock-ci", "stock-cf", "hoard-ci", "hoard-export", "hoard-warm", "warm-local"]



# The layer cache's export options, for stock and hoard alike: those of the README's CI recipes
# (bake, GitHub Actions, GitLab), zstd included (a fresh runner unpacks these layers).
LAYER_CACHE = "mode=max,compression=zstd"

def log(msg):
    print(f"bench-ci: {msg}", file=sys.stderr, flush=True)


def tx():
    try:
        with open(BRIDGE_TX) as f:
            return int(f.read())
    except OSError:
        return None


class CiBench:
    def __init__(self, a):
        self.a = a
        self.run_id = a.run_id
        self.out = os.path.join(BENCH, "out", f"ci-{self.run_id}")
        os.makedirs(self.out, exist_ok=True)
        self.records = []
        self.seed_refs = set()
        self.env = dict(os.environ, BUILDX_NO_DEFAULT_ATTESTATIONS="1")
        self.env.pop("BUILDKIT_PROGRESS", None)
        self.env.pop("BUILDX_BUILDER", None)

    def docker(self, args, **kw):
        return subprocess.run(["docker"] + args, env=self.env, capture_output=True, text=True, **kw)

    def setup(self):
        r = subprocess.run([os.path.join(REPO, "scripts", "ci-engine.sh"), "hoard-test/debian:bookworm",
                            self.a.image], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"scripts/ci-engine.sh failed:\n{r.stderr[-2000:]}")
        host = re.search(r"^export DOCKER_HOST=(\S+)$", r.stdout, re.M).group(1)
        self.env["DOCKER_HOST"] = host
        self.frontend = f"{REGISTRY}/hoard-bench/frontend:{self.run_id}"
        for args in (["tag", self.a.image, self.frontend], ["push", "-q", self.frontend]):
            r = self.docker(args)
            if r.returncode != 0:
                sys.exit(f"docker {' '.join(args)}: {r.stderr}")

    def wipe(self):
        """A fresh runner: no build cache (`docker buildx prune -af`) and no image but the base
        images (`hoard-test/*`, which every job of every variant uses and a real runner would
        pull too). Without the second part the engine keeps what it pushed itself (the cache
        image, the frontend image) and what it built (dangling result images) in its containerd
        image store, and a seeded job never pulls its seed from the registry (the previous run
        measured a seed import of 0.0 s for that reason)."""
        r = self.docker(["buildx", "prune", "-af"])
        if r.returncode != 0:
            sys.exit(f"prune: {r.stderr}")
        r = self.docker(["image", "ls", "-a", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}}@{{.ID}}"])
        drop = sorted({line for line in r.stdout.split() if not line.startswith("hoard-test/")})
        for img in drop:
            name, _, ident = img.rpartition("@")
            ref = ident if name.endswith("<none>:<none>") or name.endswith(":<none>") else name
            self.docker(["image", "rm", "-f", ref])
        self.docker(["image", "prune", "-f"])
        if self.seed_refs:
            for seed in self.seed_refs:
                r = self.docker(["image", "inspect", seed])
                if r.returncode == 0:
                    sys.exit(f"wipe: the CI engine still holds {seed}")

    def context(self, case):
        dst = os.path.join(self.out, "ctx", case)
        if not os.path.exists(dst):
            shutil.copytree(os.path.join(BENCH, "cases", case), dst, ignore=shutil.ignore_patterns("target"))
        return dst

    def ref(self, case, what):
        return f"{REGISTRY}/hoard-bench/{case}-{what}:{self.run_id}"

    def change(self, case, marker):
        if driver.CASES[case]["change"] == "source":
            p = os.path.join(self.context(case), "app", "src", "report.rs")
            with open(p) as f:
                s = f.read()
            with open(p, "w") as f:
                f.write(driver.MARKER_RE.sub(f'pub const MARKER: &str = "{marker}";', s))
            return []
        return [f"BENCH_BUST={marker}"]

    def build(self, case, variant, rep, args=(), extra=(), hoard=True, change=True):
        marker = f"ci{self.run_id}-{variant}-{rep}"
        build_args = list(args)
        if change:
            build_args += self.change(case, marker)
        if hoard:
            build_args.append(f"BUILDKIT_SYNTAX={self.frontend}")
        ctx = self.context(case)
        cmd = ["docker", "buildx", "build", "--builder", "default", "--progress=plain",
               "-f", os.path.join(ctx, "Dockerfile.naive")]
        for b in build_args:
            cmd += ["--build-arg", b]
        cmd += list(extra) + [ctx]
        logf = os.path.join(self.out, f"{case}-{variant}-{rep}.log")
        b0, t0 = tx(), time.monotonic()
        with open(logf, "w") as lf:
            r = subprocess.run(cmd, env=self.env, stdout=lf, stderr=subprocess.STDOUT)
        secs = time.monotonic() - t0
        b1 = tx()
        with open(logf) as lf:
            out = lf.read()
        rec = {"case": case, "variant": variant, "rep": rep, "ok": r.returncode == 0, "args": build_args,
               "seconds": round(secs, 2), "bytes": (b1 - b0) if b0 is not None and b1 is not None else None,
               "log": os.path.relpath(logf, REPO)}
        rec.update(driver.tool_metrics(case, out))
        if variant in ("hoard-ci", "hoard-warm", "stock-cf"):
            # Which Dockerfile steps ran and which were layer-cache hits (kept in the results:
            # the logs in bench/out/ are not, and a step that runs again explains a slow job).
            rec["steps"] = step_states(out)
            rec["layer_import_seconds"] = layer_import(out)
        if variant == "hoard-ci":
            rec["seed_import_seconds"] = seed_import(out)
            rec["seeded_caches"] = len(re.findall(r"hoard: seeded cache ", out))
        if not rec["ok"]:
            rec["error_tail"] = "\n".join(out.strip().splitlines()[-12:])
        log(f"{case}/{variant} {rep}: rc={r.returncode} {secs:.1f}s bytes={driver.fmt_bytes(rec['bytes'])} "
            + " ".join(f"{k}={v}" for k, v in rec.items() if k not in (
                "case", "variant", "rep", "ok", "seconds", "bytes", "log", "error_tail")))
        if rep != "setup":
            self.records.append(rec)
        return rec

    def seed_size(self, seed):
        r = self.docker(["buildx", "imagetools", "inspect", "--format", "{{json .Image}}", seed])
        image = json.loads(r.stdout)
        # An index (one image per cache beside the build platform's): that platform's image.
        image = image if "config" in image else image["linux/amd64"]
        idx = json.loads(image["config"]["Labels"]["dev.hoard.caches"])
        raw = json.loads(self.docker(["buildx", "imagetools", "inspect", "--raw", seed]).stdout)
        if "manifests" in raw:
            name = seed.rsplit(":", 1)[0]
            raw = json.loads(self.docker(["buildx", "imagetools", "inspect", "--raw",
                                          f"{name}@{raw['manifests'][0]['digest']}"]).stdout)
        return {"seed_bytes": sum(c.get("size", 0) for c in idx["caches"]),
                "seed_blob_bytes": sum(layer["size"] for layer in raw.get("layers", [])),
                "seed_caches": len(idx["caches"])}

    def export(self, case, rep, seed, built):
        """The export of the build `built`, with exactly its build arguments (its BENCH_BUST too:
        with another value the export would run the measured step again)."""
        out = f"type=image,name={seed},push=true,compression=zstd"
        args = [x for x in built["args"] if not x.startswith("BUILDKIT_SYNTAX=")]
        rec = self.build(case, "hoard-export", rep, args + ["HOARD_CACHE_EXPORT=1"], ["--output", out],
                         change=False)
        if rec["ok"]:
            rec.update(self.seed_size(seed))
        return rec

    def run_case(self, case):
        stock_layers, hoard_layers = self.ref(case, "stock-layers"), self.ref(case, "hoard-layers")
        seed = self.ref(case, "cache")
        self.seed_refs.add(seed)
        from_arg = [f"HOARD_CACHE_FROM={seed}"]
        log(f"case {case}: set-up jobs")
        self.wipe()
        self.build(case, "stock-setup", "setup", hoard=False,
                   extra=["--cache-to", f"type=registry,ref={stock_layers},{LAYER_CACHE}"])
        self.wipe()
        built = self.build(case, "hoard-setup", "setup", from_arg,
                           ["--cache-to", f"type=registry,ref={hoard_layers},{LAYER_CACHE}"])
        self.export(case, "setup", seed, built)
        log(f"case {case}: warm local rebuilds")
        self.wipe()
        self.build(case, "warm-local", "setup")
        for rep in range(1, self.a.reps + 1):
            self.build(case, "warm-local", rep)
        for rep in range(1, self.a.reps + 1):
            self.wipe()
            self.build(case, "stock-ci", rep, hoard=False)
            self.wipe()
            self.build(case, "stock-cf", rep, hoard=False, extra=["--cache-from", f"type=registry,ref={stock_layers}"])
            self.wipe()
            built = self.build(case, "hoard-ci", rep, from_arg, ["--cache-from", f"type=registry,ref={hoard_layers}"])
            self.export(case, rep, seed, built)
            self.build(case, "hoard-warm", rep, from_arg)

    def run(self):
        os.makedirs("/run/hoard-ci", exist_ok=True)
        with open("/run/hoard-ci/jobs.lock", "a") as lock:
            log("waiting for the CI engine's lock")
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.setup()
            for case in self.a.cases:
                self.run_case(case)
            self.wipe()


def step_states(out):
    """Per Dockerfile step (`[stage n/m] ...`, from the plain progress output): `cached`
    (CACHED), `hit` (a layer-cache hit whose layer the job needed: only its blob's download and
    unpacking) or `ran`."""
    names, lines = {}, {}
    for line in out.splitlines():
        m = re.match(r"^#(\d+) (.*)$", line)
        if not m:
            continue
        vid, rest = m.groups()
        if vid not in names and rest.startswith("["):
            names[vid], lines[vid] = rest, []
        elif rest not in (names.get(vid), "..."):  # a step's header again when it resumes
            lines.setdefault(vid, []).append(rest)

    def blob(x):
        return x.startswith("sha256:") or x.startswith("extracting sha256:")
    states = {}
    for vid, name in names.items():
        if not re.match(r"^\[[^\]]*\d+/\d+\] ", name) or "] FROM " in name:
            continue
        ls = lines.get(vid, [])
        if "CACHED" in ls:
            st = "cached"
        elif any(blob(x) for x in ls) and all(blob(x) or x.startswith("DONE") for x in ls):
            st = "hit"
        else:
            st = "ran"
        states[name[:100]] = st
    return states


def layer_import(out):
    """Seconds spent importing `--cache-from` layers: the DONE times of the Dockerfile steps that
    were layer-cache hits whose layer the job needed (download and unpacking of their blobs)."""
    states = step_states(out)
    names, done = {}, {}
    for line in out.splitlines():
        m = re.match(r"^#(\d+) (\[.*)$", line)
        if m and m.group(1) not in names:
            names[m.group(1)] = m.group(2)[:100]
        m = re.match(r"^#(\d+) DONE ([\d.]+)s$", line)
        if m:
            done[m.group(1)] = max(done.get(m.group(1), 0.0), float(m.group(2)))
    return round(sum(done.get(v, 0.0) for v, n in names.items() if states.get(n) == "hit"), 2)


def seed_import(out):
    """Seconds the seed costs a job, from the plain progress output: the probe, then the longest
    seed vertex (pull and unpack; one per cache, in parallel), then the longest primer (they run
    in parallel too)."""
    names, done = {}, {}
    for line in out.splitlines():
        m = re.match(r"^#(\d+) (\[.*)$", line)
        if m and m.group(1) not in names:
            names[m.group(1)] = m.group(2)
        m = re.match(r"^#(\d+) DONE ([\d.]+)s$", line)
        if m:
            done[m.group(1)] = float(m.group(2))

    def longest(needle):
        xs = [done[v] for v, n in names.items() if needle in n and v in done]
        return max(xs) if xs else 0.0
    return round(longest("which caches are warm") + longest("hoard: cache seed") + longest("hoard: prime cache"), 2)


def medians(records):
    out = {}
    for r in records:
        out.setdefault(r["case"], {}).setdefault(r["variant"], []).append(r)
    med = {}
    for case, vs in out.items():
        for v, rs in vs.items():
            good = [r for r in rs if r["ok"]]
            m = {"n": len(rs), "failed": len(rs) - len(good)}
            for k in sorted({k for r in good for k, x in r.items() if isinstance(x, (int, float))
                             and not isinstance(x, bool) and k != "rep"}):
                xs = [r[k] for r in good if isinstance(r.get(k), (int, float))]
                if xs:
                    m[k] = statistics.median(xs)
            if good:
                m["seconds_min"] = min(r["seconds"] for r in good)
                m["seconds_max"] = max(r["seconds"] for r in good)
            med.setdefault(case, {})[v] = m
    return med


def targets(med):
    t = []
    c = med.get("cargo", {})
    g = lambda v, k="seconds": c.get(v, {}).get(k)  # noqa: E731
    if g("hoard-ci") and g("warm-local"):
        bound = 1.3 * (g("warm-local") + (g("hoard-ci", "seed_import_seconds") or 0))
        t.append({"target": "cargo: seeded CI rebuild within 1.3x of the warm local rebuild plus the seed import",
                  "shown": f"{g('hoard-ci'):.1f} s vs 1.3 x ({g('warm-local'):.1f} s + "
                           f"{g('hoard-ci', 'seed_import_seconds'):.1f} s) = {bound:.1f} s"
                           + (f" (the job also spends {g('hoard-ci', 'layer_import_seconds'):.1f} s importing "
                              "--cache-from layers, as stock-cf does)" if g("hoard-ci", "layer_import_seconds") else ""),
                  "pass": g("hoard-ci") <= bound})
    if g("hoard-ci") and g("stock-ci"):
        sp = g("stock-ci") / g("hoard-ci")
        t.append({"target": "cargo: seeded CI rebuild >= 5x faster than the stock frontend's CI rebuild",
                  "shown": f"{sp:.2f}x (stock {g('stock-ci'):.1f} s / hoard {g('hoard-ci'):.1f} s; "
                           f"stock with --cache-from {g('stock-cf'):.1f} s)" if g("stock-cf") else f"{sp:.2f}x",
                  "pass": sp >= 5})
    a = med.get("apt", {})
    sb, hb = a.get("stock-ci", {}).get("bytes"), a.get("hoard-ci", {}).get("bytes")
    if sb and hb is not None:
        t.append({"target": "apt: seeded CI rebuild downloads < 5% of a stock CI rebuild",
                  "shown": f"{100 * hb / sb:.2f}% (hoard {driver.fmt_bytes(hb)} / stock {driver.fmt_bytes(sb)})",
                  "pass": hb / sb < 0.05})
    return t


def write_plot(med, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no plot")
        return
    cases = [c for c in ("cargo", "apt", "pip") if c in med]
    colors = {"stock-ci": "#9e9e9e", "stock-cf": "#bdbdbd", "hoard-ci": "#2e7d32", "hoard-export": "#a5d6a7",
              "hoard-warm": "#66bb6a", "warm-local": "#1565c0"}
    fig, axes = plt.subplots(2, len(cases), figsize=(4.8 * len(cases), 7.5), squeeze=False)
    for i, case in enumerate(cases):
        vs = [v for v in VARIANTS if v in med[case]]
        for row, key, title, scale in ((0, "seconds", "median time (s)", 1), (1, "bytes", "MB from package registries", 1e6)):
            ax = axes[row][i]
            ys = [(med[case][v].get(key) or 0) / scale for v in vs]
            bars = ax.bar(vs, ys, color=[colors[v] for v in vs])
            for b, y in zip(bars, ys):
                ax.annotate(f"{y:.1f}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=8)
            ax.set_title(f"{case}: {title}", fontsize=10)
            ax.tick_params(axis="x", labelrotation=35, labelsize=8)
            ax.margins(y=0.15)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def write_markdown(data, path):
    med = data["medians"]
    L = ["# hoard benchmark: CI jobs on fresh runners\n",
         f"Run `{data['run_id']}` ({data['date']}), hoard commit `{data['hoard_commit']}`, "
         f"{data['reps']} repetitions, load average before / after: {data['load_before']} / {data['load_after']}. "
         "Linked from [RESULTS.md](RESULTS.md); how it is measured: `bench/ci.py`.\n",
         "## Targets (issue 9)\n", "| target | measured (medians) | result |", "|---|---|---|"]
    for t in data["targets"]:
        L.append(f"| {t['target']} | {t['shown']} | **{'PASS' if t['pass'] else 'FAIL'}** |")
    L.append("")
    for case in [c for c in ("cargo", "apt", "pip") if c in med]:
        L.append(f"## {case}\n")
        L.append("| job | median (s) | min–max (s) | bytes into RUN containers | tool says | seed import (s) | "
                 "layer import (s) | cache image (uncompressed / pushed) | failed |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for v in VARIANTS:
            m = med[case].get(v)
            if not m:
                continue
            tool = {"cargo": ("crates_compiled", "compiled", "crates_downloaded", "downloaded"),
                    "apt": ("apt_fetched_bytes", "Fetched", None, None),
                    "pip": ("created_wheel", "wheels built", "pip_downloading", "downloads")}[case]
            said = []
            for k, label in ((tool[0], tool[1]), (tool[2], tool[3])):
                if k and k in m:
                    said.append(f"{label} {driver.fmt_bytes(m[k]) if k.endswith('bytes') else f'{m[k]:g}'}")
            seed = (f"{driver.fmt_bytes(m['seed_bytes'])} / {driver.fmt_bytes(m['seed_blob_bytes'])}"
                    if "seed_bytes" in m else "")
            imp = f"{m['seed_import_seconds']:.1f}" if "seed_import_seconds" in m else ""
            lay = f"{m['layer_import_seconds']:.1f}" if "layer_import_seconds" in m else ""
            export = v == "hoard-export"
            cells = [v, f"{m.get('seconds', 0):.1f}", f"{m.get('seconds_min', 0):.1f}–{m.get('seconds_max', 0):.1f}",
                     "" if export else driver.fmt_bytes(m.get("bytes")), "" if export else ", ".join(said),
                     imp, lay, seed, f"{m['failed']}/{m['n']}"]
            L.append("| " + " | ".join(cells) + " |")
        L.append("")
    ran = [r for r in data["builds"] if r["variant"] == "hoard-ci" and r.get("steps")]
    if ran:
        L.append("## Steps the seeded jobs ran\n")
        L.append("Every other Dockerfile step of each `hoard-ci` job was a layer-cache hit "
                 "(`--cache-from`); a step whose inputs did not change must not be in this list.\n")
        for r in ran:
            steps = [n for n, st in r["steps"].items() if st == "ran"]
            L.append(f"- {r['case']} rep {r['rep']}: " + ("; ".join(f"`{n}`" for n in steps) or "none"))
        L.append("")
    L.append("![plot](results/ci.png)\n")
    L.append("## Jobs\n")
    L.append("- `stock-ci`: wiped runner (`docker buildx prune -af`), stock frontend, no registry cache.\n"
             "- `stock-cf`: wiped runner, stock frontend, `--cache-from type=registry` of a stock set-up job "
             "(`mode=max,compression=zstd`, as the README's CI recipes; hoard's set-up job the same).\n"
             "- `hoard-ci`: wiped runner, hoard with `HOARD_CACHE_FROM=<cache image>` and `--cache-from` of a "
             "hoard set-up job's layers; *seed import* = the probe, the longest seed pull (one per cache, in parallel) and the longest primer "
             "(from the `DONE` times of the plain progress output), the seed pulled from the local registry "
             "(the wipe removes images too); *layer import* = the `DONE` times of the steps that were "
             "layer-cache hits whose layers the job had to download and unpack.\n"
             "- `hoard-export`: right after `hoard-ci` on the same runner, the same arguments plus "
             "`HOARD_CACHE_EXPORT=1`, pushed with zstd to the local registry (the next repetition seeds from it).\n"
             "- `hoard-warm`: no wipe after `hoard-ci`/`hoard-export`, the next change with the same arguments "
             "(a persistent runner receiving the seed).\n"
             "- `warm-local`: hoard without CI arguments on a runner that built the case once (the warm local "
             "rebuild of bench/RESULTS.md, on the CI engine).\n"
             "- Bytes: tx_bytes of the CI engine's bridge (what the RUN containers downloaded); registry traffic "
             "(seed, layers, frontend image) is on loopback and not in it. The frontend image is pulled from the "
             "local registry by every wiped job.\n")
    if data.get("notes"):
        L.append("## Observations and caveats\n")
        for n in data["notes"]:
            L.append(f"- {n}")
        L.append("")
    L.append(f"Command: `{data['command']}`. Raw data: `{data['json']}`; logs in `bench/out/ci-{data['run_id']}/`.\n")
    with open(path, "w") as f:
        f.write("\n".join(L))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cases", default="cargo,apt,pip")
    ap.add_argument("--image", default=os.environ.get("HOARD_BENCH_IMAGE", "hoard:bench"))
    ap.add_argument("--hoard-commit", default=os.environ.get("HOARD_BENCH_COMMIT", "?"))
    ap.add_argument("--note", action="append", default=[])
    ap.add_argument("--from-json", help="no builds: rewrite bench/CI.md and the plot from a results JSON")
    a = ap.parse_args()
    if a.from_json:
        with open(a.from_json) as f:
            data = json.load(f)
        data["notes"] = data.get("notes", []) + a.note
        for r in data["builds"]:
            logf = os.path.join(REPO, r.get("log", ""))
            if "steps" in r and os.path.isfile(logf):
                with open(logf) as lf:
                    out = lf.read()
                r["steps"], r["layer_import_seconds"] = step_states(out), layer_import(out)
        data["medians"] = medians(data["builds"])
        data["targets"] = targets(data["medians"])
        with open(a.from_json, "w") as f:
            json.dump(data, f, indent=1)
        write_plot(data["medians"], os.path.join(BENCH, "results", "ci.png"))
        write_markdown(data, os.path.join(BENCH, "CI.md"))
        return
    a.cases = [c for c in a.cases.split(",") if c]
    for c in a.cases:
        if c not in ("cargo", "apt", "pip"):
            ap.error(f"unknown case {c}")
    now = dt.datetime.now(dt.timezone.utc)
    a.run_id = now.strftime("%Y%m%dT%H%M%S")
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    b = CiBench(a)
    try:
        b.run()
    finally:
        med = medians(b.records)
        name = f"ci-{now.strftime('%Y-%m-%dT%H%M')}.json"
        data = {"run_id": a.run_id, "date": now.strftime("%Y-%m-%d %H:%M UTC"), "reps": a.reps,
                "image": a.image, "hoard_commit": a.hoard_commit, "load_before": load_before,
                "load_after": " ".join(f"{x:.1f}" for x in os.getloadavg()),
                "command": "bench/run.sh ci " + " ".join(sys.argv[1:]), "notes": a.note,
                "json": f"results/{name}", "medians": med, "targets": targets(med), "builds": b.records}
        os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
        with open(os.path.join(BENCH, "results", name), "w") as f:
            json.dump(data, f, indent=1)
        write_plot(med, os.path.join(BENCH, "results", "ci.png"))
        write_markdown(data, os.path.join(BENCH, "CI.md"))
        for t in data["targets"]:
            log(f"{'PASS' if t['pass'] else 'FAIL'} {t['target']}: {t['shown']}")


if __name__ == "__main__":
    main()
