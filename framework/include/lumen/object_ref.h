// ObjectRef<T>: a reference to an immutable object that a task returns or
// Put stores, anywhere in the cluster. Copies are cheap; the object is freed
// once no ObjectRef to it exists in any process and no pending task needs it.
// Get blocks until the object is ready and returns an owned copy; GetView
// reads it in place without a copy. Both rethrow the error the object ended
// with (TaskError, WorkerCrashedError, TaskCancelledError, ...).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "lumen/errors.h"
#include "lumen/internal/core.h"

namespace lumen {

template <class T>
class ObjectRef {
 public:
  using value_type = T;

  ObjectRef() = default;
  ObjectRef(const ObjectRef& other) : id_(other.id_) { Retain(); }
  ObjectRef(ObjectRef&& other) noexcept : id_(other.id_) { other.id_ = ObjectID(); }
  ObjectRef& operator=(const ObjectRef& other) {
    if (this != &other) {
      ObjectRef copy(other);
      std::swap(id_, copy.id_);
    }
    return *this;
  }
  ObjectRef& operator=(ObjectRef&& other) noexcept {
    std::swap(id_, other.id_);
    return *this;
  }
  ~ObjectRef() {
    if (!id_.IsNil()) internal::RemoveRef(id_);
  }

  // The stable hex id (40 digits).
  std::string ID() const { return id_.Hex(); }
  // A ref to an existing object by its hex id; lumen::Error if `hex` is malformed.
  static ObjectRef FromID(const std::string& hex) {
    ObjectID id;
    if (!ObjectID::FromHex(hex, &id))
      throw Error("ObjectRef::FromID: '" + hex + "' is not a 40-digit hex object id");
    return Borrow(id);
  }

  // A shared_ptr to the value; nothing for ObjectRef<void> (it waits and rethrows).
  auto Get() const;
  auto Get(int64_t timeout_ms) const;

  bool IsNil() const { return id_.IsNil(); }
  const ObjectID& id() const { return id_; }
  friend bool operator==(const ObjectRef& a, const ObjectRef& b) { return a.id_ == b.id_; }

  // Internal: takes over a reference the runtime already counted for the caller.
  static ObjectRef Adopt(const ObjectID& id) {
    ObjectRef ref;
    ref.id_ = id;
    return ref;
  }
  // Internal: a new reference to `id`, counted now.
  static ObjectRef Borrow(const ObjectID& id) {
    ObjectRef ref = Adopt(id);
    ref.Retain();
    return ref;
  }

