#include "records.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <memory>

#include "lumen/storage/lineage.capnp.h"

namespace lumen::storage::lineage {

namespace {

template <size_t N>
capnp::Data::Reader Bytes(const BinaryID<N>& id) {
  return {id.data(), N};
}

capnp::Text::Reader Text(const std::string& s) { return {s.data(), s.size()}; }

capnp::Data::Reader Bytes(const std::string& s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}

std::string String(capnp::Text::Reader t) { return {t.begin(), t.size()}; }

// Ids are fixed-size; an empty field means nil (e.g. `actor` of a plain task).
template <typename Id>
bool ReadId(capnp::Data::Reader data, Id* out) {
  if (data.size() == 0) {
    *out = Id();
    return true;
  }
  if (data.size() != Id::kSize) return false;
  *out = Id::FromBinary(data.begin());
  return true;
}

Status BadId(const char* kind, const char* field) {
  return {StatusCode::kInvalid,
          std::string("corrupt lineage ") + kind + " record: field " + field + " has the wrong length"};
}

// Runs `parse` on the root of the flat message in `bytes`. Cap'n Proto needs
// word-aligned input; RocksDB values are not, so copy when they are not.
template <typename Root, typename Fn>
Status WithRoot(std::string_view bytes, const char* kind, Fn&& parse) {
  if (bytes.size() % sizeof(capnp::word) != 0) {
    return {StatusCode::kInvalid, std::string("corrupt lineage ") + kind +
                                      " record: " + std::to_string(bytes.size()) +
                                      " bytes is not a whole number of words"};
  }
  size_t words = bytes.size() / sizeof(capnp::word);
  kj::Array<capnp::word> copy;
  const capnp::word* data = reinterpret_cast<const capnp::word*>(bytes.data());
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) != 0) {
    copy = kj::heapArray<capnp::word>(words);
    std::memcpy(copy.begin(), bytes.data(), bytes.size());
    data = copy.begin();
  }
  try {
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(data, words));
    return parse(reader.getRoot<Root>());
  } catch (const kj::Exception& e) {
    return {StatusCode::kInvalid, std::string("corrupt lineage ") + kind + " record: " +
                                      e.getDescription().cStr()};
  }
}

}  // namespace

void BuildMessage(const TaskRecord& r, uint64_t recorded_ms, capnp::MessageBuilder* message) {
  auto b = message->initRoot<schema::LineageTask>();
  b.setId(Bytes(r.id));
  b.setFunction(Text(r.function));
  auto args = b.initArgs(static_cast<unsigned>(r.args.size()));
  for (size_t i = 0; i < r.args.size(); ++i) {
    if (r.args[i].by_ref) {
      args[i].setRef(Bytes(r.args[i].ref));
    } else {
      args[i].setValue(Bytes(r.args[i].value));
    }
  }
  auto returns = b.initReturns(static_cast<unsigned>(r.returns.size()));
  for (size_t i = 0; i < r.returns.size(); ++i) returns.set(i, Bytes(r.returns[i]));
  b.setName(Text(r.name));
  b.setMaxRetries(r.max_retries);
  b.setRetryExceptions(r.retry_exceptions);
  auto resources = b.initResources(static_cast<unsigned>(r.resources.size()));
  unsigned i = 0;
  for (const auto& [name, amount] : r.resources) {
    resources[i].setName(Text(name));
    resources[i].setAmount(amount);
    ++i;
  }
  b.setOwner(Text(r.owner));
  b.setAttempt(r.attempt);
  if (!r.actor.IsNil()) b.setActor(Bytes(r.actor));
  b.setActorCreation(r.actor_creation);
  b.setSubmittedMs(r.submitted_ms);
  b.setRecordedMs(recorded_ms);
  b.setActorCallIndex(r.actor_call_index);
}

void BuildMessage(const ObjectRecord& r, uint64_t recorded_ms, capnp::MessageBuilder* message) {
  auto b = message->initRoot<schema::LineageObject>();
  b.setId(Bytes(r.id));
  b.setCreatedBy(Bytes(r.created_by));
  b.setIsPut(r.is_put);
  b.setOwner(Text(r.owner));
  b.setSize(r.size);
  b.setNode(Text(r.node));
  b.setRecordedMs(recorded_ms);
}

