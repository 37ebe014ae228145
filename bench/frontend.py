#!/usr/bin/env python3
"""What the frontend itself costs (issue 8), stock frontend against hoard, from one run:

* cold: `bench/cases/cold` (two independent stages of 5 s each, one then running two steps as a
  user it defines) built with an empty layer cache (a fresh BENCH_BUST) and empty cache mounts
  (a fresh BUILDKIT_CACHE_MOUNT_NS), for `linux/amd64` and for `--platform linux/amd64,linux/386`
  (base `hoard-test/busybox:multi`: `bench/cases/cold/Dockerfile.multi`).
* noop: the cargo case, built once per frontend, then rebuilt without any change (every step
  CACHED): the frontend's own time plus BuildKit's cache checks. A third frontend runs here:
  bench/passthrough, the smallest gateway frontend (it hands the build to the built-in stock
  frontend and returns its result), so the page shows what BuildKit charges for running any
  frontend image (passthrough / stock) apart from what hoard adds to that (hoard / passthrough).
* outline: `--call outline` of the generated 5,000-line Dockerfile (`benches/convert.rs`).

Each repetition runs the frontends back to back, rotating which goes first; medians and the
ratio of medians. Writes bench/results/frontend-<date>.json, bench/FRONTEND.md and
bench/results/frontend.png. Called by `bench/run.sh frontend [--reps N]`.
"""

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def buildx(args, cwd, logf, progress="plain", span=None):
    """Run one build; its wall time in seconds. With `span` (a list), also append the client's
    start and end as Unix times (to set beside the daemon's --progress=rawjson timestamps)."""
    cmd = ["docker", "buildx", "build", "--builder", "default", f"--progress={progress}"] + args
    env = dict(os.environ, DOCKER_BUILDKIT="1", BUILDX_NO_DEFAULT_ATTESTATIONS="1")
    t0 = time.monotonic()
    u0 = time.time()
    with open(logf, "w") as lf:
        r = subprocess.run(cmd, cwd=cwd, stdout=lf, stderr=subprocess.STDOUT, env=env)
    secs = time.monotonic() - t0
    if span is not None:
        span.extend([u0, time.time()])
    if r.returncode != 0:
        with open(logf) as lf:
            tail = lf.read().splitlines()[-15:]
        sys.exit(f"build failed ({logf}):\n" + "\n".join(tail))
    return secs


def rfc3339(s):
    """Unix time of BuildKit's RFC 3339 timestamp (nanoseconds cut to what a float keeps)."""
    s = s.rstrip("Z")
    whole, _, frac = s.partition(".")
    t = dt.datetime.fromisoformat(whole).replace(tzinfo=dt.timezone.utc).timestamp()
    return t + float("0." + (frac or "0"))


# Vertices a frontend asks for while it works out the graph (the stock frontend and hoard name
# them the same): everything else before the export is the final graph.
FRONTEND_READS = ("[internal] load build definition", "[internal] load .dockerignore", "[internal] load metadata for")
FRONTEND_IMAGE = ("resolve image config for", "docker-image://")
PHASES = ["client, before", "frontend image", "container start", "frontend's reads", "handover", "final graph",
          "export", "client, after"]
PHASE_NOTES = {
    "client, before": "buildx starts, connects and opens its session, until the daemon's first vertex",
    "frontend image": "the daemon resolves the frontend image (a BUILDKIT_SYNTAX/`# syntax=` image) and loads it",
    "container start": "from the image loaded to the frontend's first request: a snapshot for its root and runc",
    "frontend's reads": "the frontend loads the Dockerfile and .dockerignore and resolves the base image",
    "handover": "from the frontend's last read to the final graph: converting, Return, and for a frontend "
                "image its process exit and container teardown",
    "final graph": "the final graph's cache checks (base image, build context, every step CACHED)",
    "export": "exporting to image",
    "client, after": "from the export done until buildx exits",
}


