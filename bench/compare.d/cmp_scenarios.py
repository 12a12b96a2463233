"""The scenarios of bench/compare (a-e), the optional perf profile, and the bars of issue 5.

Each scenario runner takes the Context and returns a list of sections (see cmp_report).
Runs alternate the tools within a round and rotate the order from round to round. CPU
pinning on a machine with >= 2 cores: in (a), (c) and (d) the target runs on CPU 0 and the
client on CPU 1 (one core each, so neither steals the other's); in (b) and (e) both use all
cores, unpinned. Main thread only.
"""

import os
import re
import subprocess
from dataclasses import dataclass, field

import cmp_report as report
from cmp_run import RunError, background_busy, measure, pinned, tree_cpu_seconds
from cmp_setup import log
from cmp_targets import make_target
from cmp_tools import ParseError, Spec, Volley

PLAN_D = os.path.join(os.path.dirname(os.path.realpath(__file__)), "scenario_d.yaml")
BODY_D = '{"id":7,"name":"widget","price":12.5}'  # the target's body in (d)
BASE_CONNECTIONS = 10  # (e): the baseline whose peak RSS is subtracted


@dataclass
class Context:
    volley: str
    tools: dict
    args: object
    repo: str
    workdir: str = ""
    busy: list = field(default_factory=list)  # background CPU share before each run
    target_pid: int = 0                       # the running target's process, 0 if none
    waited_s: float = 0.0                     # time spent waiting for a quiet machine

    @property
    def cores(self):
        return os.cpu_count() or 1

    def pins(self):
        """(target CPUs, client CPUs) for the one-core-each scenarios, or (None, None)."""
        if self.args.no_pin or self.cores < 2:
            return None, None
        return "0", "1"


def nginx_version():
    out = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
    m = re.search(r"nginx/([\d.]+)", out.stderr + out.stdout)
    return f"nginx {m.group(1)}" if m else "nginx ?"


QUIET = 0.15  # a machine with less background CPU than this counts as quiet


def wait_quiet(ctx):
    """Samples the background CPU; while it is above QUIET waits (at most --quiet-wait per
    run and --quiet-budget in all) so a neighbour's build does not skew a run. Returns the
    last sample."""
    busy = background_busy(0.25)
    waited = 0.0
    while busy > QUIET and waited < ctx.args.quiet_wait and ctx.waited_s < ctx.args.quiet_budget:
        busy = background_busy(1.0)
        waited += 1.0
        ctx.waited_s += 1.0
    return busy


def run_one(ctx, name, tool, url, spec, cpus, label):
    """One measured run of one tool; returns a run dict (ok False with `failure` on error)."""
    busy = wait_quiet(ctx)
    ctx.busy.append(busy)
    cmd, env = tool.command(url, spec, ctx.workdir)
    out = os.path.join(ctx.workdir, "client.out")
    run = {"tool": name, "label": label, "background_busy": round(busy, 3), "ok": False}
    target_before = tree_cpu_seconds(ctx.target_pid) if ctx.target_pid else None
    try:
        m = measure(pinned(cmd, cpus), out, timeout_s=spec.seconds * 3 + 30, env=env)
        if target_before is not None:
            # The target's CPU over the client's run, in cores: at 1.0 per core it had, the
            # target (not the client) limits the throughput.
            m["target_cpu_cores"] = (tree_cpu_seconds(ctx.target_pid) - target_before) / max(m["wall_s"], 1e-3)
    except RunError as e:
        run["failure"] = str(e)
        log(f"{label} {name}: {e}")
        return run
    with open(out, errors="replace") as f:
        text = f.read()
    run.update(m)
    if m["rc"] != 0:
        run["failure"] = f"exit {m['rc']}: " + " ".join(text.strip().splitlines()[-3:])[:300]
        log(f"{label} {name}: {run['failure']}")
        return run
    try:
        run.update(tool.parse(text, ctx.workdir))
    except ParseError as e:
        run["failure"] = str(e)[:500]
        log(f"{label} {name}: {e}")
        return run
    run["ok"] = True
    log(f"{label} {name}: {run['rps']:,.0f} req/s, CPU {m['cpu_s'] / max(1, run['requests']) * 1e5:.3f} s/100k, "
        f"RSS {m['maxrss_kib'] / 1024:.1f} MiB, p50 {run['p50_ms']:.3g} ms, errors {run['errors']}"
        + (f" (background CPU {busy:.0%})" if busy > 0.1 else ""))
    return run


