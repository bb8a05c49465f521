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
// checks throw kj::Exception, which Decode turns into CodecError. Write builds
// nested values under internal::InitList, which counts how deep they nest: what
// Encode accepts, Decode reads.

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

// The limits of the object format, enforced by Encode so that Decode never
// meets an object it cannot read.
//
// A blob (a string, a vector of numbers) is a Cap'n Proto Data: at most
// 2^29 - 1 bytes.
inline constexpr size_t kMaxBlobBytes = (size_t{1} << 29) - 1;
// A list of Values (a container of anything else) stores its size in words,
// 29 bits of them, and a Value takes 3 words: at most 178,956,970 elements.
inline constexpr size_t kValueWords =
    schema::Value::_capnpPrivate::dataWordSize + schema::Value::_capnpPrivate::pointerCount;
inline constexpr size_t kMaxListElements = ((size_t{1} << 29) - 1) / kValueWords;
// Decode bounds how deep pointers nest (so a hostile buffer cannot exhaust the
// stack). The root and the Object's value take two levels, each container
// (its list, then the element) two more: at most 63 containers inside one
// another.
inline constexpr int kNestingLimit = 128;
inline constexpr int kMaxDepth = (kNestingLimit - 2) / 2;

// Throws CodecError("corrupt object: <what>").
[[noreturn]] void CorruptObject(const std::string& what);

// Throws CodecError unless r holds the union member `want`.
void ExpectWhich(schema::Value::Reader r, schema::Value::Which want);

// Stores n bytes at p as b's `bytes` member. Inside Encode, when may_reference,
// a large, word-aligned payload whose size is a multiple of 8 is referenced, not
// copied (the Encoded then borrows it, see Encode); otherwise it is copied. Pass
// may_reference = false for a temporary. Throws CodecError ("object too
// large ...") over kMaxBlobBytes.
void WriteBytes(schema::Value::Builder b, const void* p, size_t n, bool may_reference = true);

// The `bytes` member of r, checked to be present and a whole number of
// elem_size-byte elements.
capnp::Data::Reader ReadBytes(schema::Value::Reader r, size_t elem_size);

// The `list` member of r, checked to be present (and of `size` elements unless
// size is -1).
capnp::List<schema::Value>::Reader ReadList(schema::Value::Reader r, long size = -1);

// A container's list under construction. While it lives, the values written
// into it count one level deeper; Encode refuses a value nested deeper than
// kMaxDepth. Create it with InitList and keep it for as long as the elements
// are being written.
class ListBuilder {
 public:
  ListBuilder(schema::Value::Builder b, size_t n);  // throws CodecError
  ~ListBuilder();
  ListBuilder(const ListBuilder&) = delete;
  ListBuilder& operator=(const ListBuilder&) = delete;

  schema::Value::Builder operator[](unsigned i) { return list_[i]; }
  unsigned size() const { return list_.size(); }

 private:
  capnp::List<schema::Value>::Builder list_;
  bool counted_ = false;  // inside an Encode, which counts the depth
};

// `list` of b with n elements. Throws CodecError over kMaxListElements or
// kMaxDepth, naming the limit.
inline ListBuilder InitList(schema::Value::Builder b, size_t n) { return ListBuilder(b, n); }

// Throws CodecError unless the Cap'n Proto struct just stored in b's `capnp`
// member can be read back where it sits (its own nesting adds to the
// containers around it). The capnp codecs call it after storing a struct.
void CheckCapnpNesting(schema::Value::Builder b);

}  // namespace internal
}  // namespace lumen::codec

#endif  // LUMEN_STORAGE_CODEC_CORE_H_
