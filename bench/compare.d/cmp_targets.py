"""The servers the clients load: Debian's nginx with a generated config, and `volley target`.

Both listen on 127.0.0.1 only, on a port picked free, and answer 200 with the same 13-byte
body ("Hello, world\\n"). Each is a context manager: entering starts the server (optionally
pinned to CPUs with taskset) and waits until it accepts; leaving stops it. Used from the
main thread only.
"""

import os
import shutil
import subprocess
import tempfile

from cmp_run import free_port, pinned, stop, wait_listening

HERE = os.path.dirname(os.path.realpath(__file__))


class Nginx:
    """nginx with `workers` worker processes in its own temporary prefix directory."""

    name = "nginx"

    def __init__(self, workers, cpus=None, nofile=20000):
        self.workers, self.cpus, self.nofile = workers, cpus, nofile
        self.proc, self.prefix, self.port = None, None, None

    def __enter__(self):
        self.prefix = tempfile.mkdtemp(prefix="volley-bench-nginx-")
        os.chmod(self.prefix, 0o755)
        self.port = free_port()
        with open(os.path.join(HERE, "nginx.conf.in")) as f:
            conf = f.read()
        values = {"WORKERS": self.workers, "NOFILE": self.nofile, "PREFIX": self.prefix,
                  "WORKER_CONNECTIONS": max(1024, self.nofile - 100), "PORT": self.port}
        for key, value in values.items():
            conf = conf.replace(f"@{key}@", str(value))
        path = os.path.join(self.prefix, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        cmd = ["nginx", "-p", self.prefix, "-c", path, "-e", os.path.join(self.prefix, "error.log")]
        self.proc = subprocess.Popen(pinned(cmd, self.cpus), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_listening(self.port, self.proc)
        return f"http://127.0.0.1:{self.port}/"

    def __exit__(self, *exc):
        stop(self.proc, timeout_s=5)  # SIGTERM: nginx's fast shutdown
        shutil.rmtree(self.prefix, ignore_errors=True)
        return False


class VolleyTarget:
    """`volley target` with `threads` threads, optionally with added latency (e.g. "5s") or a
    fixed response body (served as JSON when it starts with "{")."""

    name = "volley target"

    def __init__(self, volley, threads, cpus=None, latency=None, body=None):
        self.volley, self.threads, self.cpus, self.latency = volley, threads, cpus, latency
        self.body = body
        self.proc, self.port = None, None

    def __enter__(self):
        self.port = free_port()
        cmd = [self.volley, "target", "--listen", f"127.0.0.1:{self.port}", "--threads", str(self.threads)]
        if self.latency:
            cmd += ["--latency", self.latency]
        if self.body:
            cmd += ["--body", self.body]
        self.proc = subprocess.Popen(pinned(cmd, self.cpus), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_listening(self.port, self.proc)
        return f"http://127.0.0.1:{self.port}/"

    def __exit__(self, *exc):
        stop(self.proc, timeout_s=10)
        return False


def make_target(kind, volley, threads, cpus=None, latency=None, body=None):
    """A target context manager by name: "nginx" or "volley"."""
    if kind == "nginx":
        if latency or body:
            raise ValueError("nginx target has no added latency or body option; use the volley target")
        return Nginx(threads, cpus)
    if kind == "volley":
        return VolleyTarget(volley, threads, cpus, latency, body)
    raise ValueError(f"unknown target {kind!r}: nginx or volley")
