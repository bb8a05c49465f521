#include "driver/placement_group_service.h"

#include <chrono>
#include <thread>

#include "lumen/errors.h"
#include "driver/joined_cluster.h"
#include "node/placement_groups.h"
#include "protocol/error_table.h"

namespace lumen::internal {
namespace {

class Embedded : public PlacementGroupService {
 public:
  explicit Embedded(PlacementGroupTable& table) : table_(table) {}
  PlacementGroup Create(const PlacementGroupCreationOptions& options) override { return table_.Create(options); }
  void Remove(const std::string& id) override { table_.Remove(id); }
  PlacementGroupState State(const std::string& id) override { return table_.State(id); }
  bool Wait(const std::string& id, int timeout_seconds) override { return table_.Wait(id, timeout_seconds); }
  std::optional<PlacementGroup> ByName(const std::string& name) override { return table_.ByName(name); }
  std::optional<PlacementGroup> ById(const std::string& id) override { return table_.ById(id); }
  std::vector<PlacementGroup> All() override { return table_.All(); }

 private:
  PlacementGroupTable& table_;
};

// How often a joined driver's Wait asks for the group's state: at once,
// then after 1 ms, doubling up to every 20 ms (a group is placed within a
// few ms when it fits; a round trip to the head costs a fraction of one).
constexpr auto kFirstPoll = std::chrono::milliseconds(1);
constexpr auto kWaitPoll = std::chrono::milliseconds(20);

class Joined : public PlacementGroupService {
 public:
  explicit Joined(JoinedCluster& cluster) : cluster_(cluster) {}

  PlacementGroup Create(const PlacementGroupCreationOptions& options) override {
    PlacementGroupReplyMsg reply = Ask(CreatePlacementGroupMsg{0, options}, "CreatePlacementGroup");
    if (reply.groups.size() != 1)
      throw Error("CreatePlacementGroup: the head answered with " + std::to_string(reply.groups.size()) +
                  " groups, not the one it made");
    return GroupOf(reply.groups[0]);
  }

  void Remove(const std::string& id) override {
    if (auto tid = IdOf(id)) Ask(RemovePlacementGroupMsg{0, *tid}, "RemovePlacementGroup");
  }

  PlacementGroupState State(const std::string& id) override {
    auto found = Find(id);
    return found ? found->state : PlacementGroupState::REMOVED;
  }

  bool Wait(const std::string& id, int timeout_seconds) override {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(0, timeout_seconds));
    std::chrono::steady_clock::duration pause = kFirstPoll;
    for (;;) {
      PlacementGroupState state = State(id);
      if (state != PlacementGroupState::PENDING) return state == PlacementGroupState::CREATED;
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      std::this_thread::sleep_for(std::min(pause, deadline - now));
      pause = std::min<std::chrono::steady_clock::duration>(pause * 2, kWaitPoll);
    }
  }

  std::optional<PlacementGroup> ByName(const std::string& name) override {
    PlacementGroupQueryMsg query{0, PlacementGroupQueryMsg::kName, TaskID(), name};
    PlacementGroupReplyMsg reply = Ask(std::move(query), "GetPlacementGroup");
    if (reply.groups.empty()) return std::nullopt;
    return GroupOf(reply.groups[0]);
  }

  std::optional<PlacementGroup> ById(const std::string& id) override {
    auto found = Find(id);
    if (!found) return std::nullopt;
    return GroupOf(*found);
  }

  std::vector<PlacementGroup> All() override {
    PlacementGroupReplyMsg reply = Ask(PlacementGroupQueryMsg{0, PlacementGroupQueryMsg::kAll, TaskID(), ""},
                                       "GetAllPlacementGroups");
    std::vector<PlacementGroup> all;
    for (const PlacementGroupInfo& info : reply.groups) all.push_back(GroupOf(info));
    return all;
  }

 private:
  // The table names groups by their ids' lowercase hex: any other string
  // names no group, here as in an embedded cluster.
  static std::optional<TaskID> IdOf(const std::string& id) {
    TaskID tid;
    if (!TaskID::FromHex(id, &tid) || tid.Hex() != id) return std::nullopt;
    return tid;
  }

  static PlacementGroup GroupOf(const PlacementGroupInfo& info) { return PlacementGroup(info.id.Hex(), info.options); }

  std::optional<PlacementGroupInfo> Find(const std::string& id) {
    auto tid = IdOf(id);
    if (!tid) return std::nullopt;
    PlacementGroupReplyMsg reply = Ask(PlacementGroupQueryMsg{0, PlacementGroupQueryMsg::kId, *tid, ""}, "placement group");
    if (reply.groups.empty()) return std::nullopt;
    return std::move(reply.groups[0]);
  }

  // One request and its reply; the head's refusal thrown as the table threw it.
  template <class Request>
  PlacementGroupReplyMsg Ask(Request request, const char* what) {
    uint64_t number = request.request = cluster_.next_request++;
    Message sent = std::move(request);
    cluster_.link->Send({&sent, 1});
    Message answer = cluster_.link->AwaitReply(number);
    auto* reply = std::get_if<PlacementGroupReplyMsg>(&answer);
    if (!reply) throw Error(std::string(what) + ": the head answered with something else");
    if (!reply->error.empty()) ThrowObjectError({reply->kind, reply->error, ""});
    return std::move(*reply);
  }

  JoinedCluster& cluster_;
};

}  // namespace

std::unique_ptr<PlacementGroupService> EmbeddedPlacementGroups(PlacementGroupTable& table) {
  return std::make_unique<Embedded>(table);
}

std::unique_ptr<PlacementGroupService> JoinedPlacementGroups(JoinedCluster& cluster) {
  return std::make_unique<Joined>(cluster);
}

}  // namespace lumen::internal
