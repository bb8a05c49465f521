// The placement-group messages a joined driver and the head exchange
// (Create, Remove, a query, and the one reply to each): encoders and
// decoders, kept apart from the per-task messages of messages.cc, which
// dispatches to these. Private to protocol/.
#pragma once

#include "lumen/protocol/frames.capnp.h"
#include "protocol/messages.h"

namespace lumen::internal::placement {

void Write(frames::Frame::Builder f, const CreatePlacementGroupMsg& m);
CreatePlacementGroupMsg Read(frames::CreatePlacementGroup::Reader r);
void Write(frames::Frame::Builder f, const RemovePlacementGroupMsg& m);
RemovePlacementGroupMsg Read(frames::RemovePlacementGroup::Reader r);
void Write(frames::Frame::Builder f, const PlacementGroupQueryMsg& m);
PlacementGroupQueryMsg Read(frames::PlacementGroupQuery::Reader r);
void Write(frames::Frame::Builder f, const PlacementGroupReplyMsg& m);
PlacementGroupReplyMsg Read(frames::PlacementGroupReply::Reader r);

}  // namespace lumen::internal::placement
