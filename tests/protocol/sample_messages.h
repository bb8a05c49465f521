// Messages of every type with non-trivial values, and a field-by-field
// comparison: the round-trip test checks the schema mapping with them, and
// the fuzz tests mutate their encodings (mutations of valid frames reach far
// deeper into the decoder than random words do).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "protocol/messages.h"

namespace lumen::internal::testing {

inline BytesPtr BytesOf(const std::string& s) {
  auto bytes = std::make_shared<Bytes>(s.size());
  if (!s.empty()) std::memcpy(bytes->data(), s.data(), s.size());
  return bytes;
}

inline std::string StringOf(const BytesPtr& bytes) {
  if (!bytes) return "<null>";
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

// Distinct, recognisable ids: every byte derived from `seed`.
template <class ID>
ID IdOf(uint8_t seed) {
  uint8_t raw[ID::kSize];
  for (size_t i = 0; i < ID::kSize; ++i) raw[i] = static_cast<uint8_t>(seed * 31 + i);
  return ID::FromBinary(raw);
}

inline Payload InlinePayload() {
  Payload p;
  p.kind = Payload::kInline;
  p.bytes = BytesOf(std::string("inline\0bytes\xff", 13));
  p.size = p.bytes->size();
  p.nested_refs = {IdOf<ObjectID>(1), IdOf<ObjectID>(2)};
  return p;
}

inline Payload InStorePayload() {
  Payload p;
  p.kind = Payload::kInStore;
  p.size = uint64_t{5} << 33;
  p.nested_refs = {IdOf<ObjectID>(3)};
  return p;
}

inline Payload ErrorPayload() {
  Payload p;
  p.kind = Payload::kError;
  p.error = {ErrorKind::kTask, "task 'f' threw: boom", "std::out_of_range"};
  return p;
}

inline TaskSpec SampleSpec(bool actor_call) {
  TaskSpec spec;
  if (actor_call) spec.actor = IdOf<ActorID>(40);
  spec.function = "module::function";
  spec.name = "a name";
  spec.max_retries = -1;
  spec.retry_exceptions = true;
  spec.resources = {{"CPU", 1.5}, {"GPU", 0.25}, {"custom", 1e9}};
  spec.placement_group = "pg-17";
  spec.bundle_index = 2;
  spec.node_affinity = "node-b";
  spec.node_affinity_soft = true;
  spec.spread = true;
  TaskArg by_ref;
  by_ref.by_ref = true;
  by_ref.ref = IdOf<ObjectID>(41);
  TaskArg by_value;
  by_value.value.bytes = BytesOf("by value");
  by_value.value.nested_refs = {IdOf<ObjectID>(42), IdOf<ObjectID>(43)};
  TaskArg empty_value;
  empty_value.value.bytes = std::make_shared<Bytes>(0);
  spec.args = {by_ref, by_value, empty_value};
  return spec;
}

inline ActorOptions SampleOptions(std::optional<bool> detached) {
  ActorOptions o;
  o.class_name = "Counter";
  o.max_restarts = 4;
  o.max_task_retries = -1;
  o.max_concurrency = 8;
  o.name = "counter";
  o.ns = "jobs";
  o.detached = detached;
  o.replay_on_restart = true;
  o.checkpoint_method = "Counter::Snapshot";
  o.restore_function = "Counter::Restore";
  o.checkpoint_every = 25;
  return o;
}

inline ExecuteMsg SampleExecute(ExecKind kind) {
  ExecuteMsg m;
  m.kind = kind;
  m.seq = 0x123456789abcdefULL;
  m.actor = IdOf<ActorID>(10);
  m.restarted = true;
  m.max_concurrency = 7;
  m.id = IdOf<TaskID>(11);
  m.function = "Counter::Add";
  m.name = "add";
  m.gpu_ids = {0, 3};
  ExecuteMsg::Arg in_line;
  in_line.bytes = BytesOf("arg bytes");
  in_line.size = in_line.bytes->size();
  ExecuteMsg::Arg stored;
  stored.in_store = true;
  stored.id = IdOf<ObjectID>(12);
  stored.size = 1 << 20;
  m.args = {in_line, stored};
  return m;
}

// Every message type at least once, with each variant of its unions and enums.
inline std::vector<Message> SampleMessages() {
  std::vector<Message> all;
  all.push_back(SampleExecute(ExecKind::kTask));
  all.push_back(SampleExecute(ExecKind::kCreateActor));
  all.push_back(SampleExecute(ExecKind::kActorCall));
  all.push_back(GetReplyMsg{77, false, {InlinePayload(), InStorePayload(), ErrorPayload()}});
  all.push_back(GetReplyMsg{78, true, {}, 2});
  all.push_back(WaitReplyMsg{79, {true, false, false, true, true}});
  all.push_back(LookupReplyMsg{80, true, IdOf<ActorID>(13)});
  all.push_back(CreateActorReplyMsg{84, ""});
  all.push_back(CreateActorReplyMsg{85, "an actor named 'counter' already exists"});
  all.push_back(CreateActorReplyMsg{92, "actor 'Gpu' asks for {GPU: 4}", ErrorKind::kInfeasible});
  all.push_back(SubmitReplyMsg{89, {}});
  all.push_back(SubmitReplyMsg{90, {ErrorKind::kInfeasible, "task 'f' asks for {GPU: 2}", ""}});
  all.push_back(TaskDoneMsg{IdOf<TaskID>(14), InlinePayload()});
  all.push_back(TaskDoneMsg{IdOf<TaskID>(15), ErrorPayload()});
  all.push_back(ReturnTasksMsg{{IdOf<TaskID>(16), IdOf<TaskID>(17)}});
  all.push_back(SubmitMsg{IdOf<TaskID>(18), SampleSpec(false)});
  all.push_back(SubmitMsg{IdOf<TaskID>(19), SampleSpec(true), 91});
  all.push_back(GetMsg{81, {IdOf<ObjectID>(20), IdOf<ObjectID>(21)}, 2500});
  all.push_back(WaitMsg{82, {IdOf<ObjectID>(22), IdOf<ObjectID>(23), IdOf<ObjectID>(24)}, 2, -1});
  all.push_back(PutMsg{IdOf<ObjectID>(25), InStorePayload()});
  all.push_back(RefsMsg{{IdOf<ObjectID>(26)}, {IdOf<ObjectID>(27), IdOf<ObjectID>(28)}});
  all.push_back(CancelMsg{IdOf<ObjectID>(29)});
  all.push_back(CreateActorMsg{86, IdOf<ActorID>(30), SampleSpec(false), SampleOptions(std::nullopt)});
  all.push_back(CreateActorMsg{87, IdOf<ActorID>(31), SampleSpec(false), SampleOptions(true)});
  all.push_back(CreateActorMsg{88, IdOf<ActorID>(32), SampleSpec(false), SampleOptions(false)});
  all.push_back(KillActorMsg{IdOf<ActorID>(33), true});
  all.push_back(LookupActorMsg{83, "counter", "jobs"});
  all.push_back(ActorExitMsg{});
  all.push_back(JoinMsg{89, "5ec2e7", "/opt/app/driver", {"/opt/app/driver", "--rounds", "3"}, "jobs", true});
  all.push_back(JoinReplyMsg{90, "", "job-7", 7, "node-1", {{"CPU", 4}, {"GPU", 0.5}}});
  all.push_back(JoinReplyMsg{91, "the cluster refused to let this driver join", "", 0, "", {}});
  all.push_back(FlushMsg{92});
  all.push_back(FlushReplyMsg{93, "the lineage log could not make everything durable"});
  all.push_back(RegisterNodeMsg{94, "5ec2e7", "node-2", "/run/n2/node.sock", "/run/n2/store.sock", {{"CPU", 8}}, 4242,
                                "9f3a77c2e01b4d58"});
  all.push_back(RegisterNodeReplyMsg{95, ""});
  all.push_back(PingMsg{});
  all.push_back(PongMsg{});
  all.push_back(GoodbyeMsg{"the head stops (lumen stop)"});
  all.push_back(NodeLoadMsg{3, 2});
  PlacementGroupCreationOptions spread{"pg", {{{"CPU", 1}, {"GPU", 0.5}}, {{"CPU", 2}}}, PlacementStrategy::SPREAD};
  PlacementGroupCreationOptions strict{"", {{{"custom", 1e6}}}, PlacementStrategy::STRICT_SPREAD};
  all.push_back(CreatePlacementGroupMsg{96, spread});
  all.push_back(CreatePlacementGroupMsg{97, strict});
  all.push_back(RemovePlacementGroupMsg{98, IdOf<TaskID>(50)});
  all.push_back(PlacementGroupQueryMsg{99, PlacementGroupQueryMsg::kId, IdOf<TaskID>(51), ""});
  all.push_back(PlacementGroupQueryMsg{100, PlacementGroupQueryMsg::kName, TaskID(), "pg"});
  all.push_back(PlacementGroupQueryMsg{101, PlacementGroupQueryMsg::kAll, TaskID(), ""});
  all.push_back(PlacementGroupReplyMsg{102, "", ErrorKind::kBadCall,
                                       {{IdOf<TaskID>(52), spread, PlacementGroupState::CREATED},
                                        {IdOf<TaskID>(53), strict, PlacementGroupState::PENDING},
                                        {IdOf<TaskID>(54), {"gone", {{{"CPU", 1}}}, PlacementStrategy::PACK},
                                         PlacementGroupState::REMOVED}}});
  all.push_back(PlacementGroupReplyMsg{103, "CreatePlacementGroup: a placement group named 'pg' already exists",
                                       ErrorKind::kBadCall, {}});
  all.push_back(PlacementGroupReplyMsg{104, "placement group 'big' asks for {CPU: 64}", ErrorKind::kInfeasible, {}});
  all.push_back(PrepareBundlesMsg{12, "group-1", {{0, {{"CPU", 1}}}, {2, {{"GPU", 0.5}, {"red", 2}}}}});
  all.push_back(PrepareBundlesReplyMsg{12, "node 'a' has not {CPU: 1} free now"});
  all.push_back(CommitBundlesMsg{"group-1", {0, 2}});
  all.push_back(ReturnBundlesMsg{"group-1", {}, true});
  return all;
}

// The body of a frame (what DecodeFrame takes), word-aligned.
inline std::vector<uint64_t> BodyOf(const Message& message) {
  std::string frame = EncodeFrame(message);
  std::vector<uint64_t> words((frame.size() - kFrameHeaderBytes) / 8);
  std::memcpy(words.data(), frame.data() + kFrameHeaderBytes, words.size() * 8);
  return words;
}

}  // namespace lumen::internal::testing