def phases(logf, u0, u1):
    """Where one no-op build's time went (seconds per phase), from its rawjson progress."""
    V = {}
    with open(logf) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            for v in json.loads(line).get("vertexes") or []:
                e = V.setdefault(v["digest"], {"name": v.get("name", ""), "s": None, "c": None})
                if v.get("started") and e["s"] is None:
                    e["s"] = rfc3339(v["started"])
                if v.get("completed"):
                    e["c"] = rfc3339(v["completed"])
    vs = [e for e in V.values() if e["s"] and e["c"]]
    img = [e for e in vs if e["name"].startswith(FRONTEND_IMAGE)]
    reads = [e for e in vs if e["name"].startswith(FRONTEND_READS)]
    export = [e for e in vs if e["name"].startswith("exporting")]
    final = [e for e in vs if e not in img and e not in reads and e not in export]
    if not (reads and final and export):
        return None
    # A vertex this build shares with another one running meanwhile (a base image) can report
    # that build's older times: only vertices starting after this build's first are counted.
    first = min(e["s"] for e in img + reads)
    img_done = max(e["c"] for e in img) if img else first
    reads_s, reads_e = min(e["s"] for e in reads), max(e["c"] for e in reads)
    final = [e for e in final if e["s"] >= reads_s]
    if not final:
        return None
    final_s, exp_s, exp_e = min(e["s"] for e in final), min(e["s"] for e in export), max(e["c"] for e in export)
    return dict(zip(PHASES, [first - u0, img_done - first, reads_s - img_done, reads_e - reads_s,
                             final_s - reads_e, exp_s - final_s, exp_e - exp_s, u1 - exp_e]))


