#include "workload.h"

namespace chaos {

std::vector<std::string> WorkloadNames() { return {"tree", "pipeline", "shuffle", "putset"}; }

std::unique_ptr<Workload> MakeWorkload(const std::string& name, const WorkloadSettings& settings) {
  if (name == "tree") return MakeTreeReduce(settings);
  if (name == "pipeline") return MakeActorPipeline(settings);
  if (name == "shuffle") return MakeShuffle(settings);
  if (name == "putset") return MakePutSet(settings);
  return nullptr;
}

}  // namespace chaos
