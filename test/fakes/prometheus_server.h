// Test support: a real Prometheus server (Debian's /usr/bin/prometheus) as a child process
// on a free 127.0.0.1 port with a temporary storage directory, optionally scraping one
// target and/or receiving remote write, and its HTTP query API. Killed (SIGTERM, then
// SIGKILL) and its directory removed on destruction. Confined to the creating thread.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fakes/subprocess.h"
#include "volley/metrics/histogram.h"

namespace volley::testing {

inline constexpr const char* kPrometheusBinary = "/usr/bin/prometheus";

struct PrometheusOptions {
  uint16_t scrape_port = 0;            // a 127.0.0.1 target scraped every second; 0: none
  bool remote_write_receiver = false;  // --web.enable-remote-write-receiver
};

class PrometheusServer {
 public:
  // Starts Prometheus and waits until /-/ready answers 200. nullptr (with `*error`) when
  // it does not come up.
  static std::unique_ptr<PrometheusServer> Start(const PrometheusOptions& options,
                                                 std::string* error);
  ~PrometheusServer();

  uint16_t port() const { return port_; }
  // http://127.0.0.1:<port>/api/v1/write
  std::string WriteUrl() const;

  // The instant vector of `promql` (at unix time `time_s` when given) as (labels, value)
  // pairs; nullopt when the API fails.
  std::optional<std::vector<std::pair<nlohmann::json, double>>> Query(
      const std::string& promql, std::optional<double> time_s = std::nullopt);
  // The single value of `promql`, or nullopt while the answer is not exactly one sample.
  std::optional<double> Scalar(const std::string& promql,
                               std::optional<double> time_s = std::nullopt);

  std::string Diagnostics() const { return process_ ? process_->Diagnostics() : ""; }

 private:
  PrometheusServer() = default;
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

// Where Prometheus' histogram_quantile(q, buckets) over classic buckets `bounds` (the
// exposition's le bounds) of volley histogram `h` must fall: Prometheus interpolates inside
// the `le` bucket where rank q * count falls; volley's quantile is the midpoint of a fine
// (1/128) bucket, and each exposed bucket count leaves out only the fine bucket that
// straddles its bound, so the answer lies between the `le` below volley's quantile and the
// first `le` at or above that fine bucket's upper edge (one rank either side, for floating
// point rounding of q * count). {lower, upper} in the histogram's unit.
std::pair<double, double> QuantileBounds(const metrics::Histogram& h, double q,
                                         const std::vector<double>& bounds);

// "%XX"-escapes everything but unreserved characters (query parameters).
std::string UrlEncode(const std::string& s);

}  // namespace volley::testing