void BuildMessage(const ActorRecord& r, uint64_t recorded_ms, capnp::MessageBuilder* message) {
  auto b = message->initRoot<schema::LineageActor>();
  b.setId(Bytes(r.id));
  b.setCreationTask(Bytes(r.creation_task));
  b.setClassName(Text(r.class_name));
  b.setName(Text(r.name));
  b.setNs(Text(r.ns));
  switch (r.state) {
    case ActorState::kPending: b.setState(schema::LineageActorState::PENDING); break;
    case ActorState::kAlive: b.setState(schema::LineageActorState::ALIVE); break;
    case ActorState::kRestarting: b.setState(schema::LineageActorState::RESTARTING); break;
    case ActorState::kDead: b.setState(schema::LineageActorState::DEAD); break;
  }
  b.setRestarts(r.restarts);
  b.setDeathCause(Text(r.death_cause));
  b.setRecordedMs(recorded_ms);
  b.setDetached(r.detached);
  b.setMaxRestarts(r.max_restarts);
  b.setMaxTaskRetries(r.max_task_retries);
  b.setMaxConcurrency(r.max_concurrency);
  b.setReplayOnRestart(r.replay_on_restart);
  b.setCheckpointMethod(Text(r.checkpoint_method));
  b.setRestoreFunction(Text(r.restore_function));
  b.setCheckpointEvery(r.checkpoint_every);
  if (!r.checkpoint.IsNil()) b.setCheckpoint(Bytes(r.checkpoint));
  b.setCheckpointCalls(r.checkpoint_calls);
  b.setBinary(Text(r.binary));
  auto argv = b.initArgv(static_cast<unsigned>(r.argv.size()));
  for (size_t i = 0; i < r.argv.size(); ++i) argv.set(static_cast<unsigned>(i), Text(r.argv[i]));
}

void BuildMessage(const PlacementGroupRecord& r, uint64_t recorded_ms, capnp::MessageBuilder* message) {
  auto b = message->initRoot<schema::LineagePlacementGroup>();
  b.setId(Bytes(r.id));
  b.setName(Text(r.name));
  auto bundles = b.initBundles(static_cast<unsigned>(r.bundles.size()));
  for (size_t i = 0; i < r.bundles.size(); ++i) {
    auto resources = bundles[static_cast<unsigned>(i)].initResources(static_cast<unsigned>(r.bundles[i].size()));
    unsigned j = 0;
    for (const auto& [name, amount] : r.bundles[i]) {
      resources[j].setName(Text(name));
      resources[j].setAmount(amount);
      ++j;
    }
  }
  b.setStrategy(static_cast<schema::LineagePlacementStrategy>(r.strategy));  // the same order
  b.setRemoved(r.removed);
  b.setCreatedMs(r.created_ms);
  b.setRecordedMs(recorded_ms);
}

void Flatten(capnp::MessageBuilder& message, std::string* out) {
  // The flat stream format by hand (segment count - 1, segment sizes, padding
  // to a word, then the segments) so the bytes land in the writer's reused
  // string rather than in a fresh kj::Array per record.
  auto segments = message.getSegmentsForOutput();
  size_t table_words = segments.size() / 2 + 1;
  size_t words = table_words;
  for (auto s : segments) words += s.size();
  out->assign(words * sizeof(capnp::word), '\0');
  char* p = out->data();
  uint32_t count_minus_one = static_cast<uint32_t>(segments.size() - 1);
  std::memcpy(p, &count_minus_one, 4);
  for (size_t i = 0; i < segments.size(); ++i) {
    uint32_t size = static_cast<uint32_t>(segments[i].size());
    std::memcpy(p + 4 * (i + 1), &size, 4);
  }
  p += table_words * sizeof(capnp::word);
  for (auto s : segments) {
    std::memcpy(p, s.begin(), s.size() * sizeof(capnp::word));
    p += s.size() * sizeof(capnp::word);
  }
}

Status Parse(std::string_view bytes, TaskRecord* out) {
  return WithRoot<schema::LineageTask>(bytes, "task", [&](schema::LineageTask::Reader t) -> Status {
    TaskRecord r;
    if (!ReadId(t.getId(), &r.id)) return BadId("task", "id");
    r.function = String(t.getFunction());
    for (auto a : t.getArgs()) {
      ArgRecord arg;
      if (a.isRef()) {
        arg.by_ref = true;
        if (!ReadId(a.getRef(), &arg.ref)) return BadId("task", "args.ref");
      } else {
        auto v = a.getValue();
        arg.value.assign(reinterpret_cast<const char*>(v.begin()), v.size());
      }
      r.args.push_back(std::move(arg));
    }
    for (auto ret : t.getReturns()) {
      ObjectID id;
      if (!ReadId(ret, &id)) return BadId("task", "returns");
      r.returns.push_back(id);
    }
    r.name = String(t.getName());
    r.max_retries = t.getMaxRetries();
    r.retry_exceptions = t.getRetryExceptions();
    for (auto res : t.getResources()) r.resources[String(res.getName())] = res.getAmount();
    r.owner = String(t.getOwner());
    r.attempt = t.getAttempt();
    if (!ReadId(t.getActor(), &r.actor)) return BadId("task", "actor");
    r.actor_creation = t.getActorCreation();
    r.submitted_ms = t.getSubmittedMs();
    r.recorded_ms = t.getRecordedMs();
    r.actor_call_index = t.getActorCallIndex();
    *out = std::move(r);
    return Status::OK();
  });
}

