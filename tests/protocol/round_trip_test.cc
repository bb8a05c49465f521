// Every message encodes and decodes back to equal values: a field missed or
// swapped in messages.cc's mapping to the schema shows up here.
#include <gtest/gtest.h>

#include <set>

#include "runtime/current_core.h"
#include "sample_messages.h"

namespace lumen::internal::testing {
namespace {

// Field-by-field, so a failure names the field that differs.
void ExpectSame(const Payload& want, const Payload& got) {
  EXPECT_EQ(want.kind, got.kind);
  EXPECT_EQ(want.size, got.size);
  if (want.kind == Payload::kInline) {
    EXPECT_EQ(StringOf(want.bytes), StringOf(got.bytes));
  }
  EXPECT_EQ(want.error.kind, got.error.kind);
  EXPECT_EQ(want.error.message, got.error.message);
  EXPECT_EQ(want.error.exception_type, got.error.exception_type);
  EXPECT_EQ(want.nested_refs, got.nested_refs);
}

void ExpectSame(const TaskSpec& want, const TaskSpec& got) {
  EXPECT_EQ(want.actor, got.actor);
  EXPECT_EQ(want.function, got.function);
  EXPECT_EQ(want.name, got.name);
  EXPECT_EQ(want.max_retries, got.max_retries);
  EXPECT_EQ(want.retry_exceptions, got.retry_exceptions);
  EXPECT_EQ(want.resources, got.resources);
  EXPECT_EQ(want.placement_group, got.placement_group);
  EXPECT_EQ(want.bundle_index, got.bundle_index);
  EXPECT_EQ(want.node_affinity, got.node_affinity);
  EXPECT_EQ(want.node_affinity_soft, got.node_affinity_soft);
  EXPECT_EQ(want.spread, got.spread);
  ASSERT_EQ(want.args.size(), got.args.size());
  for (size_t i = 0; i < want.args.size(); ++i) {
    SCOPED_TRACE("argument " + std::to_string(i));
    EXPECT_EQ(want.args[i].by_ref, got.args[i].by_ref);
    if (want.args[i].by_ref) {
      EXPECT_EQ(want.args[i].ref, got.args[i].ref);
    } else {
      EXPECT_EQ(StringOf(want.args[i].value.bytes), StringOf(got.args[i].value.bytes));
      EXPECT_EQ(want.args[i].value.nested_refs, got.args[i].value.nested_refs);
    }
  }
}

void ExpectSame(const ExecuteMsg& want, const ExecuteMsg& got) {
  EXPECT_EQ(want.kind, got.kind);
  EXPECT_EQ(want.seq, got.seq);
  EXPECT_EQ(want.actor, got.actor);
  EXPECT_EQ(want.restarted, got.restarted);
  EXPECT_EQ(want.max_concurrency, got.max_concurrency);
  EXPECT_EQ(want.id, got.id);
  EXPECT_EQ(want.function, got.function);
  EXPECT_EQ(want.name, got.name);
  EXPECT_EQ(want.gpu_ids, got.gpu_ids);
  ASSERT_EQ(want.args.size(), got.args.size());
  for (size_t i = 0; i < want.args.size(); ++i) {
    SCOPED_TRACE("argument " + std::to_string(i));
    EXPECT_EQ(want.args[i].in_store, got.args[i].in_store);
    EXPECT_EQ(want.args[i].size, got.args[i].size);
    if (want.args[i].in_store) {
      EXPECT_EQ(want.args[i].id, got.args[i].id);
    } else {
      EXPECT_EQ(StringOf(want.args[i].bytes), StringOf(got.args[i].bytes));
    }
  }
}

void ExpectSame(const GetReplyMsg& want, const GetReplyMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.timed_out, got.timed_out);
  EXPECT_EQ(want.not_ready, got.not_ready);
  ASSERT_EQ(want.payloads.size(), got.payloads.size());
  for (size_t i = 0; i < want.payloads.size(); ++i) ExpectSame(want.payloads[i], got.payloads[i]);
}

void ExpectSame(const WaitReplyMsg& want, const WaitReplyMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.ready, got.ready);
}

void ExpectSame(const LookupReplyMsg& want, const LookupReplyMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.found, got.found);
  EXPECT_EQ(want.actor, got.actor);
}

void ExpectSame(const CreateActorReplyMsg& want, const CreateActorReplyMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.error, got.error);
  EXPECT_EQ(want.kind, got.kind);
}

void ExpectSame(const SubmitReplyMsg& want, const SubmitReplyMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.error.kind, got.error.kind);
  EXPECT_EQ(want.error.message, got.error.message);
  EXPECT_EQ(want.error.exception_type, got.error.exception_type);
}