def rounds(ctx, tools, url_or_target, spec, cpus, label, n):
    """`n` rounds over `tools` [(name, adapter)], order rotating; url_or_target is a URL or a
    zero-argument function returning a fresh target context manager (one per run)."""
    runs = []
    for r in range(n):
        order = tools[r % len(tools):] + tools[:r % len(tools)]
        for name, tool in order:
            tag = f"{label} round {r + 1}/{n}"
            if callable(url_or_target):
                with url_or_target() as url:
                    runs.append(run_one(ctx, name, tool, url, spec, cpus, tag))
            else:
                runs.append(run_one(ctx, name, tool, url_or_target, spec, cpus, tag))
            runs[-1]["round"] = r + 1
    return runs


def _tool_notes(names, threads):
    notes = []
    if "ab" in names and threads > 1:
        notes.append("ab is single-threaded whatever the thread count; it speaks HTTP/1.0 with keep-alive (-k).")
    if "hey" in names:
        notes.append("hey keeps every result in memory until the end, so its peak RSS grows with the request count.")
    if {"ab", "autocannon"} & set(names):
        notes.append("ab and autocannon report latency percentiles in whole milliseconds.")
    return notes


def _autogroup():
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


def closed(ctx, key, title, threads, connections, pin):
    sections = []
    names = list(ctx.tools)
    for kind in ctx.args.targets:
        tcpus, ccpus = ctx.pins() if pin else (None, None)
        workers = 1 if pin and tcpus else ctx.cores
        where = (f"target on CPU {tcpus} with {workers} worker, clients pinned to CPU {ccpus} (taskset)"
                 if tcpus else f"target with {workers} workers and clients unpinned, sharing all {ctx.cores} cores"
                 + (" (client and target run in sessions of their own, so where Linux's autogroup scheduling is on, "
                    "as by default, contended CPU is split evenly between them)" if _autogroup() else ""))
        label = f"({key}) {kind}"
        spec = Spec(threads=threads, connections=connections, seconds=ctx.args.seconds)
        target = make_target(kind, ctx.volley, workers, tcpus)
        with target as url:
            ctx.target_pid = target.proc.pid
            try:
                runs = rounds(ctx, list(ctx.tools.items()), url, spec, ccpus, label, ctx.args.rounds)
            finally:
                ctx.target_pid = 0
        rows = report.add_ratios(report.summarize(runs, names))
        target = "nginx" if kind == "nginx" else "volley target"
        sections.append({"key": key, "title": title, "target": target, "kind": "closed", "runs": runs,
                         "rows": rows, "spec": vars(spec),
                         "setup": f"{threads} client thread(s), {connections} connections, {spec.seconds} s per run; {where}.",
                         "notes": _tool_notes(names, threads)})
    return sections


def scenario_a(ctx):
    return closed(ctx, "a", "closed loop, 1 thread, 50 connections", 1, 50, pin=True)


def scenario_b(ctx):
    return closed(ctx, "b", f"closed loop, all cores ({ctx.cores} threads), 200 connections", ctx.cores, 200, pin=False)


def scenario_c(ctx):
    rate = ctx.args.rate
    tcpus, ccpus = ctx.pins()
    opened = [(n, t) for n, t in ctx.tools.items() if t.open_model]
    spec = Spec(threads=1, connections=50, seconds=ctx.args.seconds, rate=rate)
    with make_target("nginx", ctx.volley, 1, tcpus) as url:
        runs = rounds(ctx, opened, url, spec, ccpus, "(c) nginx", ctx.args.rounds)
    rows = report.summarize(runs, [n for n, _ in opened])
    rows += [{"tool": n, "runs": 0, "failed": 0, "failure": "no open model (fixed-rate mode)"}
             for n, t in ctx.tools.items() if not t.open_model]
    report.add_deviation(rows, rate)
    where = f"target on CPU {tcpus}, clients on CPU {ccpus}" if tcpus else "unpinned"
    return [{"key": "c", "title": f"open model, {rate:,.0f} requests/s", "target": "nginx", "kind": "open",
             "rate": rate, "runs": runs, "rows": rows, "spec": vars(spec),
             "setup": f"1 client thread, 50 connections, {spec.seconds} s per run; {where}. hey gets -q {rate / 50:g} "
                      "per worker (50 workers), autocannon --overallRate, volley --rps.",
             "notes": ["hey's and autocannon's latencies run from the actual send, so a late send hides its delay "
                       "(coordinated omission); volley's p50/p99 here run from the intended send time."]}]


