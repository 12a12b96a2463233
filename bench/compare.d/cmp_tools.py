"""Adapters for the load generators: how to invoke each one for a run, and how to read its
figures back from what it prints.

A run is described by a Spec (threads, connections, seconds, optional arrival rate and
request timeout). Every adapter returns the same dict from parse(): requests, rps, p50_ms,
p99_ms (latency as the tool itself reports it; None where it reports none), errors, and
`extra` for tool-specific figures. Parsers raise ParseError with the tool's output attached
when an expected figure is missing, so a changed output format fails loudly.
"""

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Optional


class ParseError(Exception):
    """A tool's output lacked a figure we need."""


@dataclass
class Spec:
    threads: int
    connections: int
    seconds: int
    rate: Optional[float] = None        # open model: total arrivals per second
    timeout_s: Optional[int] = None     # per-request timeout, when the default would cut in


def _search(pattern, text, tool, flags=re.M):
    m = re.search(pattern, text, flags)
    if not m:
        tail = "\n".join(text.strip().splitlines()[-15:])
        raise ParseError(f"{tool}: no match for {pattern!r} in its output; last lines:\n{tail}")
    return m


_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _wrk_ms(value):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if not m:
        raise ParseError(f"wrk: cannot read latency {value!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def _first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    lines = (out.stdout + out.stderr).strip().splitlines()
    return lines[0].strip() if lines else "?"


class Wrk:
    name, open_model, multi_thread = "wrk", False, True

    def version(self):
        return _first_line(["wrk", "--version"]).split(" [")[0]

    def command(self, url, spec, workdir):
        cmd = ["wrk", f"-t{spec.threads}", f"-c{spec.connections}", f"-d{spec.seconds}s", "--latency"]
        if spec.timeout_s:
            cmd += ["--timeout", f"{spec.timeout_s}s"]
        return cmd + [url], None

    def parse(self, text, workdir):
        requests = int(_search(r"^\s*(\d+) requests in", text, self.name).group(1))
        rps = float(_search(r"^Requests/sec:\s*([\d.]+)", text, self.name).group(1))
        p50 = _wrk_ms(_search(r"^\s*50%\s+(\S+)", text, self.name).group(1))
        p99 = _wrk_ms(_search(r"^\s*99%\s+(\S+)", text, self.name).group(1))
        errors = 0
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
        if m:
            errors += sum(int(x) for x in m.groups())
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        if m:
            errors += int(m.group(1))
        return {"requests": requests, "rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors, "extra": {}}


class Ab:
    """ApacheBench: one thread whatever `threads` says; HTTP/1.0 keep-alive with -k."""

    name, open_model, multi_thread = "ab", False, False
    MAX_RPS = 500_000  # -n must bound the run above what ab can do, or it stops early

    def version(self):
        m = re.search(r"Version ([\d.]+)", _first_line(["ab", "-V"]))
        return f"ab {m.group(1)}" if m else "ab ?"

    def command(self, url, spec, workdir):
        cmd = ["ab", "-k", "-q", "-r", "-c", str(spec.connections), "-t", str(spec.seconds),
               "-n", str(self.MAX_RPS * spec.seconds)]
        if spec.timeout_s:
            cmd += ["-s", str(spec.timeout_s)]
        return cmd + [url], None

    def parse(self, text, workdir):
        requests = int(_search(r"^Complete requests:\s*(\d+)", text, self.name).group(1))
        rps = float(_search(r"^Requests per second:\s*([\d.]+)", text, self.name).group(1))
        p50 = float(_search(r"^\s*50%\s+(\d+)", text, self.name).group(1))
        p99 = float(_search(r"^\s*99%\s+(\d+)", text, self.name).group(1))
        errors = int(_search(r"^Failed requests:\s*(\d+)", text, self.name).group(1))
        m = re.search(r"^Non-2xx responses:\s*(\d+)", text, re.M)
        if m:
            errors += int(m.group(1))
        return {"requests": requests, "rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors,
                "extra": {"latency_resolution": "whole ms"}}


class Hey:
    """hey: -cpus sets GOMAXPROCS; -q is a rate per worker, so the total is split evenly."""

    name, open_model, multi_thread = "hey", True, True

    def version(self):
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "hey"], capture_output=True, text=True)
        return f"hey {out.stdout.strip() or '?'}"

    def command(self, url, spec, workdir):
        cmd = ["hey", "-c", str(spec.connections), "-z", f"{spec.seconds}s", "-cpus", str(spec.threads)]
        if spec.rate:
            cmd += ["-q", f"{spec.rate / spec.connections:g}"]
        if spec.timeout_s:
            cmd += ["-t", str(spec.timeout_s)]
        return cmd + [url], None

    def parse(self, text, workdir):
        rps = float(_search(r"Requests/sec:\s*([\d.]+)", text, self.name).group(1))
        total_s = float(_search(r"Total:\s*([\d.]+) secs", text, self.name).group(1))
        p50 = float(_search(r"^\s*50% in ([\d.]+) secs", text, self.name).group(1)) * 1e3
        m = re.search(r"^\s*99% in ([\d.]+) secs", text, re.M)  # absent when there are few results
        p99 = float(m.group(1)) * 1e3 if m else None
        ok = errors = 0
        for code, n in re.findall(r"^\s*\[(\d{3})\]\s+(\d+) responses", text, re.M):
            ok += int(n)
            if not 200 <= int(code) < 400:
                errors += int(n)
        section = text.split("Error distribution:", 1)
        if len(section) == 2:
            errors += sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]\s", section[1], re.M))
        return {"requests": ok, "rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors,
                "extra": {"total_s": total_s, "latency_resolution": "0.1 ms"}}


