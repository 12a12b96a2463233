// volley: a distributed HTTP load tester. Thin main: parse, run, map to an exit code.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"volley: HTTP load testing — fast, exact, distributed.\n"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "volley 0.1.0");
  auto run = volley::cli::RegisterRun(app);
  auto target = volley::cli::RegisterTarget(app);
  auto demo = volley::cli::RegisterDemo(app);
  auto validate = volley::cli::RegisterValidate(app);
  auto node = volley::cli::RegisterNode(app);
  auto ingest = volley::cli::RegisterIngest(app);
  auto cluster = volley::cli::RegisterCluster(app);
  if (argc <= 1) {  // bare `volley`: show what to type, not only "A subcommand is required"
    fputs(app.help().c_str(), stderr);
    return volley::cli::kExitConfig;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : volley::cli::kExitConfig;
  }
  if (app.got_subcommand("run")) return run();
  if (app.got_subcommand("target")) return target();
  if (app.got_subcommand("demo")) return demo();
  if (app.got_subcommand("validate")) return validate();
  if (app.got_subcommand("node")) return node();
  if (app.got_subcommand("ingest")) return ingest();
  if (app.got_subcommand("cluster")) return cluster();
  return volley::cli::kExitConfig;
}
