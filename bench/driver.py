#!/usr/bin/env python3
"""hoard rebuild benchmark driver (called by bench/run.sh, which first ensures the engine, the
base images and the frontend image).

For every case under bench/cases/ it does one warm-up build per variant (fills that variant's
caches; not comparable across variants), then N repetitions of: make the change (cargo: rewrite
the MARKER constant in src/report.rs; apt/pip: a new BENCH_BUST build arg consumed by the RUN),
rebuild, and record the wall clock around `docker buildx build` and the docker0 tx_bytes delta
(what the RUN containers downloaded). Variants are rotated across repetitions so that drift in
machine load hits all of them alike. Medians over the repetitions, ratios of medians.

Each bench run uses its own BUILDKIT_CACHE_MOUNT_NS per variant, so hoard's and the hand-tuned
cache mounts start cold without pruning the (shared) builder cache.

Writes bench/results/<date>.json (raw, small), bench/RESULTS.md and bench/results/plot.png.
Build logs go to bench/out/<run>/ (ignored by git).
"""

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
DOCKER0 = "/sys/class/net/docker0/statistics/tx_bytes"

# variant -> (Dockerfile, extra build args)
VARIANTS = {
    "stock": ("Dockerfile.naive", []),
    "hoard": ("Dockerfile.naive", ["BUILDKIT_SYNTAX={image}"]),
    "hoard-off": ("Dockerfile.naive", ["BUILDKIT_SYNTAX={image}", "HOARD=off"]),
    "tuned": ("Dockerfile.tuned", []),
}

CASES = {
    # how the change is made, and what to run in the built image to prove it is the right one
    "cargo": {"change": "source", "check": ["--marker"], "expect": "{marker}"},
    "apt": {"change": "arg", "check": ["sh", "-c", "git --version && jq --version && curl --version | head -n1"],
            "expect": "git version"},
    "pip": {"change": "arg",
            "check": ["python3", "-c", "import flask, markupsafe, sys; print('flask', flask.__version__, sys.argv[0])"],
            "expect": "flask "},
    # the pip case with a second RUN as the same user (issue 8)
    "pip2": {"change": "arg",
             "check": ["python3", "-c", "import flask, markupsafe, sys; print('flask', flask.__version__, sys.argv[0])"],
             "expect": "flask "},
}

MARKER_RE = re.compile(r'^pub const MARKER: &str = ".*";$', re.M)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def tx_bytes():
    try:
        with open(DOCKER0) as f:
            return int(f.read().strip())
    except OSError:
        return None


class RunNetWatch(threading.Thread):
    """Bytes received by the RUN containers of this build only: docker0 also carries whatever
    other builds on the machine download at the same time. Every 0.2 s, find the processes whose
    environment holds this build's BENCH_BUST value and read eth0's rx_bytes from
    /proc/<pid>/net/dev (their network namespace); keep the largest value seen per namespace."""

    def __init__(self, needle):
        super().__init__(daemon=True)
        self.needle = needle.encode()
        self.per_ns = {}
        self.stop = threading.Event()

    def scan(self):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if self.needle not in f.read().split(b"\0"):
                        continue
                ns = os.stat(f"/proc/{pid}/ns/net").st_ino
                with open(f"/proc/{pid}/net/dev") as f:
                    for line in f:
                        name, _, rest = line.partition(":")
                        if name.strip() == "eth0":
                            rx = int(rest.split()[0])
                            self.per_ns[ns] = max(rx, self.per_ns.get(ns, 0))
            except (OSError, ValueError, IndexError):
                continue

    def run(self):
        while not self.stop.wait(0.2):
            self.scan()

    def total(self):
        self.stop.set()
        self.join()
        return sum(self.per_ns.values()) if self.per_ns else 0


UNITS = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}


def size(num, unit):
    return float(num) * UNITS.get(unit, 1)


