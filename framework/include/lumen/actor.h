// Actors: stateful workers. lumen::Actor(factory).Remote(args) runs the
// factory in a worker process of the actor's own and returns a handle;
// handle.Task(&C::m).Remote(args) calls a method there. Calls from one caller
// run in submission order. An exception in a method becomes TaskError and the
// actor lives on. If the actor's process dies, it is re-created (the factory
// re-run with its original arguments) up to SetMaxRestarts times, calls that
// were running are re-sent up to SetMaxTaskRetries times, and once it is dead
// for good every pending and later call fails with ActorDiedError at once.
//
// With SetReplayOnRestart the new incarnation also re-runs the calls it had
// run (from its latest checkpoint, SetCheckpoint). A detached named actor
// outlives its driver in the lineage log: a later Init on the same
// storage_dir re-creates it (same id, name and namespace; with replay, with
// its state), and GetActor finds it there. Other actors of that earlier run
// are recorded as dead, since their owner died.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>

#include "lumen/config.h"
#include "lumen/object_ref.h"
#include "lumen/remote.h"
#include "lumen/task.h"

namespace lumen {

template <class T>
class ActorHandle;

template <class T, class R, class... Params>
class ActorTaskCaller : public internal::CallOptions<ActorTaskCaller<T, R, Params...>> {
 public:
  ActorTaskCaller(ActorID actor, std::string method) : actor_(actor), method_(std::move(method)) {}

  template <class... Args>
  ObjectRef<R> Remote(Args&&... args) {
    static_assert(sizeof...(Args) == sizeof...(Params), "lumen: Remote() takes exactly the method's parameters");
    internal::TaskSpec spec = this->spec_;
    spec.actor = actor_;
    spec.function = method_;
    spec.args = {internal::MakeArg<Params>(std::forward<Args>(args))...};
    return ObjectRef<R>::Adopt(internal::CurrentCore().Submit(std::move(spec)));
  }

 private:
  ActorID actor_;
  std::string method_;
};

template <class T>
class ActorHandle {
 public:
  ActorHandle() = default;
  explicit ActorHandle(ActorID id) : id_(id) {}

  // A call of method `m`, e.g. handle.Task(&Counter::Add).Remote(5).
  template <class R, class... Params>
  ActorTaskCaller<T, R, Params...> Task(R (T::*m)(Params...)) {
    return {id_, internal::FunctionName(internal::PointerKey(m))};
  }
  template <class R, class... Params>
  ActorTaskCaller<T, R, Params...> Task(R (T::*m)(Params...) const) {
    return {id_, internal::FunctionName(internal::PointerKey(m))};
  }

  // Kills the actor's process. no_restart = true: for good; false: it is
  // re-created if it has restarts left.
  void Kill(bool no_restart = true) { internal::CurrentCore().KillActor(id_, no_restart); }

  std::string ID() const { return id_.Hex(); }
  const ActorID& actor_id() const { return id_; }
  friend bool operator==(const ActorHandle& a, const ActorHandle& b) { return a.id_ == b.id_; }

 private:
  ActorID id_;
};

template <class F>
class ActorCreator;

template <class T, class... Params>
class ActorCreator<T* (*)(Params...)> : public internal::CallOptions<ActorCreator<T* (*)(Params...)>> {
 public:
  explicit ActorCreator(T* (*factory)(Params...)) : factory_(factory) { options_.class_name = typeid(T).name(); }

