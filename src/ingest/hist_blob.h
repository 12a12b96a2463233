// The compact form of a stored histogram (the `points.buckets` column; store.h documents
// the layout). Private to the ingest module.
#pragma once

#include <string>
#include <string_view>

#include "volley/metrics/histogram.h"

namespace volley::ingest {

// The buckets and extra counters of `h` (min/max/sum/resolution live in their columns).
std::string EncodeHistogramBlob(const metrics::Histogram& h);

// Rebuilds a histogram from a blob and its columns; false if the blob is malformed (a
// damaged database), leaving *out untouched.
bool DecodeHistogramBlob(std::string_view blob, double resolution, double min, double max,
                         double sum, metrics::Histogram* out);

}  // namespace volley::ingest
