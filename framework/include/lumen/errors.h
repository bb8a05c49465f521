// The typed errors of lumen's public API. Every error derives from
// lumen::Error (itself a std::runtime_error) and carries a message that says
// what happened and, where the caller can act, what to do. Get rethrows the
// error a task or object ended with; nothing in the API hangs instead.
#pragma once

#include <string>

#include "lumen/storage/error.h"  // lumen::Error, also the base of codec::CodecError

namespace lumen {

// User code threw. what() holds the task's name, the exception's type name and message.
class TaskError : public Error {
 public:
  TaskError(const std::string& message, std::string exception_type)
      : Error(message), exception_type_(std::move(exception_type)) {}
  const std::string& exception_type() const { return exception_type_; }

 private:
  std::string exception_type_;
};

// The worker running the task died and its retries are spent.
class WorkerCrashedError : public Error {
 public:
  using Error::Error;
};

// The actor is dead: killed, its creation threw, or its restarts are spent.
class ActorDiedError : public Error {
 public:
  using Error::Error;
};

// Every copy of the object is gone.
class ObjectLostError : public Error {
 public:
  using Error::Error;
};

// Rebuilding a lost object from lineage failed.
class ObjectReconstructionFailedError : public ObjectLostError {
 public:
  using ObjectLostError::ObjectLostError;
};

// Get with a timeout ran out; the object may still arrive later.
class GetTimeoutError : public Error {
 public:
  using Error::Error;
};

// The task was cancelled with lumen::Cancel.
class TaskCancelledError : public Error {
 public:
  using Error::Error;
};

// The cluster can never meet what was asked: more of a resource than it has
// in all (a task, an actor or a placement group), on a cluster that cannot
// grow. Thrown where the demand is made (Remote, CreatePlacementGroup); the
// message names the demand and the cluster's total.
class InfeasibleError : public Error {
 public:
  using Error::Error;
};

// The node's object store has no room even after evicting and spilling.
class ObjectStoreFullError : public Error {
 public:
  using Error::Error;
};

}  // namespace lumen
