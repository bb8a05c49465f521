// `lumen lineage` and `lumen gc`: the lineage log of a storage dir, read and
// trimmed from the command line, with no cluster running.
//
//   lumen lineage ID --storage DIR [--json] [--depth N]
//       how object ID was made. Works beside a live driver or head that holds
//       the log (it opens a read-only secondary instance).
//   lumen gc --storage DIR [--older-than DURATION] [--max-bytes N]
//       applies retention now (flags replace the default policy's bounds) and
//       rewrites the files so the disk shrinks. Needs the log to itself.
//
// Exit status: 0 done; 1 the log or the id is not there (the message says
// which: no log, never recorded, removed by retention), or the log is busy;
// 2 a malformed argument.
#pragma once

#include <string>

namespace lumen::cli {

struct LineageCommandOptions {
  std::string id;
  std::string storage;
  bool json = false;
  int depth = 64;
};

struct GcCommandOptions {
  std::string storage;
  std::string older_than;  // e.g. "30d", "12h", "90m", "0" (empty: the default)
  std::string max_bytes;   // e.g. "4G", "512M", "1000000" (empty: the default)
};

int RunLineageCommand(const LineageCommandOptions& options);
int RunGcCommand(const GcCommandOptions& options);

// "90m" -> 5400000; "0" -> 0; false if malformed. Units: ms s m h d w.
bool ParseDurationMs(const std::string& text, uint64_t* ms);
// "4G" -> 4 << 30; "1500" -> 1500; false if malformed. Units: K M G T (powers of 1024).
bool ParseBytes(const std::string& text, uint64_t* bytes);

}  // namespace lumen::cli
