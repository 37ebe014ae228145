#!/usr/bin/env python3
"""What the frontend itself costs (issue 8), stock frontend against hoard, from one run:

* cold: `bench/cases/cold` (two independent stages of 5 s each, one then running two steps as a
  user it defines) built with an empty layer cache (a fresh BENCH_BUST) and empty cache mounts
  (a fresh BUILDKIT_CACHE_MOUNT_NS), for `linux/amd64` and for `--platform linux/amd64,linux/386`
  (base `hoard-test/busybox:multi`: `bench/cases/cold/Dockerfile.multi`).
* noop: the cargo case, built once per frontend, then rebuilt without any change (every step
  CACHED): the frontend's own time plus BuildKit's cache checks.
* outline: `--call outline` of the generated 5,000-line Dockerfile (`benches/convert.rs`).

Each repetition runs stock and hoard back to back, alternating which goes first; medians and
the ratio of medians. Writes bench/results/frontend-<date>.json, bench/FRONTEND.md and
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


def buildx(args, cwd, logf):
    cmd = ["docker", "buildx", "build", "--builder", "default", "--progress=plain"] + args
    env = dict(os.environ, DOCKER_BUILDKIT="1", BUILDX_NO_DEFAULT_ATTESTATIONS="1")
    t0 = time.monotonic()
    with open(logf, "w") as lf:
        r = subprocess.run(cmd, cwd=cwd, stdout=lf, stderr=subprocess.STDOUT, env=env)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        with open(logf) as lf:
            tail = lf.read().splitlines()[-15:]
        sys.exit(f"build failed ({logf}):\n" + "\n".join(tail))
    return secs


class Run:
    def __init__(self, a):
        self.a = a
        self.id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        self.out = os.path.join(BENCH, "out", "frontend-" + self.id)
        os.makedirs(self.out, exist_ok=True)
        self.records = []

    def fe_args(self, fe):
        return ["--build-arg", f"BUILDKIT_SYNTAX={self.a.image}"] if fe == "hoard" else []

    def record(self, case, fe, rep, secs):
        log(f"{case}/{fe} rep {rep}: {secs:.2f} s")
        self.records.append({"case": case, "frontend": fe, "rep": rep, "seconds": round(secs, 3)})

    def pairs(self, case, one):
        for rep in range(1, self.a.reps + 1):
            order = ["stock", "hoard"] if rep % 2 else ["hoard", "stock"]
            for fe in order:
                self.record(case, fe, rep, one(fe, rep))

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
        for fe in ("stock", "hoard"):
            log(f"noop/{fe}: warm-up build")
            buildx(self.fe_args(fe) + ["-f", df, ctx], ctx, os.path.join(self.out, f"noop-{fe}-warmup.log"))

        def one(fe, rep):
            return buildx(self.fe_args(fe) + ["-f", df, ctx], ctx, os.path.join(self.out, f"noop-{fe}-{rep}.log"))

        self.pairs("noop", one)

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
         f"stock and hoard back to back in alternating order. Load average before / after: {meta['load_before']} / "
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
        ys = [res[case]["median"]["stock"], res[case]["median"]["hoard"]]
        bars = ax.bar(["stock", "hoard"], ys, color=["#9e9e9e", "#2e7d32"])
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
    ap.add_argument("--cases", default="cold,cold-multi,noop,outline")
    ap.add_argument("--image", default=os.environ.get("HOARD_BENCH_IMAGE", "hoard:bench"))
    ap.add_argument("--note", action="append", default=[])
    a = ap.parse_args()
    run = Run(a)
    load_before = " ".join(open("/proc/loadavg").read().split()[:3])
    cases = a.cases.split(",")
    if "cold" in cases:
        run.cold("cold", "Dockerfile", [])
    if "cold-multi" in cases:
        run.cold("cold-multi", "Dockerfile", ["--build-arg", "BASE=hoard-test/busybox:multi",
                                              "--platform", "linux/amd64,linux/386"])
    if "outline" in cases:
        run.outline()
    if "noop" in cases:
        run.noop()
    res = summary(run.records)
    meta = {"commit": os.environ.get("HOARD_BENCH_COMMIT", "?"), "image": a.image, "reps": a.reps,
            "load_before": load_before, "load_after": " ".join(open("/proc/loadavg").read().split()[:3]),
            "notes": a.note}
    write(run, res, meta)
    for case, r in res.items():
        log(f"{case}: stock {r['median']['stock']:.2f} s, hoard {r['median']['hoard']:.2f} s, {r['ratio']:.2f}x")


if __name__ == "__main__":
    main()
