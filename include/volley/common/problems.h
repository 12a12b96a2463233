// Problems: the one collector of "every problem at once" errors (a plan, the environment,
// the flags, an output's settings), so the user fixes them all in one go.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "volley/common/result.h"

namespace volley {

// Collects problem lines in order and turns them into one Error whose `problems` lists
// them and whose `message` joins them with '\n'. Not thread-safe (one per check).
class Problems {
 public:
  // Adds one line as it is.
  void Add(std::string line) { lines_.push_back(std::move(line)); }
  // Adds "where: message".
  void Add(std::string_view where, std::string_view message) {
    lines_.push_back(std::string(where) + ": " + std::string(message));
  }
  // Adds every line of `error` (ProblemLines), each prefixed with "prefix" when not empty.
  void AddAll(const Error& error, std::string_view prefix = {});
  // true when `r` holds a value; otherwise adds "where: <its message>" and returns false.
  template <typename T>
  bool Check(std::string_view where, const Result<T>& r) {
    if (r) return true;
    Add(where, r.error().message);
    return false;
  }

  bool empty() const { return lines_.empty(); }
  const std::vector<std::string>& lines() const { return lines_; }

  // The collected problems as one error (REQUIRES: !empty()).
  Error ToError(ErrorCode code = ErrorCode::kInvalidArgument) const;
  // Success when nothing was collected, else ToError(code).
  Result<void> Done(ErrorCode code = ErrorCode::kInvalidArgument) const {
    if (empty()) return {};
    return tl::unexpected(ToError(code));
  }

 private:
  std::vector<std::string> lines_;
};

}  // namespace volley