  ActorCreator& SetMaxRestarts(int n) { options_.max_restarts = n; return *this; }
  ActorCreator& SetMaxTaskRetries(int n) { options_.max_task_retries = n; return *this; }
  ActorCreator& SetMaxConcurrency(int n) { options_.max_concurrency = n; return *this; }
  // After its process dies, the restarted actor first re-runs every call it
  // had run, in their original order, before any new call: a deterministic
  // actor comes back with its state. Needs SetMaxRestarts.
  ActorCreator& SetReplayOnRestart(bool replay = true) { options_.replay_on_restart = replay; return *this; }
  // Bounds replay: every `every_n_calls` calls the node calls `snapshot` (a
  // const method returning the actor's state, any codec type S) as one more
  // call, and keeps its result as the actor's latest checkpoint (a small
  // state is durable in the lineage log, as a small Put is). A replay then
  // starts with `restore(state)` instead of the factory and re-runs only the
  // calls after that checkpoint. E.g.
  //   .SetCheckpoint(&Counter::Snapshot, LUMEN_FUNC(Counter::Restore, Counter::State), 100)
  // with `State Snapshot() const` and `static Counter* Restore(State)`.
  // REQUIRES: both registered with LUMEN_REMOTE (else lumen::Error here),
  // every_n_calls >= 1, and calls that run one at a time (the default
  // max_concurrency 1), so that a state covers exactly the calls before it.
  // Implies SetReplayOnRestart(true).
  template <class S, class R>
  ActorCreator& SetCheckpoint(S (T::*snapshot)() const, T* (*restore)(R), int every_n_calls) {
    static_assert(std::is_same_v<std::decay_t<R>, S>, "lumen: the restore factory takes what the snapshot returns");
    if (every_n_calls < 1)
      throw Error("lumen: SetCheckpoint: every_n_calls must be >= 1, got " + std::to_string(every_n_calls));
    options_.checkpoint_method = internal::FunctionName(internal::PointerKey(snapshot));
    options_.restore_function = internal::FunctionName(internal::PointerKey(restore));
    options_.checkpoint_every = every_n_calls;
    options_.replay_on_restart = true;
    return *this;
  }
  ActorCreator& SetLifetime(ActorLifetime lifetime) {
    options_.detached = lifetime == ActorLifetime::DETACHED;
    return *this;
  }
  // A name other processes can find it by (GetActor), in the job's namespace or `ns`.
  ActorCreator& SetName(std::string name) { options_.name = std::move(name); return *this; }
  ActorCreator& SetName(std::string name, std::string ns) {
    options_.name = std::move(name);
    options_.ns = std::move(ns);
    return *this;
  }

  template <class... Args>
  ActorHandle<T> Remote(Args&&... args) {
    static_assert(sizeof...(Args) == sizeof...(Params), "lumen: Remote() takes exactly the factory's parameters");
    internal::TaskSpec spec = this->spec_;
    spec.function = internal::FunctionName(internal::PointerKey(factory_));
    spec.args = {internal::MakeArg<Params>(std::forward<Args>(args))...};
    return ActorHandle<T>(internal::CurrentCore().CreateActor(std::move(spec), options_));
  }

 private:
  T* (*factory_)(Params...);
  internal::ActorOptions options_;
};

// Starts describing an actor made by `factory` (registered with LUMEN_REMOTE).
template <class T, class... Params>
ActorCreator<T* (*)(Params...)> Actor(T* (*factory)(Params...)) {
  return ActorCreator<T* (*)(Params...)>(factory);
}

// The live actor named `name` (in the job's namespace, or `ns`), if any.
template <class T>
std::optional<ActorHandle<T>> GetActor(const std::string& name, const std::string& ns = "") {
  std::optional<ActorID> id = internal::CurrentCore().GetNamedActor(name, ns);
  if (!id) return std::nullopt;
  return ActorHandle<T>(*id);
}

// Inside an actor method: ends the actor for good once this call returns
// (the call itself then fails with ActorDiedError).
[[noreturn]] inline void ExitActor() { internal::ExitCurrentActor(); }
// Inside an actor: whether this instance was re-created after a crash.
inline bool WasCurrentActorRestarted() { return internal::CurrentActorWasRestarted(); }

}  // namespace lumen

// A handle travels as its actor's id.
template <class T>
struct lumen::codec::Codec<lumen::ActorHandle<T>> {
  static std::string TypeName() { return std::string("actor<") + typeid(T).name() + ">"; }
  static void Write(lumen::schema::Value::Builder b, const lumen::ActorHandle<T>& h) {
    lumen::codec::internal::WriteBytes(b, h.actor_id().data(), lumen::ActorID::kSize, false);
  }
  static void Read(lumen::schema::Value::Reader r, lumen::ActorHandle<T>& out) {
    capnp::Data::Reader bytes = lumen::codec::internal::ReadBytes(r, 1);
    if (bytes.size() != lumen::ActorID::kSize) lumen::codec::internal::CorruptObject("actor handle of wrong size");
    out = lumen::ActorHandle<T>(lumen::ActorID::FromBinary(bytes.begin()));
  }
};
