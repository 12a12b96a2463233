#include "volley/cluster/aggregator.h"

#include <algorithm>
#include <iterator>
#include <type_traits>
#include <utility>
#include <variant>

namespace volley::cluster {
namespace {

using metrics::Counter;
using metrics::Gauge;
using metrics::Histogram;
using metrics::MetricValue;
using metrics::Rate;
using metrics::SeriesKey;
using Map = std::map<SeriesKey, MetricValue>;

constexpr const char* kRegionLabel = "region";

// Folds one node's value into the merge of other nodes' (see the header): false on a type
// or resolution clash (acc unchanged).
bool MergeAcross(MetricValue& acc, const MetricValue& add) {
  if (acc.index() != add.index()) return false;
  return std::visit(
      [&add](auto& a) -> bool {
        using T = std::decay_t<decltype(a)>;
        const T& b = std::get<T>(add);
        if constexpr (std::is_same_v<T, Counter>) {
          a.value += b.value;
        } else if constexpr (std::is_same_v<T, Gauge>) {
          a.last += b.last;
          a.min = std::min(a.min, b.min);
          a.max = std::max(a.max, b.max);
          a.sum += b.sum;
          a.count += b.count;
        } else if constexpr (std::is_same_v<T, Rate>) {
          a.nonzero += b.nonzero;
          a.total += b.total;
        } else {
          return a.Merge(b);
        }
        return true;
      },
      acc);
}

// Merges the sorted series of `src` into the sorted `acc` in one pass (a merge join): one
// three-way key comparison per series when the nodes share their series, as they do.
template <class Source>
void MergeSorted(Map& acc, const Source& src, size_t* conflicts) {
  auto it = acc.begin();
  for (const auto& [key, value] : src) {
    bool merged = false;
    while (it != acc.end()) {
      const auto order = it->first <=> key;
      if (order < 0) {
        ++it;
        continue;
      }
      if (order == 0) {
        if (!MergeAcross(it->second, value)) ++*conflicts;
        ++it;
        merged = true;
      }
      break;
    }
    if (!merged) acc.emplace_hint(it, key, value);  // `it` stays the next larger key
  }
}

// Merges one (key, value) into `acc`, inserting before `hint` when that is its place (keys
// arrive nearly in order); returns the hint for the next key.
Map::iterator MergeOne(Map& acc, Map::iterator hint, SeriesKey key, const MetricValue& value,
                       size_t* conflicts) {
  const size_t before = acc.size();
  auto it = acc.emplace_hint(hint, std::move(key), value);
  if (acc.size() == before && !MergeAcross(it->second, value)) ++*conflicts;
  return std::next(it);
}

bool HasRegion(const SeriesKey& key) {
  for (const auto& [k, v] : key.labels) {
    if (k == kRegionLabel) return true;
  }
  return false;
}

SeriesKey WithRegion(const SeriesKey& key, const std::string& region) {
  SeriesKey out;
  out.name = key.name;
  out.labels.reserve(key.labels.size() + 1);
  bool placed = false;
  for (const auto& kv : key.labels) {
    if (!placed && kv.first > kRegionLabel) {
      out.labels.emplace_back(kRegionLabel, region);
      placed = true;
    }
    out.labels.push_back(kv);
  }
  if (!placed) out.labels.emplace_back(kRegionLabel, region);
  return out;
}

SeriesKey WithoutRegion(const SeriesKey& key) {
  SeriesKey out;
  out.name = key.name;
  for (const auto& kv : key.labels) {
    if (kv.first != kRegionLabel) out.labels.push_back(kv);
  }
  return out;
}

double Seconds(Nanos n) { return std::chrono::duration<double>(n).count(); }

}  // namespace

Aggregator::Aggregator(AggregatorOptions options) : options_(options) {}

bool Aggregator::DegradedAt(const Node& node, Nanos now) const {
  return !node.id.final && now - node.last_seen > options_.degraded_after;
}

Nanos Aggregator::DegradedTotal(const Node& node, Nanos now) const {
  if (!DegradedAt(node, now)) return node.degraded_before;
  return node.degraded_before + (now - (node.last_seen + options_.degraded_after));
}

Aggregator::OfferResult Aggregator::Keep(wire::node::MetricsBatch batch, Nanos now,
                                         Nanos degraded_base) {
  auto snapshot = std::make_shared<const metrics::Snapshot>(std::move(batch.snapshot));
  std::lock_guard lock(mu_);
  auto& nodes = runs_[batch.id.run_id];
  auto [it, fresh] = nodes.try_emplace(batch.id.node_id);
  Node& node = it->second;
  if (!fresh && batch.id.seq <= node.id.seq) return OfferResult::kStale;
  if (fresh) {
    node.degraded_before = degraded_base;
  } else {
    node.degraded_before = std::max(DegradedTotal(node, now), degraded_base);
  }
  node.id = std::move(batch.id);
  node.snapshot = std::move(snapshot);
  node.last_seen = now;
  return OfferResult::kAccepted;
}

Aggregator::OfferResult Aggregator::Offer(wire::node::MetricsBatch batch, Nanos now) {
  return Keep(std::move(batch), now, Nanos(0));
}

metrics::Snapshot Aggregator::Merged(const std::string& run_id, Nanos now) const {
  struct Source {
    std::string node_id;
    std::string region;
    std::shared_ptr<const metrics::Snapshot> snapshot;
    bool degraded;
    Nanos degraded_total;
  };
  std::vector<Source> sources;
  {
    std::lock_guard lock(mu_);
    auto run = runs_.find(run_id);
    if (run != runs_.end()) {
      sources.reserve(run->second.size());
      for (const auto& [id, node] : run->second) {
        sources.push_back(
            {id, node.id.region, node.snapshot, DegradedAt(node, now), DegradedTotal(node, now)});
      }
    }
  }
  size_t conflicts = 0;
  // Nodes merged per region under their own keys, then regions merged into the global
  // result: N + R merges of each series instead of 2N.
  std::map<std::string, Map> regions;
  for (const Source& s : sources) MergeSorted(regions[s.region], *s.snapshot, &conflicts);
  Map global;
  for (const auto& [region, acc] : regions) MergeSorted(global, acc, &conflicts);

  Map out;
  for (const auto& [region, acc] : regions) {
    auto hint = out.begin();
    for (const auto& [key, value] : acc) {
      hint = HasRegion(key) ? MergeOne(out, hint, key, value, &conflicts)
                            : MergeOne(out, hint, WithRegion(key, region), value, &conflicts);
    }
  }
  auto hint = out.begin();
  for (const auto& [key, value] : global) {
    hint = HasRegion(key) ? MergeOne(out, hint, WithoutRegion(key), value, &conflicts)
                          : MergeOne(out, hint, key, value, &conflicts);
  }
  size_t reporting = 0;
  for (const Source& s : sources) {
    reporting += s.degraded ? 0 : 1;
    out.insert_or_assign(SeriesKey("cluster_node_degraded", {{"node_id", s.node_id}}),
                         Gauge{.last = s.degraded ? 1.0 : 0.0});
    out.insert_or_assign(SeriesKey("cluster_node_degraded_seconds_total", {{"node_id", s.node_id}}),
                         Counter{Seconds(s.degraded_total)});
  }
  out.insert_or_assign(SeriesKey("cluster_nodes_reporting"),
                       Gauge{.last = static_cast<double>(reporting)});
  out.insert_or_assign(SeriesKey("cluster_merge_conflicts_total"),
                       Counter{static_cast<double>(conflicts)});
  metrics::Snapshot result;
  for (auto& node : out) {
    result.Put(node.first, std::move(node.second));  // ascending: O(1) each
  }
  return result;
}

std::vector<NodeView> Aggregator::Nodes(const std::string& run_id, Nanos now) const {
  std::vector<NodeView> views;
  std::lock_guard lock(mu_);
  auto run = runs_.find(run_id);
  if (run == runs_.end()) return views;
  for (const auto& [id, node] : run->second) {
    views.push_back(NodeView{.node_id = id,
                             .region = node.id.region,
                             .seq = node.id.seq,
                             .final = node.id.final,
                             .degraded = DegradedAt(node, now),
                             .degraded_total = DegradedTotal(node, now),
                             .last_seen = node.last_seen,
                             .snapshot = node.snapshot});
  }
  return views;
}

std::vector<std::string> Aggregator::Runs() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, nodes] : runs_) ids.push_back(id);
  return ids;
}

