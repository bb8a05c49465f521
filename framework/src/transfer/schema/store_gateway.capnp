# The store gateway: a node's object store served to another host, over a
# tunnel (protocol/tls_tunnel.h). Each request and reply is one of these,
# framed by its size in bytes (uint32, little-endian). An object's bytes
# travel raw, in chunks, never inside a message: after a get's reply, and
# after the reply to a put that says there is room. The gateway acknowledges
# each chunk of a put's bytes (1 MiB, the last one shorter) with a reply whose
# `size` is the bytes it has received so far, and once it has them all,
# a last reply says whether it was sealed.
@0x8ca7008a52b2efa2;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("lumen::store_gateway");

struct StoreRequest {
  union {
    get @0 :Data;           # an object id; the reply's `size` bytes follow it
    put :group {            # OK: `size` bytes follow, each chunk acknowledged, then a last reply
      id @1 :Data;
      size @2 :UInt64;
      reconstructable @3 :Bool;
    }
    contains @4 :Data;
    delete @5 :Data;
    stats @6 :Void;
  }
}

struct StoreReply {
  code @0 :UInt8;           # lumen::StatusCode
  message @1 :Text;
  size @2 :UInt64;          # get: the bytes that follow; a put's acknowledgement: the bytes received
  contains @3 :Bool;
  stats @4 :Stats;
}

struct Stats {
  capacityBytes @0 :UInt64;
  usedBytes @1 :UInt64;
  numObjects @2 :UInt64;
  numSpilled @3 :UInt64;
  evictions @4 :UInt64;
  spills @5 :UInt64;
  spilledBytes @6 :UInt64;
  restores @7 :UInt64;
  pinnedBytes @8 :UInt64;
  numClients @9 :UInt64;
}
