// /metrics: a snapshot in Prometheus' text exposition format (version 0.0.4).
// Every family has HELP and TYPE lines; names are lumen_*; counters end in
// _total and only grow within a session.
#pragma once

#include <string>

#include "head/cluster_state.h"

namespace lumen::head {

std::string PrometheusText(const ClusterSnapshot& snapshot);

}  // namespace lumen::head
