// Each message's encoder and decoder sit together, in the order of the schema.
#include "protocol/messages.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <memory>
#include <optional>

#include "lumen/protocol/frames.capnp.h"
#include "protocol/membership_messages.h"
#include "protocol/message_fields.h"
#include "protocol/placement_messages.h"

namespace lumen::internal {
namespace {

using namespace fields;

// ---- node -> client

void Write(frames::Frame::Builder f, const ExecuteMsg& m) {
  auto b = f.initExecute();
  b.setKind(static_cast<frames::Execute::Kind>(m.kind));
  b.setSeq(m.seq);
  b.setActor(DataOf(m.actor));
  b.setRestarted(m.restarted);
  b.setMaxConcurrency(m.max_concurrency);
  b.setTask(DataOf(m.id));
  b.setFunction(m.function);
  b.setName(m.name);
  auto args = b.initArgs(static_cast<unsigned>(m.args.size()));
  for (size_t i = 0; i < m.args.size(); ++i) {
    if (m.args[i].in_store) {
      auto stored = args[i].initStored();
      stored.setId(DataOf(m.args[i].id));
      stored.setSize(m.args[i].size);
    } else {
      args[i].setInline(DataOf(m.args[i].bytes));
    }
  }
  auto gpus = b.initGpuIds(static_cast<unsigned>(m.gpu_ids.size()));
  for (size_t i = 0; i < m.gpu_ids.size(); ++i) gpus.set(i, m.gpu_ids[i]);
}

ExecuteMsg Read(frames::Execute::Reader r) {
  ExecuteMsg m;
  auto kind = static_cast<uint16_t>(r.getKind());
  if (kind > static_cast<uint16_t>(ExecKind::kActorCall)) Malformed("unknown execute kind");
  m.kind = static_cast<ExecKind>(kind);
  m.seq = r.getSeq();
  m.actor = ReadId<ActorID>(r.getActor(), "an actor id");
  m.restarted = r.getRestarted();
  m.max_concurrency = r.getMaxConcurrency();
  m.id = ReadId<TaskID>(r.getTask(), "a task id");
  m.function = ReadText(r.getFunction());
  m.name = ReadText(r.getName());
  for (auto a : r.getArgs()) {
    ExecuteMsg::Arg arg;
    if (a.which() == frames::Execute::Arg::STORED) {
      arg.in_store = true;
      arg.id = ReadId<ObjectID>(a.getStored().getId(), "an argument's id");
      arg.size = a.getStored().getSize();
    } else if (a.which() == frames::Execute::Arg::INLINE) {
      arg.bytes = ReadBytes(a.getInline());
      arg.size = arg.bytes->size();
    } else {
      Malformed("unknown argument kind");
    }
    m.args.push_back(std::move(arg));
  }
  for (int32_t gpu : r.getGpuIds()) {
    if (gpu < 0) Malformed("a negative GPU id");
    m.gpu_ids.push_back(gpu);
  }
  return m;
}

void Write(frames::Frame::Builder f, const GetReplyMsg& m) {
  auto b = f.initGetReply();
  b.setRequest(m.request);
  b.setTimedOut(m.timed_out);
  b.setNotReady(m.not_ready);
  auto payloads = b.initPayloads(static_cast<unsigned>(m.payloads.size()));
  for (size_t i = 0; i < m.payloads.size(); ++i) WritePayload(payloads[i], m.payloads[i]);
}

GetReplyMsg Read(frames::GetReply::Reader r) {
  GetReplyMsg m{r.getRequest(), r.getTimedOut(), {}, r.getNotReady()};
  for (auto p : r.getPayloads()) m.payloads.push_back(ReadPayload(p));
  return m;
}

void Write(frames::Frame::Builder f, const WaitReplyMsg& m) {
  auto b = f.initWaitReply();
  b.setRequest(m.request);
  auto ready = b.initReady(static_cast<unsigned>(m.ready.size()));
  for (size_t i = 0; i < m.ready.size(); ++i) ready.set(i, m.ready[i]);
}

WaitReplyMsg Read(frames::WaitReply::Reader r) {
  WaitReplyMsg m{r.getRequest(), {}};
  for (bool ready : r.getReady()) m.ready.push_back(ready);
  return m;
}

void Write(frames::Frame::Builder f, const LookupReplyMsg& m) {
  auto b = f.initLookupReply();
  b.setRequest(m.request);
  b.setFound(m.found);
  b.setActor(DataOf(m.actor));
}

LookupReplyMsg Read(frames::LookupReply::Reader r) {
  return {r.getRequest(), r.getFound(), ReadId<ActorID>(r.getActor(), "an actor id")};
}

void Write(frames::Frame::Builder f, const CreateActorReplyMsg& m) {
  auto b = f.initCreateActorReply();
  b.setRequest(m.request);
  b.setError(m.error);
  b.setErrorKind(static_cast<uint8_t>(m.kind));
}

CreateActorReplyMsg Read(frames::CreateActorReply::Reader r) {
  uint8_t kind = r.getErrorKind();
  if (!IsErrorKind(kind)) Malformed("unknown error kind");
  return {r.getRequest(), ReadText(r.getError()), kind ? static_cast<ErrorKind>(kind) : ErrorKind::kBadCall};
}

void Write(frames::Frame::Builder f, const SubmitReplyMsg& m) {
  auto b = f.initSubmitReply();
  b.setRequest(m.request);
  auto e = b.initError();
  e.setKind(static_cast<uint8_t>(m.error.kind));
  e.setMessage(m.error.message);
  e.setExceptionType(m.error.exception_type);
}

SubmitReplyMsg Read(frames::SubmitReply::Reader r) {
  auto e = r.getError();
  if (!IsErrorKind(e.getKind())) Malformed("unknown error kind");
  return {r.getRequest(), {static_cast<ErrorKind>(e.getKind()), ReadText(e.getMessage()), ReadText(e.getExceptionType())}};
}

// ---- client -> node

void Write(frames::Frame::Builder f, const TaskDoneMsg& m) {
  auto b = f.initTaskDone();
  b.setTask(DataOf(m.id));
  WritePayload(b.initResult(), m.result);
}

TaskDoneMsg Read(frames::TaskDone::Reader r) {
  return {ReadId<TaskID>(r.getTask(), "a task id"), ReadPayload(r.getResult())};
}

void Write(frames::Frame::Builder f, const ReturnTasksMsg& m) {
  auto list = f.initReturnTasks().initTasks(static_cast<unsigned>(m.ids.size()));
  for (size_t i = 0; i < m.ids.size(); ++i) list.set(i, DataOf(m.ids[i]));
}

ReturnTasksMsg Read(frames::ReturnTasks::Reader r) { return {ReadIds<TaskID>(r.getTasks(), "a task id")}; }

void Write(frames::Frame::Builder f, const SubmitMsg& m) {
  auto b = f.initSubmit();
  b.setTask(DataOf(m.id));
  WriteSpec(b.initSpec(), m.spec);
  b.setRequest(m.request);
}

SubmitMsg Read(frames::Submit::Reader r) {
  return {ReadId<TaskID>(r.getTask(), "a task id"), ReadSpec(r.getSpec()), r.getRequest()};
}

void Write(frames::Frame::Builder f, const GetMsg& m) {
  auto b = f.initGet();
  b.setRequest(m.request);
  WriteIds(b.initIds(static_cast<unsigned>(m.ids.size())), m.ids);
  b.setTimeoutMs(m.timeout_ms);
}

GetMsg Read(frames::Get::Reader r) {
  return {r.getRequest(), ReadIds<ObjectID>(r.getIds(), "an object id"), r.getTimeoutMs()};
}

void Write(frames::Frame::Builder f, const WaitMsg& m) {
  auto b = f.initWait();
  b.setRequest(m.request);
  WriteIds(b.initIds(static_cast<unsigned>(m.ids.size())), m.ids);
  b.setNumObjects(m.num_objects);
  b.setTimeoutMs(m.timeout_ms);
}

WaitMsg Read(frames::Wait::Reader r) {
  return {r.getRequest(), ReadIds<ObjectID>(r.getIds(), "an object id"), ReadInt(r.getNumObjects(), "num_objects"),
          r.getTimeoutMs()};
}

void Write(frames::Frame::Builder f, const PutMsg& m) {
  auto b = f.initPut();
  b.setId(DataOf(m.id));
  WritePayload(b.initPayload(), m.payload);
}

PutMsg Read(frames::Put::Reader r) { return {ReadId<ObjectID>(r.getId(), "an object id"), ReadPayload(r.getPayload())}; }

void Write(frames::Frame::Builder f, const RefsMsg& m) {
  auto b = f.initRefs();
  WriteIds(b.initAdded(static_cast<unsigned>(m.added.size())), m.added);
  WriteIds(b.initRemoved(static_cast<unsigned>(m.removed.size())), m.removed);
}

RefsMsg Read(frames::Refs::Reader r) {
  return {ReadIds<ObjectID>(r.getAdded(), "an object id"), ReadIds<ObjectID>(r.getRemoved(), "an object id")};
}

void Write(frames::Frame::Builder f, const CancelMsg& m) { f.initCancel().setId(DataOf(m.id)); }

CancelMsg Read(frames::Cancel::Reader r) { return {ReadId<ObjectID>(r.getId(), "an object id")}; }

void Write(frames::Frame::Builder f, const CreateActorMsg& m) {
  auto b = f.initCreateActor();
  b.setRequest(m.request);
  b.setActor(DataOf(m.id));
  WriteSpec(b.initFactory(), m.factory);
  WriteActorOptions(b.initOptions(), m.options);
}

CreateActorMsg Read(frames::CreateActor::Reader r) {
  return {r.getRequest(), ReadId<ActorID>(r.getActor(), "an actor id"), ReadSpec(r.getFactory()),
          ReadActorOptions(r.getOptions())};
}

void Write(frames::Frame::Builder f, const KillActorMsg& m) {
  auto b = f.initKillActor();
  b.setActor(DataOf(m.id));
  b.setNoRestart(m.no_restart);
}

KillActorMsg Read(frames::KillActor::Reader r) { return {ReadId<ActorID>(r.getActor(), "an actor id"), r.getNoRestart()}; }

void Write(frames::Frame::Builder f, const LookupActorMsg& m) {
  auto b = f.initLookupActor();
  b.setRequest(m.request);
  b.setName(m.name);
  b.setNs(m.ns);
}

LookupActorMsg Read(frames::LookupActor::Reader r) {
  return {r.getRequest(), ReadText(r.getName()), ReadText(r.getNs())};
}

void Write(frames::Frame::Builder f, const ActorExitMsg&) { f.setActorExit(); }
void Write(frames::Frame::Builder f, const PingMsg&) { f.setPing(); }
void Write(frames::Frame::Builder f, const PongMsg&) { f.setPong(); }
void Write(frames::Frame::Builder f, const GoodbyeMsg& m) { f.setGoodbye(m.why); }

// Joining a cluster: membership_messages.cc; placement groups: placement_messages.cc.
using membership::Read;
using membership::Write;
using placement::Read;
using placement::Write;

// Room for the message's inline bytes in its first segment, so that
// building it allocates once.
size_t FirstSegmentWords(const Message& message) {
  size_t bytes = 0;
  auto add = [&](const BytesPtr& b) { bytes += b ? b->size() : 0; };
  auto add_ids = [&](size_t n) { bytes += n * 24; };  // a Data pointer and 20 bytes, padded
  auto add_payload = [&](const Payload& p) {
    add(p.bytes);
    add_ids(p.nested_refs.size());
    bytes += 64;
  };
  auto add_spec = [&](const TaskSpec& spec) {
    for (const TaskArg& arg : spec.args) add(arg.value.bytes);
  };
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, ExecuteMsg>) {
          for (const auto& arg : m.args) add(arg.bytes);
        } else if constexpr (std::is_same_v<M, GetReplyMsg>) {
          for (const Payload& p : m.payloads) add_payload(p);
        } else if constexpr (std::is_same_v<M, TaskDoneMsg>) {
          add_payload(m.result);
        } else if constexpr (std::is_same_v<M, PutMsg>) {
          add_payload(m.payload);
        } else if constexpr (std::is_same_v<M, SubmitMsg>) {
          add_spec(m.spec);
        } else if constexpr (std::is_same_v<M, CreateActorMsg>) {
          add_spec(m.factory);
        } else if constexpr (std::is_same_v<M, GetMsg> || std::is_same_v<M, WaitMsg>) {
          add_ids(m.ids.size());
        } else if constexpr (std::is_same_v<M, RefsMsg>) {
          add_ids(m.added.size() + m.removed.size());
        }
      },
      message);
  return bytes / sizeof(capnp::word) + 128;
}

}  // namespace

