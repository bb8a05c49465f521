#include "client/client_core.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "lumen/errors.h"
#include "protocol/payloads.h"
#include "runtime/demangle.h"
#include "runtime/validation.h"

namespace lumen::internal {

ClientCore::ClientCore(NodeLink& link, std::shared_ptr<storage::ObjectStore> store, Refs refs)
    : link_(link), store_(std::move(store)), refs_(refs) {}

std::string ClientCore::DemandOf(const TaskSpec& spec) {
  if (!spec.actor.IsNil() || (spec.resources.empty() && spec.placement_group.empty() && spec.node_affinity.empty()))
    return "";
  std::string key;
  for (const auto& [name, amount] : spec.resources) {  // the amount's exact bits: 0.0001 and 0.00011 differ
    key += name + "=";
    key.append(reinterpret_cast<const char*>(&amount), sizeof amount);
  }
  key += "|" + spec.placement_group + "#" + std::to_string(spec.bundle_index);
  key += "|" + spec.node_affinity + (spec.node_affinity_soft ? "~" : "");
  return key;
}

// A demand not seen before waits for the node's answer (one round trip per
// demand and process): refused, it throws here (InfeasibleError, or Error
// for a placement group or node that cannot take it) and nothing was submitted.
ObjectID ClientCore::Submit(TaskSpec spec) {
  CheckTask(spec);
  std::vector<ObjectID> promoted = TransferredRefs(spec.args);
  TaskID id = TaskID::Random();
  if (spec.name.empty()) spec.name = spec.function;
  std::string demand = DemandOf(spec);
  bool ask = false;
  if (!demand.empty()) {
    std::lock_guard lock(demands_mu_);
    ask = !accepted_demands_.count(demand);
  }
  if (ask) {
    uint64_t request = next_request_++;
    auto reply = std::get<SubmitReplyMsg>(Call(SubmitMsg{id, std::move(spec), request}, request));
    if (reply.error.kind != ErrorKind::kNone) ThrowObjectError(reply.error);  // the caller keeps its references
    std::lock_guard lock(demands_mu_);
    accepted_demands_.insert(demand);
  } else {
    Send(SubmitMsg{id, std::move(spec)});
  }
  for (const ObjectID& arg : promoted) RemoveRef(arg);  // the task pins them now
  return ObjectID::ForTaskReturn(id, 0);
}

ObjectID ClientCore::Put(const codec::Encoded& encoded, std::vector<ObjectID> nested_refs) {
  ObjectID id = ObjectID::ForPut();
  Payload p = Store(id, encoded, std::move(nested_refs));
  if (p.kind == Payload::kError) ThrowObjectError(p.error);
  Send(PutMsg{id, std::move(p)});
  return id;
}

std::vector<Payload> ClientCore::GetPayloads(const std::vector<ObjectID>& ids, int64_t timeout_ms) {
  uint64_t request = next_request_++;
  auto reply = std::get<GetReplyMsg>(Call(GetMsg{request, ids, timeout_ms}, request));
  if (reply.timed_out)
    throw GetTimeoutError("Get timed out after " + std::to_string(timeout_ms) + " ms: " +
                          std::to_string(reply.not_ready) + " of " + std::to_string(ids.size()) +
                          " objects not ready");
  if (reply.payloads.size() != ids.size()) throw Error("the node answered a Get with the wrong number of objects");
  return std::move(reply.payloads);
}

namespace {
constexpr auto kEvictedRetryWithin = std::chrono::seconds(5);
}  // namespace

std::vector<ObjectData> ClientCore::Get(const std::vector<ObjectID>& ids, int64_t timeout_ms) {
  std::vector<Payload> payloads = GetPayloads(ids, timeout_ms);
  std::vector<ObjectData> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    // Evicted between the node's answer and this read: ask again, and the
    // node rebuilds it once it has heard of the eviction (the store tells it
    // as it makes room, on its own thread: on a loaded machine that can take
    // a while, so the bound is time, not a count of tries).
    auto give_up = std::chrono::steady_clock::now() + kEvictedRetryWithin;
    for (auto pause = std::chrono::milliseconds(1);; pause = std::min(pause * 2, std::chrono::milliseconds(50))) {
      try {
        out.push_back(Resolve(ids[i], payloads[i]));
        break;
      } catch (const ObjectLostError&) {
        if (payloads[i].kind != Payload::kInStore || std::chrono::steady_clock::now() > give_up) throw;
      }
      std::this_thread::sleep_for(pause);
      payloads[i] = std::move(GetPayloads({ids[i]}, timeout_ms)[0]);
    }
  }
  return out;
}

