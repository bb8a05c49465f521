// Conversion between the lineage records (lineage_log.h) and their on-disk
// form: one flat Cap'n Proto message per record (schema/lineage.capnp).
#pragma once

#include <string>
#include <string_view>

#include "lumen/storage/lineage_log.h"

namespace capnp {
class MessageBuilder;
}

namespace lumen::storage::lineage {

// Fill `message` (empty) with `record` as its root, stamped `recorded_ms`
// (the record's own field is ignored: the log decides when it wrote it).
void BuildMessage(const TaskRecord& record, uint64_t recorded_ms, capnp::MessageBuilder* message);
void BuildMessage(const ObjectRecord& record, uint64_t recorded_ms, capnp::MessageBuilder* message);
void BuildMessage(const ActorRecord& record, uint64_t recorded_ms, capnp::MessageBuilder* message);
void BuildMessage(const PlacementGroupRecord& record, uint64_t recorded_ms, capnp::MessageBuilder* message);

// Replaces *out with `message` in the flat (unpacked) stream format.
void Flatten(capnp::MessageBuilder& message, std::string* out);

// Parse a flat message back. kInvalid, with the reason, if `bytes` is not a
// well-formed record of that kind (e.g. an id of the wrong length).
Status Parse(std::string_view bytes, TaskRecord* out);
Status Parse(std::string_view bytes, ObjectRecord* out);
Status Parse(std::string_view bytes, ActorRecord* out);
Status Parse(std::string_view bytes, PlacementGroupRecord* out);

// What retention needs of a stored record, read without copying it out.
enum class Kind { kTask, kObject, kActor };
struct RecordAge {
  uint64_t recorded_ms = 0;
  ActorID actor;                          // a task's actor (nil: plain task); an actor's own id
  ActorState state = ActorState::kPending;  // actors only
};
Status Peek(Kind kind, std::string_view bytes, RecordAge* out);

}  // namespace lumen::storage::lineage
