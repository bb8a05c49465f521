#include "driver/embedded_state_source.h"

#include "lumen/storage/lineage_log.h"
#include "lumen/storage/object_store.h"
#include "node/lineage_recorder.h"
#include "node/node_manager.h"

namespace lumen::internal {

head::ClusterSnapshot EmbeddedStateSource::Snapshot() {
  head::ClusterSnapshot snap = node_.Snapshot();
  snap.session = session_;
  storage::StoreStats stats = store_.LocalClient()->Stats();
  for (head::NodeState& n : snap.nodes) {
    if (!n.is_head) continue;  // another node's store: the node filled it in
    n.store_used_bytes = stats.used_bytes;
    n.store_capacity_bytes = stats.capacity_bytes;
    n.store_objects = stats.num_objects;
  }
  snap.counters.object_spills = stats.spills;
  snap.counters.spilled_bytes = stats.spilled_bytes;
  if (lineage_) {
    uint64_t appended = lineage_->AppendedSeq(), durable = lineage_->DurableSeq();
    snap.counters.lineage_appends = appended;
    snap.counters.lineage_queue_depth = appended > durable ? appended - durable : 0;
  }
  return snap;
}

std::optional<head::LineageStep> EmbeddedStateSource::Lineage(const std::string& object_id_hex) {
  ObjectID id;
  if (!lineage_ || !ObjectID::FromHex(object_id_hex, &id)) return std::nullopt;
  head::LineageStep step;
  step.object_id = object_id_hex;
  std::optional<storage::ObjectRecord> object = lineage_->GetObject(id);
  TaskID made_by = object ? object->created_by : id.Task();
  std::optional<storage::TaskRecord> task = lineage_->GetTask(made_by);
  if (!task) {
    if (lineage_->RemovedByRetention(made_by)) {
      step.record = "removed_by_retention";
      return step;
    }
    if (!object) return std::nullopt;
    step.kind = object->is_put ? "put" : "unknown";
    step.record = object->is_put ? "present" : "missing";
    return step;
  }
  step.kind = task->function == LineageRecorder::kPutTask ? "put" : "task_return";
  step.task_id = task->id.Hex();
  step.function = task->function;
  step.name = task->name;
  step.attempt = static_cast<int>(task->attempt);
  for (const storage::ArgRecord& arg : task->args) {
    if (arg.by_ref) {
      step.arg_object_ids.push_back(arg.ref.Hex());
    } else {
      ++step.inline_args;
    }
  }
  return step;
}

}  // namespace lumen::internal
