#!/usr/bin/env node
// A test-only OTLP/HTTP metrics receiver: an independent decoder for volley's OTLP export.
// It decodes every POSTed ExportMetricsServiceRequest with the protobufjs code that the
// OpenTelemetry JavaScript project generated (@opentelemetry/otlp-transformer 0.217.0,
// build/src/generated/root.js), never with volley's own .proto files, and after each
// request rewrites a JSON file with what it has seen so far.
//
// Usage: node receiver.js --out FILE [--port N]
//   Listens on 127.0.0.1 (port 0, the default, picks a free one) and prints
//   "listening PORT" on stdout once it accepts connections.
// JSON written (atomically: a temporary file renamed over FILE):
//   { "requests": N, "rejected": N, "errors": [..], "contentEncoding": "gzip" | "",
//     "contentType": "...", "resource": {k: v}, "scope": "volley",
//     "pointsSeen": N, "duplicates": N,   // duplicates: same (series, time) seen again
//     "series": { "<metric>{k=v,...}": { "kind": "sum"|"gauge"|"histogram",
//        "time": "<ns>", "start": "<ns>", "points": N,      // points: distinct times
//        "value": number, "monotonic": bool, "temporality": n,          // sum, gauge
//        "count": "<n>", "sum": number|null, "min": number|null, "max": number|null,
//        "bucketTotal": "<n>", "bounds": [..] } } }              // histogram
// 64-bit integers are decimal strings (exact); `series` holds the newest point of each.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');

const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');
const { ExportMetricsServiceRequest, ExportMetricsServiceResponse } =
  root.opentelemetry.proto.collector.metrics.v1;

const MAX_BODY = 64 << 20; // the spec's recommended request limit

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const outFile = arg('--out', null);
const port = Number(arg('--port', '0'));
if (!outFile) {
  process.stderr.write('usage: node receiver.js --out FILE [--port N]\n');
  process.exit(2);
}

const state = {
  requests: 0, rejected: 0, errors: [], contentEncoding: '', contentType: '',
  resource: {}, scope: '', pointsSeen: 0, duplicates: 0, series: {},
};
const seenTimes = new Map(); // series key -> Set of times

function anyValue(v) {
  if (!v) return null;
  for (const k of ['stringValue', 'boolValue', 'intValue', 'doubleValue']) {
    if (v[k] !== undefined && v[k] !== null) return String(v[k]);
  }
  return null;
}

function seriesKey(name, attributes) {
  const kv = (attributes || []).map((a) => `${a.key}=${anyValue(a.value)}`).sort();
  return `${name}{${kv.join(',')}}`;
}

function note(key, time, entry) {
  state.pointsSeen += 1;
  let times = seenTimes.get(key);
  if (!times) seenTimes.set(key, (times = new Set()));
  if (times.has(time)) state.duplicates += 1;
  times.add(time);
  const old = state.series[key];
  if (!old || BigInt(time) >= BigInt(old.time)) {
    state.series[key] = Object.assign(entry, { time, points: times.size });
  } else {
    old.points = times.size;
  }
}

function record(obj) {
  for (const rm of obj.resourceMetrics || []) {
    for (const a of (rm.resource && rm.resource.attributes) || []) {
      state.resource[a.key] = anyValue(a.value);
    }
    for (const sm of rm.scopeMetrics || []) {
      state.scope = (sm.scope && sm.scope.name) || '';
      for (const m of sm.metrics || []) {
        if (m.sum) {
          for (const p of m.sum.dataPoints || []) {
            note(seriesKey(m.name, p.attributes), p.timeUnixNano, {
              kind: 'sum', start: p.startTimeUnixNano, value: p.asDouble ?? Number(p.asInt),
              monotonic: !!m.sum.isMonotonic, temporality: m.sum.aggregationTemporality,
            });
          }
        } else if (m.gauge) {
          for (const p of m.gauge.dataPoints || []) {
            note(seriesKey(m.name, p.attributes), p.timeUnixNano, {
              kind: 'gauge', start: p.startTimeUnixNano || '0', value: p.asDouble ?? Number(p.asInt),
            });
          }
        } else if (m.histogram) {
          for (const p of m.histogram.dataPoints || []) {
            const total = (p.bucketCounts || []).reduce((s, c) => s + BigInt(c), 0n);
            note(seriesKey(m.name, p.attributes), p.timeUnixNano, {
              kind: 'histogram', start: p.startTimeUnixNano,
              temporality: m.histogram.aggregationTemporality, count: String(p.count),
              sum: p.sum ?? null, min: p.min ?? null, max: p.max ?? null,
              bucketTotal: total.toString(), bounds: p.explicitBounds || [],
            });
          }
        }
      }
    }
  }
}

function save() {
  const tmp = path.join(path.dirname(outFile), `.${path.basename(outFile)}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(state));
  fs.renameSync(tmp, outFile);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/metrics') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    let body = Buffer.concat(chunks);
    state.requests += 1;
    state.contentEncoding = req.headers['content-encoding'] || '';
    state.contentType = req.headers['content-type'] || '';
    try {
      if (state.contentEncoding === 'gzip') body = zlib.gunzipSync(body);
      const msg = ExportMetricsServiceRequest.decode(body);
      record(ExportMetricsServiceRequest.toObject(msg, { longs: String, enums: Number }));
    } catch (e) {
      state.rejected += 1;
      state.errors.push(String(e && e.message));
      save();
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end(String(e && e.message));
      return;
    }
    save();
    const answer = ExportMetricsServiceResponse.encode({}).finish();
    res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end(Buffer.from(answer));
  });
});

server.listen(port, '127.0.0.1', () => {
  save();
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
