// Placement groups for the drivers that joined this node's cluster: their
// requests (frames.capnp) answered from the cluster's table, with the same
// outcomes an embedded driver gets from it in process. What the table
// throws travels back as the reply's error, of the kind its type says, so
// the driver throws the same type (lumen::Error, InfeasibleError).
// REQUIRES mu_; the table has its own lock, taken after the node's (as
// CheckRequest is when a task names a group).
#include <optional>

#include "lumen/errors.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"
#include "node/placement_groups.h"

namespace lumen::internal {

namespace {

PlacementGroupInfo InfoOf(PlacementGroupTable& table, const PlacementGroup& group) {
  PlacementGroupInfo info;
  (void)TaskID::FromHex(group.GetID(), &info.id);  // the table's ids are TaskIDs in hex
  info.options = {group.GetName(), group.GetBundles(), group.GetStrategy()};
  info.state = table.State(group.GetID());
  return info;
}

void AnswerFrom(PlacementGroupTable& table, Message& message, PlacementGroupReplyMsg* reply) {
  if (auto* create = std::get_if<CreatePlacementGroupMsg>(&message)) {
    reply->groups.push_back(InfoOf(table, table.Create(create->options)));
  } else if (auto* remove = std::get_if<RemovePlacementGroupMsg>(&message)) {
    table.Remove(remove->id.Hex());
  } else if (auto* query = std::get_if<PlacementGroupQueryMsg>(&message)) {
    std::vector<PlacementGroup> found;
    if (query->by == PlacementGroupQueryMsg::kAll) {
      found = table.All();
    } else if (auto one = query->by == PlacementGroupQueryMsg::kId ? table.ById(query->id.Hex())
                                                                    : table.ByName(query->name)) {
      found.push_back(*one);
    }
    for (const PlacementGroup& g : found) reply->groups.push_back(InfoOf(table, g));
  }
}

// The request number of a placement-group request; none for other messages.
std::optional<uint64_t> PlacementRequest(const Message& message) {
  if (auto* m = std::get_if<CreatePlacementGroupMsg>(&message)) return m->request;
  if (auto* m = std::get_if<RemovePlacementGroupMsg>(&message)) return m->request;
  if (auto* m = std::get_if<PlacementGroupQueryMsg>(&message)) return m->request;
  return std::nullopt;
}

}  // namespace

bool NodeManager::AnswerPlacementGroups(Worker& client, Message& message) {
  std::optional<uint64_t> request = PlacementRequest(message);
  if (!request) return false;
  if (!client.driver) throw ProtocolError("a placement group request came from worker " + std::to_string(client.number));
  PlacementGroupReplyMsg reply;
  reply.request = *request;
  if (!options_.placement_groups) {
    reply.error = "placement groups: node '" + options_.node_name +
                  "' keeps no placement groups; its cluster's head does (join the head's address)";
  } else {
    try {
      AnswerFrom(*options_.placement_groups, message, &reply);
    } catch (const InfeasibleError& e) {
      reply = {reply.request, e.what(), ErrorKind::kInfeasible, {}};
    } catch (const std::exception& e) {  // lumen::Error: a bad call (a duplicate name, an empty bundle...)
      reply = {reply.request, e.what(), ErrorKind::kBadCall, {}};
    }
  }
  Reply(client, std::move(reply));
  return true;
}

}  // namespace lumen::internal
