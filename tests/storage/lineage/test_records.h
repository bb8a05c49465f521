// Deterministic lineage records with every field set, shared by the tests and
// by the lineage_writer helper process, so a test can rebuild what the helper
// wrote from nothing but its index.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "lumen/storage/lineage_log.h"

namespace lumen::storage::testing {

template <typename Id>
Id IdFor(uint64_t index, uint8_t tag) {
  uint8_t bytes[Id::kSize] = {};
  std::memcpy(bytes, &index, sizeof index);
  bytes[Id::kSize - 1] = tag;
  return Id::FromBinary(bytes);
}

inline TaskID TaskIdFor(uint64_t i) { return IdFor<TaskID>(i, 0x7a); }
inline ActorID ActorIdFor(uint64_t i) { return IdFor<ActorID>(i, 0xac); }

inline TaskRecord FullTask(uint64_t i) {
  TaskRecord t;
  t.id = TaskIdFor(i);
  t.function = "fn_" + std::to_string(i);
  t.args.resize(3);
  t.args[0].value = std::string("inline\0bytes", 12) + std::to_string(i);
  t.args[1].by_ref = true;
  t.args[1].ref = ObjectID::ForTaskReturn(TaskIdFor(i + 1000000), 2);
  t.args[2].value = "";  // an empty inline value is still an argument
  t.returns = {ObjectID::ForTaskReturn(t.id, 0), ObjectID::ForTaskReturn(t.id, 1)};
  t.name = "name-" + std::to_string(i);
  t.max_retries = static_cast<int32_t>(i % 7) - 1;  // -1: retry forever
  t.retry_exceptions = i % 2 == 1;
  t.resources = {{"CPU", 1.5}, {"GPU", 0.25 * static_cast<double>(i % 4)}};
  t.owner = "worker-" + std::to_string(i % 13);
  t.attempt = static_cast<uint32_t>(i % 5);
  t.actor = ActorIdFor(i);
  t.actor_creation = i % 3 == 0;
  t.submitted_ms = 1700000000000 + i;
  t.actor_call_index = t.actor_creation ? 0 : i % 9;
  return t;
}

inline ObjectRecord FullObject(uint64_t i) {
  ObjectRecord o;
  o.id = ObjectID::ForTaskReturn(TaskIdFor(i), 0);
  o.created_by = TaskIdFor(i);
  o.is_put = i % 5 == 0;
  o.owner = "driver-" + std::to_string(i);
  o.size = (uint64_t{1} << 40) + i;
  o.node = "node-" + std::to_string(i % 3);
  return o;
}

inline ActorRecord FullActor(uint64_t i, ActorState state = ActorState::kAlive) {
  ActorRecord a;
  a.id = ActorIdFor(i);
  a.creation_task = TaskIdFor(i);
  a.class_name = "Counter";
  a.name = "counter-" + std::to_string(i);
  a.ns = "ns-" + std::to_string(i % 2);
  a.state = state;
  a.restarts = static_cast<uint32_t>(i % 4);
  a.death_cause = state == ActorState::kDead ? "killed by test" : "";
  a.detached = i % 2 == 1;
  a.max_restarts = static_cast<int32_t>(i % 3) - 1;
  a.max_task_retries = static_cast<int32_t>(i % 4);
  a.max_concurrency = static_cast<int32_t>(i % 5) + 1;
  a.replay_on_restart = i % 3 != 0;
  a.checkpoint_method = i % 2 ? "Counter::Snapshot" : "";
  a.restore_function = i % 2 ? "Counter::Restore" : "";
  a.checkpoint_every = static_cast<uint32_t>(i % 2 * 10);
  if (i % 2) a.checkpoint = ObjectID::ForTaskReturn(TaskIdFor(i + 2000000), 0);
  a.checkpoint_calls = i * 10;
  return a;
}

}  // namespace lumen::storage::testing
