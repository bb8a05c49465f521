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

// Fill `message` (empty) with `record` as its root.
void BuildMessage(const TaskRecord& record, capnp::MessageBuilder* message);
void BuildMessage(const ObjectRecord& record, capnp::MessageBuilder* message);
void BuildMessage(const ActorRecord& record, capnp::MessageBuilder* message);

// Replaces *out with `message` in the flat (unpacked) stream format.
void Flatten(capnp::MessageBuilder& message, std::string* out);

// Parse a flat message back. kInvalid, with the reason, if `bytes` is not a
// well-formed record of that kind (e.g. an id of the wrong length).
Status Parse(std::string_view bytes, TaskRecord* out);
Status Parse(std::string_view bytes, ObjectRecord* out);
Status Parse(std::string_view bytes, ActorRecord* out);

}  // namespace lumen::storage::lineage
