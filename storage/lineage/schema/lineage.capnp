# On-disk records of the lineage log (storage/lineage). Each value of the
# tasks, objects and actors families is one flat Cap'n Proto message whose
# root is one of these structs; the key is the record's binary id. (Fresh
# plain tasks and objects are packed in a compact form instead:
# src/compact_records.h, src/packs.h.) Names carry a `Lineage` prefix because
# storage/codec/schema/object.capnp shares the lumen::schema namespace.
#
# Compatibility: logs outlive binaries (`lumen start --head --recover`), so
# only ever add fields with new ordinals; never renumber or retype one.
@0xc8464d11e64064e6;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("lumen::schema");

struct LineageArg {
  union {
    value @0 :Data;   # inline: the encoded object bytes
    ref @1 :Data;     # by reference: a 20-byte ObjectID
  }
}

struct LineageResource {
  name @0 :Text;
  amount @1 :Float64;
}

struct LineageTask {
  id @0 :Data;                  # 16-byte TaskID
  function @1 :Text;
  args @2 :List(LineageArg);
  returns @3 :List(Data);       # 20-byte ObjectIDs
  name @4 :Text;
  maxRetries @5 :Int32;
  retryExceptions @6 :Bool;
  resources @7 :List(LineageResource);
  owner @8 :Text;
  attempt @9 :UInt32;
  actor @10 :Data;              # 16-byte ActorID, all zero for a plain task
  actorCreation @11 :Bool;
  submittedMs @12 :UInt64;
  recordedMs @13 :UInt64;       # when the log wrote it (unix ms): retention's age; 0 in older logs
  actorCallIndex @14 :UInt64;   # a call its actor ran, for replay: its place among them (1, 2, ...); 0 none
}

struct LineageObject {
  id @0 :Data;                  # 20-byte ObjectID
  createdBy @1 :Data;           # 16-byte TaskID
  isPut @2 :Bool;
  owner @3 :Text;
  size @4 :UInt64;
  node @5 :Text;
  recordedMs @6 :UInt64;        # as in LineageTask
}

enum LineageActorState {
  pending @0;
  alive @1;
  restarting @2;
  dead @3;
}

struct LineageActor {
  id @0 :Data;                  # 16-byte ActorID
  creationTask @1 :Data;        # 16-byte TaskID
  className @2 :Text;
  name @3 :Text;
  ns @4 :Text;
  state @5 :LineageActorState;
  restarts @6 :UInt32;
  deathCause @7 :Text;
  recordedMs @8 :UInt64;        # as in LineageTask
  # How to create it again (restore at reopen); absent in older logs.
  detached @9 :Bool;
  maxRestarts @10 :Int32;
  maxTaskRetries @11 :Int32;
  maxConcurrency @12 :Int32 = 1;
  replayOnRestart @13 :Bool;
  checkpointMethod @14 :Text;   # registered names; "" = no checkpoints
  restoreFunction @15 :Text;
  checkpointEvery @16 :UInt32;
  checkpoint @17 :Data;         # 20-byte ObjectID of its latest state; empty = none yet
  checkpointCalls @18 :UInt64;  # the calls that state covers (actorCallIndex 1..this)
  binary @19 :Text;             # what its process executes (its creator's job's binary); empty: older logs
  argv @20 :List(Text);         # and its command line
}

# A placement group (restored when a cluster starts again from its log).
# Written again when it is removed; the latest record of an id stands.
enum LineagePlacementStrategy {
  pack @0;
  spread @1;
  strictPack @2;
  strictSpread @3;
}

struct LineageBundle {
  resources @0 :List(LineageResource);
}

struct LineagePlacementGroup {
  id @0 :Data;                  # 16 bytes; its hex is the group's id
  name @1 :Text;                # "" = anonymous
  bundles @2 :List(LineageBundle);
  strategy @3 :LineagePlacementStrategy;
  removed @4 :Bool;
  createdMs @5 :UInt64;         # unix ms: restored groups are placed in this order
  recordedMs @6 :UInt64;        # as in LineageTask
}
