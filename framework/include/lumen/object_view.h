// GetView: read an object where it lies, without copying it.
//
// For an object in the node's shared-memory store the view points into this
// process's mapping of the segment, so every process on the node reads the
// same physical pages. The view pins the object: it cannot be freed, evicted
// or spilled while the view lives. Views exist for
//   - std::vector<E> and std::array<E, N> of numbers: a std::span<const E>;
//   - Cap'n Proto structs stored as lumen::Message<S>: an S::Reader.
// Use Get for other types (it decodes an owned copy).
#pragma once

#include <span>
#include <type_traits>

#include "lumen/object_ref.h"

namespace lumen {

template <class S>
using Message = codec::Message<S>;

namespace internal {
template <class T>
struct ViewTraits {
  static constexpr bool kSupported = false;
};
template <class E, class A>
struct ViewTraits<std::vector<E, A>> {
  static constexpr bool kSupported = std::is_arithmetic_v<E> && !std::is_same_v<E, bool>;
  using Element = E;
};
template <class E, size_t N>
struct ViewTraits<std::array<E, N>> : ViewTraits<std::vector<E>> {};
template <class S>
struct ViewTraits<codec::Message<S>> {
  static constexpr bool kSupported = true;
  using Struct = S;
};
}  // namespace internal

template <class T>
class ObjectView {
  using Traits = internal::ViewTraits<T>;
  static_assert(Traits::kSupported,
                "lumen::GetView reads vectors/arrays of numbers and Cap'n Proto structs "
                "(lumen::Message<S>) in place; use lumen::Get for other types");

 public:
  explicit ObjectView(internal::ObjectData data) : data_(std::move(data)) {}

  // Vectors and arrays of numbers: the elements, in place.
  template <class U = T>
  auto span() const -> std::span<const typename internal::ViewTraits<U>::Element> {
    using E = typename Traits::Element;
    try {
      return codec::ViewSpan<E>(data_.data, data_.size);
    } catch (const codec::CodecError& e) {
      internal::ThrowDecodeError("GetView", e);
    }
  }
  // Cap'n Proto structs: a reader over the object in place.
  template <class U = T>
  auto reader() const -> typename internal::ViewTraits<U>::Struct::Reader {
    using S = typename Traits::Struct;
    try {
      if (!struct_view_) struct_view_ = std::make_shared<codec::StructView<S>>(data_.data, data_.size);
      return struct_view_->Get();
    } catch (const codec::CodecError& e) {
      internal::ThrowDecodeError("GetView", e);
    }
  }

  // The encoded object's bytes, as stored.
  const uint8_t* data() const { return data_.data; }
  size_t size() const { return data_.size; }

 private:
  template <class U>
  struct StructViewOf {
    using type = int;
  };
  template <class S>
  struct StructViewOf<codec::Message<S>> {
    using type = std::shared_ptr<codec::StructView<S>>;
  };

  internal::ObjectData data_;
  mutable typename StructViewOf<T>::type struct_view_{};
};

// Blocks until `ref` is ready (timeout_ms < 0: forever) and returns a view
// that pins it. Rethrows the object's error like Get.
template <class T>
ObjectView<T> GetView(const ObjectRef<T>& ref, int64_t timeout_ms = -1) {
  auto data = internal::CurrentCore().Get({ref.id()}, timeout_ms);
  return ObjectView<T>(std::move(data[0]));
}

}  // namespace lumen
