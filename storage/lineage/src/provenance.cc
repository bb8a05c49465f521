// Provenance: the text tree behind `lumen lineage ID`. One line per object,
// task and argument, indented two spaces a level; recursion is bounded by
// max_depth, so the C++ stack is too.
#include <algorithm>
#include <unordered_set>

#include "queries.h"

namespace lumen::storage::lineage {

namespace {

// Beyond this a tree is unreadable anyway, and it bounds the recursion.
constexpr int kMaxDepth = 256;

std::string Bytes(uint64_t n) { return std::to_string(n) + " B"; }

class Renderer {
 public:
  Renderer(LineageLog& log, int max_depth, std::string* out)
      : log_(log), max_depth_(std::clamp(max_depth, 0, kMaxDepth)), out_(*out) {}

  // Returns false if the log knows nothing about `id` at all.
  bool Object(const ObjectID& id, int depth, int indent) {
    std::optional<ObjectRecord> record = log_.GetObject(id);
    Line(indent, "object " + id.Hex());
    if (record && record->is_put) {
      out_ += " = put by " + Owner(record->owner) + ", " + Bytes(record->size) + Where(record->node);
      out_ += '\n';
      return true;
    }
    TaskID task_id = record && !record->created_by.IsNil() ? record->created_by : id.Task();
    out_ += " = return " + std::to_string(id.ReturnIndex()) + " of task " + task_id.Hex();
    if (record) out_ += ", " + Bytes(record->size) + Where(record->node) + ", owner " + Owner(record->owner);
    out_ += '\n';
    return Task(task_id, depth, indent + 1) || record.has_value();
  }

 private:
  // Returns false if the task has no record.
  bool Task(const TaskID& id, int depth, int indent) {
    if (depth >= max_depth_) {
      Line(indent, "task " + id.Hex() + " (depth limit " + std::to_string(max_depth_) + " reached)\n");
      return true;
    }
    if (!shown_.insert(id).second) {
      Line(indent, "task " + id.Hex() + " (shown above)\n");
      return true;
    }
    std::optional<TaskRecord> task = log_.GetTask(id);
    if (!task) {
      Line(indent, "task " + id.Hex() + " (no lineage record)\n");
      return false;
    }
    Line(indent, "task " + id.Hex() + " " + task->function + "()");
    if (!task->name.empty()) out_ += " \"" + task->name + "\"";
    if (!task->actor.IsNil()) {
      out_ += task->actor_creation ? " creates actor " : " on actor ";
      out_ += task->actor.Hex();
    }
    out_ += " attempt " + std::to_string(task->attempt) + ", owner " + Owner(task->owner) +
            ", max_retries " + std::to_string(task->max_retries);
    if (task->retry_exceptions) out_ += " (retry exceptions)";
    for (const auto& [resource, amount] : task->resources) {
      char buf[64];
      snprintf(buf, sizeof buf, "%g", amount);
      out_ += ", " + resource + "=" + buf;
    }
    out_ += '\n';
    for (size_t i = 0; i < task->args.size(); ++i) {
      const ArgRecord& arg = task->args[i];
      std::string label = "arg " + std::to_string(i) + ": ";
      if (!arg.by_ref) {
        Line(indent + 1, label + "inline " + Bytes(arg.value.size()) + "\n");
        continue;
      }
      Line(indent + 1, label);
      indent_next_ = false;  // the object line continues this one
      Object(arg.ref, depth + 1, indent + 1);
    }
    return true;
  }

  void Line(int indent, const std::string& text) {
    if (indent_next_) out_.append(2 * indent, ' ');
    indent_next_ = true;
    out_ += text;
  }

  static std::string Owner(const std::string& owner) { return owner.empty() ? "?" : owner; }
  static std::string Where(const std::string& node) { return node.empty() ? "" : " on " + node; }

  LineageLog& log_;
  const int max_depth_;
  std::string& out_;
  std::unordered_set<TaskID> shown_;
  bool indent_next_ = true;
};

}  // namespace

Status RenderProvenance(LineageLog& log, const ObjectID& id, int max_depth, std::string* tree) {
  tree->clear();
  Renderer renderer(log, max_depth, tree);
  if (!renderer.Object(id, 0, 0)) {
    tree->clear();
    return {StatusCode::kNotFound, "no lineage of object " + id.Hex() +
                                       ": the log has neither its record nor the task that returns it"};
  }
  return Status::OK();
}

}  // namespace lumen::storage::lineage
