// The lineage log: how every object was made, kept in RocksDB on disk.
//
// Records task specs (function, arguments inline or by object id, options,
// returned ids, owner, attempt), object provenance (made by task X or put by
// Y, size, node) and actor records (creation task, state, restarts). From
// them the runtime rebuilds lost objects, restarts actors, and recovers a
// cluster that went down entirely.
//
// Appends are queued and written in batches by the log's own thread, so the
// caller's path costs a queue push. An append is acknowledged once
// WaitDurable covers its sequence number (or the ack callback runs): from
// then on it survives a kill -9 of the writing process (only a power loss
// can lose it: writes are not fsynced unless `sync_writes`).
//
// Records are stored as Cap'n Proto messages (storage/lineage/schema), one
// RocksDB column family per kind, keyed by id; the first record of a plain
// task or an object is instead packed, in a compact form, with others of its
// batch into one value (src/packs.h): a few dozen bytes copied, not a key of
// its own. Queries read what is on disk: a record is visible to
// Get*/RebuildPlan/Provenance once it is durable (call Flush first to read
// your own appends). If a write fails (a full disk, an
// I/O error), the log is degraded for good: it says so once on stderr, later
// appends are refused (WaitDurable and Flush return false at once, WhenDurable
// callbacks get the error) and LastError says why. The process keeps running
// and an acknowledgement always means "on disk, and so is everything before
// it"; reopen the directory once there is room to log again.
//
// One LineageLog per directory: RocksDB locks it, so a second Open of the same
// directory (in any process) fails with kIOError until the first is closed.
// Readers that must not disturb it (`lumen lineage`) use OpenReadOnly, which
// works beside a live writer.
//
// Retention (lineage_retention.h) bounds the disk use: an open log applies
// its policy every `retention.interval`; what it removed is reported as such
// by RemovedByRetention, by Provenance and by RebuildPlan.
// Never use one in a fork()ed child that has not exec'd: RocksDB's threads
// and locks do not survive fork().
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lumen/storage/lineage_retention.h"
#include "lumen/storage/object_id.h"
#include "lumen/storage/status.h"

