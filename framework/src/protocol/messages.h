// The messages of the node's protocol (schema/frames.capnp) as C++ values,
// and the one place that turns them into frames and back. A frame read from
// a peer is untrusted: DecodeFrame checks every bound (Cap'n Proto's readers)
// and every id size and enum value, and throws ProtocolError on anything
// malformed; the reader then ends that connection, never the process.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "lumen/internal/core.h"
#include "lumen/placement_group.h"
#include "lumen/storage/object_id.h"
#include "protocol/error_table.h"

namespace lumen::internal {

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An object's value (or failure) as it crosses the wire.
struct Payload {
  enum Kind : uint8_t { kInline = 0, kInStore = 1, kError = 2 } kind = kInline;
  BytesPtr bytes;             // kInline
  uint64_t size = 0;          // kInline and kInStore
  ObjectError error;          // kError
  std::vector<ObjectID> nested_refs;
};

// ---- node -> client

enum class ExecKind : uint8_t { kTask = 0, kCreateActor = 1, kActorCall = 2 };

struct ExecuteMsg {
  struct Arg {
    bool in_store = false;
    ObjectID id;              // in_store
    uint64_t size = 0;
    BytesPtr bytes;           // !in_store
  };
  ExecKind kind = ExecKind::kTask;
  uint64_t seq = 0;           // kTask: claimed before it runs (ClaimSlots); 0 = always ours
  ActorID actor;              // kCreateActor
  bool restarted = false;     // kCreateActor
  int max_concurrency = 1;    // kCreateActor
  TaskID id;
  std::string function;
  std::string name;
  std::vector<Arg> args;
  std::vector<int> gpu_ids;   // kTask, kCreateActor: the GPUs granted
};
struct GetReplyMsg {
  uint64_t request = 0;
  bool timed_out = false;
  std::vector<Payload> payloads;
  uint32_t not_ready = 0;  // timed out: how many were still pending
};
struct WaitReplyMsg {
  uint64_t request = 0;
  std::vector<bool> ready;
};
struct LookupReplyMsg {
  uint64_t request = 0;
  bool found = false;
  ActorID actor;
};
struct CreateActorReplyMsg {
  uint64_t request = 0;
  std::string error;  // empty: created
  ErrorKind kind = ErrorKind::kBadCall;  // refused: how (kInfeasible: more than the cluster has)
};
struct SubmitReplyMsg {
  uint64_t request = 0;
  ObjectError error;  // kind kNone: accepted
};

struct JoinReplyMsg {
  uint64_t request = 0;
  std::string error;  // empty: joined
  std::string ns;
  uint32_t job = 0;
  std::string node_name;
  std::map<std::string, double> resources;
};
struct FlushReplyMsg {
  uint64_t request = 0;
  std::string error;  // empty: durable
};
struct RegisterNodeReplyMsg {
  uint64_t request = 0;
  std::string error;  // empty: registered
};

// ---- client -> node

struct TaskDoneMsg {
  TaskID id;
  Payload result;
};
struct ReturnTasksMsg {
  std::vector<TaskID> ids;
};
struct SubmitMsg {
  TaskID id;
  TaskSpec spec;
  uint64_t request = 0;  // 0: no answer wanted; else a SubmitReplyMsg says accepted or refused
};
struct GetMsg {
  uint64_t request = 0;
  std::vector<ObjectID> ids;
  int64_t timeout_ms = -1;
};
struct WaitMsg {
  uint64_t request = 0;
  std::vector<ObjectID> ids;
  int num_objects = 0;
  int64_t timeout_ms = -1;
};
struct PutMsg {
  ObjectID id;
  Payload payload;
};
struct RefsMsg {
  std::vector<ObjectID> added;
  std::vector<ObjectID> removed;
};
struct CancelMsg {
  ObjectID id;
};
struct CreateActorMsg {
  uint64_t request = 0;
  ActorID id;
  TaskSpec factory;
  ActorOptions options;
};
struct KillActorMsg {
  ActorID id;
  bool no_restart = false;
};
struct LookupActorMsg {
  uint64_t request = 0;
  std::string name;
  std::string ns;
};
struct ActorExitMsg {};
struct JoinMsg {
  uint64_t request = 0;
  std::string secret;
  std::string binary;
  std::vector<std::string> argv;
  std::string ns;
  bool detached_by_default = false;
};
struct FlushMsg {
  uint64_t request = 0;
};
struct RegisterNodeMsg {
  uint64_t request = 0;
  std::string secret;
  std::string name;
  std::string node_socket;
  std::string store_socket;
  std::map<std::string, double> resources;
  int32_t pid = 0;  // the daemon's, on its own host
  std::string instance;  // the daemon's own id: the same on each of its registrations, no other daemon's
};

// Liveness (heartbeat.h) and a node's farewell to its clients.
struct PingMsg {};
struct PongMsg {};
struct GoodbyeMsg {
  std::string why;
};
// A registered node's ping that says how busy it is (frames.capnp NodeLoad).
struct NodeLoadMsg {
  uint32_t workers = 0;
  uint32_t running_tasks = 0;
};

// Placement groups, asked of the head by a driver that joined its cluster
// (frames.capnp; placement_messages.cc). Group ids are TaskID-sized: the
// table names a group by its id's hex.
struct CreatePlacementGroupMsg {
  uint64_t request = 0;
  PlacementGroupCreationOptions options;
};
struct RemovePlacementGroupMsg {
  uint64_t request = 0;
  TaskID id;
};
struct PlacementGroupQueryMsg {
  enum By : uint8_t { kId = 0, kName = 1, kAll = 2 };
  uint64_t request = 0;
  By by = kAll;
  TaskID id;         // kId
  std::string name;  // kName
};
struct PlacementGroupInfo {
  TaskID id;
  PlacementGroupCreationOptions options;
  PlacementGroupState state = PlacementGroupState::PENDING;
};
struct PlacementGroupReplyMsg {
  uint64_t request = 0;
  std::string error;                     // empty: done
  ErrorKind kind = ErrorKind::kBadCall;  // refused: how (kInfeasible: the cluster can never place it)
  std::vector<PlacementGroupInfo> groups;  // Create: the group made; a query: those it names
};
// A placement group's bundles on a node (frames.capnp PrepareBundles...).
struct PrepareBundlesMsg {
  uint64_t request = 0;
  std::string group;
  std::vector<std::pair<int32_t, std::map<std::string, double>>> bundles;  // index, resources
};
struct PrepareBundlesReplyMsg {
  uint64_t request = 0;
  std::string error;  // empty: held
};
struct CommitBundlesMsg {
  std::string group;
  std::vector<int32_t> indices;
};
struct ReturnBundlesMsg {
  std::string group;
  std::vector<int32_t> indices;  // empty: all
  bool removed = false;
};

using Message = std::variant<ExecuteMsg, GetReplyMsg, WaitReplyMsg, LookupReplyMsg, TaskDoneMsg, ReturnTasksMsg,
                             SubmitMsg, GetMsg, WaitMsg, PutMsg, RefsMsg, CancelMsg, CreateActorMsg, KillActorMsg,
                             LookupActorMsg, ActorExitMsg, CreateActorReplyMsg, JoinMsg, JoinReplyMsg, FlushMsg,
                             FlushReplyMsg, RegisterNodeMsg, RegisterNodeReplyMsg, SubmitReplyMsg, PingMsg, PongMsg,
                             GoodbyeMsg, NodeLoadMsg, CreatePlacementGroupMsg, RemovePlacementGroupMsg,
                             PlacementGroupQueryMsg, PlacementGroupReplyMsg, PrepareBundlesMsg, PrepareBundlesReplyMsg,
                             CommitBundlesMsg, ReturnBundlesMsg>;

// The request a reply answers (its request number), 0 for other messages.
uint64_t RequestAnswered(const Message& message);

// A whole frame, header included, ready to queue on a Connection.
std::string EncodeFrame(const Message& message);
// The message of one frame's body (what follows the header); `words` is
// 8-byte aligned. Throws ProtocolError if it is malformed.
Message DecodeFrame(const uint64_t* words, size_t num_words);

// The frame header: the body's size in bytes (a multiple of 8).
inline constexpr size_t kFrameHeaderBytes = 8;
// A peer announcing a larger body is malformed (objects above the inline
// limit travel through the store, so real frames stay far below this).
inline constexpr uint64_t kMaxFrameBodyBytes = uint64_t{1} << 30;

}  // namespace lumen::internal
