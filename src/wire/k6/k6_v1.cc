// k6 cloud v1 JSON samples (k6_v1.h).
#include "volley/wire/k6_v1.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace volley::wire::k6 {
namespace {

using metrics::MetricType;
using nlohmann::json;

json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json Tags(const metrics::Labels& tags) {
  json out = json::object();
  for (const auto& [k, v] : tags) out[k] = v;
  return out;
}

json Data(int64_t time_us, std::string type, const metrics::Labels& tags) {
  return json{{"time", std::to_string(time_us)}, {"type", std::move(type)}, {"tags", Tags(tags)}};
}

json ToJson(const V1Point& p) {
  json data = Data(p.time_us, metrics::MetricTypeName(p.type), p.tags);
  data["value"] = Number(p.value);
  return json{{"type", "Point"}, {"metric", p.metric}, {"data", std::move(data)}};
}

json ToJson(const V1Points& p) {
  json data = Data(p.time_us, metrics::MetricTypeName(p.type), p.tags);
  json values = json::object();
  for (const auto& [name, v] : p.values) values[name] = Number(v);
  data["values"] = std::move(values);
  return json{{"type", "Points"}, {"metric", p.metric}, {"data", std::move(data)}};
}

json ToJson(const V1AggregatedPoints& p) {
  json data =
      Data(p.time_us, p.type == MetricType::kRate ? "aggregated_rate" : "aggregated_trend", p.tags);
  data["count"] = p.count;
  json values = json::object();
  for (const auto& [name, a] : p.values) {
    values[name] = json{{"min", Number(a.min)}, {"max", Number(a.max)}, {"avg", Number(a.avg)}};
  }
  data["values"] = std::move(values);
  return json{{"type", "AggregatedPoints"}, {"metric", p.metric}, {"data", std::move(data)}};
}

// --- Decoding ---------------------------------------------------------------------------

struct Ctx {
  const V1Limits& limits;
  size_t index = 0;

  tl::unexpected<Error> Bad(const std::string& what) const {
    return MakeError(ErrorCode::kProtocol, "v1 sample [" + std::to_string(index) + "]: " + what);
  }
};

Result<const json*> Field(const Ctx& c, const json& obj, const char* name, const char* where) {
  auto it = obj.find(name);
  if (it == obj.end()) return c.Bad(std::string(where) + name + " is missing");
  return &*it;
}

Result<double> FiniteNumber(const Ctx& c, const json& v, const std::string& what) {
  if (!v.is_number()) return c.Bad(what + " must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d)) return c.Bad(what + " must be finite");
  return d;
}

Result<int64_t> Time(const Ctx& c, const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    int64_t t = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), t);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return t;
  }
  return c.Bad("data.time must be unix microseconds as a decimal string or integer");
}

Result<metrics::Labels> ReadTags(const Ctx& c, const json& data) {
  metrics::Labels tags;
  auto it = data.find("tags");
  if (it == data.end() || it->is_null()) return tags;
  if (!it->is_object()) return c.Bad("data.tags must be an object");
  if (it->size() > c.limits.max_tags) {
    return c.Bad("data.tags has more than " + std::to_string(c.limits.max_tags) + " tags");
  }
  for (const auto& [k, v] : it->items()) {
    if (v.is_string()) {
      tags.emplace_back(k, v.get<std::string>());
    } else if (v.is_number() || v.is_boolean()) {
      tags.emplace_back(k, v.dump());
    } else {
      return c.Bad("data.tags." + k + " must be a string");
    }
  }
  return metrics::NormalizeLabels(std::move(tags));
}

Result<MetricType> PointType(const Ctx& c, const json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    for (auto t :
         {MetricType::kCounter, MetricType::kGauge, MetricType::kRate, MetricType::kTrend}) {
      if (s == metrics::MetricTypeName(t)) return t;
    }
  }
  return c.Bad("data.type must be \"counter\", \"gauge\", \"rate\" or \"trend\", got " +
               v.dump().substr(0, 100));
}

Result<const json*> Values(const Ctx& c, const json& data) {
  auto values = Field(c, data, "values", "data.");
  if (!values) return values;
  if (!(*values)->is_object()) return c.Bad("data.values must be an object");
  if ((*values)->size() > c.limits.max_values_per_sample) {
    return c.Bad("data.values has more than " + std::to_string(c.limits.max_values_per_sample) +
                 " entries");
  }
  return values;
}