Result<std::string> Aggregator::Checkpoint(const std::string& run_id, const std::string& node_id,
                                           Nanos now) const {
  wire::node::NodeCheckpoint cp;
  {
    std::lock_guard lock(mu_);
    auto run = runs_.find(run_id);
    auto node = run == runs_.end() ? decltype(run->second.end()){} : run->second.find(node_id);
    if (run == runs_.end() || node == run->second.end()) {
      return MakeError(ErrorCode::kNotFound, "aggregator: node \"" + node_id +
                                                 "\" has sent no metrics for run \"" + run_id +
                                                 "\"; nothing to checkpoint");
    }
    cp.batch.id = node->second.id;
    cp.batch.snapshot = *node->second.snapshot;
    cp.degraded_nanos = DegradedTotal(node->second, now).count();
  }
  return wire::node::EncodeNodeCheckpoint(cp);
}

Result<Aggregator::OfferResult> Aggregator::RestoreCheckpoint(std::string_view bytes, Nanos now) {
  auto cp = wire::node::DecodeNodeCheckpoint(bytes);
  if (!cp) {
    return MakeError(cp.error().code, "aggregator: checkpoint refused: " + cp.error().message);
  }
  return Keep(std::move(cp->batch), now, Nanos(cp->degraded_nanos));
}

}  // namespace volley::cluster