namespace lumen::storage {

struct ArgRecord {
  bool by_ref = false;
  ObjectID ref;              // when by_ref
  std::string value;         // when inline: the encoded object bytes
};

struct TaskRecord {
  TaskID id;
  std::string function;      // registered name
  std::vector<ArgRecord> args;
  std::vector<ObjectID> returns;
  std::string name;          // SetName, may be empty
  int32_t max_retries = 3;
  bool retry_exceptions = false;
  std::map<std::string, double> resources;
  std::string owner;         // who submitted it (driver or worker id)
  uint32_t attempt = 0;
  ActorID actor;             // nil for a plain task; the actor for creation/method tasks
  bool actor_creation = false;
  uint64_t submitted_ms = 0; // unix time
  uint64_t recorded_ms = 0;  // when the log wrote it: set by the log, ignored by Append
  // A call its actor ran, recorded for replay: its place in the order the
  // actor ran its calls (1, 2, ...). 0: not such a call (or not run yet).
  uint64_t actor_call_index = 0;
};

struct ObjectRecord {
  ObjectID id;
  TaskID created_by;         // the task that returns it (for Put: its put id)
  bool is_put = false;
  std::string owner;
  uint64_t size = 0;
  std::string node;
  uint64_t recorded_ms = 0;  // as in TaskRecord
};

enum class ActorState : uint8_t { kPending, kAlive, kRestarting, kDead };

// As the provenance renderings and the dashboard spell it.
inline const char* ActorStateName(ActorState state) {
  switch (state) {
    case ActorState::kPending: return "pending";
    case ActorState::kAlive: return "alive";
    case ActorState::kRestarting: return "restarting";
    case ActorState::kDead: return "dead";
  }
  return "unknown";
}

struct ActorRecord {
  ActorID id;
  TaskID creation_task;
  std::string class_name;
  std::string name;          // named actors only
  std::string ns;
  ActorState state = ActorState::kPending;
  uint32_t restarts = 0;
  std::string death_cause;
  uint64_t recorded_ms = 0;  // as in TaskRecord
  // What re-creating it needs (a cluster restored from its log).
  bool detached = false;
  int32_t max_restarts = 0;
  int32_t max_task_retries = 0;
  int32_t max_concurrency = 1;
  bool replay_on_restart = false;
  // Checkpoints: the method that returns its state and the factory that
  // takes it (registered names), taken every `checkpoint_every` calls; the
  // latest state's object (nil: none yet) and how many of its calls that
  // state covers (those with actor_call_index 1..checkpoint_calls).
  std::string checkpoint_method;
  std::string restore_function;
  uint32_t checkpoint_every = 0;
  ObjectID checkpoint;
  uint64_t checkpoint_calls = 0;
  // What its process executes: its creator's job's binary and command line
  // (a head restarted on the log re-creates it with no driver to ask).
  std::string binary;
  std::vector<std::string> argv;
};

// As lumen::PlacementStrategy (the framework's), in its order.
enum class PlacementStrategy : uint8_t { kPack, kSpread, kStrictPack, kStrictSpread };

// A placement group as created, and whether it was removed since: a cluster
// started again from the log reserves those not removed anew.
struct PlacementGroupRecord {
  TaskID id;                 // its hex is the group's id
  std::string name;          // "" = anonymous
  std::vector<std::map<std::string, double>> bundles;
  PlacementStrategy strategy = PlacementStrategy::kPack;
  bool removed = false;
  uint64_t created_ms = 0;   // unix time; restored groups are placed in this order
  uint64_t recorded_ms = 0;  // as in TaskRecord
};

struct LineageOptions {
  bool sync_writes = false;  // fsync each batch (survive power loss, ~4x slower)
  size_t max_batch = 4096;   // records per RocksDB WriteBatch
  // How long a batch may wait for more records before it is written: bounds
  // the writer's wake-ups; an append is acknowledged at most this much later.
  // A caller blocked in WaitDurable or Flush cuts the wait short.
  std::chrono::microseconds batch_delay{4000};
  // Records queued at most (0: no bound). An Append beyond waits for the
  // writer to take the queue (for 10 s at most, then it queues anyway and
  // says so once), so appends faster than the disk take bounded memory.
  size_t max_queued = size_t{1} << 18;
  RetentionPolicy retention;  // the defaults: 30 days, 4 GiB, applied hourly
  // The clock that stamps `recorded_ms` (unix ms); empty: the system clock.
  // Tests set it to write records "in the past".
  std::function<uint64_t()> now_ms;
};

// What Provenance renders, and how.
struct ProvenanceQuery {
  int max_depth = 64;   // tasks deep; clamped to 0..256
  bool json = false;    // a JSON document instead of the text tree
  // If set, each object is marked as present now or not ("in store" /
  // "missing"; JSON "exists": true/false); the caller answers from its store.
  std::function<bool(const ObjectID&)> exists;
};

class LineageLog {
 public:
  // Opens (creating if needed) the log in `dir`.
  static Status Open(const std::string& dir, const LineageOptions& options,
                     std::unique_ptr<LineageLog>* out);
  // Opens the log in `dir` for queries only, beside a live writer if there is
  // one (a RocksDB secondary instance: it sees what was durable when it
  // opened). Appends are refused (LastError says so), ApplyRetention too.
  // kNotFound if `dir` holds no lineage log.
  static Status OpenReadOnly(const std::string& dir, std::unique_ptr<LineageLog>* out);
  virtual ~LineageLog() = default;  // writes what is queued, then closes

  // Queue a record; returns its sequence number (1, 2, ...). Blocks on I/O only
  // while LineageOptions::max_queued records wait for the writer.
  // A later record with the same id replaces the earlier one (e.g. actor state).
  virtual uint64_t Append(const TaskRecord& record) = 0;
  virtual uint64_t Append(const ObjectRecord& record) = 0;
  virtual uint64_t Append(const ActorRecord& record) = 0;
  virtual uint64_t Append(const PlacementGroupRecord& record) = 0;

