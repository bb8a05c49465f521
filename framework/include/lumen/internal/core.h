// The narrow, type-erased boundary between lumen's header templates and the
// runtime. Templates turn typed values into encoded bytes and call these
// functions; the runtime (driver or worker process) does the rest. Nothing
// here names CAF, RocksDB or Boost, so user code compiles fast.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lumen/storage/codec.h"
#include "lumen/storage/object_id.h"

namespace lumen::internal {

// Bytes of one encoded object, kept alive (and pinned, if in the shared
// store) by `owner`. Always 8-byte aligned.
struct ObjectData {
  const uint8_t* data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> owner;
};

// An 8-byte aligned, owned byte buffer.
class Bytes {
 public:
  explicit Bytes(size_t size) : words_(new uint64_t[(size + 7) / 8]), size_(size) {}
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.get()); }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(words_.get()); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint64_t[]> words_;
  size_t size_;
};
using BytesPtr = std::shared_ptr<const Bytes>;

// An encoded value and the object ids nested inside it (refs in containers).
struct EncodedValue {
  BytesPtr bytes;
  std::vector<ObjectID> nested_refs;
};

struct TaskArg {
  bool by_ref = false;
  ObjectID ref;          // by_ref
  EncodedValue value;    // inline
  bool transfer_ref = false;  // by_ref: the caller's reference passes to the submission
};

// The objects an argument names: the one it passes by ref, or those nested
// in its inline value. Tasks and actors keep them alive while they need them.
inline std::vector<ObjectID> ArgRefs(const TaskArg& arg) {
  return arg.by_ref ? std::vector<ObjectID>{arg.ref} : arg.value.nested_refs;
}

// The references a submission takes over from its caller (large by-value
// arguments, put into the store by ValueArg): the submitter drops them once
// the task or actor pins the objects.
inline std::vector<ObjectID> TransferredRefs(const std::vector<TaskArg>& args) {
  std::vector<ObjectID> refs;
  for (const TaskArg& arg : args)
    if (arg.by_ref && arg.transfer_ref) refs.push_back(arg.ref);
  return refs;
}

struct TaskSpec {
  ActorID actor;         // nil for a plain task; the target of an actor method call
  std::string function;  // registered name
  std::vector<TaskArg> args;
  std::string name;      // SetName; "" = the function's name
  int max_retries = 3;   // -1 = forever
  bool retry_exceptions = false;
  std::map<std::string, double> resources;
  std::string placement_group;  // id; "" = none
  int bundle_index = -1;
  std::string node_affinity;    // node name; "" = any node
  bool node_affinity_soft = false;
  bool spread = false;          // SchedulingStrategy::Spread(): over the nodes in turn
};

struct ActorOptions {
  std::string class_name;   // for messages and lineage
  int max_restarts = 0;     // -1 = forever
  int max_task_retries = 0; // -1 = forever
  int max_concurrency = 1;
  std::string name;         // named actors only
  std::string ns;           // "" = the job's namespace
  std::optional<bool> detached;  // outlives its creator; unset = Config's default
  bool replay_on_restart = false;  // a restart re-runs every call made so far, in order
  // Checkpoints (replay only): every `checkpoint_every` calls the node calls
  // `checkpoint_method` (registered name; returns the state) and keeps the
  // result; a replay starts from `restore_function` (a factory taking it).
  std::string checkpoint_method;
  std::string restore_function;
  int checkpoint_every = 0;
};

// What a process running lumen offers the templates.
class Core {
 public:
  virtual ~Core() = default;
  // Submits a task; returns the id of its result, counted as one reference
  // held by the caller (adopted by an ObjectRef).
  virtual ObjectID Submit(TaskSpec spec) = 0;
  // Stores an encoded value; returns its id with one reference for the caller.
  virtual ObjectID Put(const codec::Encoded& encoded, std::vector<ObjectID> nested_refs) = 0;
  // Blocks until every object is ready (or timeout_ms, -1 = forever, passes:
  // GetTimeoutError) and returns their bytes; rethrows an object's error.
  virtual std::vector<ObjectData> Get(const std::vector<ObjectID>& ids, int64_t timeout_ms) = 0;
  // Marks which of `ids` are ready once num_objects are, or at timeout.
  virtual std::vector<bool> Wait(const std::vector<ObjectID>& ids, int num_objects,
                                 int64_t timeout_ms) = 0;
  virtual void AddRef(const ObjectID& id) = 0;
  virtual void RemoveRef(const ObjectID& id) = 0;
  virtual void Cancel(const ObjectID& id) = 0;

  // Actors. CreateActor runs `factory` (a registered factory and its
  // arguments) in a new worker process of its own; lumen::Error if the name
  // is taken. Method calls go through Submit with spec.actor set.
  virtual ActorID CreateActor(TaskSpec factory, ActorOptions options) = 0;
  virtual void KillActor(const ActorID& id, bool no_restart) = 0;
  // The actor named `name` in namespace `ns` ("" = the job's), if alive.
  virtual std::optional<ActorID> GetNamedActor(const std::string& name, const std::string& ns) = 0;
};

// In an actor's process: ends the actor after the current call.
[[noreturn]] void ExitCurrentActor();
bool CurrentActorWasRestarted();

// The process's core. Throws lumen::Error if lumen::Init() has not run.
Core& CurrentCore();
// lumen::Error unless `amount` of resource `name` is a valid request
// (runtime/validation.h); `what` names the caller, e.g. "SetResource".
void CheckResourceAmount(const std::string& name, double amount, const std::string& what);
// Reference counting from ObjectRef: no-ops when lumen is not running (refs
// may outlive Shutdown).
void AddRef(const ObjectID& id);
void RemoveRef(const ObjectID& id);

// Collects the ids of ObjectRefs written while encoding one value.
class NestedRefCollector {
 public:
  NestedRefCollector();
  ~NestedRefCollector();
  std::vector<ObjectID> Take() { return std::move(refs_); }
  static void Note(const ObjectID& id);  // called by ObjectRef's codec

 private:
  std::vector<ObjectID> refs_;
  NestedRefCollector* outer_;
};

// A task argument passed by value: its encoded bytes inline, or, when large,
// an object written straight into the shared store (as Ray does), whose
// reference the submission takes over. Where the line falls is the
// runtime's to decide, not compiled into user code.
TaskArg ValueArgOf(const codec::Encoded& encoded, std::vector<ObjectID> nested_refs);
template <class T>
TaskArg ValueArg(const T& value) {
  NestedRefCollector collector;
  codec::Encoded encoded = codec::Encode(value);
  return ValueArgOf(encoded, collector.Take());
}

// Decodes an object, turning a codec failure into lumen::Error that names
// `what` (e.g. "argument 2 of Plus") and both types.
[[noreturn]] void ThrowDecodeError(const std::string& what, const std::exception& e);
template <class T>
T DecodeObject(const ObjectData& data, const std::string& what) {
  try {
    return codec::Decode<T>(data.data, data.size);
  } catch (const codec::CodecError& e) {
    ThrowDecodeError(what, e);
  }
}

}  // namespace lumen::internal