def tool_metrics(case, out):
    """What the tools themselves report in the build output (a cross-check of docker0, which
    also counts other builds running on the machine at the same time)."""
    m = {}
    if case == "apt":
        m["apt_fetched_bytes"] = int(sum(size(n, u) for n, u in re.findall(r"Fetched ([\d.]+) (\w?B) in", out)))
        m["apt_debs_to_get_bytes"] = int(sum(size(n, u) for n, u in re.findall(r"Need to get ([\d.]+) (\w?B)", out)))
        m["apt_hits"] = len(re.findall(r"\bHit:\d+", out))
    elif case == "cargo":
        m["crates_compiled"] = len(re.findall(r"^#\d+ [\d.]+ +Compiling ", out, re.M))
        # cargo 1.65 prints one "Downloaded <crate> v<version>" line per .crate, no byte total
        m["crates_downloaded"] = len(re.findall(r"^#\d+ [\d.]+ +Downloaded \S+ v\S+$", out, re.M))
        m["index_updating"] = len(re.findall(r"Updating crates.io index", out))
    elif case in ("pip", "pip2"):
        m["building_wheel"] = len(re.findall(r"Building wheel for \S+ \(.*\): started", out))
        m["created_wheel"] = len(re.findall(r"Created wheel for ", out))
        m["using_cached"] = len(re.findall(r"Using cached ", out))
        m["pip_downloading"] = len(re.findall(r"^#\d+ [\d.]+ +Downloading ", out, re.M))
        m["pip_downloaded_bytes"] = int(sum(size(n, u) for n, u in re.findall(r"Downloading \S+ \(([\d.]+) (\w?B)\)", out)))
        m["cache_disabled_warning"] = "cache has been disabled" in out or "is not owned or is not writable" in out
    return m


class Bench:
    def __init__(self, a):
        self.a = a
        self.run_id = a.run_id
        self.out = os.path.join(BENCH, "out", self.run_id)
        os.makedirs(self.out, exist_ok=True)
        self.records = []

    def explain(self, case):
        """What hoard says it injects into the case's naive Dockerfile (`hoard explain`)."""
        if not self.a.hoard_bin:
            return None
        try:
            r = subprocess.run([self.a.hoard_bin, "explain", "Dockerfile.naive"], cwd=self.context(case),
                               capture_output=True, text=True, timeout=120)
            return (r.stdout + r.stderr).strip()
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"(hoard explain failed: {e})"

    def variants_for(self, case):
        vs = [v for v in self.a.variants if v in VARIANTS]
        if not os.path.exists(os.path.join(BENCH, "cases", case, "Dockerfile.tuned")):
            vs = [v for v in vs if v != "tuned"]
        return vs

    def context(self, case):
        """A scratch copy of the case, so the edits never touch the committed files."""
        dst = os.path.join(self.out, "ctx", case)
        if not os.path.exists(dst):
            shutil.copytree(os.path.join(BENCH, "cases", case), dst,
                            ignore=shutil.ignore_patterns("target"))
        return dst

    def tag(self, case, variant):
        return f"hoard-bench/{case}-{variant}:{self.run_id}"

    def command(self, case, variant, marker):
        dockerfile, args = VARIANTS[variant]
        ctx = self.context(case)
        cmd = ["docker", "buildx", "build", "--builder", self.a.builder, "--progress=plain",
               "-f", os.path.join(ctx, dockerfile), "-t", self.tag(case, variant)]
        build_args = [x.format(image=self.a.image) for x in args]
        build_args.append(f"BUILDKIT_CACHE_MOUNT_NS=hoard-bench-{self.run_id}-{case}-{variant}")
        if CASES[case]["change"] == "arg":
            build_args.append(f"BENCH_BUST={marker}")
        for b in build_args:
            cmd += ["--build-arg", b]
        cmd.append(ctx)
        return cmd

    def change(self, case, marker):
        if CASES[case]["change"] != "source":
            return
        p = os.path.join(self.context(case), "app", "src", "report.rs")
        with open(p) as f:
            s = f.read()
        s2 = MARKER_RE.sub(f'pub const MARKER: &str = "{marker}";', s)
        assert s2 != s or f'"{marker}"' in s, "marker line not found"
        with open(p, "w") as f:
            f.write(s2)

    def check(self, case, variant, marker):
        c = CASES[case]
        cmd = ["docker", "run", "--rm", "--network=none", self.tag(case, variant)] + c["check"]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return False, "timeout"
        got = (r.stdout + r.stderr).strip()
        return r.returncode == 0 and c["expect"].format(marker=marker) in got, got[-200:]

    def build(self, case, variant, rep):
        marker = f"{self.run_id}-{variant}-{rep}"
        self.change(case, marker)
        cmd = self.command(case, variant, marker)
        logf = os.path.join(self.out, f"{case}-{variant}-{rep}.log")
        log(f"{case}/{variant} rep {rep}: building")
        watch = None
        if CASES[case]["change"] == "arg" and os.access("/proc/1/environ", os.R_OK):
            watch = RunNetWatch(f"BENCH_BUST={marker}")
            watch.start()
        b0 = tx_bytes()
        t0 = time.monotonic()
        with open(logf, "w") as lf:
            try:
                r = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT, timeout=self.a.timeout)
                rc = r.returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
        secs = time.monotonic() - t0
        b1 = tx_bytes()
        run_bytes = watch.total() if watch else None
        with open(logf) as lf:
            out = lf.read()
        rec = {
            "case": case, "variant": variant, "rep": rep, "ok": rc == 0, "rc": rc,
            "seconds": round(secs, 2),
            "docker0_bytes": (b1 - b0) if b0 is not None and b1 is not None else None,
            "run_netns_bytes": run_bytes,
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "log": os.path.relpath(logf, REPO),
        }
        rec.update(tool_metrics(case, out))
        if rc == 0:
            ok, got = self.check(case, variant, marker)
            rec["image_ok"] = ok
            if not ok:
                rec["image_check_output"] = got
        else:
            rec["error_tail"] = "\n".join(out.strip().splitlines()[-12:])
        log(f"{case}/{variant} rep {rep}: rc={rc} {secs:.1f}s "
            f"docker0={fmt_bytes(rec['docker0_bytes'])} "
            + " ".join(f"{k}={v}" for k, v in rec.items() if k not in (
                "case", "variant", "rep", "ok", "rc", "seconds", "docker0_bytes", "started", "log", "error_tail")))
        self.records.append(rec)
        return rec

    def run(self):
        for case in self.a.cases:
            vs = self.variants_for(case)
            log(f"case {case}: variants {', '.join(vs)}; warm-up builds")
            for v in vs:
                self.build(case, v, "warmup")
            for rep in range(1, self.a.reps + 1):
                k = (rep - 1) % len(vs)
                for v in vs[k:] + vs[:k]:   # rotate the order every repetition
                    self.build(case, v, rep)
        if not self.a.keep_images:
            tags = sorted({self.tag(r["case"], r["variant"]) for r in self.records})
            subprocess.run(["docker", "image", "rm", "-f"] + tags, capture_output=True)

    def drop_caches(self):
        """Remove this run's own cache mounts (their ids carry this run's BUILDKIT_CACHE_MOUNT_NS,
        so nobody else uses them): a cargo case leaves ~0.5 GB per variant, and the disk is shared
        (a run on 2026-11-22 died of ENOSPC). Only records matching this run's namespace go."""
        if self.a.keep_caches:
            return
        r = subprocess.run(["docker", "buildx", "prune", "--builder", self.a.builder, "-f", "--filter",
                            f"description~=hoard-bench-{self.run_id}-"], capture_output=True, text=True)
        tail = (r.stdout + r.stderr).strip().splitlines()[-1:] or [""]
        log(f"dropped this run's cache mounts: {tail[0]}")


