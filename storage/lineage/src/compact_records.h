// The compact form of plain task and object records: how they wait in the
// log's queue and how packs (packs.h) store them. A few dozen bytes for a
// typical record where the flat Cap'n Proto message takes hundreds, and
// written by plain appends, so the appending thread encodes it with no
// allocation of its own and the writer copies bytes instead of records.
//
// Layout (varint: LEB128; str: varint length then bytes):
//   task    id[16], u8 flags, varint attempt, varint zigzag(max_retries),
//           varint submitted_ms, varint actor_call_index, str function,
//           str name, str owner, [actor[16] if flags.actor], varint #args,
//           each u8 by_ref then ref[20] or str value, varint #returns, then
//           (unless flags.standard_returns: ids ForTaskReturn(id, 0..n-1))
//           ref[20] each, varint #resources, each str name + f64 amount
//   object  id[20], u8 flags, [created_by[16] unless flags.made_by_own_task],
//           str owner, varint size, str node
// recorded_ms is not in it: the pack that holds a record says when.
// Only ever extend with a new flag bit; never change what a layout means.
#pragma once

#include <string>
#include <string_view>

#include "lumen/storage/lineage_log.h"

namespace lumen::storage::lineage {

// Appends the compact form of `record` to *out.
void AppendCompact(const TaskRecord& record, std::string* out);
void AppendCompact(const ObjectRecord& record, std::string* out);

// The record in `bytes` (exactly one compact record), with `recorded_ms`.
// kInvalid if it is not one.
Status ParseCompact(std::string_view bytes, uint64_t recorded_ms, TaskRecord* out);
Status ParseCompact(std::string_view bytes, uint64_t recorded_ms, ObjectRecord* out);

// The id a compact record starts with (16 bytes for tasks, 20 for objects).
constexpr size_t kCompactTaskIdSize = TaskID::kSize;
constexpr size_t kCompactObjectIdSize = ObjectID::kSize;

}  // namespace lumen::storage::lineage
