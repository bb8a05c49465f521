// Codecs for arithmetic types and the standard containers. Users include
// <lumen/storage/codec.h>, not this file.
//
// Mapping onto schema::Value (object.capnp), with each type's TypeName:
//   bool                      bool                     "bool"
//   char                      int or uint              "char"
//   signed/unsigned integers  int / uint               "i8".."i64", "u8".."u64"
//   float, double             float32 / float64        "f32", "f64"
//   std::string               bytes                    "str"
//   std::vector<E>            bytes if E arithmetic    "vector<E>"
//                             (bool: one 0/1 byte each), else list
//   std::array<E, N>          as vector; N checked     "array<E,N>"
//   std::map, unordered_map   list: k0, v0, k1, v1...  "map<K,V>", "umap<K,V>"
//   std::pair, std::tuple     list of the members      "pair<A,B>", "tuple<A,B,C>"
//   std::optional<E>          none, or list of one     "optional<E>"
// Arithmetic payloads are raw native-endian bytes (all lumen hosts are
// little-endian x86-64/arm64), which is what makes zero-copy spans possible.

#ifndef LUMEN_STORAGE_CODEC_STD_H_
#define LUMEN_STORAGE_CODEC_STD_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <lumen/storage/codec_core.h>

namespace lumen::codec {

namespace internal {

// Arithmetic types whose values are stored as raw bytes in containers.
template <class T>
inline constexpr bool kRawElement =
    std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, long double>;

template <class... Ts>
std::string JoinTypeNames() {
  std::string out;
  ((out += (out.empty() ? "" : ","), out += ::lumen::codec::TypeName<Ts>()), ...);
  return out;
}

// Containers of non-raw elements: a list with one Value per element.
template <class Range>
void WriteElements(schema::Value::Builder b, const Range& range) {
  using E = std::remove_cvref_t<decltype(*std::begin(range))>;
  auto list = InitList(b, std::size(range));
  unsigned i = 0;
  for (const auto& e : range) Codec<E>::Write(list[i++], e);
}

}  // namespace internal

template <class T>
  requires std::is_arithmetic_v<T>
struct Codec<T> {
  static_assert(!std::is_same_v<T, long double>, "lumen::codec: long double has no codec");

  static std::string TypeName() {
    if constexpr (std::is_same_v<T, bool>) return "bool";
    else if constexpr (std::is_same_v<T, char>) return "char";
    else if constexpr (std::is_floating_point_v<T>) return sizeof(T) == 4 ? "f32" : "f64";
    else return (std::is_signed_v<T> ? "i" : "u") + std::to_string(8 * sizeof(T));
  }

  static void Write(schema::Value::Builder b, const T& v) {
    if constexpr (std::is_same_v<T, bool>) b.setBool(v);
    else if constexpr (std::is_same_v<T, float>) b.setFloat32(v);
    else if constexpr (std::is_floating_point_v<T>) b.setFloat64(v);
    else if constexpr (std::is_signed_v<T>) b.setInt(v);
    else b.setUint(v);
  }

  static void Read(schema::Value::Reader r, T& out) {
    using W = schema::Value::Which;
    if constexpr (std::is_same_v<T, bool>) {
      internal::ExpectWhich(r, W::BOOL);
      out = r.getBool();
    } else if constexpr (std::is_same_v<T, float>) {
      internal::ExpectWhich(r, W::FLOAT32);
      out = r.getFloat32();
    } else if constexpr (std::is_floating_point_v<T>) {
      internal::ExpectWhich(r, W::FLOAT64);
      out = r.getFloat64();
    } else if constexpr (std::is_signed_v<T>) {
      internal::ExpectWhich(r, W::INT);
      out = static_cast<T>(r.getInt());
    } else {
      internal::ExpectWhich(r, W::UINT);
      out = static_cast<T>(r.getUint());
    }
  }
};

template <class Traits, class Alloc>
struct Codec<std::basic_string<char, Traits, Alloc>> {
  using T = std::basic_string<char, Traits, Alloc>;
  static std::string TypeName() { return "str"; }
  static void Write(schema::Value::Builder b, const T& v) {
    internal::WriteBytes(b, v.data(), v.size());
  }
  static void Read(schema::Value::Reader r, T& out) {
    auto d = internal::ReadBytes(r, 1);
    out.assign(reinterpret_cast<const char*>(d.begin()), d.size());
  }
};

template <class E, class Alloc>
struct Codec<std::vector<E, Alloc>> {
  using T = std::vector<E, Alloc>;
  static std::string TypeName() { return "vector<" + ::lumen::codec::TypeName<E>() + ">"; }

  static void Write(schema::Value::Builder b, const T& v) {
    if constexpr (std::is_same_v<E, bool>) {
      std::vector<uint8_t> bytes(v.begin(), v.end());
      internal::WriteBytes(b, bytes.data(), bytes.size(), /*may_reference=*/false);
    } else if constexpr (internal::kRawElement<E>) {
      internal::WriteBytes(b, v.data(), v.size() * sizeof(E));
    } else {
      internal::WriteElements(b, v);
    }
  }

  static void Read(schema::Value::Reader r, T& out) {
    if constexpr (std::is_same_v<E, bool>) {
      auto d = internal::ReadBytes(r, 1);
      out.assign(d.begin(), d.end());
    } else if constexpr (internal::kRawElement<E>) {
      auto d = internal::ReadBytes(r, sizeof(E));
      out.resize(d.size() / sizeof(E));
      if (d.size() != 0) std::memcpy(out.data(), d.begin(), d.size());
    } else {
      auto list = internal::ReadList(r);
      out.clear();
      out.resize(list.size());
      for (unsigned i = 0; i < list.size(); ++i) Codec<E>::Read(list[i], out[i]);
    }
  }
};

template <class E, size_t N>
struct Codec<std::array<E, N>> {
  using T = std::array<E, N>;
  static std::string TypeName() {
    return "array<" + ::lumen::codec::TypeName<E>() + "," + std::to_string(N) + ">";
  }

