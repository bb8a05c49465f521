// RocksDB files that only their owner may read. The log holds task
// arguments and Put values, so every file and directory it makes is 0600 /
// 0700 whatever the process's umask (RocksDB itself creates them 0644 & ~umask).
#pragma once

#include <memory>

#include <rocksdb/env.h>

namespace lumen::storage::lineage {

// An Env whose file system makes every new file 0600 and directory 0700.
// Lives for the process: RocksDB's Env must outlive every DB using it.
rocksdb::Env* PrivateFilesEnv();

}  // namespace lumen::storage::lineage
