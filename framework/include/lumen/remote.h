// Registering code: LUMEN_REMOTE(f, g, &C::m, LUMEN_FUNC(C::Make, int)) makes
// functions callable as tasks and actor methods, by name, in every process of
// the cluster. Registration runs at static-initialisation time, in any
// translation unit of the binary; workers run the same binary, so the same
// names exist there. LUMEN_FUNC(f, ArgTypes...) picks one overload.
#pragma once

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "lumen/errors.h"
#include "lumen/internal/core.h"

namespace lumen::internal {

// Where a worker puts what a call produced.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void Emit(const codec::Encoded& encoded, std::vector<ObjectID> nested_refs) = 0;
  // An actor factory's new instance, owned by the sink from now on.
  virtual void EmitInstance(void* instance, void (*deleter)(void*)) = 0;
};

// Arguments that do not decode as the registered parameter types: a bad
// call, reported as lumen::Error rather than as the user's TaskError.
class BadCallError : public Error {
 public:
  using Error::Error;
};

struct RemoteFunction {
  std::string name;
  bool is_member = false;   // actor method: `self` is the instance
  bool is_factory = false;  // returns a new actor instance
  size_t arity = 0;
  std::function<void(void* self, const std::vector<ObjectData>& args, ResultSink& sink)> invoke;
};

// The byte pattern of a function or member pointer: the registry's key.
template <class F>
std::string PointerKey(F f) {
  return std::string(reinterpret_cast<const char*>(&f), sizeof f);
}

void Register(const std::string& key, RemoteFunction function);
// The registered name of the function whose pointer key is `key`; lumen::Error if none.
const std::string& FunctionName(const std::string& key);
// nullptr if no function has this name.
const RemoteFunction* FindFunction(const std::string& name);
// Splits LUMEN_REMOTE's stringified argument list at top-level commas.
std::vector<std::string> SplitRemoteNames(const char* names);

template <class T>
T DecodeArgument(const ObjectData& data, size_t index, const std::string& function) {
  try {
    return codec::Decode<T>(data.data, data.size);
  } catch (const std::exception& e) {
    throw BadCallError("argument " + std::to_string(index + 1) + " of '" + function +
                       "' does not match its parameter type " + codec::TypeName<T>() + ": " + e.what());
  }
}

template <class R>
void EmitResult(R&& result, ResultSink& sink) {
  if constexpr (std::is_pointer_v<std::decay_t<R>>) {
    using C = std::remove_pointer_t<std::decay_t<R>>;
    sink.EmitInstance(result, [](void* p) { delete static_cast<C*>(p); });
  } else {
    NestedRefCollector collector;
    codec::Encoded encoded = codec::Encode(result);
    sink.Emit(encoded, collector.Take());
  }
}

// Decodes each argument as its parameter's type, calls, emits the result.
template <class Params, class Call, size_t... I>
void InvokeWith(const std::string& name, const std::vector<ObjectData>& args, ResultSink& sink, const Call& call,
                std::index_sequence<I...>) {
  if (args.size() != sizeof...(I))
    throw BadCallError("'" + name + "' takes " + std::to_string(sizeof...(I)) + " arguments, got " +
                       std::to_string(args.size()));
  std::tuple<std::decay_t<std::tuple_element_t<I, Params>>...> values{
      DecodeArgument<std::decay_t<std::tuple_element_t<I, Params>>>(args[I], I, name)...};
  using R = decltype(call(static_cast<std::tuple_element_t<I, Params>&&>(std::get<I>(values))...));
  if constexpr (std::is_void_v<R>) {
    call(static_cast<std::tuple_element_t<I, Params>&&>(std::get<I>(values))...);
    EmitResult(true, sink);  // ObjectRef<void>: "done"
  } else {
    EmitResult(call(static_cast<std::tuple_element_t<I, Params>&&>(std::get<I>(values))...), sink);
  }
}

template <class R, class... Args>
RemoteFunction MakeRemote(const std::string& name, R (*f)(Args...)) {
  RemoteFunction rf{name, false, std::is_pointer_v<R>, sizeof...(Args), {}};
  rf.invoke = [name, f](void*, const std::vector<ObjectData>& args, ResultSink& sink) {
    InvokeWith<std::tuple<Args...>>(name, args, sink, f, std::index_sequence_for<Args...>{});
  };
  return rf;
}

template <class R, class C, class... Args>
RemoteFunction MakeRemote(const std::string& name, R (C::*f)(Args...)) {
  RemoteFunction rf{name, true, false, sizeof...(Args), {}};
  rf.invoke = [name, f](void* self, const std::vector<ObjectData>& args, ResultSink& sink) {
    auto call = [&](Args&&... a) -> R { return (static_cast<C*>(self)->*f)(static_cast<Args&&>(a)...); };
    InvokeWith<std::tuple<Args...>>(name, args, sink, call, std::index_sequence_for<Args...>{});
  };
  return rf;
}

template <class R, class C, class... Args>
RemoteFunction MakeRemote(const std::string& name, R (C::*f)(Args...) const) {
  RemoteFunction rf{name, true, false, sizeof...(Args), {}};
  rf.invoke = [name, f](void* self, const std::vector<ObjectData>& args, ResultSink& sink) {
    auto call = [&](Args&&... a) -> R { return (static_cast<const C*>(self)->*f)(static_cast<Args&&>(a)...); };
    InvokeWith<std::tuple<Args...>>(name, args, sink, call, std::index_sequence_for<Args...>{});
  };
  return rf;
}

template <class... Fs>
bool RegisterAll(const char* names, Fs... fs) {
  std::vector<std::string> split = SplitRemoteNames(names);
  size_t i = 0;
  (Register(PointerKey(fs), MakeRemote(split.at(i++), fs)), ...);
  return true;
}

// LUMEN_FUNC's overload picker: Args are given, never deduced.
template <class... Args>
struct Overload {
  template <class R>
  static constexpr auto Of(R (*f)(Args...)) { return f; }
  template <class R, class C>
  static constexpr auto Of(R (C::*f)(Args...)) { return f; }
  template <class R, class C>
  static constexpr auto Of(R (C::*f)(Args...) const) { return f; }
};

}  // namespace lumen::internal

#define LUMEN_INTERNAL_CONCAT2(a, b) a##b
#define LUMEN_INTERNAL_CONCAT(a, b) LUMEN_INTERNAL_CONCAT2(a, b)

// Registers functions, actor factories and actor methods by name.
#define LUMEN_REMOTE(...)                                                        \
  [[maybe_unused]] static const bool LUMEN_INTERNAL_CONCAT(lumen_remote_, __LINE__) = \
      ::lumen::internal::RegisterAll(#__VA_ARGS__, __VA_ARGS__)

// Picks the overload of `f` taking exactly the given argument types.
#define LUMEN_FUNC(f, ...) ::lumen::internal::Overload<__VA_ARGS__>::Of(&f)
