#include "protocol/message_fields.h"

namespace lumen::internal::fields {

void WritePayload(frames::Payload::Builder b, const Payload& p) {
  switch (p.kind) {
    case Payload::kInline: b.setInline(DataOf(p.bytes)); break;
    case Payload::kInStore: b.setInStore(p.size); break;
    case Payload::kError: {
      auto e = b.initError();
      e.setKind(static_cast<uint8_t>(p.error.kind));
      e.setMessage(p.error.message);
      e.setExceptionType(p.error.exception_type);
      break;
    }
  }
  WriteIds(b.initNestedRefs(p.nested_refs.size()), p.nested_refs);
}

Payload ReadPayload(frames::Payload::Reader r) {
  Payload p;
  switch (r.which()) {
    case frames::Payload::INLINE:
      p.bytes = ReadBytes(r.getInline());
      p.size = p.bytes->size();
      break;
    case frames::Payload::IN_STORE:
      p.kind = Payload::kInStore;
      p.size = r.getInStore();
      break;
    case frames::Payload::ERROR: {
      p.kind = Payload::kError;
      auto e = r.getError();
      if (!IsErrorKind(e.getKind()) || e.getKind() == 0) Malformed("unknown error kind");
      p.error = {static_cast<ErrorKind>(e.getKind()), ReadText(e.getMessage()), ReadText(e.getExceptionType())};
      break;
    }
    default: Malformed("unknown payload kind");
  }
  p.nested_refs = ReadIds<ObjectID>(r.getNestedRefs(), "a nested ref");
  return p;
}

void WriteResources(capnp::List<frames::Resource>::Builder list, const std::map<std::string, double>& resources) {
  unsigned i = 0;
  for (const auto& [name, amount] : resources) {
    list[i].setName(name);
    list[i++].setAmount(amount);
  }
}

std::map<std::string, double> ReadResources(capnp::List<frames::Resource>::Reader list) {
  std::map<std::string, double> resources;
  for (auto res : list) resources[ReadText(res.getName())] = res.getAmount();
  return resources;
}

void WriteSpec(frames::TaskSpec::Builder b, const TaskSpec& spec) {
  b.setActor(DataOf(spec.actor));
  b.setFunction(spec.function);
  b.setName(spec.name);
  b.setMaxRetries(spec.max_retries);
  b.setRetryExceptions(spec.retry_exceptions);
  WriteResources(b.initResources(static_cast<unsigned>(spec.resources.size())), spec.resources);
  b.setPlacementGroup(spec.placement_group);
  b.setBundleIndex(spec.bundle_index);
  b.setNodeAffinity(spec.node_affinity);
  b.setNodeAffinitySoft(spec.node_affinity_soft);
  b.setSpread(spec.spread);
  auto args = b.initArgs(static_cast<unsigned>(spec.args.size()));
  for (size_t a = 0; a < spec.args.size(); ++a) {
    const TaskArg& arg = spec.args[a];
    if (arg.by_ref) {
      args[a].setRef(DataOf(arg.ref));
    } else {
      auto value = args[a].initValue();
      value.setBytes(DataOf(arg.value.bytes));
      WriteIds(value.initNestedRefs(arg.value.nested_refs.size()), arg.value.nested_refs);
    }
  }
}

TaskSpec ReadSpec(frames::TaskSpec::Reader r) {
  TaskSpec spec;
  spec.actor = ReadId<ActorID>(r.getActor(), "an actor id");
  spec.function = ReadText(r.getFunction());
  spec.name = ReadText(r.getName());
  spec.max_retries = r.getMaxRetries();
  spec.retry_exceptions = r.getRetryExceptions();
  spec.resources = ReadResources(r.getResources());
  spec.placement_group = ReadText(r.getPlacementGroup());
  spec.bundle_index = r.getBundleIndex();
  spec.node_affinity = ReadText(r.getNodeAffinity());
  spec.node_affinity_soft = r.getNodeAffinitySoft();
  spec.spread = r.getSpread();
  for (auto a : r.getArgs()) {
    TaskArg arg;
    if (a.which() == frames::TaskArg::REF) {
      arg.by_ref = true;
      arg.ref = ReadId<ObjectID>(a.getRef(), "an argument's id");
    } else if (a.which() == frames::TaskArg::VALUE) {
      arg.value.bytes = ReadBytes(a.getValue().getBytes());
      arg.value.nested_refs = ReadIds<ObjectID>(a.getValue().getNestedRefs(), "a nested ref");
    } else {
      Malformed("unknown argument kind");
    }
    spec.args.push_back(std::move(arg));
  }
  return spec;
}

void WriteActorOptions(frames::ActorOptions::Builder b, const ActorOptions& o) {
  b.setClassName(o.class_name);
  b.setMaxRestarts(o.max_restarts);
  b.setMaxTaskRetries(o.max_task_retries);
  b.setMaxConcurrency(o.max_concurrency);
  b.setName(o.name);
  b.setNs(o.ns);
  using D = frames::ActorOptions::Detached;
  b.setDetached(!o.detached ? D::UNSET : *o.detached ? D::YES : D::NO);
  b.setReplayOnRestart(o.replay_on_restart);
  b.setCheckpointMethod(o.checkpoint_method);
  b.setRestoreFunction(o.restore_function);
  b.setCheckpointEvery(o.checkpoint_every);
}

ActorOptions ReadActorOptions(frames::ActorOptions::Reader r) {
  ActorOptions o;
  o.class_name = ReadText(r.getClassName());
  o.max_restarts = r.getMaxRestarts();
  o.max_task_retries = r.getMaxTaskRetries();
  o.max_concurrency = r.getMaxConcurrency();
  o.name = ReadText(r.getName());
  o.ns = ReadText(r.getNs());
  using D = frames::ActorOptions::Detached;
  switch (r.getDetached()) {
    case D::UNSET: break;
    case D::NO: o.detached = false; break;
    case D::YES: o.detached = true; break;
    default: Malformed("unknown detached value");
  }
  o.replay_on_restart = r.getReplayOnRestart();
  o.checkpoint_method = ReadText(r.getCheckpointMethod());
  o.restore_function = ReadText(r.getRestoreFunction());
  o.checkpoint_every = r.getCheckpointEvery();
  return o;
}

}  // namespace lumen::internal::fields
