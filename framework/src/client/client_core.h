// The client core: the lumen API (Submit, Put, Get, Wait, Cancel, refs, actor
// calls) as a client of a node, written once. Every worker process runs one;
// a driver that joins a cluster will run the same. What it submits it names
// (the task id is made here), and its reference changes ride on its next
// message to the node: additions before it, removals after, so an object it
// hands on is never freed in between (or, in the driver, they go at once).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "client/node_link.h"
#include "lumen/internal/core.h"
#include "lumen/storage/object_store.h"

namespace lumen::internal {

class ClientCore : public Core {
 public:
  // When a client's references change.
  enum class Refs {
    kBatched,  // on the next message (a worker: it sends one at least per task)
    kAtOnce,   // each by itself (the embedded driver: a call, no socket, and it may idle for long)
  };
  // `link` outlives the core; `store` is the node's object store.
  ClientCore(NodeLink& link, std::shared_ptr<storage::ObjectStore> store, Refs refs = Refs::kBatched);

  ObjectID Submit(TaskSpec spec) override;
  ObjectID Put(const codec::Encoded& encoded, std::vector<ObjectID> nested_refs) override;
  std::vector<ObjectData> Get(const std::vector<ObjectID>& ids, int64_t timeout_ms) override;
  std::vector<bool> Wait(const std::vector<ObjectID>& ids, int num_objects, int64_t timeout_ms) override;
  void AddRef(const ObjectID& id) override;
  void RemoveRef(const ObjectID& id) override;
  void Cancel(const ObjectID& id) override;
  ActorID CreateActor(TaskSpec factory, ActorOptions options) override;
  void KillActor(const ActorID& id, bool no_restart) override;
  std::optional<ActorID> GetNamedActor(const std::string& name, const std::string& ns) override;

  // Sends `message` after the pending reference additions; the removals
  // follow it, or (removals_after false) wait for a later message.
  void Send(Message message, bool removals_after = true);
  // Sends the pending reference changes, if any (a client going idle).
  void FlushRefs();
  // An object's value stored as a payload (inline or in the store), and a
  // payload's bytes (pinned while the result lives).
  Payload Store(const ObjectID& id, const codec::Encoded& encoded, std::vector<ObjectID> nested_refs,
                bool reconstructable = false);
  ObjectData Resolve(const ObjectID& id, const Payload& payload);

 private:
  // Sends a request and waits for its reply.
  Message Call(Message request, uint64_t id);
  std::vector<Payload> GetPayloads(const std::vector<ObjectID>& ids, int64_t timeout_ms);
  // What a plain task asks of the cluster beyond the default (resources, a
  // placement group, a node), as a key; "" for nothing beyond it.
  static std::string DemandOf(const TaskSpec& spec);

  NodeLink& link_;
  std::shared_ptr<storage::ObjectStore> store_;
  const Refs refs_;
  std::atomic<uint64_t> next_request_{1};
  // Guards added_ and removed_. Held while a message and the reference
  // changes before it go to the link, so no thread's removal overtakes
  // another's addition.
  std::mutex refs_mu_;
  std::vector<ObjectID> added_, removed_;
  // Demands (DemandOf) the node accepted once: later tasks asking the same
  // are sent without waiting for an answer. A first one waits, so that
  // demand the cluster can never meet is refused at Remote.
  std::mutex demands_mu_;
  std::unordered_set<std::string> accepted_demands_;
};

}  // namespace lumen::internal