def _volley_has_validate(ctx):
    out = subprocess.run([ctx.volley, "--help"], capture_output=True, text=True)
    return re.search(r"^\s+validate\b", out.stdout, re.M) is not None


def scenario_d(ctx):
    base = {"key": "d", "title": "volley scenario mode (3 steps, a JSON extraction, two assertions) vs plain",
            "target": "volley target"}
    if not _volley_has_validate(ctx):
        return [dict(base, kind="skipped", why="this volley has no `validate` command yet (scenario engine, "
                                               "issue 4); the plan is bench/compare.d/scenario_d.yaml.")]
    check = subprocess.run([ctx.volley, "validate", PLAN_D], capture_output=True, text=True)
    if check.returncode != 0:
        why = (check.stdout + check.stderr).strip().replace("\n", "; ")[:400]
        return [dict(base, kind="skipped", why=f"`volley validate` rejects the plan: {why}")]
    tcpus, ccpus = ctx.pins()
    spec = Spec(threads=1, connections=50, seconds=ctx.args.seconds)
    tools = [("volley", Volley(ctx.volley)), ("volley scenario", Volley(ctx.volley, plan=PLAN_D))]
    # Plain and scenario runs read the same small JSON body (the plan extracts from it).
    with make_target("volley", ctx.volley, 1, tcpus, body=BODY_D) as url:
        runs = rounds(ctx, tools, url, spec, ccpus, "(d) volley target", ctx.args.rounds)
    rows = report.add_x_plain(report.summarize(runs, [n for n, _ in tools]))
    return [dict(base, kind="scenario", runs=runs, rows=rows, spec=vars(spec),
                 setup=f"1 client thread, 50 connections, {spec.seconds} s per run, pinned as in (a). "
                       "req/s counts every step's request.")]


def scenario_e(ctx):
    a = ctx.args
    n = a.idle_connections
    spec = Spec(threads=ctx.cores, connections=n, seconds=a.idle_seconds, timeout_s=30)
    base = Spec(threads=ctx.cores, connections=BASE_CONNECTIONS, seconds=a.idle_seconds, timeout_s=30)
    names = list(ctx.tools)

    def target():  # a fresh target (and port) per run: no TIME_WAIT left over from the last tool
        return make_target("volley", ctx.volley, ctx.cores, None, latency=a.idle_latency)

    runs = rounds(ctx, list(ctx.tools.items()), target, spec, None, f"(e) {n} conns", a.idle_rounds)
    base_runs = rounds(ctx, list(ctx.tools.items()), target, base, None, f"(e) {BASE_CONNECTIONS} conns", 1)
    rows = report.summarize(runs, names)
    base_rows = report.summarize(base_runs, names)
    report.memory_rows(rows, base_rows, n, BASE_CONNECTIONS)
    return [{"key": "e", "title": f"{n:,} concurrent, mostly idle connections", "target": "volley target",
             "kind": "memory", "connections": n, "base_connections": BASE_CONNECTIONS, "runs": runs,
             "base_runs": base_runs, "rows": rows, "spec": vars(spec),
             "setup": f"Every response is delayed {a.idle_latency} by the target, so each of the {n:,} connections "
                      f"is idle-ish with one request in flight ({n / _seconds(a.idle_latency):,.0f} req/s in all). "
                      f"{ctx.cores} client threads, {a.idle_seconds} s per run, {a.idle_rounds} rounds, a fresh "
                      f"target per run, unpinned. KiB per connection = (peak RSS with {n:,} connections − peak RSS "
                      f"with {BASE_CONNECTIONS}) / {n - BASE_CONNECTIONS:,}.",
             "notes": _tool_notes(names, ctx.cores)}]


def _seconds(text):
    m = re.fullmatch(r"([\d.]+)(ms|s)", text)
    return float(m.group(1)) / (1000 if m.group(2) == "ms" else 1) if m else 1.0


RUNNERS = {"a": scenario_a, "b": scenario_b, "c": scenario_c, "d": scenario_d, "e": scenario_e}