  static void Write(schema::Value::Builder b, const T& v) {
    if constexpr (std::is_same_v<E, bool>) {
      std::array<uint8_t, N> bytes;
      for (size_t i = 0; i < N; ++i) bytes[i] = v[i];
      internal::WriteBytes(b, bytes.data(), N, /*may_reference=*/false);
    } else if constexpr (internal::kRawElement<E>) {
      internal::WriteBytes(b, v.data(), N * sizeof(E));
    } else {
      internal::WriteElements(b, v);
    }
  }

  static void Read(schema::Value::Reader r, T& out) {
    if constexpr (std::is_same_v<E, bool> || internal::kRawElement<E>) {
      auto d = internal::ReadBytes(r, sizeof(E));
      if (d.size() != N * sizeof(E)) {
        internal::CorruptObject("array length " + std::to_string(d.size() / sizeof(E)) +
                                ", expected " + std::to_string(N));
      }
      if constexpr (std::is_same_v<E, bool>) {
        for (size_t i = 0; i < N; ++i) out[i] = d[i] != 0;
      } else if constexpr (N != 0) {
        std::memcpy(out.data(), d.begin(), N * sizeof(E));
      }
    } else {
      auto list = internal::ReadList(r, static_cast<long>(N));
      for (unsigned i = 0; i < N; ++i) Codec<E>::Read(list[i], out[i]);
    }
  }
};

namespace internal {

// std::map and std::unordered_map: a flat list k0, v0, k1, v1, ...
template <class M>
struct MapCodec {
  using K = typename M::key_type;
  using V = typename M::mapped_type;

  static void Write(schema::Value::Builder b, const M& m) {
    auto list = InitList(b, 2 * m.size());
    unsigned i = 0;
    for (const auto& [k, v] : m) {
      Codec<K>::Write(list[i++], k);
      Codec<V>::Write(list[i++], v);
    }
  }

  static void Read(schema::Value::Reader r, M& out) {
    auto list = ReadList(r);
    if (list.size() % 2 != 0) CorruptObject("map with an odd number of keys and values");
    out.clear();
    for (unsigned i = 0; i < list.size(); i += 2) {
      K k{};
      V v{};
      Codec<K>::Read(list[i], k);
      Codec<V>::Read(list[i + 1], v);
      out.emplace(std::move(k), std::move(v));
    }
  }
};

}  // namespace internal

template <class K, class V, class Cmp, class Alloc>
struct Codec<std::map<K, V, Cmp, Alloc>> : internal::MapCodec<std::map<K, V, Cmp, Alloc>> {
  static std::string TypeName() { return "map<" + internal::JoinTypeNames<K, V>() + ">"; }
};

template <class K, class V, class Hash, class Eq, class Alloc>
struct Codec<std::unordered_map<K, V, Hash, Eq, Alloc>>
    : internal::MapCodec<std::unordered_map<K, V, Hash, Eq, Alloc>> {
  static std::string TypeName() { return "umap<" + internal::JoinTypeNames<K, V>() + ">"; }
};

template <class A, class B>
struct Codec<std::pair<A, B>> {
  static std::string TypeName() { return "pair<" + internal::JoinTypeNames<A, B>() + ">"; }
  static void Write(schema::Value::Builder b, const std::pair<A, B>& v) {
    auto list = internal::InitList(b, 2);
    Codec<A>::Write(list[0], v.first);
    Codec<B>::Write(list[1], v.second);
  }
  static void Read(schema::Value::Reader r, std::pair<A, B>& out) {
    auto list = internal::ReadList(r, 2);
    Codec<A>::Read(list[0], out.first);
    Codec<B>::Read(list[1], out.second);
  }
};

template <class... Ts>
struct Codec<std::tuple<Ts...>> {
  static std::string TypeName() { return "tuple<" + internal::JoinTypeNames<Ts...>() + ">"; }
  static void Write(schema::Value::Builder b, const std::tuple<Ts...>& v) {
    auto list = internal::InitList(b, sizeof...(Ts));
    [&]<size_t... I>(std::index_sequence<I...>) {
      (Codec<Ts>::Write(list[I], std::get<I>(v)), ...);
    }(std::index_sequence_for<Ts...>{});
  }
  static void Read(schema::Value::Reader r, std::tuple<Ts...>& out) {
    auto list = internal::ReadList(r, sizeof...(Ts));
    [&]<size_t... I>(std::index_sequence<I...>) {
      (Codec<Ts>::Read(list[I], std::get<I>(out)), ...);
    }(std::index_sequence_for<Ts...>{});
  }
};

template <class E>
struct Codec<std::optional<E>> {
  static std::string TypeName() { return "optional<" + ::lumen::codec::TypeName<E>() + ">"; }
  static void Write(schema::Value::Builder b, const std::optional<E>& v) {
    if (!v) {
      b.setNone();
      return;
    }
    Codec<E>::Write(internal::InitList(b, 1)[0], *v);
  }
  static void Read(schema::Value::Reader r, std::optional<E>& out) {
    if (r.which() == schema::Value::Which::NONE) {
      out.reset();
      return;
    }
    auto list = internal::ReadList(r, 1);
    Codec<E>::Read(list[0], out.emplace());
  }
};

}  // namespace lumen::codec

#endif  // LUMEN_STORAGE_CODEC_STD_H_
