// A misbehaving HTTP/1.1 server on loopback for integration tests: it reads each request
// and answers it with one scripted behaviour (garbage, oversized headers, a truncated
// body, a reset, silence, a bad chunk, or a valid response), so tests can check how the
// engine classifies every failure.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "volley/common/result.h"

namespace volley::fakes {

// What the server does with one request once it has read it (up to the blank line).
enum class Behaviour : uint8_t {
  kGarbage,             // a line that is not a status line; then waits for the peer to close
  kHugeHeaders,         // a valid status line and a header block over 64 KiB (two 40 KiB
                        // fields, so the size limit trips before any count limit)
  kShortBody,           // Content-Length: 100 with a 10-byte body, then FIN
  kResetMidResponse,    // headers and half the body, then RST (SO_LINGER {1, 0} and close)
  kNeverAnswer,         // no answer; the socket is held until the peer closes or Stop()
  kBadChunk,            // chunked response whose first chunk-size line is "zz"
  kConnectionClose,     // a valid 200 with Content-Length and "Connection: close", then FIN
  kChunked,             // a valid keep-alive 200 with a chunked body; the next request may
                        // follow on the same connection
  kKeepAliveThenClose,  // a valid keep-alive 200 (no Connection: close), then FIN: the
                        // client finds its idle connection closed by the server
  kResetAfterRead,      // no answer: the request was read (processed), then RST
  kResetOnNextRequest,  // a valid keep-alive 200; when the first byte of the next request
                        // arrives, RST without reading it (counted in stale_resets())
  kCloseIdleAtRandom,   // a valid keep-alive 200; the connection is then closed at a random
                        // moment within ScriptedServerOptions::max_idle unless the next
                        // request head arrives first (then it is served, and so on), as a
                        // server with an idle timeout that races the client's next request
};

const char* BehaviourName(Behaviour b);

// The exact bytes the server sends for `b` (the first part only for kHugeHeaders, which
// the peer is expected to reject before the end). Empty for kNeverAnswer. Tests use it to
// predict byte counters.
const std::string& ResponseBytes(Behaviour b);

struct ScriptedServerOptions {
  // The behaviour for the n-th request the server reads (n counted from 0 over all
  // connections, in the order requests complete) is script[n % script.size()]. With
  // behaviours that end the connection, that is one behaviour per connection. Must not be
  // empty.
  std::vector<Behaviour> script = {Behaviour::kChunked};
  // When > 0: once it has read this many requests, the server closes its listening socket
  // (before answering the last one), so later connects are refused; connections already
  // accepted are served on. 0: listen until Stop().
  uint64_t stop_listening_after = 0;
  // kCloseIdleAtRandom: the idle time before closing is uniform in [0, max_idle], drawn
  // from a generator seeded with `seed` (the sequence of draws is reproducible).
  std::chrono::microseconds max_idle{2000};
  uint64_t seed = 1;
};

// Listens on 127.0.0.1, on a port the kernel picks, and serves on one thread with
// non-blocking sockets, so a held or slow connection never blocks the others.
//
// Bounds: a request head is at most kMaxRequestBytes (bytes up to and including the blank
// line); a connection that sends more without a blank line is closed. Request bodies are
// not supported (requests are expected to have none). Bytes read after an answer that does
// not keep the connection alive are discarded.
//
// Thread-safety: Start(), Stop() and the destructor are called by the owning thread; the
// counters may be read from any thread at any time.
class ScriptedServer {
 public:
  static constexpr size_t kMaxRequestBytes = 64 * 1024;

  // Binds, listens and starts the serving thread. Fails with kIo if a socket call fails
  // and kInvalidArgument for an empty script.
  static Result<std::unique_ptr<ScriptedServer>> Start(ScriptedServerOptions options);
  // Stops (see Stop()).
  ~ScriptedServer();
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  // Stops serving and joins the thread. Before it returns, connections whose TCP handshake
  // completed but that were not accepted yet are accepted and counted, so connections() is
  // exact once Stop() returned. Then every socket is closed. Idempotent.
  void Stop();

  uint16_t port() const { return port_; }
  // TCP connections accepted.
  uint64_t connections() const { return connections_.load(std::memory_order_acquire); }
  // Request heads read completely (each then got its scripted behaviour).
  uint64_t requests() const { return requests_.load(std::memory_order_acquire); }
  // The request line ("GET /x HTTP/1.1") of every request head read, in order.
  std::vector<std::string> request_lines() const;
  // kResetOnNextRequest: connections reset when the next request began to arrive.
  uint64_t stale_resets() const { return stale_resets_.load(std::memory_order_acquire); }

 private:
  struct Conn;
  ScriptedServer(ScriptedServerOptions options, int listen_fd, int wake_read, int wake_write,
                 uint16_t port);
  void Loop();
  void AcceptAll();
  // Returns false when the connection is finished and must be closed.
  bool OnReadable(Conn& c);
  bool OnWritable(Conn& c);
  bool Answer(Conn& c);
  bool AfterSent(Conn& c);

  // Immutable after construction.
  const ScriptedServerOptions options_;
  const int wake_read_, wake_write_;  // a pipe: Stop() writes a byte to wake the loop
  const uint16_t port_;

  // Confined to the serving thread (and to Stop() after the join).
  int listen_fd_;  // -1 once closed (stop_listening_after)
  std::vector<std::unique_ptr<Conn>> conns_;

  std::atomic<uint64_t> connections_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> stale_resets_{0};
  mutable std::mutex lines_mu_;
  std::vector<std::string> lines_;  // guarded by lines_mu_
  std::atomic<bool> stop_{false};
  std::thread thread_;  // owned by the owning thread; joined by Stop()
};

}  // namespace volley::fakes