 private:
  void Retain() {
    if (!id_.IsNil()) internal::AddRef(id_);
  }
  ObjectID id_;
};

template <class T>
struct IsObjectRef : std::false_type {};
template <class T>
struct IsObjectRef<ObjectRef<T>> : std::true_type {};

// ---- Get, Put, Wait, Cancel ------------------------------------------------

// Blocks until `ref` is ready; timeout_ms < 0 waits forever (GetTimeoutError otherwise).
template <class T>
std::shared_ptr<T> Get(const ObjectRef<T>& ref, int64_t timeout_ms = -1) {
  auto data = internal::CurrentCore().Get({ref.id()}, timeout_ms);
  return std::make_shared<T>(internal::DecodeObject<T>(data[0], "object " + ref.ID()));
}

template <class T>
std::vector<std::shared_ptr<T>> Get(const std::vector<ObjectRef<T>>& refs, int64_t timeout_ms = -1) {
  std::vector<ObjectID> ids;
  ids.reserve(refs.size());
  for (const auto& r : refs) ids.push_back(r.id());
  auto data = internal::CurrentCore().Get(ids, timeout_ms);
  std::vector<std::shared_ptr<T>> values;
  values.reserve(refs.size());
  for (size_t i = 0; i < refs.size(); ++i)
    values.push_back(std::make_shared<T>(internal::DecodeObject<T>(data[i], "object " + refs[i].ID())));
  return values;
}

// The result of a task or method returning void: waits, rethrows its error.
inline void Get(const ObjectRef<void>& ref, int64_t timeout_ms = -1) {
  internal::CurrentCore().Get({ref.id()}, timeout_ms);
}
inline void Get(const std::vector<ObjectRef<void>>& refs, int64_t timeout_ms = -1) {
  std::vector<ObjectID> ids;
  ids.reserve(refs.size());
  for (const auto& r : refs) ids.push_back(r.id());
  internal::CurrentCore().Get(ids, timeout_ms);
}

template <class T>
auto ObjectRef<T>::Get() const {
  return lumen::Get(*this);
}
template <class T>
auto ObjectRef<T>::Get(int64_t timeout_ms) const {
  return lumen::Get(*this, timeout_ms);
}

namespace internal {
// What Put stores a T as: itself, but a Cap'n Proto S::Reader as codec::Message<S>.
template <class T, class = void>
struct StoredAs {
  using type = std::decay_t<T>;
};
template <class T>
struct StoredAs<T, std::enable_if_t<codec::internal::CapnpStructReader<std::decay_t<T>>>> {
  using type = codec::Message<typename std::decay_t<T>::Reads>;
};
}  // namespace internal

// Stores `value` as an immutable object (in the shared store if large).
template <class T>
ObjectRef<typename internal::StoredAs<T>::type> Put(const T& value) {
  internal::NestedRefCollector collector;
  codec::Encoded encoded = codec::Encode(value);
  return ObjectRef<typename internal::StoredAs<T>::type>::Adopt(internal::CurrentCore().Put(encoded, collector.Take()));
}

template <class T>
struct WaitResult {
  std::vector<ObjectRef<T>> ready;
  std::vector<ObjectRef<T>> unready;
};

// Waits until num_objects of `refs` are ready or timeout_ms passes (< 0:
// forever). Order is preserved within ready and within unready.
template <class T>
WaitResult<T> Wait(const std::vector<ObjectRef<T>>& refs, int num_objects, int64_t timeout_ms = -1) {
  if (num_objects < 0 || static_cast<size_t>(num_objects) > refs.size())
    throw Error("Wait: num_objects must be between 0 and the number of refs (" +
                std::to_string(refs.size()) + "), got " + std::to_string(num_objects));
  std::vector<ObjectID> ids;
  ids.reserve(refs.size());
  for (const auto& r : refs) ids.push_back(r.id());
  std::vector<bool> ready = internal::CurrentCore().Wait(ids, num_objects, timeout_ms);
  WaitResult<T> result;
  for (size_t i = 0; i < refs.size(); ++i) (ready[i] ? result.ready : result.unready).push_back(refs[i]);
  return result;
}

// Cancels the task making `ref`: Get then throws TaskCancelledError (unless
// it had already finished).
template <class T>
void Cancel(const ObjectRef<T>& ref) {
  internal::CurrentCore().Cancel(ref.id());
}

}  // namespace lumen

// An ObjectRef nested in a value (a vector of refs, a struct field) travels as
// its id; the receiving process gets a counted ref it can Get.
template <class T>
struct lumen::codec::Codec<lumen::ObjectRef<T>> {
  static std::string TypeName() { return "ref<" + lumen::codec::TypeName<T>() + ">"; }
  static void Write(lumen::schema::Value::Builder b, const lumen::ObjectRef<T>& ref) {
    lumen::internal::NestedRefCollector::Note(ref.id());
    b.setRef(capnp::Data::Reader(ref.id().data(), lumen::ObjectID::kSize));
  }
  static void Read(lumen::schema::Value::Reader r, lumen::ObjectRef<T>& out) {
    if (!r.isRef() || r.getRef().size() != lumen::ObjectID::kSize)
      throw lumen::codec::CodecError("expected an object ref of " + TypeName());
    out = lumen::ObjectRef<T>::Borrow(lumen::ObjectID::FromBinary(r.getRef().begin()));
  }
};
