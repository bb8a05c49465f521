// The provenance of an object as a tree of what the log holds, built once and
// rendered as text (provenance.cc) or JSON (provenance_json.cc), so both
// forms always say the same thing.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "lumen/storage/lineage_log.h"

namespace lumen::storage::lineage {

// Whether the log holds a record, and if not, whether retention removed it.
struct RecordPresence {
  bool present = false;
  std::optional<RetentionMark> removed;  // set only when not present
};

struct ProvenanceTask;

struct ProvenanceObject {
  ObjectID id;
  std::optional<ObjectRecord> record;
  RecordPresence presence;
  std::optional<bool> exists;            // asked of the caller's callback, if any
  std::unique_ptr<ProvenanceTask> task;  // null for a Put object
};

struct ProvenanceArg {
  bool by_ref = false;
  size_t inline_bytes = 0;
  std::unique_ptr<ProvenanceObject> object;  // by_ref only
};

struct ProvenanceTask {
  enum class Expanded { kHere, kAbove, kDepthLimit };  // above: a diamond, expanded earlier
  TaskID id;
  Expanded expanded = Expanded::kHere;
  std::optional<TaskRecord> record;  // kHere only
  RecordPresence presence;
  // For a task on an actor: the actor's record, and (for a method call) the
  // task that created it.
  std::optional<ActorRecord> actor;
  RecordPresence actor_presence;
  std::unique_ptr<ProvenanceTask> creation;
  std::vector<ProvenanceArg> args;
};

// Builds the tree of `id` (ProvenanceQuery: depth bound and existence marks).
// Null if the log knows neither the object nor the task that returns it.
std::unique_ptr<ProvenanceObject> BuildProvenance(LineageLog& log, const ObjectID& id, const ProvenanceQuery& query);

// The JSON form documented in lineage_log.h.
std::string ProvenanceJson(const ProvenanceObject& root, int max_depth);

}  // namespace lumen::storage::lineage
