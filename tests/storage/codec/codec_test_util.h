// Helpers shared by the codec tests: aligned buffers, random values, and a
// bitwise-aware equality (NaN == NaN when the bits agree).

#ifndef LUMEN_TESTS_STORAGE_CODEC_CODEC_TEST_UTIL_H_
#define LUMEN_TESTS_STORAGE_CODEC_CODEC_TEST_UTIL_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <lumen/storage/codec.h>

namespace lumen::codec::testing {

// An 8-byte-aligned byte buffer, as the object store hands out.
class Buffer {
 public:
  explicit Buffer(size_t size) : words_(new uint64_t[(size + 7) / 8 + 1]()), size_(size) {}
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.get()); }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(words_.get()); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint64_t[]> words_;
  size_t size_;
};

inline Buffer Write(const Encoded& e) {
  Buffer b(e.size());
  e.WriteTo(b.data());
  return b;
}

template <class T>
Buffer EncodeToBuffer(const T& v) {
  return Write(Encode(v));
}

template <class T>
T RoundTrip(const T& v) {
  Buffer b = EncodeToBuffer(v);
  return Decode<T>(b.data(), b.size());
}

using Rng = std::mt19937_64;

template <class T>
inline constexpr bool kIsVector = false;
template <class E, class A>
inline constexpr bool kIsVector<std::vector<E, A>> = true;
template <class T>
inline constexpr bool kIsArray = false;
template <class E, size_t N>
inline constexpr bool kIsArray<std::array<E, N>> = true;
template <class T>
inline constexpr bool kIsMap = false;
template <class K, class V>
inline constexpr bool kIsMap<std::map<K, V>> = true;
template <class K, class V>
inline constexpr bool kIsMap<std::unordered_map<K, V>> = true;
template <class T>
inline constexpr bool kIsOptional = false;
template <class E>
inline constexpr bool kIsOptional<std::optional<E>> = true;
template <class T>
inline constexpr bool kIsTupleLike = false;
template <class... Ts>
inline constexpr bool kIsTupleLike<std::tuple<Ts...>> = true;
template <class A, class B>
inline constexpr bool kIsTupleLike<std::pair<A, B>> = true;

// Users of Random<T> for their own structs add an overload of RandomStruct.
template <class T>
T Random(Rng& rng);

template <class T>
T RandomArithmetic(Rng& rng) {
  if constexpr (std::is_same_v<T, bool>) {
    return rng() & 1;
  } else if constexpr (std::is_floating_point_v<T>) {
    switch (rng() % 4) {
      case 0: {  // any bit pattern: NaNs with payloads, infinities, subnormals
        using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
        Bits bits = static_cast<Bits>(rng());
        T v;
        std::memcpy(&v, &bits, sizeof(v));
        return v;
      }
      case 1: return std::numeric_limits<T>::lowest();
      default: return std::uniform_real_distribution<T>(-1e6, 1e6)(rng);
    }
  } else {
    switch (rng() % 4) {
      case 0: return std::numeric_limits<T>::min();
      case 1: return std::numeric_limits<T>::max();
      default: return static_cast<T>(rng());
    }
  }
}

inline std::string RandomString(Rng& rng) {
  std::string s(rng() % 40, '\0');
  for (auto& c : s) c = static_cast<char>(rng());  // embedded NULs included
  return s;
}

template <class T>
T Random(Rng& rng) {
  if constexpr (std::is_arithmetic_v<T>) {
    return RandomArithmetic<T>(rng);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return RandomString(rng);
  } else if constexpr (kIsVector<T>) {
    T v;
    const size_t n = rng() % 8;
    for (size_t i = 0; i < n; ++i) v.push_back(Random<typename T::value_type>(rng));
    return v;
  } else if constexpr (kIsArray<T>) {
    T v;
    for (auto& e : v) e = Random<typename T::value_type>(rng);
    return v;
  } else if constexpr (kIsMap<T>) {
    T m;
    const size_t n = rng() % 6;
    for (size_t i = 0; i < n; ++i) {
      m.emplace(Random<typename T::key_type>(rng), Random<typename T::mapped_type>(rng));
    }
    return m;
  } else if constexpr (kIsOptional<T>) {
    if (rng() % 3 == 0) return std::nullopt;
    return Random<typename T::value_type>(rng);
  } else if constexpr (kIsTupleLike<T>) {
    return std::apply([&](auto... proto) { return T{Random<decltype(proto)>(rng)...}; }, T{});
  } else {
    return RandomStruct(rng, static_cast<T*>(nullptr));
  }
}

// Equality where floats compare by their bits (so NaN round trips are checked).
template <class T>
bool Same(const T& a, const T& b) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
  } else if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, std::string>) {
    return a == b;
  } else if constexpr (kIsVector<T> || kIsArray<T>) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!Same<typename T::value_type>(a[i], b[i])) return false;
    }
    return true;
  } else if constexpr (kIsMap<T>) {
    if (a.size() != b.size()) return false;
    for (const auto& [k, v] : a) {
      auto it = b.find(k);
      if (it == b.end() || !Same(v, it->second)) return false;
    }
    return true;
  } else if constexpr (kIsOptional<T>) {
    if (a.has_value() != b.has_value()) return false;
    return !a.has_value() || Same(*a, *b);
  } else if constexpr (kIsTupleLike<T>) {
    return [&]<size_t... I>(std::index_sequence<I...>) {
      return (Same(std::get<I>(a), std::get<I>(b)) && ...);
    }(std::make_index_sequence<std::tuple_size_v<T>>{});
  } else {
    return a == b;
  }
}

}  // namespace lumen::codec::testing

#endif  // LUMEN_TESTS_STORAGE_CODEC_CODEC_TEST_UTIL_H_
