// The lumen object format: C++ values <-> Cap'n Proto messages.
//
// Every object is one flat Cap'n Proto message (segment table, then segments)
// whose root is a schema::Object (storage/codec/schema/object.capnp): the C++
// type's signature, TypeName<T>(), and the value as a schema::Value tree.
// Encode<T> builds an object; Encoded::WriteTo copies it to any 8-byte-aligned
// destination (a shared-memory segment, a message buffer) in one pass. Decode<T>
// checks the signature and rebuilds an owned T. ViewSpan and ViewStruct read an
// object in place, without copying its payload.
//
// Codecs exist for arithmetic types, std::string, std::vector, std::array,
// std::map, std::unordered_map, std::pair, std::tuple, std::optional (nested
// freely), structs that declare LUMEN_FIELDS(...) (codec_fields.h) and Cap'n
// Proto structs as Message<S> (codec_capnp.h). Codec<T> (codec_core.h) is the
// customisation point; the runtime adds one for ObjectRef<T>.
//
// Robustness: decoding never trusts the buffer. A truncated, corrupted or
// mistyped object throws CodecError; it never crashes and never reads outside
// [data, data + size). Limits of the format, refused by Encode with a
// CodecError that names them (codec_core.h has the numbers): one contiguous
// payload (a string, a vector of numbers) holds at most 2^29 - 1 bytes; a
// container of other values at most 178,956,970 elements (a map counts keys
// and values); containers nest at most 63 deep, and a Message<S> inside them
// may nest only as deep as what is left. Whatever Encode accepts, Decode reads.
//
// Thread safety: all functions are reentrant; an Encoded or a StructView is used
// by one thread at a time.

#ifndef LUMEN_STORAGE_CODEC_H_
#define LUMEN_STORAGE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include <capnp/message.h>
#include <kj/exception.h>
#include <lumen/storage/codec_capnp.h>
#include <lumen/storage/codec_core.h>
#include <lumen/storage/codec_fields.h>
#include <lumen/storage/codec_std.h>
#include <lumen/storage/object.capnp.h>

namespace lumen::codec {

namespace internal {
class Encoder;
}

// An object ready to be written anywhere. Move-only; a moved-from Encoded may
// only be destroyed or assigned to.
//
// Large payloads (strings and vectors of numbers of 8 KiB and more, word-aligned,
// a multiple of 8 bytes long) are not copied by Encode: the Encoded refers to the
// caller's memory and WriteTo copies them once, straight to their destination.
// Such an Encoded borrows from the value it was made from (borrows() == true) —
// see Encode for who keeps that value alive.
class Encoded {
 public:
  Encoded(Encoded&&) noexcept;
  Encoded& operator=(Encoded&&) noexcept;
  ~Encoded();

  // Bytes WriteTo writes: a multiple of 8.
  size_t size() const;

  // Writes the object as a flat Cap'n Proto message (readable by
  // capnp::FlatArrayMessageReader, Decode and the views).
  // REQUIRES: dest is 8-byte aligned and holds size() bytes.
  void WriteTo(uint8_t* dest) const;

  // Whether the Encoded refers to memory of the value it was encoded from.
  bool borrows() const;

