# The node's protocol: every frame between a node manager and its clients
# (the worker processes, and drivers that joined a cluster) is one Frame.
# On the socket a frame is a u64 byte count and one flat Cap'n Proto message
# (its segment table first), so every frame stays word-aligned.
#
# Ids are Data: 20 bytes for an ObjectID, 16 for a TaskID or ActorID; readers
# check the sizes. Both ends are the same binary (workers re-execute the
# driver's), so fields may change between versions; keep ordinals dense.
@0xa756e9710312a378;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("lumen::frames");

# How an object failed: protocol/error_table.h's ErrorKind and its message.
struct Failure {
  kind @0 :UInt8;
  message @1 :Text;
  exceptionType @2 :Text;   # kind Task: the type user code threw
}

# An object's value or failure.
struct Payload {
  union {
    inline @0 :Data;        # the encoded object itself
    inStore @1 :UInt64;     # its size; the bytes are in the node's store
    error @2 :Failure;
  }
  nestedRefs @3 :List(Data);  # ObjectIDs held inside the value
}

struct TaskArg {
  union {
    value :group {
      bytes @0 :Data;
      nestedRefs @1 :List(Data);
    }
    ref @2 :Data;           # by reference: an ObjectID
  }
}

struct Resource {
  name @0 :Text;
  amount @1 :Float64;
}

struct TaskSpec {
  actor @0 :Data;           # empty or nil: a plain task
  function @1 :Text;
  name @2 :Text;
  maxRetries @3 :Int32;
  retryExceptions @4 :Bool;
  resources @5 :List(Resource);
  placementGroup @6 :Text;
  bundleIndex @7 :Int32;
  nodeAffinity @8 :Text;
  nodeAffinitySoft @9 :Bool;
  args @10 :List(TaskArg);
  spread @11 :Bool;         # SPREAD: over the cluster's nodes in turn
}

struct ActorOptions {
  enum Detached { unset @0; no @1; yes @2; }
  className @0 :Text;
  maxRestarts @1 :Int32;
  maxTaskRetries @2 :Int32;
  maxConcurrency @3 :Int32;
  name @4 :Text;
  ns @5 :Text;
  detached @6 :Detached;
  replayOnRestart @7 :Bool;
  checkpointMethod @8 :Text;
  restoreFunction @9 :Text;
  checkpointEvery @10 :Int32;
}

# ---- node -> client ----------------------------------------------------------

# Run a task, create an actor, or call its method.
struct Execute {
  enum Kind { task @0; createActor @1; actorCall @2; }
  struct Arg {
    union {
      inline @0 :Data;
      stored :group {
        id @1 :Data;
        size @2 :UInt64;
      }
    }
  }
  kind @0 :Kind;
  seq @1 :UInt64;           # task: claimed before it runs (claim_slots.h); 0 = always ours
  actor @2 :Data;           # createActor
  restarted @3 :Bool;       # createActor
  maxConcurrency @4 :Int32; # createActor
  task @5 :Data;
  function @6 :Text;
  name @7 :Text;
  args @8 :List(Arg);
  gpuIds @9 :List(Int32);   # task, createActor: the GPUs granted (CUDA_VISIBLE_DEVICES)
}

struct GetReply {
  request @0 :UInt64;
  timedOut @1 :Bool;
  payloads @2 :List(Payload);  # one per id asked for, unless timed out
  notReady @3 :UInt32;         # timed out: how many were still pending
}

struct WaitReply {
  request @0 :UInt64;
  ready @1 :List(Bool);
}

struct LookupReply {
  request @0 :UInt64;
  found @1 :Bool;
  actor @2 :Data;
}

# An actor's creation was accepted (error empty) or refused, and why.
struct CreateActorReply {
  request @0 :UInt64;
  error @1 :Text;
  errorKind @2 :UInt8;      # refused: how (ErrorKind; 0 reads as a bad call)
}

# A Submit that asked for an answer was accepted (kind 0) or refused.
struct SubmitReply {
  request @0 :UInt64;
  error @1 :Failure;
}

# ---- client -> node ----------------------------------------------------------

struct TaskDone {
  task @0 :Data;
  result @1 :Payload;
}

# Tasks sent ahead that this worker will not start (it blocked in Get).
struct ReturnTasks {
  tasks @0 :List(Data);
}

struct Submit {
  task @0 :Data;
  spec @1 :TaskSpec;
  request @2 :UInt64;       # 0: no answer; else the node answers with SubmitReply
}

struct Get {
  request @0 :UInt64;
  ids @1 :List(Data);
  timeoutMs @2 :Int64;      # -1: none
}

struct Wait {
  request @0 :UInt64;
  ids @1 :List(Data);
  numObjects @2 :Int32;
  timeoutMs @3 :Int64;
}

struct Put {
  id @0 :Data;
  payload @1 :Payload;
}

# Reference changes: additions apply before the frame that follows them.
struct Refs {
  added @0 :List(Data);
  removed @1 :List(Data);
}

struct Cancel {
  id @0 :Data;
}

struct CreateActor {
  request @0 :UInt64;
  actor @1 :Data;
  factory @2 :TaskSpec;
  options @3 :ActorOptions;
}

struct KillActor {
  actor @0 :Data;
  noRestart @1 :Bool;
}

struct LookupActor {
  request @0 :UInt64;
  name @1 :Text;
  ns @2 :Text;              # empty: the job's namespace
}

# A driver's first frame on a node that serves joining drivers: it proves
# it may join (the cluster's secret) and says what its workers run.
struct Join {
  request @0 :UInt64;
  secret @1 :Text;
  binary @2 :Text;          # the executable its workers run
  argv @3 :List(Text);      # their command line
  ns @4 :Text;              # empty: a namespace of its own
  detachedByDefault @5 :Bool;
}

