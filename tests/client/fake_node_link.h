// What the client core tests share: a NodeLink that records every Send (one
// batch per call, in order) and answers requests, an object store served in
// process, and payload helpers.
#pragma once

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "client/client_core.h"
#include "client/node_link.h"
#include "lumen/storage/codec.h"
#include "lumen/storage/object_store.h"

namespace lumen::internal::testing {

// The request number a client's request carries; 0 for other messages.
inline uint64_t RequestOf(const Message& message) {
  return std::visit(
      [](const auto& m) -> uint64_t {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, GetMsg> || std::is_same_v<T, WaitMsg> || std::is_same_v<T, SubmitMsg> ||
                      std::is_same_v<T, CreateActorMsg> || std::is_same_v<T, LookupActorMsg>)
          return m.request;
        else
          return 0;
      },
      message);
}

class FakeNodeLink : public NodeLink {
 public:
  void Send(std::span<Message> messages) override { batches.emplace_back(messages.begin(), messages.end()); }

  // Answers with replies[request] if set, else with respond(the request).
  // The request must have been sent before it is awaited.
  Message AwaitReply(uint64_t request) override {
    awaited.push_back(request);
    const Message* sent = nullptr;
    for (const auto& batch : batches)
      for (const Message& m : batch)
        if (RequestOf(m) == request) sent = &m;
    EXPECT_NE(sent, nullptr) << "awaited a reply to request " << request << ", which was never sent";
    if (auto it = replies.find(request); it != replies.end()) return it->second;
    if (sent && respond) return respond(*sent);
    ADD_FAILURE() << "no reply set for request " << request;
    return ActorExitMsg{};  // the wrong type: the core's std::get throws
  }

  // Every message sent, in order, batches flattened.
  std::vector<Message> Sent() const {
    std::vector<Message> all;
    for (const auto& batch : batches) all.insert(all.end(), batch.begin(), batch.end());
    return all;
  }
  // The sent messages of type T, in order.
  template <class T>
  std::vector<T> SentOf() const {
    std::vector<T> out;
    for (const Message& m : Sent())
      if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
    return out;
  }

  std::vector<std::vector<Message>> batches;  // one per Send call
  std::vector<uint64_t> awaited;
  std::map<uint64_t, Message> replies;
  std::function<Message(const Message& request)> respond;
};

// A StoreServer in this process, in its own socket and spill dir.
class InProcessStore {
 public:
  explicit InProcessStore(size_t capacity_bytes = 4u << 20) {
    static int counter = 0;
    const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(counter++);
    config_.label = "lumen-client-test-" + tag;
    config_.socket_path = "/tmp/lumen-client-test-" + tag + ".sock";
    config_.capacity_bytes = capacity_bytes;
    config_.spill_dir = (std::filesystem::temp_directory_path() / ("lumen-client-test-spill-" + tag)).string();
    Status s = storage::StoreServer::Start(config_, &server_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (server_) store_ = server_->LocalClient();
  }
  ~InProcessStore() {
    store_.reset();
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(config_.spill_dir, ignored);
  }
  const std::shared_ptr<storage::ObjectStore>& store() const { return store_; }

 private:
  storage::StoreConfig config_;
  std::unique_ptr<storage::StoreServer> server_;
  std::shared_ptr<storage::ObjectStore> store_;
};

// A core of each kind over one fake link and one store. Members in this
// order so the cores go before the link and the store.
class ClientCoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(store_.store(), nullptr); }
  ClientCore& Batched() {
    if (!batched_) batched_ = std::make_unique<ClientCore>(link_, store_.store(), ClientCore::Refs::kBatched);
    return *batched_;
  }
  ClientCore& AtOnce() {
    if (!at_once_) at_once_ = std::make_unique<ClientCore>(link_, store_.store(), ClientCore::Refs::kAtOnce);
    return *at_once_;
  }

  InProcessStore store_;
  FakeNodeLink link_;
  std::unique_ptr<ClientCore> batched_, at_once_;
};

inline ObjectID NewObject() { return ObjectID::ForPut(); }

inline RefsMsg Refs(std::vector<ObjectID> added, std::vector<ObjectID> removed) {
  return RefsMsg{std::move(added), std::move(removed)};
}

// Whether `m` is a RefsMsg with exactly these additions and removals.
inline ::testing::AssertionResult IsRefs(const Message& m, const RefsMsg& want) {
  const auto* refs = std::get_if<RefsMsg>(&m);
  if (!refs) return ::testing::AssertionFailure() << "not a RefsMsg (variant index " << m.index() << ")";
  if (refs->added != want.added || refs->removed != want.removed)
    return ::testing::AssertionFailure() << "RefsMsg with " << refs->added.size() << " added, "
                                         << refs->removed.size() << " removed, not the expected ones";
  return ::testing::AssertionSuccess();
}

template <class T>
const T& As(const Message& m) {
  static const T kNone{};
  const T* t = std::get_if<T>(&m);
  EXPECT_NE(t, nullptr) << "message is variant index " << m.index();
  return t ? *t : kNone;
}

// `value` encoded, as an inline payload.
inline Payload InlinePayload(const std::string& value) {
  codec::Encoded encoded = codec::Encode(value);
  auto bytes = std::make_shared<Bytes>(encoded.size());
  encoded.WriteTo(bytes->data());
  Payload p;
  p.kind = Payload::kInline;
  p.size = encoded.size();
  p.bytes = std::move(bytes);
  return p;
}

inline Payload ErrorPayload(ErrorKind kind, const std::string& message) {
  Payload p;
  p.kind = Payload::kError;
  p.error = {kind, message, ""};
  return p;
}

inline std::string DecodeString(const ObjectData& data) { return codec::Decode<std::string>(data.data, data.size); }

}  // namespace lumen::internal::testing
