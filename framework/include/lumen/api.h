// lumen's public API: one include. See each header for its contract.
//   config.h      Init, Shutdown, Config
//   cluster_info.h GetClusterInfo: workers, objects, store usage
//   remote.h      LUMEN_REMOTE, LUMEN_FUNC
//   task.h        Task(f).Remote(...)
//   actor.h       Actor(factory).Remote(...), handle.Task(&C::m).Remote(...), GetActor
//   object_ref.h  ObjectRef, Get, Put, Wait, Cancel
//   object_view.h GetView: zero-copy reads
//   placement_group.h CreatePlacementGroup, SetPlacementGroup
//   gpu_ids.h     GetGpuIds: the GPUs granted to this task or actor
//   errors.h      the typed errors
#pragma once

#include "lumen/actor.h"
#include "lumen/cluster_info.h"
#include "lumen/config.h"
#include "lumen/errors.h"
#include "lumen/gpu_ids.h"
#include "lumen/lineage.h"
#include "lumen/object_ref.h"
#include "lumen/object_view.h"
#include "lumen/placement_group.h"
#include "lumen/remote.h"
#include "lumen/task.h"
#include "lumen/storage/codec.h"