Result<V1Sample> ReadSample(const Ctx& c, const json& s) {
  if (!s.is_object()) return c.Bad("must be an object");
  auto kind = Field(c, s, "type", "");
  auto metric = Field(c, s, "metric", "");
  auto data = Field(c, s, "data", "");
  if (!kind) return tl::unexpected(kind.error());
  if (!metric) return tl::unexpected(metric.error());
  if (!data) return tl::unexpected(data.error());
  if (!(*kind)->is_string()) return c.Bad("type must be a string");
  if (!(*metric)->is_string()) return c.Bad("metric must be a string");
  if (!(*data)->is_object()) return c.Bad("data must be an object");
  const json& d = **data;
  const std::string& name = (*metric)->get_ref<const std::string&>();
  auto time_field = Field(c, d, "time", "data.");
  if (!time_field) return tl::unexpected(time_field.error());
  auto time = Time(c, **time_field);
  auto tags = ReadTags(c, d);
  auto type_field = Field(c, d, "type", "data.");
  if (!time) return tl::unexpected(time.error());
  if (!tags) return tl::unexpected(tags.error());
  if (!type_field) return tl::unexpected(type_field.error());
  const std::string& k = (*kind)->get_ref<const std::string&>();

  if (k == "Point") {
    auto type = PointType(c, **type_field);
    if (!type) return tl::unexpected(type.error());
    auto value_field = Field(c, d, "value", "data.");
    if (!value_field) return tl::unexpected(value_field.error());
    auto value = FiniteNumber(c, **value_field, "data.value");
    if (!value) return tl::unexpected(value.error());
    return V1Point{name, *time, *type, std::move(*tags), *value};
  }
  if (k == "Points") {
    auto type = PointType(c, **type_field);
    if (!type) return tl::unexpected(type.error());
    auto values = Values(c, d);
    if (!values) return tl::unexpected(values.error());
    V1Points p{name, *time, *type, std::move(*tags), {}};
    for (const auto& [key, v] : (*values)->items()) {  // object keys come sorted
      auto value = FiniteNumber(c, v, "data.values." + key);
      if (!value) return tl::unexpected(value.error());
      p.values.emplace_back(key, *value);
    }
    return p;
  }
  if (k == "AggregatedPoints") {
    const json& t = **type_field;
    MetricType type;
    if (t == "aggregated_trend") {
      type = MetricType::kTrend;
    } else if (t == "aggregated_rate") {
      type = MetricType::kRate;
    } else {
      return c.Bad(
          "data.type of AggregatedPoints must be \"aggregated_trend\" or "
          "\"aggregated_rate\", got " +
          t.dump().substr(0, 100));
    }
    auto count = Field(c, d, "count", "data.");
    if (!count) return tl::unexpected(count.error());
    if (!(*count)->is_number_unsigned() && !((*count)->is_number_integer() && **count >= 0)) {
      return c.Bad("data.count must be a non-negative integer");
    }
    auto values = Values(c, d);
    if (!values) return tl::unexpected(values.error());
    V1AggregatedPoints p{name, *time, type, (*count)->get<uint64_t>(), std::move(*tags), {}};
    for (const auto& [key, v] : (*values)->items()) {
      const std::string where = "data.values." + key;
      if (!v.is_object()) return c.Bad(where + " must be an object with min, max and avg");
      V1Aggregate a;
      for (auto [field, out] : {std::pair{"min", &a.min}, {"max", &a.max}, {"avg", &a.avg}}) {
        auto f = Field(c, v, field, (where + ".").c_str());
        if (!f) return tl::unexpected(f.error());
        auto n = FiniteNumber(c, **f, where + "." + field);
        if (!n) return tl::unexpected(n.error());
        *out = *n;
      }
      if (a.min > a.max) return c.Bad(where + ": min is above max");
      if (type == MetricType::kRate && (a.avg < 0 || a.avg > 1)) {
        return c.Bad(where + ": avg of an aggregated_rate must be within [0, 1]");
      }
      p.values.emplace_back(key, a);
    }
    return p;
  }
  return c.Bad("type must be \"Point\", \"Points\" or \"AggregatedPoints\", got \"" +
               k.substr(0, 100) + "\"");
}

}  // namespace

std::string EncodeV1(const std::vector<V1Sample>& samples) {
  json out = json::array();
  for (const V1Sample& s : samples) {
    std::visit([&out](const auto& v) { out.push_back(ToJson(v)); }, s);
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::vector<V1Sample>> DecodeV1(std::string_view text) { return DecodeV1(text, V1Limits{}); }

Result<std::vector<V1Sample>> DecodeV1(std::string_view text, const V1Limits& limits) {
  bool too_deep = false;
  // Values nested deeper than the format allows are discarded while parsing, so a hostile
  // body cannot build a deep tree (or a large one below the depth limit).
  json::parser_callback_t cb = [&](int depth, json::parse_event_t, json&) {
    if (depth > limits.max_depth) {
      too_deep = true;
      return false;
    }
    return true;
  };
  json doc = json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return MakeError(ErrorCode::kProtocol, "v1: the body is not valid JSON");
  }
  if (too_deep) {
    return MakeError(ErrorCode::kProtocol, "v1: the JSON nests deeper than " +
                                               std::to_string(limits.max_depth) + " levels");
  }
  if (!doc.is_array()) return MakeError(ErrorCode::kProtocol, "v1: the body must be a JSON array");
  if (doc.size() > limits.max_samples) {
    return MakeError(ErrorCode::kProtocol, "v1: more than " + std::to_string(limits.max_samples) +
                                               " samples in one body");
  }
  std::vector<V1Sample> out;
  out.reserve(doc.size());
  Ctx ctx{limits};
  for (const json& s : doc) {
    auto sample = ReadSample(ctx, s);
    if (!sample) return tl::unexpected(sample.error());
    out.push_back(std::move(*sample));
    ++ctx.index;
  }
  return out;
}

}  // namespace volley::wire::k6
