// 100,000 hostile frame bodies through DecodeFrame, the one decoder both the
// node's and the worker's readers use: each must decode or throw
// ProtocolError. Any other exception fails here; a crash or an out-of-bounds
// read fails the ASan build. Counting both outcomes keeps the test honest: a
// decoder that refused everything (or accepted everything) would pass a
// check of "no crash" alone.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <typeinfo>

#include "frame_mutator.h"

namespace lumen::internal::testing {
namespace {

constexpr size_t kRandomFrames = 30'000;
constexpr size_t kMutatedFrames = 70'000;

struct Outcomes {
  size_t decoded = 0;
  size_t refused = 0;
};

std::string Hex(const std::vector<uint64_t>& words) {
  std::string out;
  char buf[20];
  for (uint64_t w : words) {
    std::snprintf(buf, sizeof buf, "%016llx ", static_cast<unsigned long long>(w));
    out += buf;
  }
  return out;
}

// Decodes a copy of exactly the body's size (so ASan sees a read past its
// end); a message it accepts must encode and decode again, since the node
// forwards what it decoded.
void DecodeOne(const std::vector<uint64_t>& body, Outcomes* outcomes, const std::string& what) {
  std::unique_ptr<uint64_t[]> exact(new uint64_t[body.size()]);
  if (!body.empty()) std::memcpy(exact.get(), body.data(), body.size() * 8);
  Message message;
  try {
    message = DecodeFrame(exact.get(), body.size());
  } catch (const ProtocolError&) {
    ++outcomes->refused;
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": " << typeid(e).name() << " escaped DecodeFrame: " << e.what()
                  << "\nbody: " << Hex(body);
    return;
  } catch (...) {
    ADD_FAILURE() << what << ": a non-std exception escaped DecodeFrame\nbody: " << Hex(body);
    return;
  }
  ++outcomes->decoded;
  std::vector<uint64_t> again = BodyOf(message);
  try {
    EXPECT_EQ(DecodeFrame(again.data(), again.size()).index(), message.index()) << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": decoded, but its re-encoding was refused: " << e.what() << "\nbody: " << Hex(body);
  }
}

TEST(FrameFuzz, RandomWordsDecodeOrThrowProtocolError) {
  uint64_t seed = FuzzSeed();
  FrameMutator fuzz(seed);
  Outcomes outcomes;
  for (size_t i = 0; i < kRandomFrames && !HasFailure(); ++i)
    DecodeOne(fuzz.RandomWords(), &outcomes, "seed " + std::to_string(seed) + ", random frame " + std::to_string(i));
  std::cout << "random words: " << outcomes.decoded << " decoded, " << outcomes.refused << " refused\n";
  EXPECT_EQ(outcomes.decoded + outcomes.refused, kRandomFrames);
  // Random words are nearly always malformed; a decoder accepting many of them checks too little.
  EXPECT_GT(outcomes.refused, kRandomFrames * 9 / 10);
  EXPECT_GT(outcomes.decoded, 0u) << "no random frame got past the segment table and root pointer";
}

TEST(FrameFuzz, MutatedFramesOfEveryTypeDecodeOrThrowProtocolError) {
  uint64_t seed = FuzzSeed() + 1;
  FrameMutator fuzz(seed);
  Outcomes outcomes;
  std::map<Mutation, Outcomes> by_mutation;
  std::vector<Outcomes> by_sample(fuzz.samples().size());
  for (size_t i = 0; i < kMutatedFrames && !HasFailure(); ++i) {
    Mutation first;
    std::vector<uint64_t> body = fuzz.Mutated(i, &first);
    Outcomes one;
    DecodeOne(body, &one, "seed " + std::to_string(seed) + ", mutated frame " + std::to_string(i));
    for (Outcomes* o : {&outcomes, &by_mutation[first], &by_sample[i % by_sample.size()]}) {
      o->decoded += one.decoded;
      o->refused += one.refused;
    }
  }
  std::cout << "mutated frames: " << outcomes.decoded << " decoded, " << outcomes.refused << " refused\n";
  for (const auto& [mutation, o] : by_mutation)
    std::cout << "  " << MutationName(mutation) << ": " << o.decoded << " decoded, " << o.refused << " refused\n";
  EXPECT_EQ(outcomes.decoded + outcomes.refused, kMutatedFrames);
  // Both outcomes, often: mutations in values decode, mutations in structure refuse.
  EXPECT_GT(outcomes.decoded, kMutatedFrames / 20);
  EXPECT_GT(outcomes.refused, kMutatedFrames / 20);
  // Every sample's decoder was reached and refused something (ids of the wrong size, unknown kinds...).
  for (size_t s = 0; s < by_sample.size(); ++s) {
    EXPECT_GT(by_sample[s].decoded, 0u) << "sample " << s;
    EXPECT_GT(by_sample[s].refused, 0u) << "sample " << s;
  }
}

// Refusals name what was wrong: the node logs the reason when it closes a connection.
TEST(FrameFuzz, RefusalsSayWhatWasMalformed) {
  std::vector<uint64_t> body = BodyOf(CancelMsg{IdOf<ObjectID>(1)});
  body.push_back(0);
  try {
    DecodeFrame(body.data(), body.size());
    FAIL() << "a word after the message was accepted";
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("malformed frame"), std::string::npos) << e.what();
  }
  EXPECT_THROW(DecodeFrame(nullptr, 0), ProtocolError);
  uint64_t only_table = 0;  // one segment of zero words: no root pointer
  EXPECT_THROW(DecodeFrame(&only_table, 1), ProtocolError);
}

// A tiny frame claiming 2^29 - 1 empty payloads: building that many would
// exhaust memory, so the traversal limit must refuse it first.
TEST(FrameFuzz, AmplifiedListOfEmptyStructsIsRefused) {
  Payload empty;
  empty.kind = Payload::kInStore;
  std::vector<uint64_t> body = BodyOf(GetReplyMsg{1, false, {empty}});
  auto is_struct_list = [](uint64_t w) { return (w & 3) == 1 && (w >> 32 & 7) == 7; };
  size_t at = 1;
  while (at < body.size() && !is_struct_list(body[at])) ++at;
  ASSERT_LT(at, body.size()) << "no list of structs in the encoding";
  size_t tag = at + 1 + (body[at] >> 2 & 0x3fffffff);
  ASSERT_LT(tag, body.size());
  body[at] &= 0x7ffffffffULL;  // the list's words: none
  // A few elements of no data and no pointers are a valid list...
  body[tag] = uint64_t{3} << 2;
  EXPECT_EQ(std::get<GetReplyMsg>(DecodeFrame(body.data(), body.size())).payloads.size(), 3u);
  // ...2^29 - 1 of them in a frame this size are not.
  body[tag] = uint64_t{(1u << 29) - 1} << 2;
  EXPECT_THROW(DecodeFrame(body.data(), body.size()), ProtocolError);
}

}  // namespace
}  // namespace lumen::internal::testing