def fmt_bytes(n):
    if n is None:
        return "n/a"
    for unit, d in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= d:
            return f"{n / d:.1f} {unit}"
    return f"{n} B"


def medians(records):
    """{case: {variant: {metric: median}}} over the successful timed repetitions."""
    res = {}
    for r in records:
        if r["rep"] == "warmup":
            continue
        res.setdefault(r["case"], {}).setdefault(r["variant"], []).append(r)
    out = {}
    for case, vs in res.items():
        for v, rs in vs.items():
            good = [r for r in rs if r["ok"]]
            m = {"n": len(rs), "failed": len(rs) - len(good),
                 "image_ok": all(r.get("image_ok") for r in good) and bool(good)}
            keys = {k for r in good for k, x in r.items()
                    if isinstance(x, (int, float)) and not isinstance(x, bool) and k != "rep"}
            for k in sorted(keys):
                xs = [r[k] for r in good if isinstance(r.get(k), (int, float))]
                if xs:
                    m[k] = statistics.median(xs)
            if good:
                m["seconds_min"] = min(r["seconds"] for r in good)
                m["seconds_max"] = max(r["seconds"] for r in good)
            out.setdefault(case, {})[v] = m
    return out


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def targets(med):
    """The issue's targets, each with the numbers it was judged on."""
    t = []
    c = med.get("cargo", {})
    st, ho, tu = (c.get(v, {}).get("seconds") for v in ("stock", "hoard", "tuned"))
    ok_img = c.get("hoard", {}).get("image_ok", False)
    sp = ratio(st, ho)
    t.append({"id": "cargo-speedup", "target": "cargo rebuild after a source change: hoard >= 10x faster than stock",
              "value": sp, "shown": f"{sp:.2f}x (stock {st:.1f} s / hoard {ho:.1f} s)" if sp else "n/a",
              "pass": bool(sp and sp >= 10 and ok_img)})
    vt = ratio(ho, tu)
    t.append({"id": "cargo-vs-tuned", "target": "cargo rebuild: hoard within 1.2x of the hand-tuned Dockerfile",
              "value": vt, "shown": f"{vt:.2f}x (hoard {ho:.1f} s / tuned {tu:.1f} s)" if vt else "n/a",
              "pass": bool(vt and vt <= 1.2 and ok_img)})
    a = med.get("apt", {})
    sb, hb = (a.get(v, {}).get("docker0_bytes") for v in ("stock", "hoard"))
    br = ratio(hb, sb)
    rr = ratio(*(a.get(v, {}).get("run_netns_bytes") for v in ("hoard", "stock")))
    img = bool(a.get("hoard", {}).get("image_ok"))
    t.append({"id": "apt-bytes", "target": "apt rebuild downloads < 1% of the stock bytes (docker0 tx_bytes delta)",
              "value": br, "shown": (f"{100 * br:.2f}% (hoard {fmt_bytes(hb)} / stock {fmt_bytes(sb)})" if br is not None else "n/a"),
              "pass": bool(br is not None and br < 0.01 and img)})
    rh, rs = (a.get(v, {}).get("run_netns_bytes") for v in ("hoard", "stock"))
    t.append({"id": "apt-bytes-run", "target": "the same, counting only this build's RUN containers (eth0 rx; "
              "docker0 also carries other people's concurrent builds)",
              "value": rr, "shown": (f"{100 * rr:.2f}% (hoard {fmt_bytes(rh)} / stock {fmt_bytes(rs)})" if rr is not None else "n/a"),
              "pass": bool(rr is not None and rr < 0.01 and img)})
    p = med.get("pip", {}).get("hoard", {})
    ps = med.get("pip", {}).get("stock", {})
    built, cached = p.get("created_wheel"), p.get("using_cached")
    t.append({"id": "pip-wheels", "target": "pip sdist rebuild as non-root reuses its built wheels (no wheel built again)",
              "value": built,
              "shown": (f"hoard: {built:g} wheels built, {cached:g} 'Using cached', {fmt_bytes(p.get('docker0_bytes'))} "
                        f"(stock: {ps.get('created_wheel', 0):g} built, {fmt_bytes(ps.get('docker0_bytes'))})"
                        if built is not None else "n/a"),
              "pass": bool(built == 0 and (cached or 0) > 0 and p.get("image_ok"))})
    p2 = med.get("pip2", {})
    s2, h2 = (p2.get(v, {}).get("seconds") for v in ("stock", "hoard"))
    sp2 = ratio(s2, h2)
    t.append({"id": "pip2-speedup", "target": "pip rebuild as non-root with a second RUN as the same user: hoard >= 1.4x "
              "faster than stock (issue 8)",
              "value": sp2, "shown": f"{sp2:.2f}x (stock {s2:.1f} s / hoard {h2:.1f} s)" if sp2 else "n/a",
              "pass": bool(sp2 and sp2 >= 1.4 and p2.get("hoard", {}).get("image_ok"))})
    return t


