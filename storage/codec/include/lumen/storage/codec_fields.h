// User structs: one line inside the struct body lists the fields to store.
// Users include <lumen/storage/codec.h>, not this file.
//
//   struct Person {
//     std::string name;
//     int age = 0;
//     LUMEN_FIELDS(name, age);
//   };
//
// The fields are stored in order as a list; each field needs a codec itself
// (structs nest freely). The type name spells field names and types,
// "{name:str,age:i32}", so renaming, reordering or retyping a field makes old
// objects fail to decode with a clear CodecError instead of decoding garbage.
// The struct must be default-constructible; the macro may sit under any access
// specifier (the codec reaches the fields as a friend).

#ifndef LUMEN_STORAGE_CODEC_FIELDS_H_
#define LUMEN_STORAGE_CODEC_FIELDS_H_

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <lumen/storage/codec_core.h>

namespace lumen::codec::internal {

// The one friend of every LUMEN_FIELDS struct.
struct FieldAccess {
  template <class T>
  static constexpr bool Has() {
    return requires(T& t) {
      t.LumenFieldRefs();
      T::LumenFieldNames();
    };
  }
  template <class T>
  static auto Refs(T& t) {
    return t.LumenFieldRefs();
  }
  template <class T>
  static auto Refs(const T& t) {
    return t.LumenFieldRefs();
  }
  template <class T>
  static const char* Names() {
    return T::LumenFieldNames();
  }
};

// "{a:i32,b:str}" from the macro's "a, b" and the fields' types.
std::string StructTypeName(const char* field_names, const std::string* type_names, size_t n);

}  // namespace lumen::codec::internal

// Place inside a struct's body with the names of the fields to store, in order.
#define LUMEN_FIELDS(...)                                                 \
  friend struct ::lumen::codec::internal::FieldAccess;                    \
  auto LumenFieldRefs() { return std::tie(__VA_ARGS__); }                 \
  auto LumenFieldRefs() const { return std::tie(__VA_ARGS__); }           \
  static constexpr const char* LumenFieldNames() { return #__VA_ARGS__; } \
  static_assert(true, "the caller's semicolon ends this declaration")

namespace lumen::codec {

template <class T>
  requires(internal::FieldAccess::Has<T>())
struct Codec<T> {
  using Fields = decltype(internal::FieldAccess::Refs(std::declval<const T&>()));
  static constexpr size_t kCount = std::tuple_size_v<Fields>;

  template <size_t I>
  using Field = std::remove_cvref_t<std::tuple_element_t<I, Fields>>;

  static std::string TypeName() {
    return [&]<size_t... I>(std::index_sequence<I...>) {
      const std::string types[kCount + 1] = {::lumen::codec::TypeName<Field<I>>()..., ""};
      return internal::StructTypeName(internal::FieldAccess::Names<T>(), types, kCount);
    }(std::make_index_sequence<kCount>{});
  }

  static void Write(schema::Value::Builder b, const T& v) {
    auto refs = internal::FieldAccess::Refs(v);
    auto list = internal::InitList(b, kCount);
    [&]<size_t... I>(std::index_sequence<I...>) {
      (Codec<Field<I>>::Write(list[I], std::get<I>(refs)), ...);
    }(std::make_index_sequence<kCount>{});
  }

  static void Read(schema::Value::Reader r, T& out) {
    auto refs = internal::FieldAccess::Refs(out);
    auto list = internal::ReadList(r, static_cast<long>(kCount));
    [&]<size_t... I>(std::index_sequence<I...>) {
      (Codec<Field<I>>::Read(list[I], std::get<I>(refs)), ...);
    }(std::make_index_sequence<kCount>{});
  }
};

}  // namespace lumen::codec

#endif  // LUMEN_STORAGE_CODEC_FIELDS_H_
