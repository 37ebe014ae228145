#!/usr/bin/env python3
"""Where the rebuild time goes, per variant, from BuildKit's build records of a bench run
(saved by bench/harvest_history.sh while the run went on: per-step start/end timestamps and the
steps' log lines with their timestamps).

  bench/breakdown.py <run-id> [--case cargo] [--json bench/results/<run>.json] [--markdown]

Per timed build (warm-ups left out), in seconds:
  client    wall clock measured by the driver minus the record's duration (buildx start-up,
            session, what happens before the daemon starts the solve and after it ends)
  frontend  record start -> the first Dockerfile step ("[stage n/m] ...") starts: the Dockerfile
            frontend's own work (for hoard: the gateway container, parsing, planning, resolving
            base images and /etc/passwd) before any step of the build runs
  run       the measured RUN step (the one matching --step), start to end
  export    "exporting to image"
  rest      record duration - frontend - run - export (context transfer, cached steps, the
            COPY --from, scheduling gaps)
and, inside the RUN step, from its log lines:
  run_pre   RUN start -> the tool's first output line (hoard's shim: `cargo metadata` etc.)
  run_tool  the time the tool reports itself (cargo's "Finished ... in Xs")
  run_post  the tool's last output line -> RUN end (hoard's shim: copying the binary back)
Medians per variant.
"""
import argparse
import base64
import datetime as dt
import glob
import json
import os
import re
import statistics
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
STEP = re.compile(r"^\[(\S+ )?\d+/\d+\] ")


def ts(s):
    # 2026-11-22T15:26:36.06660165Z -> seconds since the epoch (nanoseconds cut to microseconds)
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", s)
    frac = (m.group(2) or ".0")[:7]
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return dt.datetime.fromisoformat(m.group(1) + frac + tz).timestamp()


def objects(text):
    dec, i, out = json.JSONDecoder(), 0, []
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        try:
            o, i = dec.raw_decode(text, i)
        except ValueError:
            nl = text.find("\n", i)
            if nl < 0:
                break
            i = nl + 1
            continue
        out.append(o)
    return out


def load(run, case):
    recs = []
    for f in sorted(glob.glob(os.path.join(BENCH, "out", run, "history", "*.inspect.json"))):
        with open(f) as fh:
            ins = json.load(fh)
        args = {a["Name"]: a["Value"] for a in ins.get("BuildArgs") or []}
        ns = args.get("BUILDKIT_CACHE_MOUNT_NS", "")
        m = re.match(rf"hoard-bench-{re.escape(run)}-([a-z]+)-(.+)$", ns)
        if not m or m.group(1) != case:
            continue
        raw = f[: -len(".inspect.json")] + ".rawjson"
        if not os.path.exists(raw):
            continue
        with open(raw) as fh:
            objs = objects(fh.read())
        recs.append({"variant": m.group(2), "start": ts(ins["StartedAt"]), "end": ts(ins["CompletedAt"]),
                     "status": ins.get("Status"), "objs": objs, "ref": ins.get("Ref")})
    return recs


