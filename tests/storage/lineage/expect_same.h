// GoogleTest checks that two lineage records are the same, field by field.
#pragma once

#include <gtest/gtest.h>

#include "lumen/storage/lineage_log.h"

namespace lumen::storage::testing {

// Every field but recorded_ms (the log sets it).
inline void ExpectSame(const TaskRecord& a, const TaskRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.function, b.function);
  ASSERT_EQ(a.args.size(), b.args.size());
  for (size_t i = 0; i < a.args.size(); ++i) {
    EXPECT_EQ(a.args[i].by_ref, b.args[i].by_ref) << "arg " << i;
    EXPECT_EQ(a.args[i].ref, b.args[i].ref) << "arg " << i;
    EXPECT_EQ(a.args[i].value, b.args[i].value) << "arg " << i;
  }
  EXPECT_EQ(a.returns, b.returns);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.max_retries, b.max_retries);
  EXPECT_EQ(a.retry_exceptions, b.retry_exceptions);
  EXPECT_EQ(a.resources, b.resources);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.attempt, b.attempt);
  EXPECT_EQ(a.actor, b.actor);
  EXPECT_EQ(a.actor_creation, b.actor_creation);
  EXPECT_EQ(a.submitted_ms, b.submitted_ms);
  EXPECT_EQ(a.actor_call_index, b.actor_call_index);
}

inline void ExpectSame(const ObjectRecord& a, const ObjectRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.created_by, b.created_by);
  EXPECT_EQ(a.is_put, b.is_put);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.node, b.node);
}

inline void ExpectSame(const ActorRecord& a, const ActorRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.creation_task, b.creation_task);
  EXPECT_EQ(a.class_name, b.class_name);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.ns, b.ns);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.restarts, b.restarts);
  EXPECT_EQ(a.death_cause, b.death_cause);
  EXPECT_EQ(a.detached, b.detached);
  EXPECT_EQ(a.max_restarts, b.max_restarts);
  EXPECT_EQ(a.max_task_retries, b.max_task_retries);
  EXPECT_EQ(a.max_concurrency, b.max_concurrency);
  EXPECT_EQ(a.replay_on_restart, b.replay_on_restart);
  EXPECT_EQ(a.checkpoint_method, b.checkpoint_method);
  EXPECT_EQ(a.restore_function, b.restore_function);
  EXPECT_EQ(a.checkpoint_every, b.checkpoint_every);
  EXPECT_EQ(a.checkpoint, b.checkpoint);
  EXPECT_EQ(a.checkpoint_calls, b.checkpoint_calls);
}

}  // namespace lumen::storage::testing
