// The lineage queries that walk records: written against the public
// LineageLog getters only, so they are independent of how records are stored.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lumen/storage/lineage_log.h"

namespace lumen::storage::lineage {

// LineageLog::RebuildPlan over `log`'s records (see lineage_log.h).
Status BuildRebuildPlan(LineageLog& log, const ObjectID& target,
                        const std::function<bool(const ObjectID&)>& exists,
                        std::vector<TaskRecord>* plan);

}  // namespace lumen::storage::lineage