def analyse(rec, step_re):
    t0, t1 = rec["start"], rec["end"]
    vs = {}
    logs = []
    for o in rec["objs"]:
        for v in o.get("vertexes") or []:
            if "started" not in v or ts(v["started"]) < t0 - 0.001:
                continue  # cached frontend vertices replay their original (older) times
            d = vs.setdefault(v["digest"], {"name": v["name"], "started": ts(v["started"]), "completed": None,
                                            "cached": False})
            d["started"] = min(d["started"], ts(v["started"]))
            if v.get("completed"):
                c = ts(v["completed"])
                d["completed"] = max(d["completed"] or c, c)
            d["cached"] = d["cached"] or bool(v.get("cached"))
        for lg in o.get("logs") or []:
            logs.append(lg)
    steps = [d for d in vs.values() if STEP.match(d["name"])]
    first_step = min((d["started"] for d in steps), default=None)
    run = [d for d in steps if step_re.search(d["name"]) and not d["cached"] and d["completed"]]
    exp = [d for d in vs.values() if d["name"] == "exporting to image" and d["completed"]]
    r = {"record": t1 - t0}
    if first_step is not None:
        r["frontend"] = first_step - t0
    if run:
        d = max(run, key=lambda d: d["completed"] - d["started"])
        r["run"] = d["completed"] - d["started"]
        dig = [k for k, x in vs.items() if x is d][0]
        lines = []
        for lg in logs:
            if lg.get("vertex") != dig:
                continue
            t = ts(lg["timestamp"])
            for line in base64.b64decode(lg.get("data") or "").decode("utf-8", "replace").splitlines():
                if line.strip():
                    lines.append((t, line))
        lines.sort()
        if lines:
            r["run_pre"] = lines[0][0] - d["started"]
            r["run_post"] = d["completed"] - lines[-1][0]
            for _, line in lines:
                m = re.search(r"Finished .* in (?:(\d+)m )?([\d.]+)s", line)
                if m:
                    r["run_tool"] = int(m.group(1) or 0) * 60 + float(m.group(2))
    if exp:
        r["export"] = exp[0]["completed"] - exp[0]["started"]
    if all(k in r for k in ("frontend", "run", "export")):
        r["rest"] = r["record"] - r["frontend"] - r["run"] - r["export"]
    return r


KEYS = ["wall", "client", "record", "frontend", "run", "run_pre", "run_tool", "run_post", "export", "rest"]


def breakdown(run, case, results_json=None, step=r"RUN (--mount\S* +)*cargo build"):
    step_re = re.compile(step)
    recs = load(run, case)
    builds = []
    if results_json:
        with open(results_json) as f:
            builds = [b for b in json.load(f)["builds"] if b["case"] == case]
    per = {}
    for v in sorted({r["variant"] for r in recs}):
        rs = sorted((r for r in recs if r["variant"] == v), key=lambda r: r["start"])
        bs = [b for b in builds if b["variant"] == v]  # driver order: warmup, 1, 2, ...
        rows = []
        for i, r in enumerate(rs):
            a = analyse(r, step_re)
            rep = bs[i]["rep"] if i < len(bs) and len(bs) == len(rs) else (("warmup" if i == 0 else i))
            a["rep"] = rep
            if i < len(bs) and len(bs) == len(rs):
                a["wall"] = bs[i]["seconds"]
                a["client"] = a["wall"] - a["record"]
            rows.append(a)
        timed = [a for a in rows if a["rep"] != "warmup"]
        med = {k: statistics.median([a[k] for a in timed if k in a]) for k in KEYS
               if any(k in a for a in timed)}
        per[v] = {"n": len(timed), "median": med, "builds": rows}
    return per


def markdown(per, case):
    order = [v for v in ("stock", "hoard-off", "hoard", "tuned") if v in per]
    L = [f"| {case} variant (median s, n) | wall | client | frontend (record start → first step) | "
         "measured RUN | RUN: before first output | RUN: tool's own time | RUN: after last output | "
         "export | rest |", "|" + "---|" * 10]
    for v in order:
        m = per[v]["median"]
        cells = [f"{v} (n={per[v]['n']})"] + [f"{m[k]:.2f}" if k in m else "n/a" for k in
                                             ("wall", "client", "frontend", "run", "run_pre", "run_tool",
                                              "run_post", "export", "rest")]
        L.append("| " + " | ".join(cells) + " |")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--case", default="cargo")
    ap.add_argument("--json", help="the run's results JSON (for the driver's wall clock)")
    ap.add_argument("--step", default=r"RUN (--mount\S* +)*cargo build")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    per = breakdown(a.run, a.case, a.json, a.step)
    if a.markdown:
        print(markdown(per, a.case))
    else:
        json.dump(per, sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