def profile(ctx, out_dir):
    """perf (cpu-clock sampling: this VM has no hardware counters) of volley and wrk in the
    configurations of (a) and (b) against nginx; writes profile-<a|b>-<tool>.txt."""
    notes = []
    for key, threads, conns, pin in (("a", 1, 50, True), ("b", ctx.cores, 200, False)):
        tcpus, ccpus = ctx.pins() if pin else (None, None)
        spec = Spec(threads=threads, connections=conns, seconds=ctx.args.seconds)
        with make_target("nginx", ctx.volley, 1 if tcpus else ctx.cores, tcpus) as url:
            for name in ("volley", "wrk"):
                data = os.path.join(ctx.workdir, f"perf-{key}-{name}.data")
                cmd, _ = ctx.tools[name].command(url, spec, ctx.workdir)
                perf = ["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999", "-o", data, "--"]
                m = measure(perf + pinned(cmd, ccpus), os.path.join(ctx.workdir, "perf.out"), spec.seconds * 3 + 30)
                if m["rc"] != 0:
                    raise RunError(f"perf record of {name} failed (exit {m['rc']})")
                rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol",
                                      "--stdio", "--percent-limit", "0.5"], capture_output=True, text=True)
                path = os.path.join(out_dir, f"profile-{key}-{name}.txt")
                with open(path, "w") as f:
                    f.write(f"# perf record -e cpu-clock -F 4999: {' '.join(cmd)}\n")
                    lines = (re.sub(r"\s{2,}", "  ", line).rstrip(" -") for line in rep.stdout.splitlines())
                    f.write("\n".join(line for line in lines if line.strip()) + "\n")
                notes.append(f"profile of {name} in ({key}) against nginx: {os.path.relpath(path, ctx.repo)}")
                log(f"profiled {name} in ({key}) -> {path}")
    return notes


def general_notes(ctx, sections):
    busy = max(ctx.busy) if ctx.busy else 0.0
    noisy = sum(1 for b in ctx.busy if b > QUIET)
    notes = [f"Before every run the machine's CPU was sampled with the target idle (waiting up to "
             f"{ctx.args.quiet_wait} s for it to fall below {QUIET:.0%}; {ctx.waited_s:.0f} s waited in all): "
             f"{noisy} of {len(ctx.busy)} runs started with other work running (highest {busy:.0%})"
             + (", so those figures are noisier than usual." if noisy else ".")]
    if ctx.cores < 2 or ctx.args.no_pin:
        notes.append("No CPU pinning (--no-pin or a single core).")
    return notes


def _row(section, tool):
    return next((r for r in section.get("rows", []) if r["tool"] == tool), None)


def bars(sections):
    """The bars of issue 5 evaluated on these sections: [{bar, measured, holds}]."""
    out = []
    for s in sections:
        v = _row(s, "volley")
        if s["kind"] == "closed":
            tag = f"({s['key']}) {s['target']}"
            ok = v and v.get("rps_x_wrk")
            w = _row(s, "wrk")
            busy = ""
            if ok and v.get("target_cpu_cores") is not None and w and w.get("target_cpu_cores") is not None:
                busy = (f" (target CPU {w['target_cpu_cores']:.2f} cores under wrk, "
                        f"{v['target_cpu_cores']:.2f} under volley)")
            out.append({"bar": f"{tag}: throughput ≥ 1.1 × wrk",
                        "measured": (f"{v['rps_x_wrk']:.3f} ×" + busy) if ok else "n/a",
                        "holds": v["rps_x_wrk"] >= 1.1 if ok else None})
            ok = v and v.get("cpu_x_wrk")
            out.append({"bar": f"{tag}: client CPU per request ≤ wrk's",
                        "measured": f"{v['cpu_x_wrk']:.3f} × wrk's" if ok else "n/a",
                        "holds": v["cpu_x_wrk"] <= 1.0 if ok else None})
        elif s["kind"] == "open":
            ok = v and v.get("deviation") is not None
            out.append({"bar": f"(c) open-model rate within 1 % of {s['rate']:,.0f}/s",
                        "measured": f"{v['deviation'] * 100:+.2f} %" if ok else "n/a",
                        "holds": abs(v["deviation"]) <= 0.01 if ok else None})
        elif s["kind"] == "scenario":
            sc = _row(s, "volley scenario")
            ok = sc and sc.get("x_plain")
            out.append({"bar": "(d) scenario mode ≥ 0.7 × plain volley",
                        "measured": f"{sc['x_plain']:.3f} ×" if ok else "n/a",
                        "holds": sc["x_plain"] >= 0.7 if ok else None})
        elif s["kind"] == "memory":
            ok = v and v.get("kib_per_connection") is not None
            out.append({"bar": "(e) memory ≤ 16 KiB per connection",
                        "measured": f"{v['kib_per_connection']:.2f} KiB" if ok else "n/a",
                        "holds": v["kib_per_connection"] <= 16 if ok else None})
        elif s["kind"] == "skipped":
            out.append({"bar": f"({s['key']}) {s['title']}", "measured": "skipped", "holds": None})
    return out
