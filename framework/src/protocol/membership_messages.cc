#include "protocol/membership_messages.h"

#include "protocol/message_fields.h"

namespace lumen::internal::membership {

using namespace fields;

void Write(frames::Frame::Builder f, const JoinMsg& m) {
  auto b = f.initJoin();
  b.setRequest(m.request);
  b.setSecret(m.secret);
  b.setBinary(m.binary);
  auto argv = b.initArgv(static_cast<unsigned>(m.argv.size()));
  for (size_t i = 0; i < m.argv.size(); ++i) argv.set(static_cast<unsigned>(i), m.argv[i]);
  b.setNs(m.ns);
  b.setDetachedByDefault(m.detached_by_default);
}

JoinMsg Read(frames::Join::Reader r) {
  JoinMsg m{r.getRequest(), ReadText(r.getSecret()), ReadText(r.getBinary()), {}, ReadText(r.getNs()),
            r.getDetachedByDefault()};
  for (auto arg : r.getArgv()) m.argv.push_back(ReadText(arg));
  return m;
}

void Write(frames::Frame::Builder f, const JoinReplyMsg& m) {
  auto b = f.initJoinReply();
  b.setRequest(m.request);
  b.setError(m.error);
  b.setNs(m.ns);
  b.setJob(m.job);
  b.setNodeName(m.node_name);
  WriteResources(b.initResources(static_cast<unsigned>(m.resources.size())), m.resources);
}

JoinReplyMsg Read(frames::JoinReply::Reader r) {
  return {r.getRequest(),          ReadText(r.getError()), ReadText(r.getNs()), r.getJob(), ReadText(r.getNodeName()),
          ReadResources(r.getResources())};
}

void Write(frames::Frame::Builder f, const FlushMsg& m) { f.initFlush().setRequest(m.request); }

FlushMsg Read(frames::Flush::Reader r) { return {r.getRequest()}; }

void Write(frames::Frame::Builder f, const FlushReplyMsg& m) {
  auto b = f.initFlushReply();
  b.setRequest(m.request);
  b.setError(m.error);
}

FlushReplyMsg Read(frames::FlushReply::Reader r) { return {r.getRequest(), ReadText(r.getError())}; }

void Write(frames::Frame::Builder f, const RegisterNodeMsg& m) {
  auto b = f.initRegisterNode();
  b.setRequest(m.request);
  b.setSecret(m.secret);
  b.setName(m.name);
  b.setNodeSocket(m.node_socket);
  b.setStoreSocket(m.store_socket);
  WriteResources(b.initResources(static_cast<unsigned>(m.resources.size())), m.resources);
  b.setPid(m.pid);
  b.setInstance(m.instance);
}

RegisterNodeMsg Read(frames::RegisterNode::Reader r) {
  return {r.getRequest(),           ReadText(r.getSecret()),      ReadText(r.getName()),
          ReadText(r.getNodeSocket()), ReadText(r.getStoreSocket()), ReadResources(r.getResources()),
          r.getPid(),               ReadText(r.getInstance())};
}

void Write(frames::Frame::Builder f, const RegisterNodeReplyMsg& m) {
  auto b = f.initRegisterNodeReply();
  b.setRequest(m.request);
  b.setError(m.error);
}

RegisterNodeReplyMsg Read(frames::RegisterNodeReply::Reader r) { return {r.getRequest(), ReadText(r.getError())}; }

void Write(frames::Frame::Builder f, const NodeLoadMsg& m) {
  auto b = f.initNodeLoad();
  b.setWorkers(m.workers);
  b.setRunningTasks(m.running_tasks);
}

NodeLoadMsg Read(frames::NodeLoad::Reader r) { return {r.getWorkers(), r.getRunningTasks()}; }

namespace {
void WriteIndices(capnp::List<int32_t>::Builder list, const std::vector<int32_t>& indices) {
  for (size_t i = 0; i < indices.size(); ++i) list.set(static_cast<unsigned>(i), indices[i]);
}
std::vector<int32_t> ReadIndices(capnp::List<int32_t>::Reader list) {
  std::vector<int32_t> indices;
  for (int32_t i : list) {
    if (i < 0) Malformed("a negative bundle index");
    indices.push_back(i);
  }
  return indices;
}
}  // namespace

void Write(frames::Frame::Builder f, const PrepareBundlesMsg& m) {
  auto b = f.initPrepareBundles();
  b.setRequest(m.request);
  b.setGroup(m.group);
  auto bundles = b.initBundles(static_cast<unsigned>(m.bundles.size()));
  for (size_t i = 0; i < m.bundles.size(); ++i) {
    bundles[i].setIndex(m.bundles[i].first);
    WriteResources(bundles[i].initResources(static_cast<unsigned>(m.bundles[i].second.size())), m.bundles[i].second);
  }
}

PrepareBundlesMsg Read(frames::PrepareBundles::Reader r) {
  PrepareBundlesMsg m{r.getRequest(), ReadText(r.getGroup()), {}};
  for (auto bundle : r.getBundles()) {
    if (bundle.getIndex() < 0) Malformed("a negative bundle index");
    m.bundles.emplace_back(bundle.getIndex(), ReadResources(bundle.getResources()));
  }
  return m;
}

void Write(frames::Frame::Builder f, const PrepareBundlesReplyMsg& m) {
  auto b = f.initPrepareBundlesReply();
  b.setRequest(m.request);
  b.setError(m.error);
}

PrepareBundlesReplyMsg Read(frames::PrepareBundlesReply::Reader r) { return {r.getRequest(), ReadText(r.getError())}; }

void Write(frames::Frame::Builder f, const CommitBundlesMsg& m) {
  auto b = f.initCommitBundles();
  b.setGroup(m.group);
  WriteIndices(b.initIndices(static_cast<unsigned>(m.indices.size())), m.indices);
}

CommitBundlesMsg Read(frames::CommitBundles::Reader r) { return {ReadText(r.getGroup()), ReadIndices(r.getIndices())}; }

void Write(frames::Frame::Builder f, const ReturnBundlesMsg& m) {
  auto b = f.initReturnBundles();
  b.setGroup(m.group);
  WriteIndices(b.initIndices(static_cast<unsigned>(m.indices.size())), m.indices);
  b.setRemoved(m.removed);
}

ReturnBundlesMsg Read(frames::ReturnBundles::Reader r) {
  return {ReadText(r.getGroup()), ReadIndices(r.getIndices()), r.getRemoved()};
}

}  // namespace lumen::internal::membership
