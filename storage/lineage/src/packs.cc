// The pack format (one RocksDB value, little-endian):
//   header   u32 magic "LPK1", u32 count, u64 recorded_ms, u32 id_size, u32 0
//   entries  count x (id[id_size], u32 offset, u32 size), sorted by source
//            counter, then by id bytes
//   records  their compact forms (compact_records.h), back to back
#include "packs.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "rocks_db.h"

namespace lumen::storage::lineage {

namespace {

constexpr uint32_t kMagic = 0x314b504c;  // "LPK1"
constexpr size_t kHeaderSize = 24;

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
void Append32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }
void Append64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }

uint64_t CounterOf(std::string_view id) { return Load64(id.data()); }

// The order of a pack's entries: by source counter (the order ranges are
// cut in), then by the whole id (an object's return index).
bool IdLess(std::string_view a, std::string_view b) {
  uint64_t ca = CounterOf(a), cb = CounterOf(b);
  return ca != cb ? ca < cb : a < b;
}

TaskID SourceOfKey17(std::string_view key) {
  uint8_t bytes[TaskID::kSize];
  for (size_t i = 0; i < TaskID::kSize; ++i) bytes[i] = static_cast<uint8_t>(key[kPackKeySize - 1 - i]);
  return TaskID::FromBinary(bytes);
}

// A parsed header; false if `value` is not a pack.
struct Header {
  uint32_t count;
  uint64_t recorded_ms;
  uint32_t id_size;
  size_t entry_size() const { return id_size + 8; }
  std::string_view Id(std::string_view value, uint32_t i) const {
    return value.substr(kHeaderSize + i * entry_size(), id_size);
  }
};

bool ReadHeader(std::string_view value, Header* h) {
  if (value.size() < kHeaderSize || Load32(value.data()) != kMagic) return false;
  h->count = Load32(value.data() + 4);
  h->recorded_ms = Load64(value.data() + 8);
  h->id_size = Load32(value.data() + 16);
  if (h->id_size < TaskID::kSize || h->id_size > 64) return false;
  return kHeaderSize + static_cast<uint64_t>(h->count) * h->entry_size() <= value.size();
}

}  // namespace

uint64_t SourcePrefix(const TaskID& source) { return Load64(reinterpret_cast<const char*>(source.data()) + 8); }
uint64_t SourceCounter(const TaskID& source) { return Load64(reinterpret_cast<const char*>(source.data())); }

TaskID SourceOf(uint64_t prefix, uint64_t counter) {
  uint8_t bytes[TaskID::kSize];
  std::memcpy(bytes, &counter, 8);
  std::memcpy(bytes + 8, &prefix, 8);
  return TaskID::FromBinary(bytes);
}

std::string PackKey(PackKind kind, const TaskID& last) {
  std::string key(1, static_cast<char>(kind));
  const Key<TaskID::kSize> k(last);
  const rocksdb::Slice bytes = k;
  key.append(bytes.data(), bytes.size());
  return key;
}

bool ReadPackInfo(std::string_view key, std::string_view value, PackInfo* out) {
  Header h;
  if (key.size() != kPackKeySize || !ReadHeader(value, &h) || h.count == 0) return false;
  if (key[0] != static_cast<char>(PackKind::kTask) && key[0] != static_cast<char>(PackKind::kObject)) return false;
  TaskID last = SourceOfKey17(key);
  out->kind = static_cast<PackKind>(key[0]);
  out->prefix = SourcePrefix(last);
  out->max_counter = SourceCounter(last);
  out->min_counter = CounterOf(h.Id(value, 0));
  out->recorded_ms = h.recorded_ms;
  out->count = h.count;
  return true;
}

std::vector<std::string_view> PackedIds(std::string_view value) {
  std::vector<std::string_view> ids;
  Header h;
  if (!ReadHeader(value, &h)) return ids;
  for (uint32_t i = 0; i < h.count; ++i) ids.push_back(h.Id(value, i));
  return ids;
}

void PackBuilder::Add(PackKind kind, std::string_view id, std::string_view record) {
  uint64_t prefix = Load64(id.data() + 8);
  auto g = std::find_if(groups_.begin(), groups_.end(),
                        [&](const Group& x) { return x.kind == kind && x.prefix == prefix; });
  if (g == groups_.end()) g = groups_.insert(groups_.end(), Group{kind, prefix, {}});
  size_t order = g->entries.size();
  g->entries.push_back({id, record, order});
}

