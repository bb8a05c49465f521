// Retention: what keeps the lineage log's disk use bounded, and how a record
// it removed is told apart from one that was never written.
//
// A policy removes records by age (older than `max_age`) and by size (once
// the retained records exceed `max_bytes`, the oldest go first until they
// fill at most 90% of it, so a log at its bound is not trimmed every run).
// Age is the time the log wrote the record (`recorded_ms`). Never removed,
// whatever their age: the records of actors that are not dead (the actor,
// its creation task and its calls), since replay and restore need them all.
//
// Every run leaves a mark of what it removed, in the same atomic write as the
// removal: per id source (the random prefix of the process that drew the
// ids, object_id.h) the range of counters removed and the age bound. So a
// lookup of a removed id answers "removed by retention" for as long as the
// log exists, in a few bytes per process ever seen. Precision: an id that
// its process drew between two removed ids but never recorded is reported
// as removed too; an id never drawn below a removed one is "never recorded".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace lumen::storage {

struct RetentionPolicy {
  // Records written longer ago than this are removed; zero keeps any age.
  std::chrono::milliseconds max_age = std::chrono::hours(24 * 30);
  // Bound on the bytes of the retained records (keys and values as written,
  // before RocksDB compresses them; the files are about that size or less,
  // plus what compaction has not reclaimed yet); zero: no bound.
  uint64_t max_bytes = uint64_t{4} << 30;
  // How often an open (writable) log applies the policy by itself, the first
  // time right after Open; zero: only when ApplyRetention is called.
  std::chrono::milliseconds interval = std::chrono::hours(1);
  // Flush and rewrite the files after removing (even if nothing was), so the
  // disk shrinks at once (costs a rewrite of the whole log). Otherwise
  // RocksDB reclaims the space as it compacts files that hold many removals.
  bool compact = false;
};

// What one ApplyRetention run did.
struct RetentionReport {
  uint64_t removed_tasks = 0;
  uint64_t removed_objects = 0;
  uint64_t removed_actors = 0;
  uint64_t removed_bytes = 0;    // keys + values of the removed records
  uint64_t retained_bytes = 0;   // keys + values of what is left
  uint64_t kept_for_live_actors = 0;  // old records kept because their actor lives
  uint64_t cutoff_ms = 0;        // removed: records written before this (0: none)
  uint64_t disk_bytes_before = 0;  // the log's table files, before and after
  uint64_t disk_bytes_after = 0;
};

// Why a record is missing: a removal by retention (see above).
struct RetentionMark {
  uint64_t cutoff_ms = 0;   // records of this id's process written before this were removed
  uint64_t removed_at_ms = 0;  // when the latest run that removed some of them ran

  // "removed by retention on <date> (records older than <date>)", UTC.
  std::string Describe() const;
};

// Unix time in ms as "2024-05-01T12:00:00.123Z" (0: "unknown time").
std::string FormatUtcMs(uint64_t ms);

}  // namespace lumen::storage
