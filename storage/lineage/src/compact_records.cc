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

constexpr size_t kMaxVarint = 10;

// Writes into room made at the end of a string, then trims it to what was
// written: one resize per record instead of a capacity check per field.
class Writer {
 public:
  Writer(std::string* out, size_t max_size) : out_(out) {
    size_t used = out->size();
    out->resize(used + max_size);
    p_ = out->data() + used;
  }
  ~Writer() { out_->resize(static_cast<size_t>(p_ - out_->data())); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void Byte(uint8_t b) { *p_++ = static_cast<char>(b); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void Raw(const void* data, size_t n) {
    std::memcpy(p_, data, n);
    p_ += n;
  }
  void Str(std::string_view s) {
    Varint(s.size());
    Raw(s.data(), s.size());
  }
  template <size_t N>
  void Id(const BinaryID<N>& id) {
    Raw(id.data(), N);
  }

 private:
  std::string* out_;
  char* p_;
};

size_t MaxStr(std::string_view s) { return kMaxVarint + s.size(); }

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
  size_t max = TaskID::kSize + 1 + 4 * kMaxVarint + MaxStr(r.function) + MaxStr(r.name) + MaxStr(r.owner) +
               ActorID::kSize + 3 * kMaxVarint + r.returns.size() * ObjectID::kSize;
  for (const ArgRecord& a : r.args) max += 1 + ObjectID::kSize + MaxStr(a.value);
  for (const auto& [name, amount] : r.resources) max += MaxStr(name) + sizeof amount;
  Writer w(out, max);
  w.Id(r.id);
  w.Byte((r.retry_exceptions ? kRetryExceptions : 0) | (r.actor_creation ? kActorCreation : 0) |
         (standard ? kStandardReturns : 0) | (r.actor.IsNil() ? 0 : kHasActor));
  w.Varint(r.attempt);
  const int64_t retries = r.max_retries;
  w.Varint(static_cast<uint64_t>(retries << 1) ^ static_cast<uint64_t>(retries >> 63));  // zigzag
  w.Varint(r.submitted_ms);
  w.Varint(r.actor_call_index);
  w.Str(r.function);
  w.Str(r.name);
  w.Str(r.owner);
  if (!r.actor.IsNil()) w.Id(r.actor);
  w.Varint(r.args.size());
  for (const ArgRecord& a : r.args) {
    w.Byte(a.by_ref ? 1 : 0);
    if (a.by_ref) {
      w.Id(a.ref);
    } else {
      w.Str(a.value);
    }
  }
  w.Varint(r.returns.size());
  if (!standard) {
    for (const ObjectID& id : r.returns) w.Id(id);
  }
  w.Varint(r.resources.size());
  for (const auto& [name, amount] : r.resources) {
    w.Str(name);
    w.Raw(&amount, sizeof amount);
  }
}

void AppendCompact(const ObjectRecord& r, std::string* out) {
  const bool own = r.created_by == r.id.Task();
  Writer w(out, ObjectID::kSize + 1 + TaskID::kSize + MaxStr(r.owner) + kMaxVarint + MaxStr(r.node));
  w.Id(r.id);
  w.Byte((r.is_put ? kIsPut : 0) | (own ? kMadeByOwnTask : 0));
  if (!own) w.Id(r.created_by);
  w.Str(r.owner);
  w.Varint(r.size);
  w.Str(r.node);
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