struct JoinReply {
  request @0 :UInt64;
  error @1 :Text;           # empty: joined
  ns @2 :Text;
  job @3 :UInt32;
  nodeName @4 :Text;
  resources @5 :List(Resource);
}

# Make everything acknowledged so far durable (lumen::Flush).
struct Flush {
  request @0 :UInt64;
}

struct FlushReply {
  request @0 :UInt64;
  error @1 :Text;           # empty: durable
}

# A node daemon (lumen start --address) joins the head's node: it proves it
# may (the cluster's secret) and says where it serves and what it has. Its
# connection stays open: when it closes, the node is gone.
struct RegisterNode {
  request @0 :UInt64;
  secret @1 :Text;
  name @2 :Text;
  nodeSocket @3 :Text;
  storeSocket @4 :Text;
  resources @5 :List(Resource);
  pid @6 :Int32;            # the daemon's, on its own host (logs; a tunnel's peer shows none)
  instance @7 :Text;        # the daemon's own id, random, the same each time it registers (head_registration.h)
}

struct RegisterNodeReply {
  request @0 :UInt64;
  error @1 :Text;           # empty: registered
}

# A registered node's figures, sent on the connection it registered over in
# place of its ping (and answered with pong, as a ping is): what the head's
# dashboard shows of it.
struct NodeLoad {
  workers @0 :UInt32;       # its live worker processes, actors' included
  runningTasks @1 :UInt32;  # tasks running on them now
}

# Placement groups, for a driver that joined a cluster: the head keeps the
# cluster's table and answers each request with PlacementGroupReply.
enum PlacementStrategy { pack @0; spread @1; strictPack @2; strictSpread @3; }
enum PlacementGroupState { pending @0; created @1; removed @2; }

struct CreatePlacementGroup {
  request @0 :UInt64;
  name @1 :Text;            # empty: anonymous
  bundles @2 :List(List(Resource));
  strategy @3 :PlacementStrategy;
}

struct RemovePlacementGroup {
  request @0 :UInt64;
  id @1 :Data;              # 16 bytes
}

struct PlacementGroupQuery {
  request @0 :UInt64;
  union {
    id @1 :Data;            # one group, removed ones too
    name @2 :Text;          # the live group of that name
    all @3 :Void;           # every group, removed ones too
  }
}

struct PlacementGroupInfo {
  id @0 :Data;
  name @1 :Text;
  bundles @2 :List(List(Resource));
  strategy @3 :PlacementStrategy;
  state @4 :PlacementGroupState;
}

# Create: the group made; Remove: none; a query: those it names (none: no
# such group). Refused: error and how (ErrorKind; 0 reads as a bad call).
struct PlacementGroupReply {
  request @0 :UInt64;
  error @1 :Text;
  errorKind @2 :UInt8;
  groups @3 :List(PlacementGroupInfo);
}

# A placement group's bundles on a node (node_manager_bundles.cc), from the
# head over the connection the node registered over: reserved in two phases
# (prepare: held, answered; commit: in use), given back when a phase fails,
# the group is removed or a bundle moves.
struct Bundle {
  index @0 :Int32;
  resources @1 :List(Resource);
}

struct PrepareBundles {
  request @0 :UInt64;
  group @1 :Text;
  bundles @2 :List(Bundle);
}

struct PrepareBundlesReply {
  request @0 :UInt64;
  error @1 :Text;           # empty: held
}

struct CommitBundles {
  group @0 :Text;
  indices @1 :List(Int32);
}

struct ReturnBundles {
  group @0 :Text;
  indices @1 :List(Int32);  # empty: all the node holds of it
  removed @2 :Bool;         # the group is gone: what runs in it ends
}

struct Frame {
  union {
    execute @0 :Execute;
    getReply @1 :GetReply;
    waitReply @2 :WaitReply;
    lookupReply @3 :LookupReply;
    taskDone @4 :TaskDone;
    returnTasks @5 :ReturnTasks;
    submit @6 :Submit;
    get @7 :Get;
    wait @8 :Wait;
    put @9 :Put;
    refs @10 :Refs;
    cancel @11 :Cancel;
    createActor @12 :CreateActor;
    killActor @13 :KillActor;
    lookupActor @14 :LookupActor;
    actorExit @15 :Void;    # the actor in this process called ExitActor
    createActorReply @16 :CreateActorReply;
    join @17 :Join;
    joinReply @18 :JoinReply;
    flush @19 :Flush;
    flushReply @20 :FlushReply;
    registerNode @21 :RegisterNode;
    registerNodeReply @22 :RegisterNodeReply;
    submitReply @23 :SubmitReply;
    # Liveness of a link to a node (a joined driver's, a registered node's):
    # its client sends ping when it has heard nothing for a while, the node
    # answers pong at once; a link silent past its timeout is dead
    # (protocol/heartbeat.h).
    ping @24 :Void;
    pong @25 :Void;
    # A node that stops on purpose tells its clients first, and why: a
    # registered node then stops too instead of waiting for its head.
    goodbye @26 :Text;
    nodeLoad @27 :NodeLoad;
    createPlacementGroup @28 :CreatePlacementGroup;
    removePlacementGroup @29 :RemovePlacementGroup;
    placementGroupQuery @30 :PlacementGroupQuery;
    placementGroupReply @31 :PlacementGroupReply;
    prepareBundles @32 :PrepareBundles;
    prepareBundlesReply @33 :PrepareBundlesReply;
    commitBundles @34 :CommitBundles;
    returnBundles @35 :ReturnBundles;
  }
}