void ExpectSame(const TaskDoneMsg& want, const TaskDoneMsg& got) {
  EXPECT_EQ(want.id, got.id);
  ExpectSame(want.result, got.result);
}

void ExpectSame(const ReturnTasksMsg& want, const ReturnTasksMsg& got) { EXPECT_EQ(want.ids, got.ids); }

void ExpectSame(const SubmitMsg& want, const SubmitMsg& got) {
  EXPECT_EQ(want.id, got.id);
  EXPECT_EQ(want.request, got.request);
  ExpectSame(want.spec, got.spec);
}

void ExpectSame(const GetMsg& want, const GetMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.ids, got.ids);
  EXPECT_EQ(want.timeout_ms, got.timeout_ms);
}

void ExpectSame(const WaitMsg& want, const WaitMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.ids, got.ids);
  EXPECT_EQ(want.num_objects, got.num_objects);
  EXPECT_EQ(want.timeout_ms, got.timeout_ms);
}

void ExpectSame(const PutMsg& want, const PutMsg& got) {
  EXPECT_EQ(want.id, got.id);
  ExpectSame(want.payload, got.payload);
}

void ExpectSame(const RefsMsg& want, const RefsMsg& got) {
  EXPECT_EQ(want.added, got.added);
  EXPECT_EQ(want.removed, got.removed);
}

void ExpectSame(const CancelMsg& want, const CancelMsg& got) { EXPECT_EQ(want.id, got.id); }

void ExpectSame(const CreateActorMsg& want, const CreateActorMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.id, got.id);
  ExpectSame(want.factory, got.factory);
  const ActorOptions &w = want.options, &g = got.options;
  EXPECT_EQ(w.class_name, g.class_name);
  EXPECT_EQ(w.max_restarts, g.max_restarts);
  EXPECT_EQ(w.max_task_retries, g.max_task_retries);
  EXPECT_EQ(w.max_concurrency, g.max_concurrency);
  EXPECT_EQ(w.name, g.name);
  EXPECT_EQ(w.ns, g.ns);
  EXPECT_EQ(w.detached, g.detached);
  EXPECT_EQ(w.replay_on_restart, g.replay_on_restart);
  EXPECT_EQ(w.checkpoint_method, g.checkpoint_method);
  EXPECT_EQ(w.restore_function, g.restore_function);
  EXPECT_EQ(w.checkpoint_every, g.checkpoint_every);
}

void ExpectSame(const KillActorMsg& want, const KillActorMsg& got) {
  EXPECT_EQ(want.id, got.id);
  EXPECT_EQ(want.no_restart, got.no_restart);
}

void ExpectSame(const LookupActorMsg& want, const LookupActorMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.name, got.name);
  EXPECT_EQ(want.ns, got.ns);
}

void ExpectSame(const ActorExitMsg&, const ActorExitMsg&) {}
void ExpectSame(const PingMsg&, const PingMsg&) {}
void ExpectSame(const PongMsg&, const PongMsg&) {}
void ExpectSame(const GoodbyeMsg& want, const GoodbyeMsg& got) { EXPECT_EQ(want.why, got.why); }
void ExpectSame(const NodeLoadMsg& want, const NodeLoadMsg& got) {
  EXPECT_EQ(want.workers, got.workers);
  EXPECT_EQ(want.running_tasks, got.running_tasks);
}

void ExpectSame(const JoinMsg& want, const JoinMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.secret, got.secret);
  EXPECT_EQ(want.binary, got.binary);
  EXPECT_EQ(want.argv, got.argv);
  EXPECT_EQ(want.ns, got.ns);
  EXPECT_EQ(want.detached_by_default, got.detached_by_default);
}

void ExpectSame(const JoinReplyMsg& want, const JoinReplyMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.error, got.error);
  EXPECT_EQ(want.ns, got.ns);
  EXPECT_EQ(want.job, got.job);
  EXPECT_EQ(want.node_name, got.node_name);
  EXPECT_EQ(want.resources, got.resources);
}

void ExpectSame(const FlushMsg& want, const FlushMsg& got) { EXPECT_EQ(want.request, got.request); }

void ExpectSame(const RegisterNodeMsg& want, const RegisterNodeMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.secret, got.secret);
  EXPECT_EQ(want.name, got.name);
  EXPECT_EQ(want.node_socket, got.node_socket);
  EXPECT_EQ(want.store_socket, got.store_socket);
  EXPECT_EQ(want.resources, got.resources);
  EXPECT_EQ(want.pid, got.pid);
  EXPECT_EQ(want.instance, got.instance);
}

void ExpectSame(const RegisterNodeReplyMsg& want, const RegisterNodeReplyMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.error, got.error);
}

void ExpectSame(const FlushReplyMsg& want, const FlushReplyMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.error, got.error);
}

