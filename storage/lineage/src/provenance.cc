// Provenance: the tree behind `lumen lineage ID` and lumen::Lineage. Built
// from the records (a task reached twice is expanded once), then rendered:
// one text line per object, task, actor and argument, indented two spaces a
// level. Recursion is bounded by max_depth, so the C++ stack is too.
#include <algorithm>
#include <unordered_set>

#include "provenance_tree.h"
#include "queries.h"

namespace lumen::storage {

namespace lineage {

namespace {

// Beyond this a tree is unreadable anyway, and it bounds the recursion.
constexpr int kMaxDepth = 256;

int ClampDepth(int depth) { return std::clamp(depth, 0, kMaxDepth); }

class Builder {
 public:
  Builder(LineageLog& log, const ProvenanceQuery& query)
      : log_(log), query_(query), max_depth_(ClampDepth(query.max_depth)) {}

  std::unique_ptr<ProvenanceObject> Object(const ObjectID& id, int depth) {
    auto node = std::make_unique<ProvenanceObject>();
    node->id = id;
    node->record = log_.GetObject(id);
    node->presence = Presence(node->record.has_value(), id.Task());
    if (query_.exists) node->exists = query_.exists(id);
    if (node->record && node->record->is_put) return node;
    TaskID task_id = node->record && !node->record->created_by.IsNil() ? node->record->created_by : id.Task();
    node->task = Task(task_id, depth);
    return node;
  }

 private:
  std::unique_ptr<ProvenanceTask> Task(const TaskID& id, int depth) {
    auto node = std::make_unique<ProvenanceTask>();
    node->id = id;
    if (depth >= max_depth_) {
      node->expanded = ProvenanceTask::Expanded::kDepthLimit;
      return node;
    }
    if (!shown_.insert(id).second) {
      node->expanded = ProvenanceTask::Expanded::kAbove;
      return node;
    }
    node->record = log_.GetTask(id);
    node->presence = Presence(node->record.has_value(), id);
    if (!node->record) return node;
    const TaskRecord& task = *node->record;
    if (!task.actor.IsNil()) {
      node->actor = log_.GetActor(task.actor);
      node->actor_presence = Presence(node->actor.has_value(), task.actor);
      if (!task.actor_creation) {
        // The actor's state comes from its creation (and earlier calls): show how it was made.
        TaskID creation = node->actor ? node->actor->creation_task : TaskID();
        if (!creation.IsNil()) node->creation = Task(creation, depth + 1);
      }
    }
    for (const ArgRecord& arg : task.args) {
      ProvenanceArg out;
      out.by_ref = arg.by_ref;
      if (arg.by_ref) {
        out.object = Object(arg.ref, depth + 1);
      } else {
        out.inline_bytes = arg.value.size();
      }
      node->args.push_back(std::move(out));
    }
    return node;
  }

  RecordPresence Presence(bool present, const TaskID& source) {
    RecordPresence p;
    p.present = present;
    if (!present) p.removed = log_.RemovedByRetention(source);
    return p;
  }

  LineageLog& log_;
  const ProvenanceQuery& query_;
  const int max_depth_;
  std::unordered_set<TaskID> shown_;
};

std::string Bytes(uint64_t n) { return std::to_string(n) + " B"; }
std::string Owner(const std::string& owner) { return owner.empty() ? "?" : owner; }
std::string Where(const std::string& node) { return node.empty() ? "" : " on " + node; }


std::string Missing(const RecordPresence& p) {
  return p.removed ? "(" + p.removed->Describe() + ")" : "(no lineage record)";
}

class TextRenderer {
 public:
  TextRenderer(int max_depth, std::string* out) : max_depth_(max_depth), out_(*out) {}

  void Object(const ProvenanceObject& o, int indent, const std::string& label = "") {
    Line(indent, label + "object " + o.id.Hex());
    if (o.record && o.record->is_put) {
      out_ += " = put by " + Owner(o.record->owner) + ", " + Bytes(o.record->size) + Where(o.record->node);
    } else {
      out_ += " = return " + std::to_string(o.id.ReturnIndex()) + " of task " +
              (o.task ? o.task->id : o.id.Task()).Hex();
      if (o.record) out_ += ", " + Bytes(o.record->size) + Where(o.record->node) + ", owner " + Owner(o.record->owner);
    }
    if (!o.record && o.presence.removed) out_ += " " + Missing(o.presence);
    if (o.exists) out_ += *o.exists ? " [in store]" : " [missing]";
    out_ += '\n';
    if (o.task) Task(*o.task, indent + 1);
  }

