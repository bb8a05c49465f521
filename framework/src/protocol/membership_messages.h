// The messages of joining a cluster (a driver's Join, a node's
// RegisterNode, Flush) and their replies, and of a node's share of the
// placement groups (its bundles): encoders and decoders, kept apart
// from the per-task messages of messages.cc, which dispatches to these.
// Private to protocol/.
#pragma once

#include "lumen/protocol/frames.capnp.h"
#include "protocol/messages.h"

namespace lumen::internal::membership {

void Write(frames::Frame::Builder f, const JoinMsg& m);
JoinMsg Read(frames::Join::Reader r);
void Write(frames::Frame::Builder f, const JoinReplyMsg& m);
JoinReplyMsg Read(frames::JoinReply::Reader r);
void Write(frames::Frame::Builder f, const FlushMsg& m);
FlushMsg Read(frames::Flush::Reader r);
void Write(frames::Frame::Builder f, const FlushReplyMsg& m);
FlushReplyMsg Read(frames::FlushReply::Reader r);
void Write(frames::Frame::Builder f, const RegisterNodeMsg& m);
RegisterNodeMsg Read(frames::RegisterNode::Reader r);
void Write(frames::Frame::Builder f, const RegisterNodeReplyMsg& m);
RegisterNodeReplyMsg Read(frames::RegisterNodeReply::Reader r);
void Write(frames::Frame::Builder f, const NodeLoadMsg& m);
NodeLoadMsg Read(frames::NodeLoad::Reader r);
void Write(frames::Frame::Builder f, const PrepareBundlesMsg& m);
PrepareBundlesMsg Read(frames::PrepareBundles::Reader r);
void Write(frames::Frame::Builder f, const PrepareBundlesReplyMsg& m);
PrepareBundlesReplyMsg Read(frames::PrepareBundlesReply::Reader r);
void Write(frames::Frame::Builder f, const CommitBundlesMsg& m);
CommitBundlesMsg Read(frames::CommitBundles::Reader r);
void Write(frames::Frame::Builder f, const ReturnBundlesMsg& m);
ReturnBundlesMsg Read(frames::ReturnBundles::Reader r);

}  // namespace lumen::internal::membership