Status Parse(std::string_view bytes, ObjectRecord* out) {
  return WithRoot<schema::LineageObject>(bytes, "object", [&](schema::LineageObject::Reader o) -> Status {
    ObjectRecord r;
    if (!ReadId(o.getId(), &r.id)) return BadId("object", "id");
    if (!ReadId(o.getCreatedBy(), &r.created_by)) return BadId("object", "createdBy");
    r.is_put = o.getIsPut();
    r.owner = String(o.getOwner());
    r.size = o.getSize();
    r.node = String(o.getNode());
    r.recorded_ms = o.getRecordedMs();
    *out = std::move(r);
    return Status::OK();
  });
}

Status Parse(std::string_view bytes, ActorRecord* out) {
  return WithRoot<schema::LineageActor>(bytes, "actor", [&](schema::LineageActor::Reader a) -> Status {
    ActorRecord r;
    if (!ReadId(a.getId(), &r.id)) return BadId("actor", "id");
    if (!ReadId(a.getCreationTask(), &r.creation_task)) return BadId("actor", "creationTask");
    r.class_name = String(a.getClassName());
    r.name = String(a.getName());
    r.ns = String(a.getNs());
    switch (a.getState()) {
      case schema::LineageActorState::PENDING: r.state = ActorState::kPending; break;
      case schema::LineageActorState::ALIVE: r.state = ActorState::kAlive; break;
      case schema::LineageActorState::RESTARTING: r.state = ActorState::kRestarting; break;
      case schema::LineageActorState::DEAD: r.state = ActorState::kDead; break;
      default:
        return {StatusCode::kInvalid, "corrupt lineage actor record: unknown state " +
                                          std::to_string(static_cast<int>(a.getState()))};
    }
    r.restarts = a.getRestarts();
    r.death_cause = String(a.getDeathCause());
    r.recorded_ms = a.getRecordedMs();
    r.detached = a.getDetached();
    r.max_restarts = a.getMaxRestarts();
    r.max_task_retries = a.getMaxTaskRetries();
    r.max_concurrency = a.getMaxConcurrency();
    r.replay_on_restart = a.getReplayOnRestart();
    r.checkpoint_method = String(a.getCheckpointMethod());
    r.restore_function = String(a.getRestoreFunction());
    r.checkpoint_every = a.getCheckpointEvery();
    if (!ReadId(a.getCheckpoint(), &r.checkpoint)) return BadId("actor", "checkpoint");
    r.checkpoint_calls = a.getCheckpointCalls();
    r.binary = String(a.getBinary());
    for (auto arg : a.getArgv()) r.argv.push_back(String(arg));
    *out = std::move(r);
    return Status::OK();
  });
}

Status Parse(std::string_view bytes, PlacementGroupRecord* out) {
  return WithRoot<schema::LineagePlacementGroup>(
      bytes, "placement group", [&](schema::LineagePlacementGroup::Reader g) -> Status {
        PlacementGroupRecord r;
        if (!ReadId(g.getId(), &r.id) || r.id.IsNil()) return BadId("placement group", "id");
        r.name = String(g.getName());
        for (auto bundle : g.getBundles()) {
          auto& resources = r.bundles.emplace_back();
          for (auto res : bundle.getResources()) resources[String(res.getName())] = res.getAmount();
        }
        auto strategy = static_cast<uint16_t>(g.getStrategy());
        if (strategy > static_cast<uint16_t>(PlacementStrategy::kStrictSpread))
          return {StatusCode::kInvalid,
                  "corrupt lineage placement group record: unknown strategy " + std::to_string(strategy)};
        r.strategy = static_cast<PlacementStrategy>(strategy);
        r.removed = g.getRemoved();
        r.created_ms = g.getCreatedMs();
        r.recorded_ms = g.getRecordedMs();
        *out = std::move(r);
        return Status::OK();
      });
}

Status Peek(Kind kind, std::string_view bytes, RecordAge* out) {
  *out = RecordAge();
  switch (kind) {
    case Kind::kTask:
      return WithRoot<schema::LineageTask>(bytes, "task", [&](schema::LineageTask::Reader t) -> Status {
        out->recorded_ms = t.getRecordedMs();
        return ReadId(t.getActor(), &out->actor) ? Status::OK() : BadId("task", "actor");
      });
    case Kind::kObject:
      return WithRoot<schema::LineageObject>(bytes, "object", [&](schema::LineageObject::Reader o) -> Status {
        out->recorded_ms = o.getRecordedMs();
        return Status::OK();
      });
    case Kind::kActor: {
      ActorRecord actor;  // actors are few and small: the full parse checks the state
      Status s = Parse(bytes, &actor);
      out->recorded_ms = actor.recorded_ms;
      out->actor = actor.id;
      out->state = actor.state;
      return s;
    }
  }
  return {StatusCode::kInvalid, "unknown lineage record kind"};
}

}  // namespace lumen::storage::lineage
