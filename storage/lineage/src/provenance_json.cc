// The JSON form of a provenance tree (the document lineage_log.h describes),
// for `lumen lineage --json` and the dashboard. Keys keep a fixed order so
// the output reads like the text form and diffs cleanly.
#include <nlohmann/json.hpp>

#include "provenance_tree.h"

namespace lumen::storage::lineage {

namespace {

using Json = nlohmann::ordered_json;


void AddPresence(const RecordPresence& p, Json* out) {
  (*out)["record"] = p.present ? "present" : p.removed ? "removed_by_retention" : "missing";
  if (p.removed) {
    (*out)["retention"] = {{"cutoff_ms", p.removed->cutoff_ms},
                           {"removed_at_ms", p.removed->removed_at_ms},
                           {"message", p.removed->Describe()}};
  }
}

class JsonRenderer {
 public:
  explicit JsonRenderer(int max_depth) : max_depth_(max_depth) {}

  Json Object(const ProvenanceObject& o) const {
    Json j;
    j["id"] = o.id.Hex();
    bool put = o.record && o.record->is_put;
    j["kind"] = put ? "put" : "task_return";
    if (!put) j["return_index"] = o.id.ReturnIndex();
    AddPresence(o.presence, &j);
    if (o.record) {
      j["size"] = o.record->size;
      j["node"] = o.record->node;
      j["owner"] = o.record->owner;
      j["recorded_ms"] = o.record->recorded_ms;
    }
    if (o.exists) j["exists"] = *o.exists;
    if (o.task) j["task"] = Task(*o.task);
    return j;
  }

 private:
  Json Task(const ProvenanceTask& t) const {
    Json j;
    j["id"] = t.id.Hex();
    switch (t.expanded) {
      case ProvenanceTask::Expanded::kAbove: j["expanded"] = "above"; return j;
      case ProvenanceTask::Expanded::kDepthLimit:
        j["expanded"] = "depth_limit";
        j["max_depth"] = max_depth_;
        return j;
      case ProvenanceTask::Expanded::kHere: j["expanded"] = "here"; break;
    }
    AddPresence(t.presence, &j);
    if (!t.record) return j;
    const TaskRecord& r = *t.record;
    j["function"] = r.function;
    j["name"] = r.name;
    j["attempt"] = r.attempt;
    j["owner"] = r.owner;
    j["submitted_ms"] = r.submitted_ms;
    j["recorded_ms"] = r.recorded_ms;
    j["max_retries"] = r.max_retries;
    j["retry_exceptions"] = r.retry_exceptions;
    j["resources"] = Json::object();
    for (const auto& [name, amount] : r.resources) j["resources"][name] = amount;
    if (!r.actor.IsNil()) j["actor"] = Actor(t);
    j["returns"] = Json::array();
    for (const ObjectID& id : r.returns) j["returns"].push_back(id.Hex());
    j["args"] = Json::array();
    for (size_t i = 0; i < t.args.size(); ++i) {
      Json arg = {{"index", i}};
      if (t.args[i].object) {
        arg["object"] = Object(*t.args[i].object);
      } else {
        arg["inline_bytes"] = t.args[i].inline_bytes;
      }
      j["args"].push_back(std::move(arg));
    }
    return j;
  }

  Json Actor(const ProvenanceTask& t) const {
    Json j;
    j["id"] = t.record->actor.Hex();
    j["creation"] = t.record->actor_creation;
    AddPresence(t.actor_presence, &j);
    if (t.actor) {
      j["class_name"] = t.actor->class_name;
      j["name"] = t.actor->name;
      j["namespace"] = t.actor->ns;
      j["state"] = ActorStateName(t.actor->state);
      j["restarts"] = t.actor->restarts;
      j["death_cause"] = t.actor->death_cause;
      j["creation_task"] = t.actor->creation_task.Hex();
    }
    if (t.creation) j["created_by"] = Task(*t.creation);
    return j;
  }

  const int max_depth_;
};

}  // namespace

std::string ProvenanceJson(const ProvenanceObject& root, int max_depth) {
  Json doc = {{"object", JsonRenderer(max_depth).Object(root)}};
  // Names and owners are the user's strings: replace invalid UTF-8 rather than throw.
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace lumen::storage::lineage
