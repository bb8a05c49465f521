// Hostile frame bodies for the fuzz tests, from one seeded generator so a
// failure reproduces: random words, and valid frames of every type mutated
// (a mutated frame passes the segment table and the root pointer, so it
// reaches the readers of each message; random words rarely get that far).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "sample_messages.h"

namespace lumen::internal::testing {

// LUMEN_FUZZ_SEED overrides the fixed default; the seed in use is printed.
inline uint64_t FuzzSeed() {
  uint64_t seed = 0x6c756d656e;  // "lumen"
  if (const char* env = std::getenv("LUMEN_FUZZ_SEED")) seed = std::strtoull(env, nullptr, 0);
  std::cout << "fuzz seed: " << seed << " (set LUMEN_FUZZ_SEED to override)\n";
  return seed;
}

enum class Mutation { kFlipBits, kOverwriteBytes, kTruncate, kExtend, kSpliceWord, kInsertWord, kSegmentTable, kCount };

inline const char* MutationName(Mutation m) {
  static const char* kNames[] = {"flip bits", "overwrite bytes", "truncate",      "extend",
                                 "splice word", "insert word",   "segment table"};
  return kNames[static_cast<int>(m)];
}

class FrameMutator {
 public:
  explicit FrameMutator(uint64_t seed) : rng_(seed) {
    for (const Message& m : SampleMessages()) samples_.push_back(BodyOf(m));
  }

  const std::vector<std::vector<uint64_t>>& samples() const { return samples_; }
  uint64_t Below(uint64_t n) { return n ? rng_() % n : 0; }
  bool OneIn(uint64_t n) { return Below(n) == 0; }

  // (a) Random words of a random length; half start with a segment table
  // that matches the length, so the root pointer is what gets tested.
  std::vector<uint64_t> RandomWords() {
    std::vector<uint64_t> words(Below(48));
    for (uint64_t& w : words) w = Word();
    if (!words.empty() && OneIn(2)) words[0] = static_cast<uint64_t>(words.size() - 1) << 32;
    return words;
  }

  // (b) A valid body of sample `index` after one to three mutations; `first`
  // receives the kind of the first one.
  std::vector<uint64_t> Mutated(size_t index, Mutation* first) {
    std::vector<uint64_t> body = samples_[index % samples_.size()];
    uint64_t rounds = 1 + Below(3);
    for (uint64_t r = 0; r < rounds; ++r) {
      auto m = static_cast<Mutation>(Below(static_cast<uint64_t>(Mutation::kCount)));
      if (r == 0) *first = m;
      Apply(m, &body);
    }
    return body;
  }

  // A word that is often meaningful to the reader: a struct, list, far or
  // capability pointer with small offsets and small or huge sizes, a small
  // integer, or anything at all.
  uint64_t Word() {
    switch (Below(4)) {
      case 0: return rng_();
      case 1: return Below(64);
      default: break;
    }
    uint64_t type = Below(4);
    auto offset = static_cast<uint64_t>(static_cast<int64_t>(Below(24)) - 4) & 0x3fffffff;
    uint64_t upper = OneIn(3) ? rng_() >> 32 : Below(8);
    if (type == 1) upper = Below(8) | (OneIn(2) ? Below(64) : (uint64_t{1} << 29) - 1 - Below(4)) << 3;
    return type | offset << 2 | upper << 32;
  }

 private:
  void Apply(Mutation m, std::vector<uint64_t>* body) {
    auto* bytes = reinterpret_cast<uint8_t*>(body->data());
    size_t num_bytes = body->size() * 8;
    switch (m) {
      case Mutation::kFlipBits:
        for (uint64_t i = 1 + Below(4); i > 0 && num_bytes; --i) bytes[Below(num_bytes)] ^= 1 << Below(8);
        break;
      case Mutation::kOverwriteBytes:
        for (uint64_t i = 1 + Below(8); i > 0 && num_bytes; --i) {
          uint8_t value = OneIn(3) ? 0xff : OneIn(2) ? 0 : static_cast<uint8_t>(rng_());
          bytes[Below(num_bytes)] = value;
        }
        break;
      case Mutation::kTruncate: body->resize(Below(body->size())); break;
      case Mutation::kExtend: {
        for (uint64_t i = 1 + Below(8); i > 0; --i) body->push_back(Word());
        // Sometimes the segment table grows too, so the new words are inside the message.
        if (OneIn(2)) (*body)[0] = static_cast<uint64_t>(body->size() - 1) << 32 | ((*body)[0] & 0xffffffff);
        break;
      }
      case Mutation::kSpliceWord:
        if (!body->empty()) (*body)[Below(body->size())] = Word();
        break;
      case Mutation::kInsertWord:
        body->insert(body->begin() + static_cast<ptrdiff_t>(Below(body->size() + 1)), Word());
        break;
      case Mutation::kSegmentTable: {
        if (body->empty()) break;
        // Segment count - 1 and first segment size: near the truth, or anything.
        uint64_t count = OneIn(2) ? Below(3) : OneIn(2) ? 0xffffffff - Below(2) : rng_() & 0xffffffff;
        uint64_t size = OneIn(2) ? ((*body)[0] >> 32) + Below(5) - 2 : rng_() >> 32;
        (*body)[0] = (size & 0xffffffff) << 32 | count;
        break;
      }
      case Mutation::kCount: break;
    }
  }

  std::mt19937_64 rng_;
  std::vector<std::vector<uint64_t>> samples_;
};

}  // namespace lumen::internal::testing
