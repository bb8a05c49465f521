// The `lumen` command line.
//
//   lumen microbenchmark [--quick] [--filter SUBSTR] [--list]
//   lumen help [COMMAND]
//
// Later: `lumen start --head`, `lumen lineage ID` (each one more subcommand
// below and a file beside this one).
//
// This binary is also a lumen driver: `lumen microbenchmark` starts an
// embedded cluster whose worker processes re-execute it; the runtime takes
// over those before main runs, so main only ever sees the user's command.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "lumen/errors.h"
#include "microbenchmark.h"

namespace {

constexpr const char* kUsage =
    "usage: lumen COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  microbenchmark   measure tasks, actors, objects, the store and the lineage\n"
    "                   log on this machine (Ray's `ray microbenchmark` set), next to the\n"
    "                   machine's own limits (pipe round trip, memcpy)\n"
    "  help [COMMAND]   show this message, or a command's options\n"
    "\n"
    "Run 'lumen help COMMAND' or 'lumen COMMAND --help' for a command's options.\n";

bool IsCommand(const std::string& s) { return s == "microbenchmark" || s == "help"; }

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
    if (help_topic == "microbenchmark") {
      std::fputs(micro->help().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "lumen: unknown command '%s'\n\n%s", help_topic.c_str(), kUsage);
    return 2;
  }
  try {
    if (*micro) return lumen::cli::RunMicrobenchmark(bench);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lumen: %s\n", e.what());
    return 1;
  }
  std::fputs(kUsage, stderr);
  return 2;
}
