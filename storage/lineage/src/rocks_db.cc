#include "rocks_db.h"

#include <stdlib.h>

#include <rocksdb/options.h>
#include <rocksdb/utilities/table_properties_collectors.h>

#include <algorithm>
#include <filesystem>

#include "info_log.h"
#include "private_files.h"

namespace lumen::storage::lineage {

namespace {

// "default" is rocksdb::kDefaultColumnFamilyName (a std::string, so not constexpr).
constexpr const char* kFamilyNames[kFamilyCount] = {
    "default", "tasks", "objects", "actors", "retention", "packs", "placement_groups"};

rocksdb::ColumnFamilyOptions FamilyOptions() {
  rocksdb::ColumnFamilyOptions options;
  // Retention deletes old records in bulk; a table file that collects many of
  // those deletions is compacted soon, so the space comes back without the
  // periodic runs having to rewrite the whole log.
  options.table_properties_collector_factories.push_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(64 * 1024, 16 * 1024, 0.5));
  return options;
}

// A private scratch directory for a secondary instance's info log.
std::string MakeScratchDir() {
  const char* base = getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/lumen-lineage-reader-XXXXXX";
  return mkdtemp(pattern.data()) ? pattern : "";
}

}  // namespace

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  return {StatusCode::kIOError, what + ": " + s.ToString()};
}

bool SourceOfKey(const rocksdb::Slice& key, TaskID* out) {
  if (key.size() != TaskID::kSize && key.size() != ObjectID::kSize) return false;
  // Reversed, an object id's task part is the last 16 bytes of its key.
  const char* task_part = key.data() + key.size() - TaskID::kSize;
  uint8_t bytes[TaskID::kSize];
  for (size_t i = 0; i < TaskID::kSize; ++i) bytes[i] = static_cast<uint8_t>(task_part[TaskID::kSize - 1 - i]);
  *out = TaskID::FromBinary(bytes);
  return true;
}

Status RocksDb::Open(const std::string& dir, bool read_only, std::unique_ptr<RocksDb>* out) {
  rocksdb::DBOptions db_options;
  // The log holds task arguments: its files are the user's alone (0600), whatever the umask.
  db_options.env = PrivateFilesEnv();
  std::unique_ptr<RocksDb> rocks(new RocksDb());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  std::vector<size_t> slots;  // the Family of each descriptor
  rocksdb::Status s;
  if (read_only) {
    std::error_code ec;
    if (!std::filesystem::exists(dir + "/CURRENT", ec)) {
      return {StatusCode::kNotFound, "no lineage log in " + dir + " (no RocksDB database there)"};
    }
    std::vector<std::string> present;
    s = rocksdb::DB::ListColumnFamilies(db_options, dir, &present);
    if (!s.ok()) return FromRocks(s, "cannot read the lineage log in " + dir);
    for (size_t f = 0; f < kFamilyCount; ++f) {
      if (std::find(present.begin(), present.end(), kFamilyNames[f]) == present.end()) {
        // Only these may be missing: logs older than them have none.
        if (f == kRetentionFamily || f == kPackFamily || f == kGroupFamily) continue;
        return {StatusCode::kNotFound, "no lineage log in " + dir + " (a RocksDB database without the '" +
                                           kFamilyNames[f] + "' family)"};
      }
      families.emplace_back(kFamilyNames[f], FamilyOptions());
      slots.push_back(f);
    }
    rocks->scratch_dir_ = MakeScratchDir();
    if (rocks->scratch_dir_.empty()) return {StatusCode::kIOError, "cannot make a scratch directory for a reader"};
    db_options.max_open_files = -1;  // RocksDB requires it of a secondary
    db_options.info_log = OpenInfoLog(rocks->scratch_dir_ + "/LOG");
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    s = rocksdb::DB::OpenAsSecondary(db_options, dir, rocks->scratch_dir_, families, &handles, &rocks->db_);
    if (!s.ok()) return FromRocks(s, "cannot open the lineage log in " + dir + " for reading");
    rocks->handles_.assign(kFamilyCount, nullptr);
    for (size_t i = 0; i < slots.size(); ++i) rocks->handles_[slots[i]] = handles[i];
  } else {
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);  // for the info log; Open reports real failures
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    db_options.info_log = OpenInfoLog(dir + "/LOG");
    for (size_t f = 0; f < kFamilyCount; ++f) families.emplace_back(kFamilyNames[f], FamilyOptions());
    s = rocksdb::DB::Open(db_options, dir, families, &rocks->handles_, &rocks->db_);
    if (!s.ok()) return FromRocks(s, "cannot open lineage log in " + dir);
  }
  *out = std::move(rocks);
  return Status::OK();
}

RocksDb::~RocksDb() {
  if (db_) {
    for (auto* h : handles_) {
      if (h) db_->DestroyColumnFamilyHandle(h);
    }
    db_->Close().PermitUncheckedError();
    delete db_;
  }
  if (!scratch_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(scratch_dir_, ec);
  }
}

uint64_t RocksDb::TableFileBytes() const {
  uint64_t total = 0;
  for (auto* h : handles_) {
    uint64_t bytes = 0;
    if (h && db_->GetIntProperty(h, rocksdb::DB::Properties::kLiveSstFilesSize, &bytes)) total += bytes;
  }
  return total;
}

}  // namespace lumen::storage::lineage