void ExpectSame(const PlacementGroupCreationOptions& want, const PlacementGroupCreationOptions& got) {
  EXPECT_EQ(want.name, got.name);
  EXPECT_EQ(want.bundles, got.bundles);
  EXPECT_EQ(want.strategy, got.strategy);
}

void ExpectSame(const CreatePlacementGroupMsg& want, const CreatePlacementGroupMsg& got) {
  EXPECT_EQ(want.request, got.request);
  ExpectSame(want.options, got.options);
}

void ExpectSame(const RemovePlacementGroupMsg& want, const RemovePlacementGroupMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.id, got.id);
}

void ExpectSame(const PlacementGroupQueryMsg& want, const PlacementGroupQueryMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.by, got.by);
  EXPECT_EQ(want.id, got.id);
  EXPECT_EQ(want.name, got.name);
}

void ExpectSame(const PlacementGroupReplyMsg& want, const PlacementGroupReplyMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.error, got.error);
  EXPECT_EQ(want.kind, got.kind);
  ASSERT_EQ(want.groups.size(), got.groups.size());
  for (size_t i = 0; i < want.groups.size(); ++i) {
    EXPECT_EQ(want.groups[i].id, got.groups[i].id);
    ExpectSame(want.groups[i].options, got.groups[i].options);
    EXPECT_EQ(want.groups[i].state, got.groups[i].state);
  }
}

void ExpectSame(const PrepareBundlesMsg& want, const PrepareBundlesMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.group, got.group);
  EXPECT_EQ(want.bundles, got.bundles);
}

void ExpectSame(const PrepareBundlesReplyMsg& want, const PrepareBundlesReplyMsg& got) {
  EXPECT_EQ(want.request, got.request);
  EXPECT_EQ(want.error, got.error);
}

void ExpectSame(const CommitBundlesMsg& want, const CommitBundlesMsg& got) {
  EXPECT_EQ(want.group, got.group);
  EXPECT_EQ(want.indices, got.indices);
}

void ExpectSame(const ReturnBundlesMsg& want, const ReturnBundlesMsg& got) {
  EXPECT_EQ(want.group, got.group);
  EXPECT_EQ(want.indices, got.indices);
  EXPECT_EQ(want.removed, got.removed);
}

TEST(FrameRoundTrip, EveryMessageTypeDecodesToWhatWasEncoded) {
  std::set<size_t> types_seen;
  for (const Message& sent : SampleMessages()) {
    SCOPED_TRACE("message type " + std::to_string(sent.index()));
    types_seen.insert(sent.index());
    std::vector<uint64_t> body = BodyOf(sent);
    Message got = DecodeFrame(body.data(), body.size());
    ASSERT_EQ(sent.index(), got.index());
    std::visit([&](const auto& want) { ExpectSame(want, std::get<std::decay_t<decltype(want)>>(got)); }, sent);
  }
  EXPECT_EQ(types_seen.size(), std::variant_size_v<Message>) << "a message type has no sample";
}

TEST(FrameRoundTrip, HeaderIsTheBodySizeInBytes) {
  for (const Message& sent : SampleMessages()) {
    std::string frame = EncodeFrame(sent);
    uint64_t header;
    std::memcpy(&header, frame.data(), sizeof header);
    EXPECT_EQ(header, frame.size() - kFrameHeaderBytes);
    EXPECT_EQ(header % 8, 0u);
  }
}

// Frames too large for the encoder's scratch segment take the other path.
TEST(FrameRoundTrip, LargeInlinePayloadSurvives) {
  Payload p;
  p.bytes = BytesOf(std::string(kMaxInlineBytes, 'x') + "end");
  p.size = p.bytes->size();
  std::vector<uint64_t> body = BodyOf(PutMsg{IdOf<ObjectID>(50), p});
  Message got = DecodeFrame(body.data(), body.size());
  ExpectSame(p, std::get<PutMsg>(got).payload);
}

// Bytes left unset (a default Payload, an argument without a value) encode
// as empty ones rather than dereferencing null.
TEST(FrameRoundTrip, UnsetBytesEncodeAsEmpty) {
  std::vector<uint64_t> body = BodyOf(PutMsg{IdOf<ObjectID>(51), Payload{}});
  Payload got = std::get<PutMsg>(DecodeFrame(body.data(), body.size())).payload;
  EXPECT_EQ(got.kind, Payload::kInline);
  EXPECT_EQ(StringOf(got.bytes), "");
  ExecuteMsg execute;
  execute.args.resize(1);
  SubmitMsg submit;
  submit.spec.args.resize(1);
  for (const Message& m : {Message{execute}, Message{submit}}) {
    body = BodyOf(m);
    EXPECT_NO_THROW(DecodeFrame(body.data(), body.size()));
  }
}

}  // namespace
}  // namespace lumen::internal::testing
