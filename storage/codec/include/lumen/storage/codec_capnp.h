// Cap'n Proto structs stored as themselves. Users include
// <lumen/storage/codec.h>, not this file.
//
// A generated struct class S is not a value (it has no constructor), so:
//   - the owning value type is Message<S>: copyable, default-constructible,
//     decoded by Decode<Message<S>>;
//   - S::Reader can be encoded directly (Encode copies the struct into the
//     object) and reads back as Message<S>: both share one TypeName;
//   - ViewStruct<S> (codec.h) reads an object in place, without a copy.
// The stored Value is the `capnp` AnyPointer member; TypeName is
// "capnp@<64-bit schema id in hex>", so objects survive renames of the struct.

#ifndef LUMEN_STORAGE_CODEC_CAPNP_H_
#define LUMEN_STORAGE_CODEC_CAPNP_H_

#include <memory>
#include <string>
#include <type_traits>

#include <capnp/any.h>
#include <capnp/message.h>
#include <lumen/storage/codec_core.h>

namespace lumen::codec {

namespace internal {

template <class S>
concept CapnpStruct = requires { typename S::_capnpPrivate::IsStruct; };

template <class R>
concept CapnpStructReader = requires { typename R::Reads; } &&
                            CapnpStruct<typename R::Reads> &&
                            std::is_same_v<R, typename R::Reads::Reader>;

// "capnp@" + the struct's schema id, as 16 hex digits.
std::string CapnpTypeName(uint64_t type_id);

template <class S>
std::string CapnpTypeName() {
  return CapnpTypeName(capnp::typeId<S>());
}

}  // namespace internal

// An owned Cap'n Proto struct S: its own message, deep-copied on copy.
// A moved-from Message may only be assigned to or destroyed.
template <class S>
  requires internal::CapnpStruct<S>
class Message {
 public:
  // A struct with every field at its default.
  Message() : message_(std::make_unique<capnp::MallocMessageBuilder>()) {
    message_->initRoot<S>();
  }
  // A copy of `from`.
  explicit Message(typename S::Reader from)
      : message_(std::make_unique<capnp::MallocMessageBuilder>()) {
    message_->setRoot(from);
  }
  Message(const Message& other) : Message(other.Get()) {}
  Message& operator=(const Message& other) {
    if (this != &other) *this = Message(other);
    return *this;
  }
  Message(Message&&) noexcept = default;
  Message& operator=(Message&&) noexcept = default;

  typename S::Reader Get() const { return message_->getRoot<S>().asReader(); }
  typename S::Builder Mutable() { return message_->getRoot<S>(); }

 private:
  // getRoot is not const in Cap'n Proto; the pointer keeps Get() const.
  std::unique_ptr<capnp::MallocMessageBuilder> message_;
};

template <class S>
struct Codec<Message<S>> {
  static std::string TypeName() { return internal::CapnpTypeName<S>(); }
  static void Write(schema::Value::Builder b, const Message<S>& v) {
    b.initCapnp().setAs<S>(v.Get());
    internal::CheckCapnpNesting(b);
  }
  static void Read(schema::Value::Reader r, Message<S>& out) {
    internal::ExpectWhich(r, schema::Value::Which::CAPNP);
    out = Message<S>(r.getCapnp().getAs<S>());
  }
};

// Write-only: an S::Reader is a pointer into someone else's message. Decode the
// object as Message<S>, or view it with ViewStruct<S>.
template <class R>
  requires internal::CapnpStructReader<R>
struct Codec<R> {
  using S = typename R::Reads;
  static std::string TypeName() { return internal::CapnpTypeName<S>(); }
  static void Write(schema::Value::Builder b, const R& v) {
    b.initCapnp().setAs<S>(v);
    internal::CheckCapnpNesting(b);
  }
  static void Read(schema::Value::Reader, R&) {
    static_assert(internal::kAlwaysFalse<R>,
                  "lumen::codec: a Cap'n Proto S::Reader cannot own data: decode as "
                  "lumen::codec::Message<S>, or view in place with ViewStruct<S>");
  }
};

// The generated class itself is no value: say what to use instead.
template <class S>
  requires internal::CapnpStruct<S>
struct Codec<S> {
  static_assert(internal::kAlwaysFalse<S>,
                "lumen::codec: store a Cap'n Proto struct S as lumen::codec::Message<S> "
                "(owned) or S::Reader (encode only); view it with ViewStruct<S>");
};

}  // namespace lumen::codec

#endif  // LUMEN_STORAGE_CODEC_CAPNP_H_
