// The JSON rendering of a snapshot (one object per row, the field names the
// API documents), and the query every list endpoint shares: filters, then
// paging, then the page; the total that matched is always reported, so a
// truncated answer says it is one.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "head/cluster_state.h"

namespace lumen::head {

nlohmann::json ToJson(const NodeState& n);
nlohmann::json ToJson(const TaskState& t);
nlohmann::json ToJson(const ActorState& a);
nlohmann::json ToJson(const ObjectState& o);
nlohmann::json ToJson(const PlacementGroupState& p);
nlohmann::json ToJson(const WorkerLog& l);

// One `key=value` or `key!=value` condition on a row's top-level field. A
// field matches when its scalar rendering equals the value (true/false for
// booleans, decimal for numbers); list and object fields cannot be filtered.
struct Filter {
  std::string key;
  std::string value;
  bool negate = false;
};

struct ListQuery {
  std::vector<Filter> filters;
  size_t offset = 0;
  size_t limit = 100;
  static constexpr size_t kMaxLimit = 10000;
};

// Parses "key=value" / "key!=value"; false with a reason if malformed.
bool ParseFilter(const std::string& text, Filter* out, std::string* reason);
// Parses a non-negative decimal at most `max`; false with a reason if not.
bool ParseCount(const std::string& name, const std::string& text, size_t max, size_t* out, std::string* reason);

// Applies `query` to `rows` (objects): every filter first, then offset and
// limit. Answers {"total": matched, "offset", "limit", "count", "truncated",
// "items": [...]}. A filter on a key that `sample` (a row of the same kind)
// has no scalar field for is a bad request: false with a reason naming the
// keys that can be filtered.
bool ApplyQuery(const std::vector<nlohmann::json>& rows, const nlohmann::json& sample, const ListQuery& query,
                nlohmann::json* out, std::string* reason);

}  // namespace lumen::head
