#include "protocol/error_table.h"

#include <cxxabi.h>

#include <typeinfo>

#include "lumen/errors.h"
#include "lumen/remote.h"
#include "runtime/demangle.h"

namespace lumen::internal {

Retry RetryOf(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kWorkerCrashed: return Retry::kAlways;
    case ErrorKind::kTask: return Retry::kWhenAsked;
    case ErrorKind::kLost: return Retry::kRebuildingFirst;
    case ErrorKind::kNone:
    case ErrorKind::kCancelled:
    case ErrorKind::kBadCall:
    case ErrorKind::kActorDied:
    case ErrorKind::kStoreFull:
    case ErrorKind::kReconstructionFailed:
    case ErrorKind::kInfeasible: break;
  }
  return Retry::kNever;
}

bool IsErrorKind(uint8_t value) { return value <= static_cast<uint8_t>(ErrorKind::kInfeasible); }

void ThrowObjectError(const ObjectError& error) {
  switch (error.kind) {
    case ErrorKind::kTask: throw TaskError(error.message, error.exception_type);
    case ErrorKind::kWorkerCrashed: throw WorkerCrashedError(error.message);
    case ErrorKind::kCancelled: throw TaskCancelledError(error.message);
    case ErrorKind::kLost: throw ObjectLostError(error.message);
    case ErrorKind::kReconstructionFailed: throw ObjectReconstructionFailedError(error.message);
    case ErrorKind::kStoreFull: throw ObjectStoreFullError(error.message);
    case ErrorKind::kActorDied: throw ActorDiedError(error.message);
    case ErrorKind::kInfeasible: throw InfeasibleError(error.message);
    case ErrorKind::kBadCall:
    case ErrorKind::kNone: break;
  }
  throw Error(error.message);
}

ObjectError ErrorFromException(std::exception_ptr e, const std::string& what_ran) {
  try {
    std::rethrow_exception(e);
  } catch (const BadCallError& bad) {
    return {ErrorKind::kBadCall, bad.what(), ""};
  } catch (const ObjectReconstructionFailedError& failed) {  // rebuilding already failed: so does this
    return {ErrorKind::kReconstructionFailed, failed.what(), ""};
  } catch (const ObjectLostError& lost) {  // an argument went missing: rebuilt, then run again
    return {ErrorKind::kLost, lost.what(), ""};
  } catch (const std::exception& thrown) {
    std::string type = Demangle(typeid(thrown).name());
    return {ErrorKind::kTask, what_ran + " raised " + type + ": " + thrown.what(), type};
  } catch (...) {
    std::string type = Demangle(abi::__cxa_current_exception_type()->name());
    return {ErrorKind::kTask, what_ran + " raised " + type, type};
  }
}

}  // namespace lumen::internal