uint64_t RequestAnswered(const Message& m) {
  if (auto* r = std::get_if<GetReplyMsg>(&m)) return r->request;
  if (auto* r = std::get_if<WaitReplyMsg>(&m)) return r->request;
  if (auto* r = std::get_if<LookupReplyMsg>(&m)) return r->request;
  if (auto* r = std::get_if<CreateActorReplyMsg>(&m)) return r->request;
  if (auto* r = std::get_if<JoinReplyMsg>(&m)) return r->request;
  if (auto* r = std::get_if<FlushReplyMsg>(&m)) return r->request;
  if (auto* r = std::get_if<RegisterNodeReplyMsg>(&m)) return r->request;
  if (auto* r = std::get_if<SubmitReplyMsg>(&m)) return r->request;
  if (auto* r = std::get_if<PlacementGroupReplyMsg>(&m)) return r->request;
  return 0;
}

std::string EncodeFrame(const Message& message) {
  // Most frames are small: they are built in a per-thread scratch segment,
  // zeroed again after use as the builder requires, so encoding allocates
  // only the frame itself.
  constexpr size_t kScratchWords = 1024;
  thread_local std::unique_ptr<capnp::word[]> scratch(new capnp::word[kScratchWords]());
  size_t words = FirstSegmentWords(message);
  std::optional<capnp::MallocMessageBuilder> builder;
  if (words <= kScratchWords)
    builder.emplace(kj::arrayPtr(scratch.get(), kScratchWords), capnp::AllocationStrategy::FIXED_SIZE);
  else
    builder.emplace(static_cast<unsigned>(words), capnp::AllocationStrategy::FIXED_SIZE);
  auto frame = builder->initRoot<frames::Frame>();
  std::visit([&](const auto& m) { Write(frame, m); }, message);
  auto segments = builder->getSegmentsForOutput();
  size_t body = capnp::computeSerializedSizeInWords(segments) * sizeof(capnp::word);
  std::string out(kFrameHeaderBytes + body, '\0');
  uint64_t header = body;
  std::memcpy(out.data(), &header, sizeof header);
  kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data()) + kFrameHeaderBytes, body));
  capnp::writeMessage(stream, segments);
  if (words <= kScratchWords) std::memset(scratch.get(), 0, segments[0].size() * sizeof(capnp::word));
  return out;
}

