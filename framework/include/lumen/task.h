// Tasks: lumen::Task(f).Remote(args...) runs a registered function in a
// worker process and returns an ObjectRef to its result at once. Arguments
// go by value (encoded now) or as ObjectRef<T> for a parameter of type T
// (resolved on the worker's node before the call). Options chain before Remote.
// Demand the cluster can never meet (more of a resource than it has in all,
// a node or placement-group bundle it cannot have) throws at Remote:
// InfeasibleError, or lumen::Error for the node or bundle.
#pragma once

#include <map>
#include <string>
#include <type_traits>
#include <utility>

#include "lumen/object_ref.h"
#include "lumen/placement_group.h"
#include "lumen/remote.h"

namespace lumen {

// Where a task or actor may run. DEFAULT packs work on the least loaded
// worker; SPREAD spreads it over nodes; node affinity asks for one node
// (its name: GetClusterInfo().node_name), strictly unless `soft`.
struct SchedulingStrategy {
  enum class Kind { DEFAULT, SPREAD, NODE_AFFINITY } kind = Kind::DEFAULT;
  std::string node;  // NODE_AFFINITY
  bool soft = false;

  static SchedulingStrategy Default() { return {}; }
  static SchedulingStrategy Spread() { return {Kind::SPREAD, "", false}; }
  static SchedulingStrategy NodeAffinity(std::string node, bool soft = false) {
    return {Kind::NODE_AFFINITY, std::move(node), soft};
  }
};

namespace internal {

template <class Param, class Arg>
TaskArg MakeArg(Arg&& arg) {
  using P = std::decay_t<Param>;
  using A = std::decay_t<Arg>;
  TaskArg out;
  if constexpr (IsObjectRef<A>::value && IsObjectRef<P>::value) {
    // A parameter of type ObjectRef<T> gets the reference itself, not its
    // value: the task borrows it (the submission pins the object meanwhile).
    static_assert(std::is_same_v<A, P>, "lumen: an ObjectRef argument must match the ObjectRef parameter's type");
    out = ValueArg(arg);
  } else if constexpr (IsObjectRef<A>::value) {
    static_assert(std::is_same_v<typename A::value_type, P>,
                  "lumen: an ObjectRef<T> argument must have T equal to the parameter's type");
    out.by_ref = true;
    out.ref = arg.id();
  } else if constexpr (std::is_same_v<A, P>) {
    out = ValueArg(arg);
  } else {
    static_assert(std::is_convertible_v<Arg&&, P>,
                  "lumen: a task argument must convert to the function's parameter type");
    out = ValueArg(static_cast<P>(std::forward<Arg>(arg)));
  }
  return out;
}

// Options shared by task and actor calls.
template <class Self>
class CallOptions {
 public:
  Self& SetName(std::string name) {
    spec_.name = std::move(name);
    return self();
  }
  // Amounts as Ray takes them: >= 0 (0 = none of it; CPU 0 = no CPU
  // rather than the default 1), and whole numbers above 1. lumen::Error here
  // for anything else.
  Self& SetResources(const std::map<std::string, double>& resources) {
    for (const auto& [name, amount] : resources) CheckResourceAmount(name, amount, "SetResources");
    spec_.resources = resources;
    return self();
  }
  Self& SetResource(const std::string& name, double amount) {
    CheckResourceAmount(name, amount, "SetResource");
    spec_.resources[name] = amount;
    return self();
  }
  Self& SetSchedulingStrategy(const SchedulingStrategy& strategy) {
    spec_.node_affinity = strategy.kind == SchedulingStrategy::Kind::NODE_AFFINITY ? strategy.node : "";
    spec_.node_affinity_soft = strategy.soft;
    spec_.spread = strategy.kind == SchedulingStrategy::Kind::SPREAD;
    return self();
  }
  // Run within bundle `bundle_index` of `pg`: the resource request must fit it.
  Self& SetPlacementGroup(const PlacementGroup& pg, int bundle_index) {
    spec_.placement_group = pg.GetID();
    spec_.bundle_index = bundle_index;
    return self();
  }

 protected:
  Self& self() { return static_cast<Self&>(*this); }
  TaskSpec spec_;
};

}  // namespace internal

template <class F>
class TaskCaller;

template <class R, class... Params>
class TaskCaller<R (*)(Params...)> : public internal::CallOptions<TaskCaller<R (*)(Params...)>> {
 public:
  explicit TaskCaller(R (*f)(Params...)) : f_(f) {}

  // Retries after a worker crash (default 3; -1 = forever).
  TaskCaller& SetMaxRetries(int n) {
    this->spec_.max_retries = n;
    return *this;
  }
  // Also retry when the function throws (default false).
  TaskCaller& SetRetryExceptions(bool retry) {
    this->spec_.retry_exceptions = retry;
    return *this;
  }

  template <class... Args>
  ObjectRef<R> Remote(Args&&... args) {
    static_assert(sizeof...(Args) == sizeof...(Params),
                  "lumen: Remote() takes exactly the function's parameters");
    internal::TaskSpec spec = this->spec_;
    spec.function = internal::FunctionName(internal::PointerKey(f_));
    spec.args = {internal::MakeArg<Params>(std::forward<Args>(args))...};
    return ObjectRef<R>::Adopt(internal::CurrentCore().Submit(std::move(spec)));
  }

 private:
  R (*f_)(Params...);
};

template <class R, class... Params>
TaskCaller<R (*)(Params...)> Task(R (*f)(Params...)) {
  return TaskCaller<R (*)(Params...)>(f);
}

}  // namespace lumen