 private:
  void Task(const ProvenanceTask& t, int indent) {
    std::string head = "task " + t.id.Hex();
    if (t.expanded == ProvenanceTask::Expanded::kDepthLimit) {
      Line(indent, head + " (depth limit " + std::to_string(max_depth_) + " reached)\n");
      return;
    }
    if (t.expanded == ProvenanceTask::Expanded::kAbove) {
      Line(indent, head + " (shown above)\n");
      return;
    }
    if (!t.record) {
      Line(indent, head + " " + Missing(t.presence) + "\n");
      return;
    }
    const TaskRecord& task = *t.record;
    Line(indent, head + " " + task.function + "()");
    if (!task.name.empty()) out_ += " \"" + task.name + "\"";
    if (!task.actor.IsNil()) out_ += (task.actor_creation ? " creates actor " : " on actor ") + task.actor.Hex();
    out_ += " attempt " + std::to_string(task.attempt) + ", owner " + Owner(task.owner) + ", max_retries " +
            std::to_string(task.max_retries);
    if (task.retry_exceptions) out_ += " (retry exceptions)";
    for (const auto& [resource, amount] : task.resources) {
      char buf[64];
      snprintf(buf, sizeof buf, "%g", amount);
      out_ += ", " + resource + "=" + buf;
    }
    if (task.submitted_ms) out_ += ", submitted " + FormatUtcMs(task.submitted_ms);
    out_ += '\n';
    if (!task.actor.IsNil()) Actor(t, indent + 1);
    for (size_t i = 0; i < t.args.size(); ++i) {
      std::string label = "arg " + std::to_string(i) + ": ";
      if (t.args[i].object) {
        Object(*t.args[i].object, indent + 1, label);
      } else {
        Line(indent + 1, label + "inline " + Bytes(t.args[i].inline_bytes) + "\n");
      }
    }
  }

  void Actor(const ProvenanceTask& t, int indent) {
    if (!t.actor) {
      Line(indent, "actor " + t.record->actor.Hex() + " " + Missing(t.actor_presence) + "\n");
      return;
    }
    const ActorRecord& a = *t.actor;
    Line(indent, "actor " + a.id.Hex() + " " + a.class_name);
    if (!a.name.empty()) out_ += " \"" + a.name + "\"" + (a.ns.empty() ? "" : " in " + a.ns);
    out_ += std::string(" (") + ActorStateName(a.state) + ", " + std::to_string(a.restarts) + " restarts";
    if (!a.death_cause.empty()) out_ += ", " + a.death_cause;
    out_ += ")\n";
    if (t.creation) Task(*t.creation, indent + 1);
  }

  void Line(int indent, const std::string& text) {
    out_.append(2 * indent, ' ');
    out_ += text;
  }

  const int max_depth_;
  std::string& out_;
};

}  // namespace

std::unique_ptr<ProvenanceObject> BuildProvenance(LineageLog& log, const ObjectID& id, const ProvenanceQuery& query) {
  auto root = Builder(log, query).Object(id, 0);
  bool known = root->record || (root->task && root->task->record);
  return known ? std::move(root) : nullptr;
}

}  // namespace lineage

Status LineageLog::Provenance(const ObjectID& id, int max_depth, std::string* tree) {
  ProvenanceQuery query;
  query.max_depth = max_depth;
  return Provenance(id, query, tree);
}

Status LineageLog::Provenance(const ObjectID& id, const ProvenanceQuery& query, std::string* out) {
  out->clear();
  auto root = lineage::BuildProvenance(*this, id, query);
  if (!root) {
    if (auto mark = RemovedByRetention(id)) {
      return {StatusCode::kNotFound, "no lineage of object " + id.Hex() + ": " + mark->Describe()};
    }
    return {StatusCode::kNotFound, "no lineage of object " + id.Hex() +
                                       ": never recorded in this log (neither it nor the task that "
                                       "returns it; retention removed none of its ids)"};
  }
  if (query.json) {
    *out = lineage::ProvenanceJson(*root, lineage::ClampDepth(query.max_depth));
  } else {
    lineage::TextRenderer(lineage::ClampDepth(query.max_depth), out).Object(*root, 0);
  }
  return Status::OK();
}

}  // namespace lumen::storage
