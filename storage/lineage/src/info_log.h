// InfoLog: RocksDB's diagnostic log (the LOG file in the log's directory),
// written so that a full disk cannot take the process down.
//
// RocksDB's own file logger asserts when it writes again after a failed
// write: on a full disk the first error message it tried to log aborted the
// process. This one appends through stdio and ignores write errors: on a full
// disk the diagnostics are lost, never the process.
#pragma once

#include <memory>
#include <string>

namespace rocksdb {
class Logger;
}

namespace lumen::storage::lineage {

// A logger appending to `path` (created if missing), or one that drops
// everything if the file cannot be opened.
std::shared_ptr<rocksdb::Logger> OpenInfoLog(const std::string& path);

}  // namespace lumen::storage::lineage
