#include "render.h"

#include <nlohmann/json.hpp>

namespace volley::ingest {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json Labels(const metrics::Labels& labels) {
  json j = json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j;
}

// The fields of one value (a bucket's or a series' total), added to `out`.
void Fields(const metrics::MetricValue& value, json& out) {
  if (const auto* c = std::get_if<metrics::Counter>(&value)) {
    out["total"] = c->value;
  } else if (const auto* r = std::get_if<metrics::Rate>(&value)) {
    out["nonzero"] = r->nonzero;
    out["total"] = r->total;
    out["rate"] = r->ratio();
  } else if (const auto* g = std::get_if<metrics::Gauge>(&value)) {
    out["last"] = g->last;
    out["min"] = g->count > 0 ? json(g->min) : json(nullptr);
    out["max"] = g->count > 0 ? json(g->max) : json(nullptr);
    out["mean"] = g->mean();
    out["count"] = g->count;
  } else {
    const auto& h = std::get<metrics::Histogram>(value);
    out["count"] = h.count();
    out["sum"] = h.sum();
    out["min"] = h.min();
    out["max"] = h.max();
    out["mean"] = h.mean();
    for (auto [name, q] :
         {std::pair{"p50", 50.0}, {"p90", 90.0}, {"p95", 95.0}, {"p99", 99.0}, {"p99.9", 99.9}}) {
      out[name] = h.Percentile(q);
    }
    out["resolution"] = h.min_resolution();
  }
}

json Head(const std::string& metric, metrics::MetricType type, const metrics::Labels& labels) {
  return json{
      {"metric", metric}, {"type", metrics::MetricTypeName(type)}, {"labels", Labels(labels)}};
}

}  // namespace

std::string RenderRuns(const std::vector<RunInfo>& runs) {
  json list = json::array();
  for (const RunInfo& r : runs) {
    list.push_back(json{{"id", r.id},
                        {"created_ms", r.created_ms},
                        {"updated_ms", r.updated_ms},
                        {"requests", r.requests},
                        {"aggregation_period_s", r.aggregation_period_s},
                        {"series", r.series},
                        {"points", r.points},
                        {"repaired", r.repaired},
                        {"refused", r.refused}});
  }
  return Dump(json{{"runs", std::move(list)}});
}

std::string RenderSummary(std::string_view run, const std::vector<SeriesTotal>& series) {
  json list = json::array();
  for (const SeriesTotal& s : series) {
    json j = Head(s.metric, s.type, s.labels);
    j["points"] = s.points;
    j["first_time"] = s.first_time_s;
    j["last_time"] = s.last_time_s;
    Fields(s.total, j);
    list.push_back(std::move(j));
  }
  return Dump(json{{"run", run}, {"series", std::move(list)}});
}

std::string RenderSeries(std::string_view run, const std::vector<wire::k6::SeriesSamples>& series) {
  json list = json::array();
  for (const auto& s : series) {
    json j = Head(s.metric, s.type, s.labels);
    json points = json::array();
    for (const auto& v : s.values) {
      json p{{"time", v.time_unix_seconds}};
      Fields(v.value, p);
      if (s.type == metrics::MetricType::kCounter) {
        p["value"] = p["total"];
        p.erase("total");
      }
      points.push_back(std::move(p));
    }
    j["points"] = std::move(points);
    list.push_back(std::move(j));
  }
  return Dump(json{{"run", run}, {"series", std::move(list)}});
}

std::string RenderPushAnswer(std::string_view run, const WriteResult& written,
                             const wire::k6::DecodeReport& report) {
  json j{{"run", run},
         {"series", written.series},
         {"values", written.values},
         {"merged", written.merged},
         {"duplicate", written.duplicate},
         {"repaired", report.repaired_values},
         {"refused", report.refused_series}};
  if (report.repaired_values > 0 || report.refused_series > 0) {
    j["problems"] = json{{"repaired", report.repaired}, {"refused", report.refused}};
  }
  return Dump(j);
}

std::string RenderError(int code, std::string_view message) {
  return Dump(json{{"error", {{"code", code}, {"message", message}}}});
}

}  // namespace volley::ingest
