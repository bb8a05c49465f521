#include "compact_records.h"

#include <cstring>

namespace lumen::storage::lineage {

namespace {

enum TaskFlags : uint8_t {
  kRetryExceptions = 1,
  kActorCreation = 2,
  kStandardReturns = 4,  // returns are ForTaskReturn(id, 0..n-1)
  kHasActor = 8,
};
enum ObjectFlags : uint8_t {
  kIsPut = 1,
  kMadeByOwnTask = 2,  // created_by == id.Task()
};

void PutVarint(std::string* out, uint64_t v) {
  if (v < 0x80) {  // most fields: one byte
    out->push_back(static_cast<char>(v));
    return;
  }
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}
void PutStr(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}
template <size_t N>
void PutId(std::string* out, const BinaryID<N>& id) {
  out->append(reinterpret_cast<const char*>(id.data()), N);
}

// Reads from a compact record; any overrun makes it fail for good.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && p_ == end_; }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return Fail();
      uint8_t b = static_cast<uint8_t>(*p_++);
      v |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return v;
    }
    return Fail();
  }
  uint8_t Byte() { return Have(1) ? static_cast<uint8_t>(*p_++) : static_cast<uint8_t>(Fail()); }
  std::string Str() {
    uint64_t n = Varint();
    if (!Have(n)) return {};
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  template <typename Id>
  Id IdOf() {
    if (!Have(Id::kSize)) return Id();
    Id id = Id::FromBinary(p_);
    p_ += Id::kSize;
    return id;
  }
  double F64() {
    double d = 0;
    if (!Have(8)) return d;
    std::memcpy(&d, p_, 8);
    p_ += 8;
    return d;
  }

 private:
  bool Have(uint64_t n) {
    if (ok_ && static_cast<uint64_t>(end_ - p_) >= n) return true;
    ok_ = false;
    return false;
  }
  uint64_t Fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

Status Corrupt(const char* kind) {
  return {StatusCode::kInvalid, std::string("corrupt lineage ") + kind + " record (compact form)"};
}

bool StandardReturns(const TaskRecord& r) {
  for (size_t i = 0; i < r.returns.size(); ++i) {
    if (r.returns[i] != ObjectID::ForTaskReturn(r.id, static_cast<uint32_t>(i))) return false;
  }
  return true;
}

}  // namespace

void AppendCompact(const TaskRecord& r, std::string* out) {
  const bool standard = StandardReturns(r);
  PutId(out, r.id);
  uint8_t flags = (r.retry_exceptions ? kRetryExceptions : 0) | (r.actor_creation ? kActorCreation : 0) |
                  (standard ? kStandardReturns : 0) | (r.actor.IsNil() ? 0 : kHasActor);
  out->push_back(static_cast<char>(flags));
  PutVarint(out, r.attempt);
  const int64_t retries = r.max_retries;
  PutVarint(out, static_cast<uint64_t>(retries << 1) ^ static_cast<uint64_t>(retries >> 63));  // zigzag
  PutVarint(out, r.submitted_ms);
  PutVarint(out, r.actor_call_index);
  PutStr(out, r.function);
  PutStr(out, r.name);
  PutStr(out, r.owner);
  if (!r.actor.IsNil()) PutId(out, r.actor);
  PutVarint(out, r.args.size());
  for (const ArgRecord& a : r.args) {
    out->push_back(a.by_ref ? 1 : 0);
    if (a.by_ref) {
      PutId(out, a.ref);
    } else {
      PutStr(out, a.value);
    }
  }
  PutVarint(out, r.returns.size());
  if (!standard) {
    for (const ObjectID& id : r.returns) PutId(out, id);
  }
  PutVarint(out, r.resources.size());
  for (const auto& [name, amount] : r.resources) {
    PutStr(out, name);
    out->append(reinterpret_cast<const char*>(&amount), 8);
  }
}

void AppendCompact(const ObjectRecord& r, std::string* out) {
  const bool own = r.created_by == r.id.Task();
  PutId(out, r.id);
  out->push_back(static_cast<char>((r.is_put ? kIsPut : 0) | (own ? kMadeByOwnTask : 0)));
  if (!own) PutId(out, r.created_by);
  PutStr(out, r.owner);
  PutVarint(out, r.size);
  PutStr(out, r.node);
}

Status ParseCompact(std::string_view bytes, uint64_t recorded_ms, TaskRecord* out) {
  Reader in(bytes);
  TaskRecord r;
  r.id = in.IdOf<TaskID>();
  const uint8_t flags = in.Byte();
  r.retry_exceptions = flags & kRetryExceptions;
  r.actor_creation = flags & kActorCreation;
  r.attempt = static_cast<uint32_t>(in.Varint());
  const uint64_t zigzag = in.Varint();
  r.max_retries = static_cast<int32_t>(static_cast<int64_t>(zigzag >> 1) ^ -static_cast<int64_t>(zigzag & 1));
  r.submitted_ms = in.Varint();
  r.actor_call_index = in.Varint();
  r.function = in.Str();
  r.name = in.Str();
  r.owner = in.Str();
  if (flags & kHasActor) r.actor = in.IdOf<ActorID>();
  uint64_t n = in.Varint();
  for (uint64_t i = 0; i < n && in.ok(); ++i) {
    ArgRecord a;
    a.by_ref = in.Byte() != 0;
    if (a.by_ref) {
      a.ref = in.IdOf<ObjectID>();
    } else {
      a.value = in.Str();
    }
    r.args.push_back(std::move(a));
  }
  n = in.Varint();
  for (uint64_t i = 0; i < n && in.ok(); ++i) {
    r.returns.push_back((flags & kStandardReturns) ? ObjectID::ForTaskReturn(r.id, static_cast<uint32_t>(i))
                                                   : in.IdOf<ObjectID>());
  }
  n = in.Varint();
  for (uint64_t i = 0; i < n && in.ok(); ++i) {
    std::string name = in.Str();
    r.resources[std::move(name)] = in.F64();
  }
  if (!in.done()) return Corrupt("task");
  r.recorded_ms = recorded_ms;
  *out = std::move(r);
  return Status::OK();
}

Status ParseCompact(std::string_view bytes, uint64_t recorded_ms, ObjectRecord* out) {
  Reader in(bytes);
  ObjectRecord r;
  r.id = in.IdOf<ObjectID>();
  const uint8_t flags = in.Byte();
  r.is_put = flags & kIsPut;
  r.created_by = (flags & kMadeByOwnTask) ? r.id.Task() : in.IdOf<TaskID>();
  r.owner = in.Str();
  r.size = in.Varint();
  r.node = in.Str();
  if (!in.done()) return Corrupt("object");
  r.recorded_ms = recorded_ms;
  *out = std::move(r);
  return Status::OK();
}

}  // namespace lumen::storage::lineage