void PackBuilder::Finish(uint64_t recorded_ms, std::vector<Pack>* out) {
  for (Group& g : groups_) {
    auto& entries = g.entries;
    auto less = [](const Entry& a, const Entry& b) {
      return IdLess(a.id, b.id) || (a.id == b.id && a.order < b.order);
    };
    // One process's ids ascend: a batch of them is sorted already.
    if (!std::is_sorted(entries.begin(), entries.end(), less)) std::sort(entries.begin(), entries.end(), less);
    // Of equal ids, the last appended wins.
    size_t kept = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i + 1 < entries.size() && entries[i + 1].id == entries[i].id) continue;
      entries[kept++] = entries[i];
    }
    entries.resize(kept);
    const uint32_t id_size = static_cast<uint32_t>(entries.front().id.size());
    for (size_t begin = 0; begin < entries.size();) {
      // Cut after kPackMaxBytes, but only where the source counter changes.
      size_t end = begin, bytes = 0;
      while (end < entries.size() &&
             (end == begin || bytes < kPackMaxBytes || CounterOf(entries[end].id) == CounterOf(entries[end - 1].id))) {
        bytes += entries[end].record.size();
        ++end;
      }
      std::string value;
      value.reserve(kHeaderSize + (end - begin) * (id_size + 8) + bytes);
      Append32(&value, kMagic);
      Append32(&value, static_cast<uint32_t>(end - begin));
      Append64(&value, recorded_ms);
      Append32(&value, id_size);
      Append32(&value, 0);
      size_t offset = kHeaderSize + (end - begin) * (id_size + 8);
      for (size_t i = begin; i < end; ++i) {
        value.append(entries[i].id);
        Append32(&value, static_cast<uint32_t>(offset));
        Append32(&value, static_cast<uint32_t>(entries[i].record.size()));
        offset += entries[i].record.size();
      }
      for (size_t i = begin; i < end; ++i) value.append(entries[i].record);
      TaskID last = TaskID::FromBinary(entries[end - 1].id.data());
      out->push_back({g.kind, last, PackKey(g.kind, last), std::move(value)});
      begin = end;
    }
  }
  groups_.clear();
}

bool FindPacked(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* packs, PackKind kind, std::string_view id,
                std::string* record, uint64_t* recorded_ms) {
  if (!packs || id.size() < TaskID::kSize) return false;
  const std::string seek = PackKey(kind, TaskID::FromBinary(id.data()));
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), packs));
  it->Seek(seek);
  if (!it->Valid() || it->key().size() != kPackKeySize || std::memcmp(it->key().data(), seek.data(), 9) != 0)
    return false;  // no pack of this (kind, prefix) reaches up to the id
  std::string_view value(it->value().data(), it->value().size());
  Header h;
  if (!ReadHeader(value, &h) || h.id_size != id.size()) return false;
  uint32_t lo = 0, hi = h.count;  // the first entry not less than `id`
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (IdLess(h.Id(value, mid), id)) lo = mid + 1; else hi = mid;
  }
  if (lo == h.count || h.Id(value, lo) != id) return false;
  const char* entry = value.data() + kHeaderSize + lo * h.entry_size() + h.id_size;
  uint64_t offset = Load32(entry), size = Load32(entry + 4);
  if (offset + size > value.size()) return false;
  record->assign(value.data() + offset, size);
  *recorded_ms = h.recorded_ms;
  return true;
}

uint64_t OwnKeyHighWater(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, uint64_t prefix) {
  const Key<TaskID::kSize> top(SourceOf(prefix, UINT64_MAX));
  const rocksdb::Slice seek = top;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), family));
  it->SeekForPrev(seek);
  // Keys are reversed ids: the prefix's 8 bytes first.
  if (!it->Valid() || it->key().size() != TaskID::kSize || std::memcmp(it->key().data(), seek.data(), 8) != 0) return 0;
  uint8_t bytes[TaskID::kSize];
  for (size_t i = 0; i < TaskID::kSize; ++i) bytes[i] = static_cast<uint8_t>(it->key()[TaskID::kSize - 1 - i]);
  return SourceCounter(TaskID::FromBinary(bytes));
}

uint64_t PackedHighWater(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* packs, PackKind kind, uint64_t prefix) {
  if (!packs) return 0;
  const std::string top = PackKey(kind, SourceOf(prefix, UINT64_MAX));
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), packs));
  it->SeekForPrev(top);
  if (!it->Valid() || it->key().size() != kPackKeySize || std::memcmp(it->key().data(), top.data(), 9) != 0) return 0;
  return SourceCounter(SourceOfKey17({it->key().data(), it->key().size()}));
}

}  // namespace lumen::storage::lineage