Message DecodeFrame(const uint64_t* words, size_t num_words) {
  capnp::ReaderOptions options;
  // Reading a frame visits each of its words about once: a message whose
  // pointers overlap to look larger than it is gets refused, not followed.
  options.traversalLimitInWords = 2 * num_words + 64;
  options.nestingLimit = 16;
  try {
    kj::ArrayPtr<const capnp::word> array(reinterpret_cast<const capnp::word*>(words), num_words);
    capnp::FlatArrayMessageReader reader(array, options);
    if (reader.getEnd() != array.end()) Malformed("bytes after the message");
    auto f = reader.getRoot<frames::Frame>();
    switch (f.which()) {
      case frames::Frame::EXECUTE: return Read(f.getExecute());
      case frames::Frame::GET_REPLY: return Read(f.getGetReply());
      case frames::Frame::WAIT_REPLY: return Read(f.getWaitReply());
      case frames::Frame::LOOKUP_REPLY: return Read(f.getLookupReply());
      case frames::Frame::TASK_DONE: return Read(f.getTaskDone());
      case frames::Frame::RETURN_TASKS: return Read(f.getReturnTasks());
      case frames::Frame::SUBMIT: return Read(f.getSubmit());
      case frames::Frame::GET: return Read(f.getGet());
      case frames::Frame::WAIT: return Read(f.getWait());
      case frames::Frame::PUT: return Read(f.getPut());
      case frames::Frame::REFS: return Read(f.getRefs());
      case frames::Frame::CANCEL: return Read(f.getCancel());
      case frames::Frame::CREATE_ACTOR: return Read(f.getCreateActor());
      case frames::Frame::KILL_ACTOR: return Read(f.getKillActor());
      case frames::Frame::LOOKUP_ACTOR: return Read(f.getLookupActor());
      case frames::Frame::ACTOR_EXIT: return ActorExitMsg{};
      case frames::Frame::CREATE_ACTOR_REPLY: return Read(f.getCreateActorReply());
      case frames::Frame::JOIN: return Read(f.getJoin());
      case frames::Frame::JOIN_REPLY: return Read(f.getJoinReply());
      case frames::Frame::FLUSH: return Read(f.getFlush());
      case frames::Frame::FLUSH_REPLY: return Read(f.getFlushReply());
      case frames::Frame::REGISTER_NODE: return Read(f.getRegisterNode());
      case frames::Frame::REGISTER_NODE_REPLY: return Read(f.getRegisterNodeReply());
      case frames::Frame::SUBMIT_REPLY: return Read(f.getSubmitReply());
      case frames::Frame::PING: return PingMsg{};
      case frames::Frame::PONG: return PongMsg{};
      case frames::Frame::GOODBYE: return GoodbyeMsg{ReadText(f.getGoodbye())};
      case frames::Frame::NODE_LOAD: return Read(f.getNodeLoad());
      case frames::Frame::CREATE_PLACEMENT_GROUP: return Read(f.getCreatePlacementGroup());
      case frames::Frame::REMOVE_PLACEMENT_GROUP: return Read(f.getRemovePlacementGroup());
      case frames::Frame::PLACEMENT_GROUP_QUERY: return Read(f.getPlacementGroupQuery());
      case frames::Frame::PLACEMENT_GROUP_REPLY: return Read(f.getPlacementGroupReply());
      case frames::Frame::PREPARE_BUNDLES: return Read(f.getPrepareBundles());
      case frames::Frame::PREPARE_BUNDLES_REPLY: return Read(f.getPrepareBundlesReply());
      case frames::Frame::COMMIT_BUNDLES: return Read(f.getCommitBundles());
      case frames::Frame::RETURN_BUNDLES: return Read(f.getReturnBundles());
    }
    Malformed("unknown message type " + std::to_string(static_cast<int>(f.which())));
  } catch (const kj::Exception& e) {
    Malformed(e.getDescription().cStr());
  }
}

}  // namespace lumen::internal
