// The customisation point of the lumen object format and the few helpers every
// codec shares. Users include <lumen/storage/codec.h>, not this file.
//
// A codec maps one C++ type T onto the generic schema::Value tree of
// object.capnp:
//
//   template <> struct lumen::codec::Codec<T> {
//     static std::string TypeName();   // stable signature of T, e.g. "vector<f64>"
//     static void Write(schema::Value::Builder b, const T& v);
//     static void Read(schema::Value::Reader r, T& out);   // out is default-constructed
//   };
//
// Read must never trust the buffer: a Value of an unexpected kind or size throws
// CodecError (use ExpectWhich/CorruptObject below); Cap'n Proto's own bounds
// checks throw kj::Exception, which Decode turns into CodecError.

#ifndef LUMEN_STORAGE_CODEC_CORE_H_
#define LUMEN_STORAGE_CODEC_CORE_H_

#include <cstddef>
#include <string>
#include <type_traits>

#include <capnp/message.h>
#include <lumen/storage/error.h>
#include <lumen/storage/object.capnp.h>

namespace lumen::codec {

// Thrown for every failure to encode or decode: a type mismatch, a truncated or
// corrupted buffer, a payload over the format's limits. A lumen::Error, so
// `catch (const lumen::Error&)` sees it wherever it escapes to a user.
class CodecError : public ::lumen::Error {
 public:
  using ::lumen::Error::Error;
};

namespace internal {
template <class T>
inline constexpr bool kAlwaysFalse = false;
}  // namespace internal

// The primary template is deliberately unusable: T has no codec.
template <class T, class Enable = void>
struct Codec {
  static_assert(internal::kAlwaysFalse<T>,
                "lumen::codec: no codec for this type. Codecs exist for bool, char, "
                "integers of 8..64 bits, float, double, std::string, std::vector, "
                "std::array, std::map, std::unordered_map, std::pair, std::tuple, "
                "std::optional (nested freely), structs that list their fields with "
                "LUMEN_FIELDS(a, b, c) inside the struct body, and Cap'n Proto "
                "structs as lumen::codec::Message<S>. Or specialise "
                "lumen::codec::Codec<T>.");
};

// The signature of T stored in every object and checked on decode. Computed once
// per type (codecs build it by concatenation).
template <class T>
const std::string& TypeName() {
  static const std::string name = Codec<T>::TypeName();
  return name;
}

namespace internal {

// Throws CodecError("corrupt object: <what>").
[[noreturn]] void CorruptObject(const std::string& what);

// Throws CodecError unless r holds the union member `want`.
void ExpectWhich(schema::Value::Reader r, schema::Value::Which want);

// Stores n bytes at p as b's `bytes` member. Inside Encode, when may_reference,
// a large, word-aligned payload whose size is a multiple of 8 is referenced, not
// copied (the Encoded then borrows it, see Encode); otherwise it is copied. Pass
// may_reference = false for a temporary. Throws CodecError over the format's
// limit for one blob (2^29 - 1 bytes).
void WriteBytes(schema::Value::Builder b, const void* p, size_t n, bool may_reference = true);

// The `bytes` member of r, checked to be present and a whole number of
// elem_size-byte elements.
capnp::Data::Reader ReadBytes(schema::Value::Reader r, size_t elem_size);

// The `list` member of r, checked to be present (and of `size` elements unless
// size is -1).
capnp::List<schema::Value>::Reader ReadList(schema::Value::Reader r, long size = -1);

// `list` of b with n elements; throws CodecError over the format's limit.
capnp::List<schema::Value>::Builder InitList(schema::Value::Builder b, size_t n);

}  // namespace internal
}  // namespace lumen::codec

#endif  // LUMEN_STORAGE_CODEC_CORE_H_
