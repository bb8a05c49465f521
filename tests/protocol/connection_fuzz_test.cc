// Byte streams through a real Connection on a socketpair, read as the node
// (ReadAvailable) and the worker (ReadBlocking) read: the header checks
// refuse a bad size before anything is allocated, partial frames wait, and a
// stream of mutated and garbage frames ends in ProtocolError or decodes.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <typeinfo>

#include "frame_mutator.h"
#include "protocol/connection.h"

namespace lumen::internal::testing {
namespace {

// `reader` is the Connection under test; `writer` the raw peer end.
class SocketPair {
 public:
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    writer_ = fds[0];
    reader = std::make_unique<Connection>(fds[1]);
  }
  ~SocketPair() { CloseWriter(); }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;

  // Streams here stay far below the socket buffer, so a send takes it all
  // and the reader sees every byte as soon as send returns.
  void Write(const std::string& bytes) {
    ASSERT_EQ(::send(writer_, bytes.data(), bytes.size(), MSG_DONTWAIT), static_cast<ssize_t>(bytes.size()));
  }
  void CloseWriter() {
    if (writer_ >= 0) ::close(writer_);
    writer_ = -1;
  }

  std::unique_ptr<Connection> reader;

 private:
  int writer_ = -1;
};

std::string HeaderOf(uint64_t body_bytes) { return std::string(reinterpret_cast<const char*>(&body_bytes), 8); }

void ExpectHeaderRefused(uint64_t body_bytes) {
  SCOPED_TRACE("a header of " + std::to_string(body_bytes));
  SocketPair pair;
  pair.Write(HeaderOf(body_bytes));
  ASSERT_TRUE(pair.reader->ReadAvailable());
  Message message;
  try {
    pair.reader->NextFrame(&message);
    ADD_FAILURE() << "the header was accepted";
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("a body of " + std::to_string(body_bytes)), std::string::npos) << e.what();
  }
}

// Refused on the header alone: no body arrived and none is allocated.
TEST(ConnectionFuzz, HugeBodySizeIsRefusedByTheHeader) {
  for (uint64_t size : {kMaxFrameBodyBytes + 8, uint64_t{1} << 40, uint64_t{1} << 63, ~uint64_t{7}})
    ExpectHeaderRefused(size);
}

TEST(ConnectionFuzz, BodySizeNotAMultipleOfEightIsRefused) {
  for (uint64_t size : {uint64_t{1}, uint64_t{7}, uint64_t{12}, uint64_t{1001}, ~uint64_t{0}}) ExpectHeaderRefused(size);
}

TEST(ConnectionFuzz, ZeroBodySizeIsRefused) { ExpectHeaderRefused(0); }

TEST(ConnectionFuzz, LargestBodySizeWaitsForItsBody) {
  SocketPair pair;
  pair.Write(HeaderOf(kMaxFrameBodyBytes) + std::string(64, 'x'));
  ASSERT_TRUE(pair.reader->ReadAvailable());
  Message message;
  EXPECT_FALSE(pair.reader->NextFrame(&message));
}

// Every sample frame, written a few bytes at a time: nothing comes out until
// a frame is whole, then each comes out once, in order; then EOF.
TEST(ConnectionFuzz, PartialFramesWaitThenComeOutInOrder) {
  FrameMutator fuzz(FuzzSeed());
  std::vector<Message> sent = SampleMessages();
  std::string stream;
  for (const Message& m : sent) stream += EncodeFrame(m);
  SocketPair pair;
  std::vector<size_t> received;
  for (size_t at = 0; at < stream.size();) {
    size_t chunk = std::min<size_t>(1 + fuzz.Below(97), stream.size() - at);
    pair.Write(stream.substr(at, chunk));
    at += chunk;
    ASSERT_TRUE(at % 2 ? pair.reader->ReadAvailable() : pair.reader->ReadBlocking(10'000));
    Message message;
    while (pair.reader->NextFrame(&message)) received.push_back(message.index());
  }
  ASSERT_EQ(received.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(received[i], sent[i].index()) << "frame " << i;
  pair.CloseWriter();
  EXPECT_FALSE(pair.reader->ReadAvailable());
}

// One frame of a hostile stream: valid or mutated, mostly under a true
// header, or raw garbage bytes (which misalign every header after them).
std::string HostileFrame(FrameMutator& fuzz, size_t index) {
  uint64_t kind = fuzz.Below(10);
  if (kind == 0) {
    std::string garbage(fuzz.Below(40), '\0');
    for (char& c : garbage) c = static_cast<char>(fuzz.Below(256));
    return garbage;
  }
  Mutation first;
  std::vector<uint64_t> body =
      kind <= 4 ? fuzz.samples()[index % fuzz.samples().size()] : fuzz.Mutated(index, &first);
  uint64_t size = body.size() * 8;
  if (fuzz.OneIn(6)) {
    const uint64_t kSizes[] = {0, size + 8, size - 8, size + 3, kMaxFrameBodyBytes * 2, fuzz.Word()};
    size = kSizes[fuzz.Below(6)];
  }
  return HeaderOf(size) + std::string(reinterpret_cast<const char*>(body.data()), body.size() * 8);
}

TEST(ConnectionFuzz, HostileStreamsDecodeOrEndInProtocolError) {
  constexpr size_t kStreams = 2'000;
  FrameMutator fuzz(FuzzSeed() + 2);
  size_t frames_decoded = 0, streams_refused = 0, streams_open = 0;
  for (size_t s = 0; s < kStreams && !HasFailure(); ++s) {
    std::string stream;
    for (uint64_t f = 1 + fuzz.Below(6); f > 0; --f) stream += HostileFrame(fuzz, s + f);
    SocketPair pair;
    bool refused = false;
    for (size_t at = 0; at < stream.size() && !refused;) {
      size_t chunk = std::min<size_t>(1 + fuzz.Below(300), stream.size() - at);
      pair.Write(stream.substr(at, chunk));
      at += chunk;
      ASSERT_TRUE(s % 2 ? pair.reader->ReadAvailable() : pair.reader->ReadBlocking(10'000));
      try {
        Message message;
        while (pair.reader->NextFrame(&message)) ++frames_decoded;
      } catch (const ProtocolError&) {
        refused = true;  // the node closes this connection here
      } catch (const std::exception& e) {
        ADD_FAILURE() << "stream " << s << ": " << typeid(e).name() << " escaped NextFrame: " << e.what();
        refused = true;
      }
    }
    ++(refused ? streams_refused : streams_open);
  }
  std::cout << "streams: " << streams_refused << " ended in ProtocolError, " << streams_open
            << " still open at their end; " << frames_decoded << " frames decoded\n";
  EXPECT_GT(streams_refused, kStreams / 10);
  EXPECT_GT(streams_open, kStreams / 20);
  EXPECT_GT(frames_decoded, kStreams / 4);
}

}  // namespace
}  // namespace lumen::internal::testing
