"""Turns the runs of bench/compare into medians, ratios and bars, and writes them as
Markdown and JSON. Pure functions over plain dicts; main thread only.

A run dict holds: tool, round, ok, requests, rps, cpu_s, maxrss_kib, p50_ms, p99_ms,
errors, extra, background_busy. A section dict holds: key (a..e), title, target, setup,
kind (closed | open | memory | scenario), runs, and kind-specific fields.
"""

import json
import statistics


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(runs, tools):
    """Per tool, in `tools` order: medians of the successful runs."""
    rows = []
    for tool in tools:
        mine = [r for r in runs if r["tool"] == tool and r["ok"]]
        failed = [r for r in runs if r["tool"] == tool and not r["ok"]]
        if not mine:
            rows.append({"tool": tool, "runs": 0, "failed": len(failed),
                         "failure": failed[0].get("failure", "") if failed else "not run"})
            continue
        rows.append({
            "tool": tool, "runs": len(mine), "failed": len(failed),
            "rps": _median(r["rps"] for r in mine),
            "requests": _median(r["requests"] for r in mine),
            "cpu_per_100k": _median(r["cpu_s"] / r["requests"] * 1e5 for r in mine if r["requests"]),
            "maxrss_mib": _median(r["maxrss_kib"] / 1024 for r in mine),
            "p50_ms": _median(r["p50_ms"] for r in mine),
            "p99_ms": _median(r["p99_ms"] for r in mine),
            "errors": sum(r["errors"] for r in mine),
            "rps_by_round": [round(r["rps"]) for r in mine],
            "target_cpu_cores": _median(r["target_cpu_cores"] for r in mine if r.get("target_cpu_cores") is not None),
            "extra": mine[len(mine) // 2]["extra"],
        })
    return rows


def add_ratios(rows, base="wrk"):
    """Adds rps_x_wrk and cpu_x_wrk to each row (None where wrk or the row has no figure)."""
    ref = next((r for r in rows if r["tool"] == base and r.get("rps")), None)
    for r in rows:
        r["rps_x_wrk"] = r["rps"] / ref["rps"] if ref and r.get("rps") else None
        r["cpu_x_wrk"] = (r["cpu_per_100k"] / ref["cpu_per_100k"]
                          if ref and r.get("cpu_per_100k") and ref.get("cpu_per_100k") else None)
    return rows


def _num(v, fmt="{:,.0f}"):
    return "–" if v is None else fmt.format(v)


def _ms(v, row=None):
    if v is None:
        return "–"
    if row and row.get("extra", {}).get("latency_resolution") == "whole ms":
        return f"{v:.0f} ms"
    return f"{v * 1000:.0f} µs" if v < 1 else f"{v:.2f} ms" if v < 100 else f"{v:,.0f} ms"


def _x(v):
    return "–" if v is None else f"{v:.2f}×"


def _bold_volley(row, text):
    return f"**{text}**" if row["tool"].startswith("volley") else text


def _table(rows, columns):
    """Markdown table: `columns` is [(header, right_aligned, fn(row) -> text)]. A row that
    never ran shows dashes and its failure in the last column."""
    out = ["| " + " | ".join(h for h, _, _ in columns) + " |",
           "| " + " | ".join("---:" if right else "---" for _, right, _ in columns) + " |"]
    for r in rows:
        if r["runs"]:
            cells = [fn(r) for _, _, fn in columns]
        else:
            cells = [r["tool"]] + ["–"] * (len(columns) - 2) + [r.get("failure", "")]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _tool(r):
    return _bold_volley(r, r["tool"])


def _cpu(r):
    return f"{r['cpu_per_100k']:.3f}"


def _rss(r):
    return f"{r['maxrss_mib']:.1f}"


def _p50(r):
    return _ms(r["p50_ms"], r)


def _p99(r):
    return _ms(r["p99_ms"], r)


def _errors(r):
    return str(r["errors"])


CPU_HEADER = "client CPU s / 100k req"


def closed_table(rows):
    return _table(rows, [
        ("tool", False, _tool), ("req/s", True, lambda r: _bold_volley(r, _num(r["rps"]))),
        ("× wrk", True, lambda r: _x(r["rps_x_wrk"])), (CPU_HEADER, True, _cpu),
        ("× wrk", True, lambda r: _x(r["cpu_x_wrk"])), ("peak RSS MiB", True, _rss), ("p50", True, _p50),
        ("p99", True, _p99), ("errors", True, _errors),
        ("target CPU, cores", True, lambda r: _num(r.get("target_cpu_cores"), "{:.2f}")),
        ("req/s by round", False, lambda r: ", ".join(f"{x:,}" for x in r["rps_by_round"]))])


def add_deviation(rows, rate):
    """Adds deviation = achieved / target - 1 to each row that ran."""
    for r in rows:
        r["deviation"] = r["rps"] / rate - 1 if r.get("rps") else None
    return rows


def _latency_from(r):
    frm = r["extra"].get("latency_from", "actual send")
    if "send_p50_ms" in r["extra"] and frm != "actual send":
        frm += f" (from send: p50 {_ms(r['extra']['send_p50_ms'])}, p99 {_ms(r['extra']['send_p99_ms'])})"
    return frm


def open_table(rows, rate):
    return _table(rows, [
        ("tool", False, _tool), ("target req/s", True, lambda r: f"{rate:,.0f}"),
        ("achieved req/s", True, lambda r: _num(r["rps"])),
        ("deviation", True, lambda r: f"{r['deviation'] * 100:+.2f} %"), (CPU_HEADER, True, _cpu),
        ("peak RSS MiB", True, _rss), ("p50", True, _p50), ("p99", True, _p99), ("errors", True, _errors),
        ("latency measured from", False, _latency_from)])


def memory_rows(rows, base_rows, connections, base_connections):
    """Adds kib_per_connection = (peak RSS at N - peak RSS at the baseline) / (N - baseline)."""
    base = {r["tool"]: r for r in base_rows}
    for r in rows:
        b = base.get(r["tool"])
        r["baseline_mib"] = b.get("maxrss_mib") if b else None
        if r.get("maxrss_mib") is not None and r["baseline_mib"] is not None:
            r["kib_per_connection"] = (r["maxrss_mib"] - r["baseline_mib"]) * 1024 / (connections - base_connections)
        else:
            r["kib_per_connection"] = None
    ref = next((r for r in rows if r["tool"] == "wrk" and r.get("kib_per_connection")), None)
    for r in rows:
        r["mem_x_wrk"] = (r["kib_per_connection"] / ref["kib_per_connection"]
                          if ref and r.get("kib_per_connection") else None)
    return rows


def memory_table(rows, connections, base_connections):
    return _table(rows, [
        ("tool", False, _tool), (f"peak RSS MiB, {connections:,} conns", True, _rss),
        (f"peak RSS MiB, {base_connections} conns", True, lambda r: _num(r["baseline_mib"], "{:.1f}")),
        ("KiB per connection", True, lambda r: _bold_volley(r, _num(r["kib_per_connection"], "{:.2f}"))),
        ("× wrk", True, lambda r: _x(r["mem_x_wrk"])), ("req/s", True, lambda r: _num(r["rps"])),
        ("p50", True, _p50), ("errors", True, _errors)])


def add_x_plain(rows):
    """Adds x_plain: each row's throughput over plain volley's (the "volley" row)."""
    plain = next((r for r in rows if r["tool"] == "volley" and r.get("rps")), None)
    for r in rows:
        r["x_plain"] = r["rps"] / plain["rps"] if plain and r.get("rps") else None
    return rows


def scenario_table(rows):
    return _table(rows, [
        ("mode", False, _tool), ("req/s", True, lambda r: _num(r["rps"])),
        ("× plain", True, lambda r: _x(r["x_plain"])), (CPU_HEADER, True, _cpu), ("peak RSS MiB", True, _rss),
        ("p50", True, _p50), ("p99", True, _p99), ("errors", True, _errors)])


def markdown(info, sections, bars, notes):
    m = info["machine"]
    lines = ["# volley vs wrk, ab, hey, autocannon", "",
             f"Run {m['date']} on {m['os']}, {m['cores']} × {m['cpu']}, {m['memory_gib']} GiB, "
             f"kernel {m['kernel']}; volley {m['volley_commit']}.",
             f"Tools: {', '.join(info['versions'].values())}.",
             f"Command: `{info['command']}`. {info['rounds']} rounds of {info['seconds']} s, tools alternating "
             "(the order rotates each round); every figure is the median over the rounds."
             + (f" Clients and targets ran under `nice -n {info['nice']}`." if info.get("nice") else ""), ""]
    lines += ["Columns: req/s and latency as each tool reports them; client CPU = user+sys seconds of the client "
              "process (all threads, from the kernel's rusage) per 100k requests; peak RSS = the client's max "
              "resident set. × wrk = ratio to wrk's median in the same table. target CPU = user+sys of the "
              "target's processes during the client's run, in cores (from /proc): a target near the cores it "
              "can get (1.0 when pinned to one CPU) limits the throughput, not the client.", ""]
    for s in sections:
        lines += [f"## ({s['key']}) {s['title']} — {s['target']}", ""]
        lines += [s["setup"], ""] if s.get("setup") else []
        if s["kind"] == "closed":
            lines += closed_table(s["rows"])
        elif s["kind"] == "open":
            lines += open_table(s["rows"], s["rate"])
        elif s["kind"] == "memory":
            lines += memory_table(s["rows"], s["connections"], s["base_connections"])
        elif s["kind"] == "scenario":
            lines += scenario_table(s["rows"])
        elif s["kind"] == "skipped":
            lines += [f"Skipped: {s['why']}"]
        lines += [""] + [f"- {n}" for n in s.get("notes", [])] + [""]
    if bars:
        lines += ["## Bars (issue 5)", "", "| bar | measured | holds |", "| --- | --- | --- |"]
        lines += [f"| {b['bar']} | {b['measured']} | {'yes' if b['holds'] else '**no**' if b['holds'] is False else 'n/a'} |"
                  for b in bars]
        lines.append("")
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def write(path_md, path_json, info, sections, bars, notes):
    with open(path_md, "w") as f:
        f.write(markdown(info, sections, bars, notes))
    with open(path_json, "w") as f:
        json.dump({"info": info, "sections": sections, "bars": bars, "notes": notes}, f, indent=1, default=str)
