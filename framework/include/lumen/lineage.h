// The lineage log in use: durability and provenance.
//
// Every task, Put and actor call is recorded in the log under
// Config::storage_dir. An object whose bytes are gone (evicted, every
// reference dropped, or the process that made it died) is rebuilt from the
// log by the next Get: ObjectRef<T>::FromID(id) of any id in the log works,
// in this process or a later one on the same storage dir. A small Put's
// value lives in its log record; a large one (over 100 KiB) is copied to
// `storage_dir/puts` behind the Put, when a storage_dir is named.
#pragma once

#include <string>

#include "lumen/object_ref.h"

namespace lumen {

// Returns once everything acknowledged so far (tasks submitted, Puts, actor
// calls, and the copies of large Puts) is durable on disk: it survives a
// kill -9 of every process. Throws
// lumen::Error if the log cannot write (e.g. the disk is full), or when it
// is off.
void Flush();

namespace internal {
std::string ProvenanceOf(const ObjectID& id);
}

// How `ref` was made, as a tree: the task that returns it (function,
// options, arguments, attempt) and, recursively, its inputs.
template <class T>
std::string Lineage(const ObjectRef<T>& ref) {
  return internal::ProvenanceOf(ref.id());
}

}  // namespace lumen
