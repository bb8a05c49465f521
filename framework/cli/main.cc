// The `lumen` command line.
//
//   lumen microbenchmark [--quick] [--filter SUBSTR] [--list]
//   lumen lineage ID --storage DIR [--json] [--depth N]
//   lumen gc --storage DIR [--older-than DURATION] [--max-bytes N]
//   lumen start --head [...] | stop   (the daemons of this machine: daemon_commands.h)
//   lumen status | list KIND | memory | timeline -o FILE | logs [WORKER]
//       (clients of a running dashboard: state_commands.h)
//   lumen help [COMMAND]
//
// This binary is also a lumen driver: `lumen microbenchmark` starts an
// embedded cluster whose worker processes re-execute it; the runtime takes
// over those before main runs, so main only ever sees the user's command.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "daemon_commands.h"
#include "lineage_commands.h"
#include "lumen/errors.h"
#include "microbenchmark.h"
#include "state_commands.h"

namespace {

constexpr const char* kUsage =
    "usage: lumen COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  start --head     start a cluster's head (and its node) on this machine as a daemon;\n"
    "                   drivers join it with LUMEN_ADDRESS=127.0.0.1:PORT\n"
    "  stop             stop this machine's lumen daemons\n"
    "  microbenchmark   measure tasks, actors, objects, the store and the lineage\n"
    "                   log on this machine (Ray's `ray microbenchmark` set), next to the\n"
    "                   machine's own limits (pipe round trip, memcpy)\n"
    "  lineage ID       how object ID was made, from the lineage log of a storage dir\n"
    "                   (works while a driver or head holds the log)\n"
    "  gc               apply the lineage log's retention now (removes old records)\n"
    "  status           the running cluster in a few lines\n"
    "  list KIND        tasks | actors | objects | nodes | placement-groups [-f key=value] [--limit N] [--json]\n"
    "  memory           object store use and the largest objects\n"
    "  timeline -o F    recent tasks per worker as a Chrome trace file\n"
    "  logs [WORKER]    the workers' logs, or the end of one\n"
    "                   (these five ask a running dashboard: --address, $LUMEN_DASHBOARD,\n"
    "                   or the newest running session's)\n"
    "  help [COMMAND]   show this message, or a command's options\n"
    "\n"
    "Run 'lumen help COMMAND' or 'lumen COMMAND --help' for a command's options.\n";

bool IsCommand(const std::string& s) {
  return s == "microbenchmark" || s == "lineage" || s == "gc" || s == "help" ||
         lumen::cli::StateCommands::IsCommand(s) || lumen::cli::DaemonCommands::IsCommand(s);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lumen: a distributed runtime for C++ (tasks, actors, objects)", "lumen"};
  app.require_subcommand(0, 1);

  lumen::cli::MicrobenchmarkOptions bench;
  CLI::App* micro = app.add_subcommand("microbenchmark", "Measure lumen on this machine (like `ray microbenchmark`)");
  micro->add_flag("--quick", bench.quick, "about 0.2 s per metric, one run each (a smoke test, < 20 s)");
  micro->add_option("--filter", bench.filter, "run only the metrics whose name contains SUBSTR")->type_name("SUBSTR");
  micro->add_flag("--list", bench.list, "print the metric names and exit");
  micro->footer("Prints one line per metric, `NAME per second MEAN +- STDEV` (latencies: `NAME mean MS +- STDEV p50 MS max MS`), "
               "then ratios; progress goes to stderr.");

  lumen::cli::LineageCommandOptions lineage_options;
  CLI::App* lineage = app.add_subcommand("lineage", "Show how an object was made (its provenance tree)");
  lineage->add_option("id", lineage_options.id, "the object id (40 hex digits, as ObjectRef::ID() prints it)")
      ->required();
  lineage->add_option("--storage", lineage_options.storage, "the storage dir holding the lineage log")
      ->required()->type_name("DIR");
  lineage->add_flag("--json", lineage_options.json, "print a JSON document instead of the text tree");
  lineage->add_option("--depth", lineage_options.depth, "expand at most N tasks deep (default 64)")->type_name("N");
  lineage->footer("Opens the log read-only, so it works beside a running driver or head (it sees what was "
                  "durable when it started). Exit 1 if there is no log, or the object was never recorded or "
                  "was removed by retention (the message says which); 2 if the id is malformed.");

  lumen::cli::GcCommandOptions gc_options;
  CLI::App* gc = app.add_subcommand("gc", "Apply the lineage log's retention now");
  gc->add_option("--storage", gc_options.storage, "the storage dir holding the lineage log")
      ->required()->type_name("DIR");
  gc->add_option("--older-than", gc_options.older_than,
                 "remove records written longer ago than this (default 30d; 0: any age)")->type_name("DURATION");
  gc->add_option("--max-bytes", gc_options.max_bytes,
                 "then remove the oldest until the records fill at most 90% of N (default 4G; 0: no bound)")
      ->type_name("N");
  gc->footer("Records of actors that are not dead are kept whatever their age. What is removed stays marked: "
             "`lumen lineage` of a removed id says 'removed by retention'. Needs the log to itself: a running "
             "driver or head applies the same policy by itself every hour.");

  lumen::cli::StateCommands state_commands(app);
  lumen::cli::DaemonCommands daemon_commands(app);

  std::string help_topic;
  CLI::App* help = app.add_subcommand("help", "Show the commands, or one command's options");
  help->add_option("command", help_topic, "a command");

  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string first = argv[1];
  if (first == "--help" || first == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!IsCommand(first)) {
    std::fprintf(stderr, "lumen: unknown command '%s'\n\n%s", first.c_str(), kUsage);
    return 2;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*help) {
    if (help_topic.empty()) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::vector<CLI::App*> commands = {micro, lineage, gc};
    for (CLI::App* c : state_commands.commands()) commands.push_back(c);
    for (CLI::App* c : daemon_commands.commands()) commands.push_back(c);
    for (CLI::App* command : commands) {
      if (help_topic == command->get_name()) {
        std::fputs(command->help().c_str(), stdout);
        return 0;
      }
    }
    std::fprintf(stderr, "lumen: unknown command '%s'\n\n%s", help_topic.c_str(), kUsage);
    return 2;
  }
  try {
    if (*micro) return lumen::cli::RunMicrobenchmark(bench);
    if (*lineage) return lumen::cli::RunLineageCommand(lineage_options);
    if (*gc) return lumen::cli::RunGcCommand(gc_options);
    if (state_commands.Parsed()) return state_commands.Run();
    if (daemon_commands.Parsed()) return daemon_commands.Run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lumen: %s\n", e.what());
    return 1;
  }
  std::fputs(kUsage, stderr);
  return 2;
}