class Autocannon:
    """autocannon from npm, run by node directly (no npx wrapper process)."""

    name, open_model, multi_thread = "autocannon", True, True

    def __init__(self, script):
        self.script = script

    def version(self):
        return _first_line(["node", self.script, "--version"])

    def command(self, url, spec, workdir):
        cmd = ["node", self.script, "-j", "-n", "-c", str(spec.connections), "-d", str(spec.seconds)]
        if spec.threads > 1 and not spec.rate:
            cmd += ["-w", str(spec.threads)]  # worker threads split the connections
        if spec.rate:
            cmd += ["-R", f"{spec.rate:g}"]  # overallRate (not split across workers: none used)
        if spec.timeout_s:
            cmd += ["-t", str(spec.timeout_s)]
        return cmd + [url], None

    def parse(self, text, workdir):
        start = text.find("{")
        try:
            j = json.loads(text[start:text.rfind("}") + 1]) if start >= 0 else None
        except json.JSONDecodeError:
            j = None
        if not j or "requests" not in j:
            raise ParseError("autocannon: no JSON result in its output:\n" + text[-1500:])
        requests = int(j["requests"]["total"])
        seconds = float(j["duration"])
        errors = int(j.get("errors", 0)) + int(j.get("timeouts", 0)) + int(j.get("non2xx", 0))
        return {"requests": requests, "rps": requests / seconds if seconds else 0.0,
                "p50_ms": float(j["latency"]["p50"]), "p99_ms": float(j["latency"]["p99"]),
                "errors": errors, "extra": {"latency_resolution": "whole ms"}}


class Volley:
    """volley run: all phase histograms and counters are recorded in every run; the
    /metrics endpoint is off (it would listen beyond loopback by default)."""

    name, open_model, multi_thread = "volley", True, True

    def __init__(self, binary, plan=None):
        self.binary, self.plan = binary, plan

    def version(self):
        return _first_line([self.binary, "--version"])

    def command(self, url, spec, workdir):
        cmd = [self.binary, "run"]
        if self.plan:
            cmd.append(self.plan)
        cmd += ["--url", url, "-t", str(spec.threads), "-c", str(spec.connections), "-d", f"{spec.seconds}s",
                "--quiet", "--metrics-addr", "", "--summary-export", os.path.join(workdir, "volley.json")]
        if spec.rate:
            cmd += ["--rps", f"{spec.rate:g}"]
        if spec.timeout_s:
            cmd += ["--timeout", f"{spec.timeout_s}s"]
        return cmd, None

    def parse(self, text, workdir):
        path = os.path.join(workdir, "volley.json")
        try:
            with open(path) as f:
                j = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise ParseError(f"volley: no summary JSON ({e}); output:\n{text[-1500:]}")
        lat = j["latency_ms"]
        intended = j.get("latency_from_intended_ms")
        primary = intended if intended and intended.get("count") else lat
        extra = {"dropped_iterations": j.get("dropped_iterations", 0),
                 "send_p50_ms": lat["p50"], "send_p99_ms": lat["p99"]}
        if primary is intended:
            extra["latency_from"] = "intended send time"
        return {"requests": int(j["requests_total"]), "rps": float(j["rps"]),
                "p50_ms": float(primary["p50"]), "p99_ms": float(primary["p99"]),
                "errors": int(j.get("errors_total", 0)), "extra": extra}


def autocannon_script(cache_dir):
    """Path of autocannon's entry script in `cache_dir` (installed by cmp_setup)."""
    return os.path.join(cache_dir, "node_modules", "autocannon", "autocannon.js")


def have(binary):
    return shutil.which(binary) is not None