std::vector<bool> ClientCore::Wait(const std::vector<ObjectID>& ids, int num_objects, int64_t timeout_ms) {
  uint64_t request = next_request_++;
  auto reply = std::get<WaitReplyMsg>(Call(WaitMsg{request, ids, num_objects, timeout_ms}, request));
  if (reply.ready.size() != ids.size()) throw Error("the node answered a Wait with the wrong number of objects");
  return reply.ready;
}

void ClientCore::AddRef(const ObjectID& id) {
  if (refs_ == Refs::kAtOnce) {
    Message refs = RefsMsg{{id}, {}};
    return link_.Send({&refs, 1});
  }
  std::lock_guard lock(refs_mu_);
  added_.push_back(id);
}

void ClientCore::RemoveRef(const ObjectID& id) {
  if (refs_ == Refs::kAtOnce) {
    Message refs = RefsMsg{{}, {id}};
    return link_.Send({&refs, 1});
  }
  std::lock_guard lock(refs_mu_);
  removed_.push_back(id);
}

void ClientCore::Cancel(const ObjectID& id) { Send(CancelMsg{id}); }

// The node creates the actor, or refuses at once (a name taken: lumen::Error;
// more resources than the cluster has: InfeasibleError) here. A failure later (its factory threw)
// makes the actor dead with that cause (its calls fail with ActorDiedError).
ActorID ClientCore::CreateActor(TaskSpec factory, ActorOptions options) {
  options.class_name = Demangle(options.class_name);  // typeid's name, as templates give it
  CheckActor(factory, options);
  std::vector<ObjectID> by_ref;
  for (const TaskArg& arg : factory.args)
    if (arg.by_ref) by_ref.push_back(arg.ref);
  if (!by_ref.empty()) Get(by_ref, -1);  // ready before the factory runs
  std::vector<ObjectID> promoted = TransferredRefs(factory.args);
  ActorID id = ActorID::Random();
  uint64_t request = next_request_++;
  auto reply = std::get<CreateActorReplyMsg>(Call(CreateActorMsg{request, id, std::move(factory), std::move(options)}, request));
  for (const ObjectID& arg : promoted) RemoveRef(arg);  // the actor pins them now
  if (!reply.error.empty()) ThrowObjectError({reply.kind, reply.error, ""});
  return id;
}

void ClientCore::KillActor(const ActorID& id, bool no_restart) { Send(KillActorMsg{id, no_restart}); }

std::optional<ActorID> ClientCore::GetNamedActor(const std::string& name, const std::string& ns) {
  uint64_t request = next_request_++;
  auto reply = std::get<LookupReplyMsg>(Call(LookupActorMsg{request, name, ns}, request));
  if (!reply.found) return std::nullopt;
  return reply.actor;
}

void ClientCore::Send(Message message, bool removals_after) {
  std::lock_guard lock(refs_mu_);
  if (added_.empty() && (!removals_after || removed_.empty())) return link_.Send({&message, 1});
  std::vector<Message> batch;
  if (!added_.empty()) batch.push_back(RefsMsg{std::exchange(added_, {}), {}});
  batch.push_back(std::move(message));
  if (removals_after && !removed_.empty()) batch.push_back(RefsMsg{{}, std::exchange(removed_, {})});
  link_.Send(batch);
}

void ClientCore::FlushRefs() {
  std::lock_guard lock(refs_mu_);
  if (added_.empty() && removed_.empty()) return;
  Message refs = RefsMsg{std::exchange(added_, {}), std::exchange(removed_, {})};
  link_.Send({&refs, 1});
}

Message ClientCore::Call(Message request, uint64_t id) {
  Send(std::move(request));
  return link_.AwaitReply(id);
}

Payload ClientCore::Store(const ObjectID& id, const codec::Encoded& encoded, std::vector<ObjectID> nested_refs,
                          bool reconstructable) {
  return StorePayload(*store_, id, encoded, std::move(nested_refs), reconstructable);
}

ObjectData ClientCore::Resolve(const ObjectID& id, const Payload& payload) {
  return ResolvePayload(store_, id, payload);
}

}  // namespace lumen::internal