def write_plot(med, path, labels=None):
    labels = labels or {}
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed (pip install matplotlib): no plot")
        return False
    order = ["stock", "hoard-off", "hoard", "tuned"]
    colors = {"stock": "#9e9e9e", "hoard-off": "#c7a76c", "hoard": "#2e7d32", "tuned": "#1565c0"}
    cases = [c for c in ("cargo", "apt", "pip", "pip2") if c in med]
    fig, axes = plt.subplots(2, len(cases), figsize=(4.2 * len(cases), 7), squeeze=False)
    for i, case in enumerate(cases):
        vs = [v for v in order if v in med[case]]
        # top: seconds
        ax = axes[0][i]
        ys = [med[case][v].get("seconds") or 0 for v in vs]
        bars = ax.bar(vs, ys, color=[colors[v] for v in vs])
        for b, y in zip(bars, ys):
            ax.annotate(f"{y:.1f}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=9)
        ax.set_title(f"{case}: median rebuild time (s)" + (f"\n{labels[case]}" if case in labels else ""), fontsize=10)
        ax.margins(y=0.15)
        # bottom: MB downloaded, docker0 (solid) and this build's RUN containers (hatched) if measured
        ax = axes[1][i]
        run = any(med[case][v].get("run_netns_bytes") is not None for v in vs)
        w = 0.4 if run else 0.8
        xs = list(range(len(vs)))
        series = [("docker0_bytes", "docker0 (whole machine)", None, -w / 2 if run else 0)]
        if run:
            series.append(("run_netns_bytes", "this build's RUN containers", "//", w / 2))
        for key, label, hatch, off in series:
            ys = [(med[case][v].get(key) or 0) / 1e6 for v in vs]
            bars = ax.bar([x + off for x in xs], ys, width=w, color=[colors[v] for v in vs], hatch=hatch,
                          edgecolor="black" if hatch else None, linewidth=0.5, label=label)
            for b, y in zip(bars, ys):
                ax.annotate(f"{y:.1f}" if y >= 1 or y == 0 else f"{y:.2f}", (b.get_x() + b.get_width() / 2, y),
                            ha="center", va="bottom", fontsize=8)
        ax.set_xticks(xs)
        ax.set_xticklabels(vs)
        ax.set_title(f"{case}: median downloaded (MB)", fontsize=10)
        ax.margins(y=0.15)
        if run:
            ax.legend(fontsize=7, loc="best", framealpha=0.9)
    for row in axes:
        for ax in row:
            ax.tick_params(axis="x", labelsize=9)
    fig.suptitle("hoard rebuild benchmark (medians; lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def write_markdown(data, path):
    med, tg = data["medians"], data["targets"]
    L = []
    L.append("# hoard benchmark results\n")
    if data.get("case_runs"):
        L.append(f"Runs `{data['run_id']}` (per case below), latest {data['date']}, hoard commit(s) "
                 f"`{data['hoard_commit']}` (frontend image `{data['image']}` built from that commit).\n")
        L.append(f"Machine: {data['machine']['cores']} cores, {data['machine']['mem_gb']} GB RAM, "
                 f"{data['machine']['kernel']}, Docker {data['machine']['docker']} (builder `{data['builder']}`, "
                 "docker driver); load averages per run in the table below; what else ran on the machine "
                 "during the runs is said under *Observations and caveats*.\n")
    else:
        L.append(f"Run `{data['run_id']}`, {data['date']}, hoard commit `{data['hoard_commit']}` "
                 f"(frontend image `{data['image']}`), {data['reps']} repetitions per variant.\n")
        L.append(f"Machine: {data['machine']['cores']} cores, {data['machine']['mem_gb']} GB RAM, "
                 f"{data['machine']['kernel']}, Docker {data['machine']['docker']} (builder `{data['builder']}`, "
                 f"docker driver). Load average before / after the run: {data['machine']['load_before']} / "
                 f"{data['machine']['load_after']}; what else ran on the machine during the run is said under "
                 "*Observations and caveats*.\n")
    if data.get("case_runs"):
        L.append("This page combines runs; each case's numbers (and every ratio) come from one run only:\n")
        L.append("| case | run | date | hoard commit | repetitions | load average before / after | raw data |")
        L.append("|---|---|---|---|---|---|---|")
        for c, r in data["case_runs"].items():
            L.append(f"| {c} | `{r['run_id']}` | {r['date']} | `{r['hoard_commit']}` | {r['reps']} | "
                     f"{r['load_before']} / {r['load_after']} | `{r['json']}` |")
        L.append("")
    L.append("## Targets\n")
    cr = data.get("case_runs")
    L.append("| target | measured (medians of the same run) | result |" + (" run (commit) |" if cr else ""))
    L.append("|---|---|---|" + ("---|" if cr else ""))
    for t in tg:
        verdict = "NOT RUN" if t["shown"] == "n/a" else ("PASS" if t["pass"] else "FAIL")
        row = f"| {t['target']} | {t['shown']} | **{verdict}** |"
        if cr:
            r = cr.get(t["id"].split("-")[0])
            row += f" `{r['run_id']}` (`{r['hoard_commit']}`) |" if r else " — |"
        L.append(row)
    L.append("")
    for case in ("cargo", "apt", "pip", "pip2"):
        if case not in med:
            continue
        L.append(f"## {case}\n")
        vs = [v for v in ("stock", "hoard-off", "hoard", "tuned") if v in med[case]]
        extra = {"cargo": [("crates_compiled", "crates compiled", "{:g}"),
                           ("crates_downloaded", "crates downloaded", "{:g}")],
                 "apt": [("run_netns_bytes", "RUN containers' eth0 rx", "bytes"),
                         ("apt_fetched_bytes", "apt 'Fetched'", "bytes")],
                 "pip": [("created_wheel", "wheels built", "{:g}"), ("using_cached", "'Using cached'", "{:g}"),
                         ("run_netns_bytes", "RUN containers' eth0 rx", "bytes"),
                         ("pip_downloaded_bytes", "pip 'Downloading'", "bytes")],
                 "pip2": [("created_wheel", "wheels built", "{:g}"), ("using_cached", "'Using cached'", "{:g}"),
                         ("run_netns_bytes", "RUN containers' eth0 rx", "bytes"),
                         ("pip_downloaded_bytes", "pip 'Downloading'", "bytes")]}[case]
        head = "| variant | median rebuild (s) | min–max (s) | vs stock | median docker0 bytes | " + \
               " | ".join(e[1] for e in extra) + " | image check | failed builds |"
        L.append(head)
        L.append("|" + "---|" * (head.count("|") - 1))
        st = med[case].get("stock", {}).get("seconds")
        for v in vs:
            m = med[case][v]
            s = m.get("seconds")
            cells = [v, f"{s:.1f}" if s is not None else "n/a",
                     f"{m.get('seconds_min', 0):.1f}–{m.get('seconds_max', 0):.1f}",
                     "—" if v == "stock" else (f"{st / s:.2f}x faster" if s and st else "n/a"),
                     fmt_bytes(m.get("docker0_bytes"))]
            for k, _, f in extra:
                x = m.get(k)
                cells.append("n/a" if x is None else (fmt_bytes(x) if f == "bytes" else f.format(x)))
            cells.append("ok" if m.get("image_ok") else "WRONG/FAILED")
            cells.append(f"{m['failed']}/{m['n']}")
            L.append("| " + " | ".join(cells) + " |")
        L.append("")
        if data.get("case_runs", {}).get(case):
            r = data["case_runs"][case]
            L.append(f"Run `{r['run_id']}`, hoard commit `{r['hoard_commit']}`, {r['reps']} repetitions.\n")
        bd = data.get("breakdown", {}).get(case)
        if bd:
            L.append(f"### {case}: where the rebuild time goes\n")
            L.append(bd["text"].rstrip() + "\n")
            L.append(bd["table"] + "\n")
    L.append("Ratios are computed from the medians above (same run). *vs stock* = stock median / variant "
             "median. The warm-up build of each variant (cold caches) is in the JSON but not in the medians.\n")
    L.append("![plot](results/plot.png)\n")
    L.append("CI jobs on fresh runners (seeded caches, `HOARD_CACHE_FROM`/`HOARD_CACHE_EXPORT`): "
             "[CI.md](CI.md) (`bench/run.sh ci`).\n")
    L.append("## How it was measured\n")
    reps = data["reps"] if not data.get("case_runs") else "/".join(
        f"{r['reps']} ({c})" for c, r in data["case_runs"].items())
    L.append("- Each case (`bench/cases/<case>/`): one warm-up build per variant, then "
             f"{reps} repetitions; in each repetition every variant rebuilds once, in an order "
             "rotated by one every repetition.")
    L.append("- Change before each rebuild: cargo — `MARKER` in `app/src/report.rs` rewritten with a unique "
             "value (the built image must print it: `wordstat --marker`); apt, pip — a new `BENCH_BUST` build "
             "arg declared before the measured RUN (the image is then checked: the tools run, flask imports).")
    L.append("- Time: wall clock around `docker buildx build` (including context transfer and exporting the "
             "image). Bytes: delta of `/sys/class/net/docker0/statistics/tx_bytes` around the build (all "
             "traffic into build containers on this machine, including other people's concurrent builds) "
             "and, for apt and pip, *RUN containers' eth0 rx*: eth0 rx_bytes read every 0.2 s from "
             "`/proc/<pid>/net/dev` of the processes whose environment holds this build's `BENCH_BUST` "
             "value, i.e. this build's RUN containers only; plus what the tools print (apt `Fetched`, "
             "cargo `Downloaded`, pip `Downloading`).")
    L.append("- Variants: `stock` = `Dockerfile.naive` with the stock frontend; `hoard` = the same file with "
             f"`--build-arg BUILDKIT_SYNTAX={data['image']}`; `hoard-off` = hoard with `--build-arg HOARD=off` "
             "(frontend overhead without caching); `tuned` = `Dockerfile.tuned` (hand-written mounts per "
             "`cache-recipes.md` §8) with the stock frontend.")
    L.append("- Every build gets `--build-arg BUILDKIT_CACHE_MOUNT_NS=hoard-bench-<run>-<case>-<variant>`: "
             "cache mounts start cold for each run and are shared neither between variants nor between cases; "
             "nothing is pruned. Layer cache is shared as usual (the steps before the change are cached for all).")
    L.append("\nCommands (run `bench/run.sh` to repeat; `bench/run.sh --help` for options):\n")
    L.append("```sh")
    for c in data["command"].split("\n"):
        L.append(c)
    for c in data["example_commands"]:
        L.append(c)
    L.append("```\n")
    for title, text in data.get("sections", []):
        L.append(f"## {title}\n")
        L.append(text.rstrip() + "\n")
    if data.get("notes"):
        L.append("## Observations and caveats\n")
        for n in data["notes"]:
            L.append(f"- {n}")
        L.append("")
    if any(data.get("explain", {}).values()):
        L.append("## What hoard injects (`hoard explain Dockerfile.naive`)\n")
        for c, text in data["explain"].items():
            if text:
                L.append(f"<details><summary>{c}</summary>\n\n```\n{text}\n```\n</details>\n")
    L.append(f"Raw data: `{data['json']}`.\n")
    with open(path, "w") as f:
        f.write("\n".join(L))


def combine(paths, case_from, combined):
    """One results dict from one or several run JSONs. With one, it is that file (rewritten in
    place). With several, each case comes from exactly one run, recorded in `case_runs`."""
    runs = []
    for p in paths:
        with open(p) as f:
            runs.append((p, json.load(f)))
    if len(runs) == 1:
        return runs[0][1], paths[0]
    if not combined:
        sys.exit("several --from-json need --combined PATH")
    pick = dict(x.split("=", 1) for x in case_from)
    chosen = {}
    for p, d in runs:
        for c in {b["case"] for b in d["builds"]}:
            chosen[c] = p
    for c, p in pick.items():
        chosen[c] = p
    order = [c for c in ("cargo", "apt", "pip", "pip2") if c in chosen]
    by_path = dict(runs)
    last = runs[-1][1]
    data = {k: last[k] for k in ("image", "builder", "machine")}
    data["run_id"] = "+".join(dict.fromkeys(by_path[chosen[c]]["run_id"] for c in order))
    data["date"] = max(by_path[chosen[c]]["date"] for c in order)
    data["hoard_commit"] = ", ".join(dict.fromkeys(by_path[chosen[c]]["hoard_commit"] for c in order))
    data["reps"] = "/".join(str(by_path[chosen[c]]["reps"]) for c in order)
    data["case_runs"] = {}
    data["builds"], data["example_commands"], cmds, data["explain"] = [], [], [], {}
    for c in order:
        d = by_path[chosen[c]]
        data["case_runs"][c] = {"run_id": d["run_id"], "date": d["date"], "hoard_commit": d["hoard_commit"],
                                "reps": d["reps"], "load_before": d["machine"]["load_before"],
                                "load_after": d["machine"].get("load_after", "?"),
                                "json": d.get("json", os.path.relpath(chosen[c], BENCH))}
        data["builds"] += [dict(b, run_id=d["run_id"]) for b in d["builds"] if b["case"] == c]
        data["example_commands"] += [x for x in d["example_commands"] if f"/ctx/{c}/" in x]
        if d["command"] not in cmds:
            cmds.append(d["command"])
        data["explain"][c] = d.get("explain", {}).get(c)
    data["command"] = "\n".join(cmds)
    data["notes"] = []
    data["sources"] = [os.path.relpath(p, BENCH) for p in paths]
    data["json"] = os.path.relpath(combined, BENCH)
    data["machine"] = dict(data["machine"])
    lb = [data["case_runs"][c]["load_before"] for c in order]
    la = [data["case_runs"][c]["load_after"] for c in order]
    data["machine"]["load_before"] = " | ".join(f"{c}: {x}" for c, x in zip(order, lb))
    data["machine"]["load_after"] = " | ".join(f"{c}: {x}" for c, x in zip(order, la))
    return data, combined


def breakdown_for(case, data):
    """The time breakdown of one case (bench/breakdown.py) from its run's saved build records."""
    import breakdown as bd
    run = data.get("case_runs", {}).get(case, {}).get("run_id", data["run_id"])
    src = os.path.join(BENCH, data.get("case_runs", {}).get(case, {}).get("json", data["json"]))
    per = bd.breakdown(run, case, src if os.path.exists(src) else None)
    return {"per_variant": {v: {"n": x["n"], "median": x["median"]} for v, x in per.items()},
            "table": bd.markdown(per, case), "text": data.get("breakdown_text", {}).get(case, "")}


def machine_info():
    def sh(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except Exception:
            return "?"
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = round(int(f.readline().split()[1]) / 1024 / 1024)
    except OSError:
        pass
    return {"cores": os.cpu_count(), "mem_gb": mem, "kernel": platform.release(),
            "docker": sh(["docker", "version", "--format", "{{.Server.Version}}"]),
            "load_before": " ".join(f"{x:.1f}" for x in os.getloadavg())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=int(os.environ.get("HOARD_BENCH_REPS", 5)))
    ap.add_argument("--cases", default="cargo,apt,pip")
    ap.add_argument("--variants", default="stock,hoard-off,hoard,tuned")
    ap.add_argument("--image", default=os.environ.get("HOARD_BENCH_IMAGE", "hoard:bench"))
    ap.add_argument("--builder", default="default")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per build")
    ap.add_argument("--keep-images", action="store_true")
    ap.add_argument("--keep-caches", action="store_true",
                    help="keep this run's cache mounts (by default they are pruned at the end, by namespace)")
    ap.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md and bench/results/")
    ap.add_argument("--hoard-commit", default=os.environ.get("HOARD_BENCH_COMMIT", "?"))
    ap.add_argument("--hoard-bin", default=os.environ.get("HOARD_BENCH_BIN"),
                    help="the hoard binary of the image, to record `hoard explain` per case")
    ap.add_argument("--note", action="append", default=[], help="an observation to add to RESULTS.md")
    ap.add_argument("--from-json", metavar="PATH", action="append",
                    help="no builds: rewrite bench/RESULTS.md and the plot from a results JSON (adding --note); "
                         "given several times, the results of several runs are combined, each case taken "
                         "from one run (see --case-from) and labelled with its run, and written to --combined")
    ap.add_argument("--case-from", action="append", default=[], metavar="CASE=PATH",
                    help="with several --from-json: take CASE from this one (default: the last that has it)")
    ap.add_argument("--section", action="append", default=[], metavar="TITLE=PATH",
                    help="with --from-json: add a section to RESULTS.md from a markdown file")
    ap.add_argument("--combined", metavar="PATH", help="where the combined JSON goes (several --from-json)")
    ap.add_argument("--breakdown", action="append", default=[], metavar="CASE",
                    help="with --from-json: add the time breakdown of CASE from the saved build records "
                         "(bench/harvest_history.sh, bench/breakdown.py)")
    a = ap.parse_args()
    if a.from_json:
        data, out = combine(a.from_json, a.case_from, a.combined)
        data["notes"] = data.get("notes", []) + a.note
        for x in a.section:
            title, path = x.split("=", 1)
            with open(path) as f:
                data.setdefault("sections", []).append((title, f.read()))
        data["medians"] = medians(data["builds"])
        data["targets"] = targets(data["medians"])
        for c in a.breakdown:
            data.setdefault("breakdown", {})[c] = breakdown_for(c, data)
        with open(out, "w") as f:
            json.dump(data, f, indent=1)
        labels = {c: f"run {r['run_id']}, {r['hoard_commit'][:7]}, {r['reps']} rep(s)"
                  for c, r in data.get("case_runs", {}).items()}
        write_plot(data["medians"], os.path.join(BENCH, "results", "plot.png"), labels)
        write_markdown(data, os.path.join(BENCH, "RESULTS.md"))
        return
    a.cases = [c for c in a.cases.split(",") if c]
    a.variants = [v for v in a.variants.split(",") if v]
    for c in a.cases:
        if c not in CASES:
            ap.error(f"unknown case {c}")
    for v in a.variants:
        if v not in VARIANTS:
            ap.error(f"unknown variant {v}")
    if a.reps < 1:
        ap.error("--reps must be >= 1")
    now = dt.datetime.now(dt.timezone.utc)
    a.run_id = now.strftime("%Y%m%dT%H%M%S")
    mi = machine_info()
    b = Bench(a)
    t0 = time.monotonic()
    try:
        b.run()
    finally:
        b.drop_caches()
        mi["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
        med = medians(b.records)
        tg = targets(med)
        name = now.strftime("%Y-%m-%dT%H%M") + ".json"
        results = os.path.join(BENCH, "results") if not a.no_write else b.out
        os.makedirs(results, exist_ok=True)
        cmd = "bench/run.sh " + " ".join(sys.argv[1:])
        ex = []
        for case in a.cases:
            for v in b.variants_for(case):
                c = b.command(case, v, "<marker>")
                c = [os.path.relpath(x, REPO) if x.startswith(REPO) else x for x in c]
                ex.append(" ".join(c))
        data = {
            "run_id": a.run_id, "date": now.strftime("%Y-%m-%d %H:%M UTC"), "reps": a.reps,
            "image": a.image, "hoard_commit": a.hoard_commit, "builder": a.builder, "machine": mi,
            "duration_s": round(time.monotonic() - t0), "command": cmd.strip(),
            "example_commands": ex, "notes": a.note,
            "json": os.path.relpath(os.path.join(results, name), BENCH),
            "explain": {c: b.explain(c) for c in a.cases},
            "targets": tg, "medians": med, "builds": b.records,
        }
        with open(os.path.join(results, name), "w") as f:
            json.dump(data, f, indent=1)
        if not a.no_write:
            write_plot(med, os.path.join(results, "plot.png"))
            write_markdown(data, os.path.join(BENCH, "RESULTS.md"))
        else:
            write_plot(med, os.path.join(b.out, "plot.png"))
            write_markdown(data, os.path.join(b.out, "RESULTS.md"))
        log(f"done in {data['duration_s']} s: " + "; ".join(
            f"{t['id']} {'PASS' if t['pass'] else 'FAIL'} ({t['shown']})" for t in tg))
        log(f"results: {os.path.join(results, name)}")


if __name__ == "__main__":
    main()
