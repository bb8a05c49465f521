// The joined driver of a cluster run (cluster_run.h): this binary with
// --cluster-driver, a child of the harness.
#include <signal.h>
#include <sys/prctl.h>

#include <fstream>
#include <memory>

#include "child_report.h"
#include "cluster_run.h"
#include "run_parts.h"

namespace chaos {
namespace {

std::vector<FlushedObject> ReadFlushed(const std::string& file) {
  std::vector<FlushedObject> objects;
  std::ifstream in(file);
  for (FlushedObject o; in >> o.expect >> o.id;) objects.push_back(o);
  return objects;
}

}  // namespace

int RunClusterDriver(const ScenarioOptions& options, const ClusterDriverArgs& args) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the harness's watchdog ends us too
  RunLog log{Clock::time_point(Clock::duration(args.clock_origin_ns))};
  ReportTo(log, args.report_fd);
  HarnessCommands commands(args.command_fd);
  WorkloadSettings settings = SettingsOf(options);
  settings.flush = true;
  std::unique_ptr<Workload> workload = MakeWorkload(options.scenario, settings);
  if (!workload) return 2;
  lumen::Config config;
  config.address = args.address;
  bool joined = false;
  Guarded(log, "the joined driver's lumen::Init", [&] {
    lumen::Init(config);
    joined = true;
  });
  if (!joined) return 1;
  TellHarness(args.report_fd, "started " + lumen::GetClusterInfo().session_dir);  // before any other thread reports
  Guarded(log, "the joined driver's workload", [&] {
    workload->Start(log);
    if (!args.recover_file.empty()) workload->CheckRecovered(ReadFlushed(args.recover_file), log);
    if (!log.Failed()) RunRounds(*workload, [&] { return commands.Finished(); }, log, options, {}, false);
  });
  FinalCheck(*workload, log);
  TellHarness(args.report_fd, "extra " + workload->Extra());
  workload->Stop();
  lumen::Shutdown();
  return log.Failed() ? 1 : 0;
}

}  // namespace chaos
