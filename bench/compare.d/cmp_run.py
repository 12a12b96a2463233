"""Runs one client process and measures it: wall time, user+sys CPU and peak RSS.

The measurement comes from the kernel's rusage of the client (via GNU time), so it covers
every thread of the client and nothing else. Everything here runs on the caller's thread.
"""

import os
import signal
import socket
import subprocess
import time


class RunError(Exception):
    """A client or target could not be started, or did not finish in its time."""


def cpu_times():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return total - idle, total


def background_busy(seconds=0.5):
    """Share of the machine's CPU (0..1) busy during `seconds` while we only sleep.

    Taken before every run so a neighbour's compile job shows up in the results instead
    of silently lowering a figure.
    """
    b0, t0 = cpu_times()
    time.sleep(seconds)
    b1, t1 = cpu_times()
    return (b1 - b0) / max(1, t1 - t0)


NICE = 0  # set once by bench/compare's --nice before anything runs


def tree_cpu_seconds(pid):
    """user+sys CPU seconds used so far by process `pid` and its descendants (all their
    threads), from /proc: how hard the target worked during a run. 0 if it is gone."""
    stats, children = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry))  # fields[1]: ppid
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid] if pid in stats else []
    while todo:
        p = todo.pop()
        total += (int(stats[p][11]) + int(stats[p][12])) / tick  # utime, stime
        todo += children.get(p, [])
    return total


def pinned(cmd, cpus):
    """`cmd` under `taskset -c cpus` when cpus is set (the affinity is inherited by threads),
    and under `nice -n NICE` when NICE is set (clients and targets alike)."""
    cmd = ["taskset", "-c", cpus] + cmd if cpus else cmd
    return ["nice", "-n", str(NICE)] + cmd if NICE else cmd


def measure(cmd, stdout_path, timeout_s, env=None, cwd=None):
    """Runs `cmd` to completion with stdout+stderr in `stdout_path`.

    Returns a dict: rc, wall_s, cpu_s (user+sys of the process and all its threads),
    maxrss_kib (peak resident set). The figures come from GNU time's wait4 rusage of its
    child: a child forked straight from this Python process would carry Python's resident
    set (~18 MiB) into its peak, since the kernel keeps the pre-exec peak. Kills the
    process group and raises RunError if it runs longer than `timeout_s`.
    """
    times = stdout_path + ".time"
    full = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", times] + cmd
    with open(stdout_path, "wb") as out:
        start = time.monotonic()
        proc = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise RunError(f"{cmd[0]} did not finish within {timeout_s:.0f}s: {' '.join(cmd)}")
        except BaseException:  # Ctrl-C: the client is in its own session, so end it here
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        wall = time.monotonic() - start
    with open(times) as f:
        lines = f.read().strip().splitlines()
    try:
        _, user, system, maxrss = lines[-1].split()
    except (IndexError, ValueError):
        raise RunError(f"cannot read /usr/bin/time's figures for {cmd[0]}: {lines!r}")
    return {"rc": proc.returncode, "wall_s": wall, "cpu_s": float(user) + float(system),
            "maxrss_kib": int(maxrss)}


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout_s=10.0):
    """Waits until 127.0.0.1:port accepts a connection; RunError if `proc` dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RunError(f"target exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RunError(f"target did not listen on 127.0.0.1:{port} within {timeout_s:.0f}s")


def stop(proc, sig=signal.SIGTERM, timeout_s=10.0):
    """Stops a process started with start_new_session (its whole group); kills it if needed."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
