#include "node/lineage_recorder.h"

#include <time.h>

#include <algorithm>

#include "runtime/deadline.h"

namespace lumen::internal {

namespace {

// The wall clock to its tick (a few ms): a fraction of the precise clock's
// cost, on the path of every small Put; enough to say when it was put.
uint64_t CoarseUnixMillis() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000 + static_cast<uint64_t>(now.tv_nsec) / 1000000;
}

}  // namespace

storage::TaskRecord& LineageRecorder::TaskRecordOf(const TaskID& id, const TaskSpec& spec, const std::string& owner) {
  // Assignments, not a fresh record: the strings, vectors and map keep their buffers.
  storage::TaskRecord& rec = task_;
  rec.id = id;
  rec.function = spec.function;
  rec.name = spec.name;
  rec.max_retries = spec.max_retries;
  rec.retry_exceptions = spec.retry_exceptions;
  rec.resources = spec.resources;
  rec.owner = owner;
  rec.submitted_ms = UnixMillis();
  rec.actor = spec.actor;
  rec.actor_creation = false;
  rec.attempt = 0;
  rec.actor_call_index = 0;
  rec.returns.clear();
  rec.args.resize(spec.args.size());
  for (size_t i = 0; i < spec.args.size(); ++i) {
    const TaskArg& arg = spec.args[i];
    storage::ArgRecord& a = rec.args[i];
    a.by_ref = arg.by_ref;
    a.ref = arg.ref;
    if (arg.by_ref) {
      a.value.clear();
    } else {
      a.value.assign(reinterpret_cast<const char*>(arg.value.bytes->data()), arg.value.bytes->size());
    }
  }
  return rec;
}

void LineageRecorder::TaskSubmitted(const TaskID& id, const TaskSpec& spec, const std::string& owner,
                                    const ObjectID& result, int attempt) {
  if (!log_) return;
  storage::TaskRecord& rec = TaskRecordOf(id, spec, owner);
  rec.returns.assign(1, result);
  rec.attempt = static_cast<uint32_t>(attempt);
  log_->Append(rec);
}

void LineageRecorder::ActorCreation(const TaskID& creation_task, const ActorID& actor, const TaskSpec& factory,
                                    const std::string& owner) {
  if (!log_) return;
  storage::TaskRecord& rec = TaskRecordOf(creation_task, factory, owner);
  rec.actor = actor;
  rec.actor_creation = true;
  log_->Append(rec);
}

void LineageRecorder::ActorChanged(const ActorID& actor, const TaskID& creation_task, const ActorOptions& options,
                                   const ActorNow& now) {
  if (!log_) return;
  storage::ActorRecord rec;
  rec.id = actor;
  rec.creation_task = creation_task;
  rec.class_name = options.class_name;
  rec.name = options.name;
  rec.ns = options.ns;
  rec.state = now.state;
  rec.restarts = static_cast<uint32_t>(now.restarts);
  rec.death_cause = now.death_cause;
  rec.detached = options.detached.value_or(false);
  rec.max_restarts = options.max_restarts;
  rec.max_task_retries = options.max_task_retries;
  rec.max_concurrency = options.max_concurrency;
  rec.replay_on_restart = options.replay_on_restart;
  rec.checkpoint_method = options.checkpoint_method;
  rec.restore_function = options.restore_function;
  rec.checkpoint_every = static_cast<uint32_t>(std::max(0, options.checkpoint_every));
  rec.checkpoint = now.checkpoint;
  rec.checkpoint_calls = now.checkpoint_calls;
  rec.binary = now.binary;
  rec.argv = now.argv;
  log_->Append(rec);
}

void LineageRecorder::ActorEnded(storage::ActorRecord record, const std::string& cause) {
  if (!log_) return;
  record.state = storage::ActorState::kDead;
  record.death_cause = cause;
  log_->Append(record);
}

void LineageRecorder::ActorCallRan(const TaskID& id, const TaskSpec& spec, const std::string& owner,
                                   const ObjectID& result, int attempt, uint64_t index) {
  if (!log_) return;
  storage::TaskRecord& rec = TaskRecordOf(id, spec, owner);
  rec.returns.assign(1, result);
  rec.attempt = static_cast<uint32_t>(attempt);
  rec.actor_call_index = index;
  log_->Append(rec);
}

void LineageRecorder::ResultStored(const ObjectID& result, const TaskID& task, const std::string& worker,
                                   uint64_t size) {
  if (!log_) return;
  RecordObject(result, task, false, worker, size);
}

void LineageRecorder::RecordObject(const ObjectID& id, const TaskID& made_by, bool is_put, const std::string& owner,
                                   uint64_t size) {
  storage::ObjectRecord& rec = object_;
  rec.id = id;
  rec.created_by = made_by;
  rec.is_put = is_put;
  rec.owner = owner;
  rec.size = size;
  rec.node = node_;
  log_->Append(rec);
}

void LineageRecorder::Put(const ObjectID& id, const Payload& p, const std::string& owner) {
  if (!log_) return;
  if (p.kind != Payload::kInline || !p.nested_refs.empty()) {  // large ones: recorded, not durable yet
    RecordObject(id, id.Task(), true, owner, p.size);
    return;
  }
  // One record, not two, on the Put path: the put task names its object.
  // Only the fields below ever change in put_; the rest keep their defaults.
  storage::TaskRecord& rec = put_;
  rec.id = id.Task();
  if (rec.function.empty()) rec.function = kPutTask;
  rec.owner = owner;
  rec.submitted_ms = CoarseUnixMillis();
  rec.returns.assign(1, id);
  rec.args.resize(1);
  rec.args[0].value.assign(reinterpret_cast<const char*>(p.bytes->data()), p.bytes->size());
  log_->Append(rec);
}

}  // namespace lumen::internal
