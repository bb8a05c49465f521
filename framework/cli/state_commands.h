// `lumen status|list|memory|timeline|logs`: clients of a running dashboard's
// JSON API (head/api_handler.h documents it). The dashboard is found at
// --address, $LUMEN_DASHBOARD, or the newest live session's dashboard.url.
//
//   lumen status
//   lumen list tasks|actors|objects|nodes|placement-groups [-f key=value]... [--limit N] [--json]
//   lumen memory [--limit N] [--json]
//   lumen timeline -o trace.json [--limit N]
//   lumen logs [WORKER|PID|ACTOR] [--tail BYTES]
//
// Exit status: 0 done; 1 no dashboard found or reachable, or it refused the
// request (its reason is printed); 2 a malformed argument.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace lumen::cli {

struct StateCommandOptions {
  std::string address;
  std::string kind;                  // list: tasks, actors, ...
  std::vector<std::string> filters;  // list: key=value / key!=value
  int limit = 100;
  bool json = false;
  std::string output;                // timeline: the trace file
  std::string target;                // logs: the worker, pid or actor
  int tail_bytes = 64 << 10;
};

// The subcommands, added to `app`; Run dispatches to the one parsed.
class StateCommands {
 public:
  explicit StateCommands(CLI::App& app);
  bool Parsed() const;                 // one of these commands was given
  int Run();
  std::vector<CLI::App*> commands() const { return {status_, list_, memory_, timeline_, logs_}; }
  static bool IsCommand(const std::string& name);

 private:
  StateCommandOptions options_;
  CLI::App* status_;
  CLI::App* list_;
  CLI::App* memory_;
  CLI::App* timeline_;
  CLI::App* logs_;
};

}  // namespace lumen::cli
