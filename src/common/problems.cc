#include "volley/common/problems.h"

namespace volley {

void Problems::AddAll(const Error& error, std::string_view prefix) {
  for (std::string& line : ProblemLines(error)) {
    lines_.push_back(prefix.empty() ? std::move(line) : std::string(prefix) + line);
  }
}

Error Problems::ToError(ErrorCode code) const {
  std::string message;
  for (const std::string& line : lines_) message += (message.empty() ? "" : "\n") + line;
  return Error{code, std::move(message), lines_};
}

}  // namespace volley
