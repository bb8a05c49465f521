// Asking for the wrong type, or handing over a broken buffer, gives a CodecError
// that says what went wrong.

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <lumen/storage/codec.h>

#include "codec_test_util.h"

namespace lumen::codec {
namespace {

using testing::Buffer;
using testing::EncodeToBuffer;

std::string DecodeError(auto decode) {
  try {
    decode();
  } catch (const CodecError& e) {
    return e.what();
  }
  return "no error";
}

TEST(CodecErrors, TypeMismatchSaysBothTypes) {
  Buffer b = EncodeToBuffer(std::vector<double>{1, 2, 3});
  EXPECT_EQ(DecodeError([&] { Decode<std::vector<int32_t>>(b.data(), b.size()); }),
            "object holds vector<f64>, asked for vector<i32>");
  EXPECT_EQ(DecodeError([&] { Decode<std::string>(b.data(), b.size()); }),
            "object holds vector<f64>, asked for str");
  EXPECT_EQ(DecodeError([&] { ViewSpan<float>(b.data(), b.size()); }),
            "object holds vector<f64>, asked for a span of f32 (a vector<f32> or array<f32,N>)");
}

TEST(CodecErrors, ArrayLengthIsChecked) {
  Buffer b = EncodeToBuffer(std::array<int32_t, 3>{1, 2, 3});
  EXPECT_EQ(DecodeError([&] { Decode<std::array<int32_t, 4>>(b.data(), b.size()); }),
            "object holds array<i32,3>, asked for array<i32,4>");
  EXPECT_EQ((Decode<std::array<int32_t, 3>>(b.data(), b.size())), (std::array<int32_t, 3>{1, 2, 3}));
}

TEST(CodecErrors, StructFieldsAreChecked) {
  struct V1 {
    std::string name;
    int32_t age = 0;
    LUMEN_FIELDS(name, age);
  };
  struct V2 {
    std::string name;
    int64_t age = 0;
    LUMEN_FIELDS(name, age);
  };
  Buffer b = EncodeToBuffer(V1{"x", 1});
  EXPECT_EQ(DecodeError([&] { Decode<V2>(b.data(), b.size()); }),
            "object holds {name:str,age:i32}, asked for {name:str,age:i64}");
}

TEST(CodecErrors, BrokenBuffers) {
  Buffer b = EncodeToBuffer(std::string("hello world"));
  EXPECT_THROW(Decode<std::string>(b.data(), b.size() - 3), CodecError);  // not whole words
  EXPECT_THROW(Decode<std::string>(b.data(), b.size() - 8), CodecError);  // truncated
  EXPECT_THROW(Decode<std::string>(b.data(), 0), CodecError);
  EXPECT_THROW(Decode<std::string>(nullptr, 0), CodecError);
  EXPECT_THROW(StoredTypeName(b.data(), 8), CodecError);
  const std::string error = DecodeError([&] { Decode<std::string>(b.data(), b.size() - 8); });
  EXPECT_EQ(error.rfind("corrupt object: ", 0), 0u) << error;
}

TEST(CodecErrors, UnalignedInputIsCopiedForDecodeButRefusedForViews) {
  Buffer aligned = EncodeToBuffer(std::vector<int16_t>{1, 2, 3});
  Buffer storage(aligned.size() + 8);
  uint8_t* unaligned = storage.data() + 1;
  std::memcpy(unaligned, aligned.data(), aligned.size());
  ASSERT_NE(reinterpret_cast<uintptr_t>(unaligned) % 8, 0u);
  EXPECT_EQ(Decode<std::vector<int16_t>>(unaligned, aligned.size()),
            (std::vector<int16_t>{1, 2, 3}));
  EXPECT_EQ(StoredTypeName(unaligned, aligned.size()), "vector<i16>");
  EXPECT_THROW(ViewSpan<int16_t>(unaligned, aligned.size()), CodecError);
}

// Users catch lumen::Error for everything lumen throws; a codec failure that
// escapes to them must be one too.
TEST(CodecErrors, EveryCodecErrorIsALumenError) {
  Buffer b = EncodeToBuffer(std::string("hello world"));
  auto caught_as_lumen_error = [](auto f) {
    try {
      f();
    } catch (const ::lumen::Error& e) {
      return std::string(e.what());
    } catch (...) {
      return std::string("something else");
    }
    return std::string("nothing");
  };
  EXPECT_EQ(caught_as_lumen_error([&] { Decode<int>(b.data(), b.size()); }),
            "object holds str, asked for i32");
  const std::string corrupt =
      caught_as_lumen_error([&] { Decode<std::string>(b.data(), b.size() - 8); });
  EXPECT_EQ(corrupt.rfind("corrupt object: ", 0), 0u) << corrupt;
  EXPECT_EQ(caught_as_lumen_error([&] { ViewSpan<int>(b.data() + 1, 8); }),
            "cannot view an object in place: its buffer is not 8-byte aligned");
}

}  // namespace
}  // namespace lumen::codec
