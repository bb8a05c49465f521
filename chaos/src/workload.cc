#include "workload.h"

namespace chaos {

namespace {
const std::string kClusterPrefix = "cluster-";
}  // namespace

std::vector<std::string> WorkloadNames() { return {"tree", "pipeline", "shuffle", "putset"}; }

std::vector<std::string> ScenarioNames() {
  std::vector<std::string> names = WorkloadNames();
  for (const char* on_cluster : {"tree", "putset"}) names.push_back(kClusterPrefix + on_cluster);
  return names;
}

bool IsClusterScenario(const std::string& name) { return name.rfind(kClusterPrefix, 0) == 0; }

std::unique_ptr<Workload> MakeWorkload(const std::string& name, const WorkloadSettings& settings) {
  if (IsClusterScenario(name)) {
    const std::string workload = name.substr(kClusterPrefix.size());
    if (workload != "tree" && workload != "putset") return nullptr;
    WorkloadSettings on_cluster = settings;
    on_cluster.on_cluster = true;
    return MakeWorkload(workload, on_cluster);
  }
  if (name == "tree") return MakeTreeReduce(settings);
  if (name == "pipeline") return MakeActorPipeline(settings);
  if (name == "shuffle") return MakeShuffle(settings);
  if (name == "putset") return MakePutSet(settings);
  return nullptr;
}

}  // namespace chaos
