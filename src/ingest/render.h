// JSON renderings of stored data for the ingest service's GET endpoints. Private to the
// ingest module; pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "volley/ingest/store.h"

namespace volley::ingest {

// {"runs":[{"id","created_ms","updated_ms","requests","aggregation_period_s","series","points",
//           "repaired","refused"}]}
std::string RenderRuns(const std::vector<RunInfo>& runs);

// {"run":ID,"series":[{"metric","type","labels":{},"points","first_time","last_time", ...}]}
// with, per type: counter "total"; rate "nonzero","total","rate"; gauge "last","min",
// "max","mean","count"; trend "count","sum","min","max","mean","p50","p90","p95","p99",
// "p99.9","resolution", computed from the merged histogram. Non-finite numbers are null.
std::string RenderSummary(std::string_view run, const std::vector<SeriesTotal>& series);

// {"run":ID,"series":[{"metric","type","labels":{},"points":[{"time":unix seconds, ...}]}]}
// with the per-type fields of RenderSummary for each bucket ("value" for counters).
std::string RenderSeries(std::string_view run, const std::vector<wire::k6::SeriesSamples>& series);

// The answer to a stored push: {"run","series","values","merged","duplicate","repaired",
// "refused"} with, when something was repaired or refused, "problems":{"repaired":[...],
// "refused":[...]} naming each (the first DecodeReport::kMaxNotes of each).
std::string RenderPushAnswer(std::string_view run, const WriteResult& written,
                             const wire::k6::DecodeReport& report);

// {"error":{"code":CODE,"message":MESSAGE}}
std::string RenderError(int code, std::string_view message);

}  // namespace volley::ingest