class Run:
    def __init__(self, a):
        self.a = a
        self.id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        self.out = os.path.join(BENCH, "out", "frontend-" + self.id)
        os.makedirs(self.out, exist_ok=True)
        self.records = []

    def fe_args(self, fe):
        image = {"hoard": self.a.image, "passthrough": self.a.passthrough}.get(fe)
        return ["--build-arg", f"BUILDKIT_SYNTAX={image}"] if image else []

    def record(self, case, fe, rep, secs):
        log(f"{case}/{fe} rep {rep}: {secs:.2f} s")
        self.records.append({"case": case, "frontend": fe, "rep": rep, "seconds": round(secs, 3)})
        return self.records[-1]

    def pairs(self, case, one, fes=("stock", "hoard")):
        for rep in range(1, self.a.reps + 1):
            k = (rep - 1) % len(fes)
            for fe in fes[k:] + fes[:k]:
                secs = one(fe, rep)
                rec = self.record(case, fe, rep, secs if not isinstance(secs, tuple) else secs[0])
                if isinstance(secs, tuple) and secs[1]:
                    rec["phases_ms"] = {k: round(v * 1000, 1) for k, v in secs[1].items()}

    def cold(self, case, dockerfile, extra):
        ctx = os.path.join(BENCH, "cases", "cold")

        def one(fe, rep):
            bust = uuid.uuid4().hex
            args = self.fe_args(fe) + ["-f", os.path.join(ctx, dockerfile), "--build-arg", f"BENCH_BUST={bust}",
                                       "--build-arg", f"BUILDKIT_CACHE_MOUNT_NS=bench-cold-{bust}"] + extra + [ctx]
            return buildx(args, ctx, os.path.join(self.out, f"{case}-{fe}-{rep}.log"))

        self.pairs(case, one)

    def noop(self):
        ctx = os.path.join(BENCH, "cases", "cargo")
        df = os.path.join(ctx, "Dockerfile.naive")
        fes = ("stock", "passthrough", "hoard")
        for fe in fes:
            log(f"noop/{fe}: warm-up build")
            buildx(self.fe_args(fe) + ["-f", df, ctx], ctx, os.path.join(self.out, f"noop-{fe}-warmup.log"))

        def one(fe, rep):
            logf = os.path.join(self.out, f"noop-{fe}-{rep}.json")
            span = []
            secs = buildx(self.fe_args(fe) + ["-f", df, ctx], ctx, logf, progress="rawjson", span=span)
            return secs, phases(logf, *span)

        self.pairs("noop", one, fes)

    def outline(self):
        gen = os.path.join(self.out, "generated")
        env = dict(os.environ, HOARD_BENCH_WRITE=gen)
        # the test build of the bench (no optimised build needed just to write the files)
        subprocess.run(["cargo", "test", "--bench", "convert"], cwd=REPO, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        df = os.path.join(gen, "Dockerfile.5000")

        def one(fe, rep):
            return buildx(self.fe_args(fe) + ["--call", "outline", "-f", df, gen], gen,
                          os.path.join(self.out, f"outline-{fe}-{rep}.log"))

        self.pairs("outline", one)


def summary(records):
    out = {}
    for r in records:
        out.setdefault(r["case"], {}).setdefault(r["frontend"], []).append(r["seconds"])
    res = {}
    for case, fes in out.items():
        m = {fe: statistics.median(xs) for fe, xs in fes.items()}
        res[case] = {"median": m, "min": {fe: min(xs) for fe, xs in fes.items()},
                     "max": {fe: max(xs) for fe, xs in fes.items()}, "n": {fe: len(xs) for fe, xs in fes.items()},
                     "ratio": m["hoard"] / m["stock"] if m.get("stock") else None}
        ph = {}
        for r in records:
            if r["case"] == case and "phases_ms" in r:
                for k, v in r["phases_ms"].items():
                    ph.setdefault(r["frontend"], {}).setdefault(k, []).append(v)
        if ph:
            res[case]["phases_ms"] = {fe: {k: statistics.median(v) for k, v in d.items()} for fe, d in ph.items()}
        if "passthrough" in m:
            res[case]["passthrough_ratio"] = m["passthrough"] / m["stock"]
            res[case]["hoard_over_passthrough"] = m["hoard"] / m["passthrough"]
    return res


CONVERT_MARK = "<!-- converter -->"
TARGETS = {"cold": 1.1, "cold-multi": 1.1, "noop": 1.2, "outline": None}
LABELS = {
    "cold": "cold multi-stage build, non-root user (linux/amd64)",
    "cold-multi": "the same for --platform linux/amd64,linux/386",
    "noop": "no-op rebuild of the cargo case (every step CACHED)",
    "outline": "`--call outline` of a 5,000-line Dockerfile",
}


def write(run, res, meta):
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H%M")
    raw = os.path.join(BENCH, "results", f"frontend-{date}.json")
    with open(raw, "w") as f:
        json.dump({"run_id": run.id, "meta": meta, "summary": res, "builds": run.records}, f, indent=1)
    L = ["# What the frontend itself costs\n",
         f"Run `{run.id}`, hoard commit `{meta['commit']}` (image `{meta['image']}`), {meta['reps']} repetitions, "
         f"the frontends back to back, rotating which goes first (no-op case: also bench/passthrough as "
         f"`{meta['passthrough']}`). Load average before / after: {meta['load_before']} / "
         f"{meta['load_after']}. Raw data: `{os.path.relpath(raw, BENCH)}`. Made by `bench/run.sh frontend`.\n",
         "| case | stock median (s) | hoard median (s) | hoard / stock | target | result |", "|---|---|---|---|---|---|"]
    for case in ("cold", "cold-multi", "noop", "outline"):
        if case not in res:
            continue
        r = res[case]
        t = TARGETS[case]
        verdict = "—" if t is None else ("**PASS**" if r["ratio"] <= t else "**FAIL**")
        L.append(f"| {LABELS[case]} | {r['median']['stock']:.2f} ({r['min']['stock']:.2f}–{r['max']['stock']:.2f}) | "
                 f"{r['median']['hoard']:.2f} ({r['min']['hoard']:.2f}–{r['max']['hoard']:.2f}) | {r['ratio']:.2f}x | "
                 f"{'≤ %.1fx' % t if t else 'none'} | {verdict} |")
    L.append("")
    noop = res.get("noop", {})
    if "passthrough" in noop.get("median", {}):
        fes = ("stock", "passthrough", "hoard")
        L.append("The no-op rebuild through three frontends: the built-in stock frontend, bench/passthrough (the "
                 "smallest frontend image: it hands the build to the built-in stock frontend and returns its "
                 "result, so it costs what BuildKit charges for running any frontend image) and hoard:\n")
        L.append("| no-op rebuild | " + " | ".join(fes) + " |")
        L.append("|---|---|---|---|")
        L.append("| median (min–max), s | " + " | ".join(
            f"{noop['median'][fe]:.2f} ({noop['min'][fe]:.2f}–{noop['max'][fe]:.2f})" for fe in fes) + " |")
        L.append("| / stock | " + " | ".join(f"{noop['median'][fe] / noop['median']['stock']:.2f}x" for fe in fes) + " |")
        L.append(f"| hoard / passthrough | | | {noop['hoard_over_passthrough']:.2f}x |")
        L.append("")
    ph = noop.get("phases_ms")
    if ph:
        fes = [fe for fe in ("stock", "passthrough", "hoard") if fe in ph]
        L.append("Where a no-op rebuild's time goes (median ms per phase, from the daemon's `--progress=rawjson` "
                 "vertex timestamps and the client's start and end; medians of phases need not add up to the "
                 "median total):\n")
        L.append("| phase | " + " | ".join(fes) + " | what it is |")
        L.append("|---|" + "---|" * len(fes) + "---|")
        for k in PHASES:
            L.append(f"| {k} | " + " | ".join(f"{ph[fe].get(k, 0):.0f}" for fe in fes) + f" | {PHASE_NOTES[k]} |")
        L.append("")
    L.append("Parse and convert of generated Dockerfiles (criterion, `cargo bench --bench convert`): see "
             "*The converter's own time* below.\n")
    L.append("![frontend costs](results/frontend.png)\n")
    for n in meta.get("notes", []):
        L.append(f"- {n}")
    # The converter's section is written by hand from `cargo bench --bench convert`: kept as it is.
    page = os.path.join(BENCH, "FRONTEND.md")
    kept = ""
    if os.path.exists(page):
        old = open(page).read()
        if CONVERT_MARK in old:
            kept = old[old.index(CONVERT_MARK):]
    with open(page, "w") as f:
        f.write("\n".join(L) + "\n" + kept)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no plot")
        return
    cases = [c for c in ("cold", "cold-multi", "noop", "outline") if c in res]
    fig, axes = plt.subplots(1, len(cases), figsize=(3.2 * len(cases), 3.6), squeeze=False)
    for ax, case in zip(axes[0], cases):
        fes = [fe for fe in ("stock", "passthrough", "hoard") if fe in res[case]["median"]]
        ys = [res[case]["median"][fe] for fe in fes]
        colors = {"stock": "#9e9e9e", "passthrough": "#90a4ae", "hoard": "#2e7d32"}
        bars = ax.bar(fes, ys, color=[colors[fe] for fe in fes])
        for b, y in zip(bars, ys):
            ax.annotate(f"{y:.2f}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=9)
        ax.set_title(f"{case} ({res[case]['ratio']:.2f}x)", fontsize=10)
        ax.margins(y=0.15)
    fig.suptitle("frontend costs: median seconds (lower is better)")
    fig.tight_layout()
    fig.savefig(os.path.join(BENCH, "results", "frontend.png"), dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--cases", default="noop,cold,cold-multi,outline")
    ap.add_argument("--image", default=os.environ.get("HOARD_BENCH_IMAGE", "hoard:bench"))
    ap.add_argument("--passthrough", default=os.environ.get("HOARD_BENCH_PASSTHROUGH", "hoard-passthrough:bench"))
    ap.add_argument("--note", action="append", default=[])
    a = ap.parse_args()
    run = Run(a)
    load_before = " ".join(open("/proc/loadavg").read().split()[:3])
    # In the order given (the no-op case is the most sensitive to what else runs on the machine).
    for case in a.cases.split(","):
        if case == "cold":
            run.cold("cold", "Dockerfile", [])
        elif case == "cold-multi":
            run.cold("cold-multi", "Dockerfile", ["--build-arg", "BASE=hoard-test/busybox:multi",
                                                  "--platform", "linux/amd64,linux/386"])
        elif case == "outline":
            run.outline()
        elif case == "noop":
            run.noop()
        else:
            sys.exit(f"unknown case {case}")
    res = summary(run.records)
    meta = {"commit": os.environ.get("HOARD_BENCH_COMMIT", "?"), "image": a.image,
            "passthrough": a.passthrough, "reps": a.reps,
            "load_before": load_before, "load_after": " ".join(open("/proc/loadavg").read().split()[:3]),
            "notes": a.note}
    write(run, res, meta)
    for case, r in res.items():
        extra = ""
        if "passthrough" in r["median"]:
            extra = f" (passthrough {r['median']['passthrough']:.2f} s, {r['passthrough_ratio']:.2f}x of stock)"
        log(f"{case}: stock {r['median']['stock']:.2f} s, hoard {r['median']['hoard']:.2f} s, {r['ratio']:.2f}x{extra}")


if __name__ == "__main__":
    main()
