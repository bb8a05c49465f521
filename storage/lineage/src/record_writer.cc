#include "record_writer.h"

#include <capnp/message.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "compact_records.h"
#include "records.h"

namespace lumen::storage::lineage {

void QueuedRecords::AddCompact(PackKind kind, std::string_view compact) {
  slots_.push_back({kind == PackKind::kTask ? Type::kTask : Type::kObject, bytes_.size(), compact.size()});
  bytes_.append(compact);
}

void QueuedRecords::Add(Record&& record) {
  slots_.push_back({Type::kFull, records_.size(), 0});
  records_.push_back(std::move(record));
}

void QueuedRecords::clear() {
  slots_.clear();
  bytes_.clear();
  records_.clear();
}

void QueuedRecords::swap(QueuedRecords& other) noexcept {
  slots_.swap(other.slots_);
  bytes_.swap(other.bytes_);
  records_.swap(other.records_);
}

RecordWriter::RecordWriter(RocksDb* rocks, const RetentionIndex* marks)
    : rocks_(rocks), marks_(marks), first_segment_(kj::heapArray<capnp::word>(128)) {
  std::memset(first_segment_.begin(), 0, first_segment_.size() * sizeof(capnp::word));
}

template <typename R>
void RecordWriter::Encode(const R& r, uint64_t now_ms) {
  // The reused zeroed first segment holds a typical record without an
  // allocation (the builder re-zeroes what it used when it dies); larger
  // records get more segments from the heap.
  capnp::MallocMessageBuilder message(first_segment_.asPtr());
  BuildMessage(r, now_ms, &message);
  Flatten(message, &scratch_);
}

uint64_t& RecordWriter::HighWater(PackKind kind, uint64_t prefix) {
  auto [it, fresh] = high_water_.try_emplace({kind, prefix}, 0);
  if (fresh) {
    // First sight of this source in this process: what earlier ones packed,
    // and what retention removed (its last pack may be gone).
    it->second = std::max(PackedHighWater(rocks_->db(), rocks_->family(kPackFamily), kind, prefix),
                          marks_->Get(prefix).max_counter);
    if (kind == PackKind::kTask)
      it->second = std::max(it->second, OwnKeyHighWater(rocks_->db(), rocks_->family(kTaskFamily), prefix));
  }
  return it->second;
}

Status RecordWriter::PutOwn(const Record& record, uint64_t now_ms, rocksdb::WriteBatch* wb) {
  rocksdb::Status s = std::visit(
      [&](const auto& r) {
        Encode(r, now_ms);
        using R = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<R, TaskRecord>) {
          // A later record of this id must not be packed: it would be read after this one.
          uint64_t& mark = HighWater(PackKind::kTask, SourcePrefix(r.id));
          mark = std::max(mark, SourceCounter(r.id));
        }
        Family f = std::is_same_v<R, TaskRecord>     ? kTaskFamily
                   : std::is_same_v<R, ObjectRecord> ? kObjectFamily
                   : std::is_same_v<R, ActorRecord>  ? kActorFamily
                                                     : kGroupFamily;
        return wb->Put(rocks_->family(f), Key(r.id), scratch_);
      },
      record);
  return s.ok() ? Status::OK() : FromRocks(s, "lineage log: building a write batch");
}

Status RecordWriter::AddCompact(PackKind kind, std::string_view compact, uint64_t now_ms, rocksdb::WriteBatch* wb) {
  const size_t id_size = kind == PackKind::kTask ? kCompactTaskIdSize : kCompactObjectIdSize;
  if (compact.size() >= id_size) {
    const TaskID source = TaskID::FromBinary(compact.data());  // an object's source is its task part
    if (SourceCounter(source) > HighWater(kind, SourcePrefix(source))) {
      packs_.Add(kind, compact.substr(0, id_size), compact);  // views into the queue, which outlives Build
      return Status::OK();
    }
  }
  // Written again (a retry, a rebuild): under its own key, which readers
  // prefer to the packed one.
  Record record;
  Status s = kind == PackKind::kTask ? ParseCompact(compact, now_ms, &record.emplace<TaskRecord>())
                                     : ParseCompact(compact, now_ms, &record.emplace<ObjectRecord>());
  return s.ok() ? PutOwn(record, now_ms, wb) : s;
}

Status RecordWriter::Build(const QueuedRecords& queue, size_t begin, size_t end, uint64_t now_ms,
                           rocksdb::WriteBatch* wb) {
  for (size_t i = begin; i < end; ++i) {
    const QueuedRecords::Slot& slot = queue.slots_[i];
    Status s = slot.type == QueuedRecords::Type::kFull
                   ? PutOwn(queue.records_[slot.begin], now_ms, wb)
                   : AddCompact(slot.type == QueuedRecords::Type::kTask ? PackKind::kTask : PackKind::kObject,
                                std::string_view(queue.bytes_).substr(slot.begin, slot.size), now_ms, wb);
    if (!s.ok()) {
      packs_.Finish(now_ms, &built_);  // dropped: its views into `queue` must not outlive it
      built_.clear();
      return s;
    }
  }
  if (packs_.empty()) return Status::OK();
  built_.clear();
  packs_.Finish(now_ms, &built_);
  for (const PackBuilder::Pack& pack : built_) {
    rocksdb::Status s = wb->Put(rocks_->family(kPackFamily), pack.key, pack.value);
    if (!s.ok()) return FromRocks(s, "lineage log: building a write batch");
    // From now on this range is the pack's: a later record of it is newer.
    uint64_t& mark = HighWater(pack.kind, SourcePrefix(pack.last));
    mark = std::max(mark, SourceCounter(pack.last));
  }
  return Status::OK();
}

}  // namespace lumen::storage::lineage
