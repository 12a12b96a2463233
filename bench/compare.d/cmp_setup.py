"""Puts the peers and volley in place, and describes the machine for the results.

Peers come from Debian (wrk, apache2-utils for ab, hey, nginx-light) and npm (autocannon,
installed into a cache directory outside the repository). Missing things are installed
when we run as root; otherwise the script stops with the command to run. Main thread only.
"""

import datetime
import os
import platform
import resource
import shutil
import subprocess
import sys

DEBIAN_PEERS = {"wrk": "wrk", "ab": "apache2-utils", "hey": "hey", "nginx": "nginx-light",
                "taskset": "util-linux", "node": "nodejs", "npm": "npm", "time": "time"}
AUTOCANNON = "autocannon@8.0.0"


class SetupError(Exception):
    """Something the comparison needs is missing and could not be installed."""


def log(msg):
    print(f"\033[1m== {msg}\033[0m", file=sys.stderr, flush=True)


def _apt_install(packages):
    if os.geteuid() != 0:
        raise SetupError(f"missing {' '.join(packages)}; install as root: apt-get install -y {' '.join(packages)}")
    log(f"installing {' '.join(packages)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    r = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
                       env=env, stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        raise SetupError(f"apt-get install {' '.join(packages)} failed (exit {r.returncode})")


def ensure_peers(cache_dir, install=True):
    """Makes sure every peer binary exists; returns the path of autocannon's script."""
    missing = sorted({pkg for binary, pkg in DEBIAN_PEERS.items() if shutil.which(binary) is None})
    if missing:
        if not install:
            raise SetupError(f"missing packages {' '.join(missing)} (and --no-install was given)")
        _apt_install(missing)
    script = os.path.join(cache_dir, "node_modules", "autocannon", "autocannon.js")
    if not os.path.exists(script):
        if not install:
            raise SetupError(f"autocannon is not in {cache_dir} (and --no-install was given)")
        os.makedirs(cache_dir, exist_ok=True)
        log(f"installing {AUTOCANNON} from npm into {cache_dir}")
        r = subprocess.run(["npm", "install", "--prefix", cache_dir, "--no-audit", "--no-fund",
                            "--loglevel=error", AUTOCANNON], stdout=subprocess.DEVNULL)
        if r.returncode != 0 or not os.path.exists(script):
            raise SetupError(f"npm install {AUTOCANNON} into {cache_dir} failed (exit {r.returncode})")
    return script


def ensure_volley(repo, binary, build=True):
    """Returns the volley binary: the given one, or build/volley built by scripts/dev.sh."""
    if binary:
        if not os.access(binary, os.X_OK):
            raise SetupError(f"--volley {binary}: not an executable file")
        return os.path.abspath(binary)
    default = os.path.join(repo, "build", "volley")
    if build:
        log("building volley (bash scripts/dev.sh build)")
        r = subprocess.run(["bash", os.path.join(repo, "scripts", "dev.sh"), "build"], cwd=repo)
        if r.returncode != 0:
            raise SetupError("bash scripts/dev.sh build failed; see its output above")
    if not os.access(default, os.X_OK):
        raise SetupError(f"{default} does not exist: run `bash scripts/dev.sh build` first")
    return default


def raise_nofile(needed):
    """Raises the soft open-files limit to the hard one; SetupError if that is below `needed`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SetupError(f"open-files limit is {hard}, need {needed}: raise it (ulimit -Hn) or use fewer connections")
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def machine_info(repo):
    """CPU, cores, memory, kernel, OS, date and the volley commit, as a flat dict."""
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem_kib = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                    if line.startswith("MemTotal:")), 0)
    os_name = next((line.split("=", 1)[1].strip('"') for line in _read("/etc/os-release").splitlines()
                    if line.startswith("PRETTY_NAME=")), "?")
    commit = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1),
            "kernel": platform.release(), "os": os_name,
            "volley_commit": commit + ("+local changes" if dirty else "")}