 private:
  friend class internal::Encoder;
  struct Impl;
  explicit Encoded(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

namespace internal {

// One Encode call: the message under construction. While alive, WriteBytes on
// this thread may reference large payloads instead of copying them.
class Encoder {
 public:
  explicit Encoder(const std::string& type_name);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  schema::Value::Builder Value();
  // keep_alive, when the message borrows, is owned by the Encoded.
  Encoded Finish(std::shared_ptr<const void> keep_alive = nullptr);

  // The innermost Encoder alive on this thread, or nullptr.
  static Encoder* Current();
  // Adopts [p, p + n) into b's `bytes` without a copy if this message may: the
  // payload is large, word-aligned and a multiple of 8 long, and the message has
  // not yet referenced too many payloads (each becomes a segment).
  bool TryReference(schema::Value::Builder b, const void* p, size_t n);
  // How many containers are open around the value being written.
  int depth() const { return depth_; }

 private:
  friend class ListBuilder;  // counts depth_

  std::unique_ptr<Encoded::Impl> impl_;
  Encoder* previous_;  // the enclosing Encoder on this thread, if any
  int depth_ = 0;      // containers open around the value being written
};

// Rethrows e as CodecError("<context>: <Cap'n Proto's description>").
[[noreturn]] void ThrowFromKj(const kj::Exception& e, const char* context);

// An object opened for reading. Decode mode copies an unaligned buffer and
// bounds the traversal by the buffer's size; view mode REQUIRES alignment
// (throws CodecError otherwise) and lifts the traversal limit, because a view
// is read repeatedly and Cap'n Proto charges every read.
class ObjectReader {
 public:
  enum class Mode { kDecode, kView };
  ObjectReader(const void* data, size_t size, Mode mode);  // throws CodecError
  ~ObjectReader();
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  schema::Object::Reader Root() const { return root_; }

 private:
  std::unique_ptr<capnp::word[]> copy_;
  std::unique_ptr<capnp::MessageReader> reader_;
  schema::Object::Reader root_;
};

// Throws CodecError("object holds <stored>, asked for <want>") on a mismatch.
void CheckType(schema::Object::Reader root, const std::string& want);

// As CheckType, accepting vector<E> and array<E,N> of any N.
void CheckSpanType(schema::Object::Reader root, const std::string& element);

}  // namespace internal

// Encodes v. The result may borrow v's large payloads (see Encoded).
// REQUIRES: v outlives the Encoded and does not change while it lives.
template <class T>
Encoded Encode(const T& v) {
  internal::Encoder encoder(TypeName<T>());
  try {
    Codec<T>::Write(encoder.Value(), v);
  } catch (const kj::Exception& e) {
    internal::ThrowFromKj(e, "cannot encode");
  }
  return encoder.Finish();
}

// Encodes a temporary: when the Encoded borrows, it keeps the moved value alive.
template <class T>
  requires(!std::is_lvalue_reference_v<T>)
Encoded Encode(T&& v) {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_arithmetic_v<U>) {
    return Encode(std::as_const(v));
  } else {
    auto owned = std::make_shared<const U>(std::move(v));
    internal::Encoder encoder(TypeName<U>());
    try {
      Codec<U>::Write(encoder.Value(), *owned);
    } catch (const kj::Exception& e) {
      internal::ThrowFromKj(e, "cannot encode");
    }
    return encoder.Finish(std::move(owned));
  }
}

// Decodes an object written by Encode<T>. data needs no alignment (an unaligned
// buffer is copied first). Throws CodecError when the object holds another type
// or is truncated or corrupted.
template <class T>
T Decode(const void* data, size_t size) {
  internal::ObjectReader object(data, size, internal::ObjectReader::Mode::kDecode);
  try {
    internal::CheckType(object.Root(), TypeName<T>());
    T out{};
    Codec<T>::Read(object.Root().getValue(), out);
    return out;
  } catch (const kj::Exception& e) {
    internal::ThrowFromKj(e, "corrupt object");
  }
}

// The TypeName stored in an object. Throws CodecError if data holds no object.
std::string StoredTypeName(const void* data, size_t size);

// The numbers of a std::vector<E> or std::array<E, N> object, in place: the span
// points into [data, data + size) and is valid as long as the buffer.
// REQUIRES: data is 8-byte aligned (throws CodecError otherwise); E arithmetic.
template <class E>
std::span<const E> ViewSpan(const void* data, size_t size) {
  static_assert(internal::kRawElement<E>,
                "lumen::codec::ViewSpan: the element must be arithmetic, not bool");
  internal::ObjectReader object(data, size, internal::ObjectReader::Mode::kView);
  try {
    internal::CheckSpanType(object.Root(), TypeName<E>());
    capnp::Data::Reader bytes = internal::ReadBytes(object.Root().getValue(), sizeof(E));
    if (reinterpret_cast<uintptr_t>(bytes.begin()) % alignof(E) != 0) {
      internal::CorruptObject("misaligned payload");
    }
    return {reinterpret_cast<const E*>(bytes.begin()), bytes.size() / sizeof(E)};
  } catch (const kj::Exception& e) {
    internal::ThrowFromKj(e, "corrupt object");
  }
}

// A Cap'n Proto struct S read in place from an object written from Message<S> or
// S::Reader. Owns the message reader (a bare S::Reader would dangle); the
// buffer itself must outlive the view. Movable, not copyable.
template <class S>
  requires internal::CapnpStruct<S>
class StructView {
 public:
  // REQUIRES: data is 8-byte aligned. Throws CodecError on a mismatch, an
  // unaligned or a corrupted buffer.
  StructView(const void* data, size_t size)
      : object_(std::make_unique<internal::ObjectReader>(
            data, size, internal::ObjectReader::Mode::kView)) {
    try {
      internal::CheckType(object_->Root(), internal::CapnpTypeName<S>());
      schema::Value::Reader value = object_->Root().getValue();
      internal::ExpectWhich(value, schema::Value::Which::CAPNP);
      root_ = value.getCapnp().getAs<S>();
    } catch (const kj::Exception& e) {
      internal::ThrowFromKj(e, "corrupt object");
    }
  }

  // Reading fields may still throw kj::Exception on a corrupted nested pointer.
  typename S::Reader Get() const { return root_; }
  const typename S::Reader* operator->() const { return &root_; }

 private:
  std::unique_ptr<internal::ObjectReader> object_;
  typename S::Reader root_;
};

template <class S>
StructView<S> ViewStruct(const void* data, size_t size) {
  return StructView<S>(data, size);
}

}  // namespace lumen::codec

#endif  // LUMEN_STORAGE_CODEC_H_
