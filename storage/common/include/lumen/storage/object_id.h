// ObjectID, TaskID, ActorID: fixed-size binary identifiers with a stable hex form.
//
// A TaskID is 16 bytes, unique across processes. The objects a task returns
// have ids derived from it (task id + 4-byte return index), so lineage maps an
// object back to the task that makes it without a lookup. A Put object gets a
// fresh "put task" id. Values are trivially copyable, hashable, thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

namespace lumen {

template <size_t N>
class BinaryID {
 public:
  static constexpr size_t kSize = N;

  BinaryID() { bytes_.fill(0); }
  // REQUIRES: data points at kSize bytes.
  static BinaryID FromBinary(const void* data) {
    BinaryID id;
    std::memcpy(id.bytes_.data(), data, N);
    return id;
  }
  // Returns false (and leaves *out untouched) unless hex is 2*kSize hex digits.
  static bool FromHex(std::string_view hex, BinaryID* out) {
    if (hex.size() != 2 * N) return false;
    BinaryID id;
    for (size_t i = 0; i < N; ++i) {
      int hi = HexDigit(hex[2 * i]), lo = HexDigit(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) return false;
      id.bytes_[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    *out = id;
    return true;
  }
  // Unique across processes and time: a per-process random prefix and a counter.
  static BinaryID Random();

  bool IsNil() const {
    for (uint8_t b : bytes_)
      if (b) return false;
    return true;
  }
  std::string Hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s(2 * N, '0');
    for (size_t i = 0; i < N; ++i) {
      s[2 * i] = kDigits[bytes_[i] >> 4];
      s[2 * i + 1] = kDigits[bytes_[i] & 15];
    }
    return s;
  }
  std::string_view Binary() const { return {reinterpret_cast<const char*>(bytes_.data()), N}; }
  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* mutable_data() { return bytes_.data(); }

  friend bool operator==(const BinaryID&, const BinaryID&) = default;
  friend auto operator<=>(const BinaryID&, const BinaryID&) = default;

 private:
  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  std::array<uint8_t, N> bytes_;
};

// Defined in object_id.cc (16-byte ids are the ones drawn at random).
template <>
BinaryID<16> BinaryID<16>::Random();

using TaskID = BinaryID<16>;
using ActorID = BinaryID<16>;

class ObjectID : public BinaryID<20> {
 public:
  ObjectID() = default;
  ObjectID(const BinaryID<20>& b) : BinaryID<20>(b) {}  // NOLINT: same bytes

  // The id of return value `index` of `task`.
  static ObjectID ForTaskReturn(const TaskID& task, uint32_t index) {
    ObjectID id;
    std::memcpy(id.mutable_data(), task.data(), TaskID::kSize);
    std::memcpy(id.mutable_data() + TaskID::kSize, &index, sizeof index);
    return id;
  }
  // The id of an object made by Put (its own one-off "put task").
  static ObjectID ForPut() { return ForTaskReturn(TaskID::Random(), 0); }
  static ObjectID FromBinary(const void* data) { return BinaryID<20>::FromBinary(data); }
  static bool FromHex(std::string_view hex, ObjectID* out) {
    BinaryID<20> b;
    if (!BinaryID<20>::FromHex(hex, &b)) return false;
    *out = b;
    return true;
  }

  TaskID Task() const { return TaskID::FromBinary(data()); }
  uint32_t ReturnIndex() const {
    uint32_t index;
    std::memcpy(&index, data() + TaskID::kSize, sizeof index);
    return index;
  }
};

}  // namespace lumen

template <size_t N>
struct std::hash<lumen::BinaryID<N>> {
  size_t operator()(const lumen::BinaryID<N>& id) const noexcept {
    uint64_t a, b;
    std::memcpy(&a, id.data(), 8);
    std::memcpy(&b, id.data() + N - 8, 8);
    return (a * 0x9E3779B97F4A7C15ull) ^ b;
  }
};
template <>
struct std::hash<lumen::ObjectID> {
  size_t operator()(const lumen::ObjectID& id) const noexcept {
    return std::hash<lumen::BinaryID<20>>()(id);
  }
};
