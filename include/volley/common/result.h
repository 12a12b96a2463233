// Result<T> and Error: how every volley module reports failure. Exceptions never cross a
// module boundary; third-party exceptions are converted where they are caught.
#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>

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

// What went wrong, in words that name the thing and the fix.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

// errno rendered as "what: strerror(errno)".
Error ErrnoError(const std::string& what, int err);

}  // namespace volley
