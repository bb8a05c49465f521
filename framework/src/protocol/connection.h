// The node's data plane: frames over Unix stream sockets between the node
// manager and its clients. CAF's TCP transport costs 150-300 us a round trip
// on this kind of machine, a Unix socket 20-60 us, so the per-task path uses
// frames (see benchmarks/RESULTS.md). What a frame holds is messages.h's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/messages.h"

namespace lumen::internal {

// Connects to the Unix socket at `path` (blocking, close-on-exec): the fd,
// or -1 with errno set (ENAMETOOLONG for a path that does not fit).
int ConnectUnix(const std::string& path);

// One end of a frame stream. Writes are queued and sent without blocking
// (Flush sends what the socket takes; the rest waits for writability), so a
// slow peer never blocks its writer. Not thread-safe: callers serialise.
class Connection {
 public:
  explicit Connection(int fd);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  void Queue(const Message& message) { QueueFrame(EncodeFrame(message)); }
  void QueueFrame(std::string frame) {
    if (out_sent_ == out_.size()) {  // nothing pending: take the frame as it is
      out_ = std::move(frame);
      out_sent_ = 0;
    } else {
      out_.append(frame);
    }
  }
  // Sends queued bytes; false if the peer is gone.
  bool Flush();
  bool HasPendingWrites() const { return out_.size() > out_sent_; }
  // Blocks until every queued byte is sent (worker side); false if the peer is gone.
  bool FlushBlocking();

  // Reads what the socket has (non-blocking); false on EOF or error.
  bool ReadAvailable();
  // Blocks up to timeout_ms (-1 = forever) for more bytes; false on EOF/error/timeout (see timed_out()).
  bool ReadBlocking(int timeout_ms);
  bool timed_out() const { return timed_out_; }
  // Pops one complete frame from what was read; false if none yet. Throws
  // ProtocolError on a malformed one (the caller ends the connection).
  bool NextFrame(Message* message);

 private:
  int fd_;
  std::string in_;
  std::vector<uint64_t> body_;  // the frame being decoded, word-aligned
  size_t in_used_ = 0;
  std::string out_;
  size_t out_sent_ = 0;
  bool timed_out_ = false;
};

}  // namespace lumen::internal
