// The one table of how things fail. An object that failed carries an
// ObjectError across processes; Get turns it into the public exception of
// lumen/errors.h, a worker turns what its user code threw into one, and the
// node asks the table whether a task that ended so may run again.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

namespace lumen::internal {

// How an object failed. Values cross the wire: workers run the same binary, so only the range is checked.
enum class ErrorKind : uint8_t {
  kNone = 0,
  kTask = 1,                  // user code threw            -> TaskError
  kWorkerCrashed = 2,         // its worker died            -> WorkerCrashedError
  kCancelled = 3,             // lumen::Cancel              -> TaskCancelledError
  kLost = 4,                  // no copy left               -> ObjectLostError
  kBadCall = 5,               // unregistered, type mismatch -> lumen::Error
  kActorDied = 6,             //                            -> ActorDiedError
  kStoreFull = 7,             //                            -> ObjectStoreFullError
  kReconstructionFailed = 8,  // a re-run from lineage failed -> ObjectReconstructionFailedError
  kInfeasible = 9,            // more than the cluster has  -> InfeasibleError
};

struct ObjectError {
  ErrorKind kind = ErrorKind::kNone;
  std::string message;
  std::string exception_type;  // kTask only: the demangled type user code threw
};

// Whether a task whose attempt ended with a kind may run again (while its
// SetMaxRetries budget lasts).
enum class Retry : uint8_t {
  kNever,
  kAlways,          // the attempt itself was lost (its worker died)
  kWhenAsked,       // only with SetRetryExceptions(true)
  kRebuildingFirst, // an argument was lost: rebuild it from lineage, then run again
};
Retry RetryOf(ErrorKind kind);
// A valid kind on the wire, for readers of untrusted frames.
bool IsErrorKind(uint8_t value);

// Throws the public exception matching `error`.
[[noreturn]] void ThrowObjectError(const ObjectError& error);
// What the exception `e` thrown by user code becomes; `what_ran` names the
// task, method or factory for the message ("task 'f'").
ObjectError ErrorFromException(std::exception_ptr e, const std::string& what_ran);

}  // namespace lumen::internal