  // Blocks until every record up to `seq` is written; false on timeout or a
  // write error (then LastError says why). A negative timeout waits forever.
  virtual bool WaitDurable(uint64_t seq, int64_t timeout_ms) = 0;
  // Waits for everything queued so far.
  virtual bool Flush(int64_t timeout_ms) = 0;
  // The ack callback, for callers that must not block (actors): runs `done`
  // once every record up to `seq` is written (OK), or with the write error.
  // Runs on the log's writer thread, or on the calling thread if that is
  // already decided; it must be quick and must not call back into the log's
  // WaitDurable/Flush (it would wait on itself). At destruction, callbacks
  // still pending run with the outcome of the final drain.
  virtual void WhenDurable(uint64_t seq, std::function<void(const Status&)> done) = 0;
  // The highest sequence number written so far.
  virtual uint64_t DurableSeq() const = 0;
  // The highest sequence number appended so far (written or still queued).
  virtual uint64_t AppendedSeq() const = 0;
  virtual Status LastError() const = 0;

  virtual std::optional<TaskRecord> GetTask(const TaskID& id) = 0;
  virtual std::optional<ObjectRecord> GetObject(const ObjectID& id) = 0;
  virtual std::optional<ActorRecord> GetActor(const ActorID& id) = 0;
  virtual std::vector<ActorRecord> AllActors() = 0;
  // Every placement group recorded (removed ones too), ordered by created_ms.
  // Retention leaves them alone: they are few.
  virtual std::vector<PlacementGroupRecord> AllPlacementGroups() = 0;
  // The calls `actor` ran that were recorded for replay (actor_call_index >
  // `after`), in the order it ran them. Scans every task record: meant for
  // a cluster's start, not for a hot path.
  virtual std::vector<TaskRecord> ActorCalls(const ActorID& actor, uint64_t after) = 0;

  // The tasks to re-run to rebuild `target`, in dependency order (each task
  // after the tasks making its missing by-ref arguments), stopping at objects
  // for which `exists` is true. Each task appears once. kNotFound (naming the
  // object) if some needed object has no record or was made by Put and is gone.
  // When a needed record was removed by retention, the message says so.
  virtual Status RebuildPlan(const ObjectID& target,
                             const std::function<bool(const ObjectID&)>& exists,
                             std::vector<TaskRecord>* plan) = 0;

  // Applies `policy` now (besides the periodic runs) and says what it did.
  // Safe beside appends: a record re-written while the run goes is kept.
  virtual Status ApplyRetention(const RetentionPolicy& policy, RetentionReport* report) = 0;
  // Whether retention removed the record of `id` (an object's: its task's
  // source; a task's or an actor's), and when. nullopt: it was not removed
  // (it is in the log, or was never recorded).
  virtual std::optional<RetentionMark> RemovedByRetention(const TaskID& id) = 0;
  std::optional<RetentionMark> RemovedByRetention(const ObjectID& id) { return RemovedByRetention(id.Task()); }

  // Renders how `id` was made, for `lumen lineage ID`: the object, the task
  // that returns it (function, options, arguments), and each by-ref argument
  // the same way, down to `max_depth` tasks. A task reached twice (a diamond)
  // is expanded once and referred to afterwards; a missing record is shown,
  // not fatal. kNotFound if the log knows neither the object nor the task
  // that returns it. Example (ids are printed in full hex; shortened here):
  //
  //   object 6f..01 = return 0 of task 6f.., 8 B on node-1, owner driver
  //     task 6f.. add() attempt 0, owner driver, max_retries 3, submitted 2024-..Z
  //       arg 0: inline 8 B
  //       arg 1: object 9a..00 = put by driver, 8 B on node-1
  //
  // A task on an actor also shows the actor (class, name, state) and its
  // creation task, expanded once. A record removed by retention is shown
  // as such. kNotFound's message says "removed by retention ..." or "never
  // recorded" for the object asked about.
  Status Provenance(const ObjectID& id, int max_depth, std::string* tree);
  // The same with existence marks and/or as JSON (see ProvenanceQuery). The
  // JSON document: {"object": {"id", "kind": "task_return"|"put", "return_index", "size",
  // "node", "owner", "recorded_ms", "record": "present"|"missing"|
  // "removed_by_retention", "exists"?, "task": {"id", "function", "name",
  // "attempt", "owner", "submitted_ms", "max_retries", "retry_exceptions",
  // "resources", "actor"?, "args": [{"index", "inline_bytes"} | {"index",
  // "object": {...}}], "record", "expanded": "here"|"above"|"depth_limit"}}}.
  Status Provenance(const ObjectID& id, const ProvenanceQuery& query, std::string* out);
};

}  // namespace lumen::storage
