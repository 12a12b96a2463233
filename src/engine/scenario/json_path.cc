#include "scenario/json_path.h"

#include <simdjson.h>

#include <algorithm>

#include "scenario/excerpt.h"
#include "scenario/json_text.h"

namespace volley::engine::scenario {

struct JsonBodyCache::Impl {
  // simdjson 3.0.1's set_max_capacity() is inverted (it caps at 32 bytes): the limit is
  // given to the constructor instead.
  explicit Impl(size_t max_capacity) : parser(std::max<size_t>(max_capacity, 64)) {}
  simdjson::dom::parser parser;
  simdjson::dom::element root;
};

JsonBodyCache::JsonBodyCache() : JsonBodyCache(Limits{}) {}

JsonBodyCache::JsonBodyCache(const Limits& limits)
    : impl_(std::make_unique<Impl>(limits.max_body_bytes)), limits_(limits) {
  // Fixes the depth limit; capacity grows on demand up to max_body_bytes. A failed
  // allocation here only means the first Parse allocates (and may fail, as "not JSON").
  if (impl_->parser.allocate(std::min<size_t>(4096, std::max<size_t>(limits_.max_body_bytes, 64)),
                             limits_.max_depth) != simdjson::SUCCESS) {
    error_ = "cannot allocate the JSON parser";
  }
}

JsonBodyCache::~JsonBodyCache() = default;

void JsonBodyCache::Reset() {
  state_ = State::kUnparsed;
  body_data_ = nullptr;
  body_size_ = 0;
  error_.clear();
}

bool JsonBodyCache::Parse(std::string_view body) {
  if (state_ != State::kUnparsed && body.data() == body_data_ && body.size() == body_size_) {
    return state_ == State::kOk;
  }
  body_data_ = body.data();
  body_size_ = body.size();
  error_.clear();
  if (body.size() > limits_.max_body_bytes) {
    state_ = State::kTooLarge;
    error_ = "body of " + std::to_string(body.size()) + " bytes is over the JSON limit of " +
             std::to_string(limits_.max_body_bytes);
    return false;
  }
  ++parse_count_;
  // realloc_if_needed: the body is copied into the parser's reusable padded buffer.
  auto err = impl_->parser.parse(body.data(), body.size(), true).get(impl_->root);
  if (err != simdjson::SUCCESS) {
    state_ = State::kInvalid;
    error_ = std::string("body is not valid JSON: ") + simdjson::error_message(err);
    return false;
  }
  state_ = State::kOk;
  return true;
}

namespace {

Error PathError(std::string_view text, const std::string& what, size_t pos) {
  return Error{ErrorCode::kInvalidArgument,
               "jsonPath " + Excerpt(text, '\'', 200) + ": " + what + " at " + std::to_string(pos)};
}

}  // namespace

Result<JsonPath> JsonPath::Compile(std::string_view text) {
  JsonPath path;
  path.text_.assign(text.substr(0, kMaxText));
  auto fail = [&](const std::string& what, size_t pos) {
    return tl::unexpected<Error>(PathError(text, what, pos));
  };
  if (text.size() > kMaxText) return fail("longer than " + std::to_string(kMaxText), kMaxText);
  if (text.empty() || text[0] != '$') return fail("expected '$'", 0);
  size_t i = 1;
  const size_t n = text.size();
  while (i < n) {
    if (path.segments_.size() >= kMaxSegments) {
      return fail("more than " + std::to_string(kMaxSegments) + " steps", i);
    }
    Segment seg;
    if (text[i] == '.') {
      ++i;
      if (i < n && text[i] == '.') return fail("recursive descent '..' is not supported", i - 1);
      if (i < n && text[i] == '*') {
        seg.kind = Segment::Kind::kWildcard;
        ++i;
      } else {
        size_t start = i;
        while (i < n && text[i] != '.' && text[i] != '[') ++i;
        if (i == start) return fail("expected a name", start);
        seg.key.assign(text.substr(start, i - start));
      }
    } else if (text[i] == '[') {
      ++i;
      if (i >= n) return fail("expected an index, '*' or a quoted name", i);
      char c = text[i];
      if (c == '\'' || c == '"') {
        char quote = c;
        ++i;
        bool closed = false;
        while (i < n) {
          if (text[i] == '\\') {
            if (i + 1 >= n) break;
            char e = text[i + 1];
            if (e != '\\' && e != '\'' && e != '"') return fail("unknown escape", i);
            seg.key.push_back(e);
            i += 2;
          } else if (text[i] == quote) {
            closed = true;
            ++i;
            break;
          } else {
            seg.key.push_back(text[i++]);
          }
        }
        if (!closed) return fail(std::string("unterminated name: expected ") + quote, n);
      } else if (c == '*') {
        seg.kind = Segment::Kind::kWildcard;
        ++i;
      } else if (c >= '0' && c <= '9') {
        seg.kind = Segment::Kind::kIndex;
        constexpr uint64_t kMaxIndex = 1'000'000'000;
        while (i < n && text[i] >= '0' && text[i] <= '9') {
          seg.index = seg.index * 10 + static_cast<uint64_t>(text[i] - '0');
          if (seg.index > kMaxIndex) return fail("index over 1000000000", i);
          ++i;
        }
      } else {
        return fail("expected an index, '*' or a quoted name", i);
      }
      if (i >= n || text[i] != ']') return fail("expected ']'", i);
      ++i;
    } else {
      return fail("expected '.' or '['", i);
    }
    path.segments_.push_back(std::move(seg));
  }
  return path;
}

namespace {

// The first match of segments [i, end) under `e`, depth-first in document order. Each
// segment descends one level, so every node is visited at most once: linear in the body.
template <typename Seg>
bool FindFirst(const std::vector<Seg>& segs, size_t i, simdjson::dom::element e,
               simdjson::dom::element* found) {
  if (i == segs.size()) {
    *found = e;
    return true;
  }
  const Seg& s = segs[i];
  switch (s.kind) {
    case Seg::Kind::kKey: {
      simdjson::dom::object obj;
      if (e.get_object().get(obj) != simdjson::SUCCESS) return false;
      simdjson::dom::element child;
      if (obj.at_key(s.key).get(child) != simdjson::SUCCESS) return false;
      return FindFirst(segs, i + 1, child, found);
    }
    case Seg::Kind::kIndex: {
      simdjson::dom::array arr;
      if (e.get_array().get(arr) != simdjson::SUCCESS) return false;
      simdjson::dom::element child;
      if (arr.at(s.index).get(child) != simdjson::SUCCESS) return false;
      return FindFirst(segs, i + 1, child, found);
    }
    case Seg::Kind::kWildcard: {
      simdjson::dom::array arr;
      if (e.get_array().get(arr) == simdjson::SUCCESS) {
        for (simdjson::dom::element child : arr) {
          if (FindFirst(segs, i + 1, child, found)) return true;
        }
        return false;
      }
      simdjson::dom::object obj;
      if (e.get_object().get(obj) == simdjson::SUCCESS) {
        for (simdjson::dom::key_value_pair field : obj) {
          if (FindFirst(segs, i + 1, field.value, found)) return true;
        }
      }
      return false;
    }
  }
  return false;
}

}  // namespace

bool JsonPath::Evaluate(std::string_view body, JsonBodyCache& cache, std::string* out) const {
  if (!cache.Parse(body)) return false;
  simdjson::dom::element found;
  if (!FindFirst(segments_, 0, cache.impl_->root, &found)) return false;
  JsonValueText(found, out);
  return true;
}

bool JsonPath::Exists(std::string_view body, JsonBodyCache& cache) const {
  if (!cache.Parse(body)) return false;
  simdjson::dom::element found;
  return FindFirst(segments_, 0, cache.impl_->root, &found);
}

}  // namespace volley::engine::scenario
