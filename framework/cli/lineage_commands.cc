#include "lineage_commands.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "lumen/storage/lineage_log.h"
#include "node/put_copies.h"

namespace lumen::cli {

namespace {

using storage::LineageLog;

// A number then an optional unit from `units` (name, multiplier).
template <size_t N>
bool ParseScaled(const std::string& text, const std::pair<const char*, uint64_t> (&units)[N], uint64_t bare,
                 uint64_t* out) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long n = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0) return false;
  std::string unit(end);
  uint64_t scale = unit.empty() ? bare : 0;
  for (const auto& [name, multiplier] : units) {
    if (unit == name) scale = multiplier;
  }
  if (scale == 0 || (n != 0 && n > UINT64_MAX / scale)) return false;
  *out = n * scale;
  return true;
}

bool IsLogDir(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir + "/CURRENT", ec);
}

int NoLog(const std::string& dir) {
  std::fprintf(stderr, "lumen: no lineage log in '%s' (give the storage dir a driver or head was started with)\n",
               dir.c_str());
  return 1;
}

}  // namespace

bool ParseDurationMs(const std::string& text, uint64_t* ms) {
  static const std::pair<const char*, uint64_t> kUnits[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"w", 604800000}};
  uint64_t value = 0;
  // A bare number is only accepted as 0: "30" would be ambiguous.
  if (!ParseScaled(text, kUnits, 1, &value)) return false;
  if (value != 0 && text.find_first_not_of("0123456789") == std::string::npos) return false;
  *ms = value;
  return true;
}

bool ParseBytes(const std::string& text, uint64_t* bytes) {
  static const std::pair<const char*, uint64_t> kUnits[] = {
      {"K", 1ull << 10}, {"M", 1ull << 20}, {"G", 1ull << 30}, {"T", 1ull << 40},
      {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"TiB", 1ull << 40}};
  return ParseScaled(text, kUnits, 1, bytes);
}

int RunLineageCommand(const LineageCommandOptions& options) {
  ObjectID id;
  if (!ObjectID::FromHex(options.id, &id)) {
    std::string hint = options.id.size() == 2 * TaskID::kSize
                           ? " (that is a task id's length: an object id is the task id and 8 more hex digits, "
                             "its return index, e.g. " + options.id + "00000000)"
                           : "";
    std::fprintf(stderr, "lumen lineage: '%s' is not an object id (%zu hex digits)%s\n", options.id.c_str(),
                 2 * ObjectID::kSize, hint.c_str());
    return 2;
  }
  if (!IsLogDir(options.storage)) return NoLog(options.storage);
  std::unique_ptr<LineageLog> log;
  if (Status s = LineageLog::OpenReadOnly(options.storage, &log); !s.ok()) {
    std::fprintf(stderr, "lumen lineage: %s\n", s.message().c_str());
    return 1;
  }
  storage::ProvenanceQuery query;
  query.max_depth = options.depth;
  query.json = options.json;
  std::string out;
  if (Status s = log->Provenance(id, query, &out); !s.ok()) {
    std::fprintf(stderr, "lumen lineage: %s\n", s.message().c_str());
    return 1;
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

int RunGcCommand(const GcCommandOptions& options) {
  storage::RetentionPolicy policy;
  uint64_t value = 0;
  if (!options.older_than.empty()) {
    if (!ParseDurationMs(options.older_than, &value)) {
      std::fprintf(stderr, "lumen gc: --older-than '%s' is not a duration (e.g. 30d, 12h, 90m, 45s, 0)\n",
                   options.older_than.c_str());
      return 2;
    }
    policy.max_age = std::chrono::milliseconds(value);
  }
  if (!options.max_bytes.empty()) {
    if (!ParseBytes(options.max_bytes, &value)) {
      std::fprintf(stderr, "lumen gc: --max-bytes '%s' is not a size (e.g. 4G, 512M, 1000000, 0)\n",
                   options.max_bytes.c_str());
      return 2;
    }
    policy.max_bytes = value;
  }
  policy.compact = true;  // asked for now: shrink the disk now
  if (!IsLogDir(options.storage)) return NoLog(options.storage);
  storage::LineageOptions log_options;
  log_options.retention.interval = std::chrono::milliseconds(0);  // just this one run
  std::unique_ptr<LineageLog> log;
  if (Status s = LineageLog::Open(options.storage, log_options, &log); !s.ok()) {
    bool locked = s.message().find("lock") != std::string::npos;
    if (locked) {
      std::fprintf(stderr,
                   "lumen gc: the lineage log in '%s' is in use by a running lumen process, which applies its "
                   "own retention policy (LineageOptions::retention) every hour; stop it to gc now\n",
                   options.storage.c_str());
    } else {
      std::fprintf(stderr, "lumen gc: %s\n", s.message().c_str());
    }
    return 1;
  }
  storage::RetentionReport r;
  if (Status s = log->ApplyRetention(policy, &r); !s.ok()) {
    std::fprintf(stderr, "lumen gc: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("removed %llu tasks, %llu objects, %llu actors (%llu bytes)",
              static_cast<unsigned long long>(r.removed_tasks), static_cast<unsigned long long>(r.removed_objects),
              static_cast<unsigned long long>(r.removed_actors), static_cast<unsigned long long>(r.removed_bytes));
  if (r.cutoff_ms) std::printf(": records written before %s", storage::FormatUtcMs(r.cutoff_ms).c_str());
  std::printf("\nkept %llu bytes of records", static_cast<unsigned long long>(r.retained_bytes));
  if (r.kept_for_live_actors) {
    std::printf(" (%llu old records kept: their actors are alive)",
                static_cast<unsigned long long>(r.kept_for_live_actors));
  }
  std::printf("\ntable files %llu -> %llu bytes\n", static_cast<unsigned long long>(r.disk_bytes_before),
              static_cast<unsigned long long>(r.disk_bytes_after));
  // Durable copies of large Puts go with their records, actors' states once no actor names them.
  uint64_t bytes = 0;
  size_t copies = internal::PutCopies::Sweep(options.storage + "/puts", internal::PutCopies::NeededBy(*log), &bytes);
  if (copies) std::printf("removed %zu durable Put copies (%llu bytes)\n", copies, static_cast<unsigned long long>(bytes));
  return 0;
}

}  // namespace lumen::cli
