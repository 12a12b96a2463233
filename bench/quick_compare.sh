#!/usr/bin/env bash
# A quick side-by-side of volley and wrk against `volley target` on 127.0.0.1, until the
# full comparison suite (bench/compare, issue 5) exists. Alternates the tools, repeats,
# and prints the median requests/s and client CPU (user+sys) per 100k requests.
#   bash bench/quick_compare.sh [rounds=3] [seconds=5] [client_threads=1] [connections=50]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} secs=${2:-5} threads=${3:-1} conns=${4:-50}
volley=build/volley
command -v wrk >/dev/null || { echo "quick_compare: needs wrk (apt-get install wrk)" >&2; exit 2; }
[[ -x $volley ]] || { echo "quick_compare: build first (bash scripts/dev.sh build)" >&2; exit 2; }
port=$((20000 + RANDOM % 20000))
"$volley" target --listen "127.0.0.1:$port" --threads 1 >/dev/null 2>&1 &
target=$!
trap 'kill $target 2>/dev/null; wait $target 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
url="http://127.0.0.1:$port/"
tmp=$(mktemp -d)
for r in $(seq "$rounds"); do
  /usr/bin/time -f "%U %S" -o "$tmp/wrk.time" wrk -t"$threads" -c"$conns" -d"${secs}s" "$url" >"$tmp/wrk.out"
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
  n=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
  echo "wrk $rps $n $(cat "$tmp/wrk.time")" >>"$tmp/results"
  /usr/bin/time -f "%U %S" -o "$tmp/volley.time" "$volley" run --url "$url" -t "$threads" \
    -c "$conns" -d "${secs}s" --quiet --metrics-addr '' --summary-export "$tmp/v.json" >/dev/null 2>&1
  rps=$(python3 -c "import json;print(json.load(open('$tmp/v.json'))['rps'])")
  n=$(python3 -c "import json;print(json.load(open('$tmp/v.json'))['requests_total'])")
  echo "volley $rps $n $(cat "$tmp/volley.time")" >>"$tmp/results"
done
python3 - "$tmp/results" "$threads" "$conns" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print(f"client threads {sys.argv[2]}, connections {sys.argv[3]}, target: volley target (1 thread)")
print("| tool | req/s (median) | client CPU s per 100k req | runs |")
print("| --- | --- | --- | --- |")
med = {}
for tool in ("wrk", "volley"):
    r = [x for x in rows if x[0] == tool]
    rps = statistics.median(float(x[1]) for x in r)
    cpu = statistics.median((float(x[3]) + float(x[4])) / float(x[2]) * 1e5 for x in r)
    med[tool] = rps
    print(f"| {tool} | {rps:,.0f} | {cpu:.2f} | {', '.join(f'{float(x[1]):,.0f}' for x in r)} |")
print(f"volley / wrk throughput: {med['volley'] / med['wrk']:.2f}")
PY
rm -rf "$tmp"
