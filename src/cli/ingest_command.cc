// `volley ingest`: the metrics ingestion service (k6 cloud v2 protobuf+snappy and v1 JSON
// pushes, stored in SQLite).
#include <cstdio>

#include "commands.h"
#include "volley/common/duration.h"
#include "volley/common/env.h"
#include "volley/common/signals.h"
#include "volley/ingest/server.h"
#include "volley/ingest/store.h"

namespace volley::cli {
namespace {

struct IngestFlags {
  std::string listen = "127.0.0.1:8480";
  std::string db;
  std::string token;
  std::string max_body = "4m";
  int threads = 4;
};

}  // namespace

Runner RegisterIngest(CLI::App& app) {
  auto f = std::make_shared<IngestFlags>();
  CLI::App* cmd = app.add_subcommand(
      "ingest", "Receive metrics pushes (k6 cloud v2 protobuf+snappy, v1 JSON) into SQLite");
  cmd->footer(
      "\nPOST /v2/metrics/{run} (snappy protobuf), POST /v1/metrics/{run} (JSON);\n"
      "GET /v1/runs, /v1/runs/{run}/summary, /v1/runs/{run}/series[?metric=NAME].\n"
      "Stops on Ctrl-C or SIGTERM.\n"
      "Example: volley ingest --listen 0.0.0.0:8480 --db runs.db --token s3cret\n");
  cmd->add_option("-l,--listen", f->listen, "Address to listen on, host:port (port 0: any)")
      ->capture_default_str();
  cmd->add_option("--db", f->db, "SQLite database file (created if absent)")->required();
  cmd->add_option("--token", f->token,
                  "Require Authorization: Token/Bearer T (default: $VOLLEY_INGEST_TOKEN)");
  cmd->add_option("--max-body", f->max_body, "Largest request body (4m, 512k ...)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "HTTP worker threads")->capture_default_str();
  return [f]() -> int {
    ingest::IngestOptions options;
    options.listen = f->listen;
    options.token = f->token.empty() ? EnvOr(ProcessEnv(), "VOLLEY_INGEST_TOKEN", "") : f->token;
    options.threads = f->threads;
    auto size = ParseSize(f->max_body);
    if (!size || *size == 0) {
      return ReportError(
          Error{ErrorCode::kInvalidArgument,
                "--max-body: " + (size ? std::string("must be > 0") : size.error().message)},
          "ingest");
    }
    options.max_body = static_cast<size_t>(*size);
    options.limits.max_decompressed =
        std::max<size_t>(options.limits.max_decompressed, 4 * options.max_body);
    ShutdownSignals signals;  // before the server's threads start: they inherit its mask
    auto store = ingest::Store::Open(f->db);
    if (!store) return ReportError(store.error(), "ingest");
    auto server = ingest::IngestServer::Start(options, **store);
    if (!server) return ReportError(server.error(), "ingest");
    fprintf(stderr, "volley ingest: listening on %s:%u, storing in %s%s (Ctrl-C to stop)\n",
            (*server)->host().c_str(), (*server)->port(), f->db.c_str(),
            options.token.empty() ? ", no token required" : "");
    signals.Wait();  // a second Ctrl-C during the stop exits at once
    (*server)->Stop();
    return kExitOk;
  };
}

}  // namespace volley::cli
