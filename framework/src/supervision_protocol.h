// The CAF protocols of the driver's two supervision actors, as types: what
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
using node_atom = caf::atom_constant<caf::atom("node")>;
using nodes_atom = caf::atom_constant<caf::atom("nodes")>;
using ok_atom = caf::atom_constant<caf::atom("ok")>;

// The node's supervisor, published on the supervision port (mutual TLS).
using SupervisorActor = caf::typed_actor<
    // (register, worker number, actor standing for the worker process):
    // monitor it; its down message is that worker's death. Replies ok once
    // monitored; an error if the number registered before.
    caf::replies_to<register_atom, int32_t, caf::actor>::with<ok_atom>>;

// The head: the cluster's directory of nodes, local to the driver.
using HeadActor = caf::typed_actor<
    // (node, name, number of workers): record a node. Replies ok.
    caf::replies_to<node_atom, std::string, int32_t>::with<ok_atom>,
    // (nodes): publish the directory to the caller's shared copy. Replies
    // the number of nodes.
    caf::replies_to<nodes_atom>::with<int32_t>>;

}  // namespace lumen::internal
