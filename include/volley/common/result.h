// Result<T> and Error: how every volley module reports failure. Exceptions never cross a
// module boundary; third-party exceptions are converted where they are caught.
#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

namespace volley {

enum class ErrorCode {
  kInvalidArgument,  // bad configuration or input: the caller must fix it (exit code 2)
  kNotFound,
  kIo,  // a system call or the network failed
  kTls,
  kTimeout,
  kProtocol,  // a peer sent something that breaks the protocol
  kInternal,
};

// What went wrong, in words that name the thing and the fix. An error made of several
// problems (a plan's, the flags') lists them in `problems`, one positioned line each
// ("plan.yaml:9:3: load.min: must be <= load.max"), and joins them with '\n' in `message`;
// see Problems (problems.h). `Error{code, message}` stays valid: `problems` defaults to empty.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::vector<std::string> problems = {};
};

// The lines of `error`: its problems, or the lines of its message when it lists none.
std::vector<std::string> ProblemLines(const Error& error);

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

// errno rendered as "what: strerror(errno)".
Error ErrnoError(const std::string& what, int err);

}  // namespace volley
