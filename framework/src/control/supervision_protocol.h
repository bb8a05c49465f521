// The CAF protocols of the node's supervisor, as types: what
// each accepts and what it answers (supervision.h says who talks to whom).
// Workers reach the supervisor from their own processes, so every type here
// must be one CAF serializes already.
//
// Include only from supervision.cc: CAF headers cost ~10 s per translation unit.
#pragma once

#include <caf/all.hpp>

#include <cstdint>
#include <string>

namespace lumen::internal {

using register_atom = caf::atom_constant<caf::atom("register")>;
using ok_atom = caf::atom_constant<caf::atom("ok")>;

// The node's supervisor, published on the supervision port (mutual TLS).
using SupervisorActor = caf::typed_actor<
    // (register, worker number, actor standing for the worker process):
    // monitor it; its down message is that worker's death. Replies ok once
    // monitored; an error if the number registered before.
    caf::replies_to<register_atom, int32_t, caf::actor>::with<ok_atom>>;

}  // namespace lumen::internal
