// A file that holds the latest of the texts it is given, written on a thread
// of its own so that the caller (the node manager, under its lock) never
// waits for the disk.
//
// Each text is written whole and atomically (a temporary file, synced, then
// renamed over the file, and the directory synced): a reader, or a process
// started after a crash, sees one text or the next, never a mix. Write()
// replaces a text still waiting, so a slow disk skips to the latest state
// rather than fall behind. What is promised: the file holds the latest text
// shortly after each Write (as soon as the disk allows), and the destructor
// writes the latest one before it returns, waiting up to kFinalWriteBound
// (past that it says so and leaves its thread to finish on its own). A crash
// may lose the texts given since the last write finished.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace lumen::internal {

class LatestFileWriter {
 public:
  static constexpr auto kFinalWriteBound = std::chrono::seconds(5);

  // `on_error`: called on the writer's thread with why a write failed (once
  // per run of failures of the same cause), and with "" once one succeeds
  // after a failure.
  LatestFileWriter(std::string file, std::function<void(const std::string& error)> on_error);
  ~LatestFileWriter();
  LatestFileWriter(const LatestFileWriter&) = delete;
  LatestFileWriter& operator=(const LatestFileWriter&) = delete;

  // Never waits for the disk.
  void Write(std::string text);
  // Waits up to `bound` for the latest text given to be written; "" once it
  // is, else why not (its write failed, or is not done within `bound`).
  std::string Flush(std::chrono::milliseconds bound);

  // One atomic write of `text` to `file`, here and now; "" or why it failed.
  static std::string WriteAtomically(const std::string& file, const std::string& text);

 private:
  struct State;
  static void Run(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;  // shared with the thread, which may outlive this (kFinalWriteBound)
  std::thread thread_;
};

}  // namespace lumen::internal
