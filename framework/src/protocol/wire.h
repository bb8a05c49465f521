// The node's data plane: length-prefixed frames over Unix stream sockets
// between the node manager and its worker processes. CAF's TCP transport
// costs 150-300 us a round trip on this kind of machine, a Unix socket
// 20-60 us, so the per-task path uses frames (see benchmarks/RESULTS.md).
//
// A frame is: u32 body length, u8 message type, body. Bodies are written and
// read with WireWriter/WireReader; a malformed body throws WireError, which
// ends the connection (never the process).
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lumen/internal/core.h"
#include "lumen/storage/object_id.h"
#include "protocol/error_table.h"

namespace lumen::internal {

enum class MsgType : uint8_t {
  // node manager -> worker
  kExecute = 1,  // task id, function, display name, args
  kGetReply,     // request id, object payloads
  kWaitReply,    // request id, ready flags
  // worker -> node manager
  kRegister,     // pid
  kTaskDone,     // task id, result payload
  kReturnTasks,  // ids of tasks received but not started (the worker blocked in Get)
  kSubmit,       // a task submitted from inside a task
  kGet,          // request id, ids, timeout
  kWait,         // request id, ids, num_objects, timeout
  kPut,          // object id, payload
  kRefs,         // added ids, removed ids
  kCancel,       // object id
  kCreateActor,  // actor id, factory spec, options (from a task that creates an actor)
  kKillActor,    // actor id, no_restart
  kLookupActor,  // request id, name, namespace
  kActorExit,    // the actor in this process called ExitActor
  // node manager -> worker
  kLookupReply,  // request id, found, actor id
};

// What a kExecute frame asks of a worker.
enum class ExecKind : uint8_t {
  kTask = 0,         // run a function
  kCreateActor = 1,  // run an actor factory and keep the instance
  kActorCall = 2,    // call a method of the instance
};

// An object's value (or failure) as it crosses the wire.
struct Payload {
  enum Kind : uint8_t { kInline = 0, kInStore = 1, kError = 2 } kind = kInline;
  BytesPtr bytes;             // kInline
  uint64_t size = 0;          // kInline and kInStore
  ObjectError error;          // kError
  std::vector<ObjectID> nested_refs;
};

class WireError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class WireWriter {
 public:
  explicit WireWriter(MsgType type) { buf_.resize(5); buf_[4] = static_cast<char>(type); }
  void U8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Raw(&v, sizeof v); }
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void I64(int64_t v) { Raw(&v, sizeof v); }
  void F64(double v) { Raw(&v, sizeof v); }
  void Str(std::string_view s) { U32(static_cast<uint32_t>(s.size())); Raw(s.data(), s.size()); }
  template <size_t N>
  void Id(const BinaryID<N>& id) { Raw(id.data(), N); }
  void Ids(const std::vector<ObjectID>& ids) {
    U32(static_cast<uint32_t>(ids.size()));
    for (const auto& id : ids) Id(id);
  }
  void Raw(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void PutPayload(const Payload& p);
  void PutArgs(const std::vector<TaskArg>& args);
  // Task options and arguments, as kSubmit and kCreateActor carry them.
  void PutSpec(const TaskSpec& spec);
  void PutActorOptions(const ActorOptions& options);
  // Fills in the length; the frame is ready to send.
  std::string Finish() {
    uint32_t len = static_cast<uint32_t>(buf_.size() - 4);
    std::memcpy(buf_.data(), &len, 4);
    return std::move(buf_);
  }

 private:
  std::string buf_;
};

class WireReader {
 public:
  WireReader(const char* data, size_t size) : p_(data), end_(data + size) {}
  uint8_t U8() { uint8_t v; Raw(&v, 1); return v; }
  uint32_t U32() { uint32_t v; Raw(&v, 4); return v; }
  uint64_t U64() { uint64_t v; Raw(&v, 8); return v; }
  int64_t I64() { int64_t v; Raw(&v, 8); return v; }
  double F64() { double v; Raw(&v, 8); return v; }
  std::string Str() { uint32_t n = U32(); Need(n); std::string s(p_, n); p_ += n; return s; }
  template <class ID>
  ID Id() { Need(ID::kSize); ID id = ID::FromBinary(p_); p_ += ID::kSize; return id; }
  std::vector<ObjectID> Ids() {
    uint32_t n = U32();
    Need(size_t{n} * ObjectID::kSize);
    std::vector<ObjectID> ids;
    ids.reserve(n);
    for (uint32_t i = 0; i < n; ++i) ids.push_back(Id<ObjectID>());
    return ids;
  }
  BytesPtr Bytes(size_t n) {
    Need(n);
    auto b = std::make_shared<internal::Bytes>(n);
    std::memcpy(b->data(), p_, n);
    p_ += n;
    return b;
  }
  Payload GetPayload();
  std::vector<TaskArg> GetArgs();
  TaskSpec GetSpec();
  ActorOptions GetActorOptions();
  void Raw(void* out, size_t n) { Need(n); std::memcpy(out, p_, n); p_ += n; }

 private:
  void Need(size_t n) const {
    if (static_cast<size_t>(end_ - p_) < n) throw WireError("truncated frame");
  }
  const char* p_;
  const char* end_;
};

// One end of a frame stream. Writes are queued and sent without blocking
// (Flush sends what the socket takes; the rest waits for writability), so a
// slow peer never blocks its writer. Not thread-safe: callers serialise.
class Connection {
 public:
  explicit Connection(int fd);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  void Queue(std::string frame) { out_.append(frame); }
  // Sends queued bytes; false if the peer is gone.
  bool Flush();
  bool HasPendingWrites() const { return out_.size() > out_sent_; }
  // Blocks until every queued byte is sent (worker side); false if the peer is gone.
  bool FlushBlocking();

  // Reads what the socket has (non-blocking); false on EOF or error.
  bool ReadAvailable();
  // Blocks up to timeout_ms (-1 = forever) for more bytes; false on EOF/error/timeout (see timed_out()).
  bool ReadBlocking(int timeout_ms);
  bool timed_out() const { return timed_out_; }
  // Pops one complete frame from what was read; false if none yet.
  bool NextFrame(MsgType* type, std::string* body);

 private:
  int fd_;
  std::string in_;
  size_t in_used_ = 0;
  std::string out_;
  size_t out_sent_ = 0;
  bool timed_out_ = false;
};

}  // namespace lumen::internal
