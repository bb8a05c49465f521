#include "node/placement_groups.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <utility>

#include "lumen/errors.h"
#include "lumen/storage/object_id.h"
#include "node/feasibility.h"
#include "runtime/validation.h"

namespace lumen {
namespace internal {

namespace {

static_assert(static_cast<int>(PlacementStrategy::STRICT_SPREAD) ==
                  static_cast<int>(storage::PlacementStrategy::kStrictSpread),
              "the log's strategies are the API's, in the same order");

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

PlacementGroup PlacementGroupTable::Create(const PlacementGroupCreationOptions& given) {
  if (given.bundles.empty()) throw Error("CreatePlacementGroup: a placement group needs at least one bundle");
  PlacementGroupCreationOptions options = given;
  for (size_t i = 0; i < options.bundles.size(); ++i) {
    auto& bundle = options.bundles[i];
    CheckResources(bundle, "CreatePlacementGroup: bundle " + std::to_string(i));
    std::erase_if(bundle, [](const auto& kv) { return kv.second == 0; });  // as Ray: 0 asks for nothing
    if (bundle.empty())
      throw Error("CreatePlacementGroup: bundle " + std::to_string(i) +
                  " asks for nothing; every bundle must ask for some resource, e.g. {{\"CPU\", 1}}");
  }
  std::string infeasible = Infeasible(options);
  if (!infeasible.empty()) throw InfeasibleError(infeasible);
  PlacementGroup created;
  {
    std::lock_guard lock(mu_);
    if (!options.name.empty())
      for (const auto& [id, g] : groups_)
        if (g.group.GetName() == options.name && g.state != PlacementGroupState::REMOVED)
          throw Error("CreatePlacementGroup: a placement group named '" + options.name + "' already exists");
    std::string id = TaskID::Random().Hex();
    Group& group = groups_[id] = Group{PlacementGroup(id, options), PlacementGroupState::PENDING, NowMs()};
    order_.push_back(id);
    Record(id, group);
    created = group.group;
  }
  Changed();  // the node manager places it
  return created;
}

void PlacementGroupTable::SetOnChange(std::function<void()> on_change) {
  std::lock_guard lock(mu_);
  on_change_ = std::move(on_change);
}

void PlacementGroupTable::Changed() {
  std::function<void()> tell;
  {
    std::lock_guard lock(mu_);
    tell = on_change_;
  }
  if (tell) tell();
}

void PlacementGroupTable::Record(const std::string& id, const Group& g) {
  if (!log_) return;
  storage::PlacementGroupRecord record;
  if (!TaskID::FromHex(id, &record.id)) return;  // ids are made above: never
  record.name = g.group.GetName();
  record.bundles = g.group.GetBundles();
  record.strategy = static_cast<storage::PlacementStrategy>(g.group.GetStrategy());
  record.removed = g.state == PlacementGroupState::REMOVED;
  record.created_ms = g.created_ms;
  log_->Append(record);  // queued: durable once the log flushes, as every record
}

void PlacementGroupTable::Restore() {
  if (!log_) return;
  std::unique_lock lock(mu_);
  for (const storage::PlacementGroupRecord& record : log_->AllPlacementGroups()) {
    std::string id = record.id.Hex();
    if (groups_.count(id)) continue;
    PlacementGroupCreationOptions options{record.name, record.bundles,
                                          static_cast<PlacementStrategy>(record.strategy)};
    Group g{PlacementGroup(id, options), PlacementGroupState::REMOVED, record.created_ms};
    if (!record.removed) {
      bool name_taken = !record.name.empty() && std::any_of(groups_.begin(), groups_.end(), [&](const auto& kv) {
        return kv.second.state != PlacementGroupState::REMOVED && kv.second.group.GetName() == record.name;
      });
      if (name_taken) {
        std::fprintf(stderr, "lumen: placement group %s is not restored: another group of the log is named '%s'\n",
                     id.c_str(), record.name.c_str());
      } else {
        g.state = PlacementGroupState::PENDING;
        std::string infeasible = Infeasible(options);
        if (!infeasible.empty())
          std::fprintf(stderr, "lumen: placement group %s of the log stays pending: %s\n", id.c_str(),
                       infeasible.c_str());
        order_.push_back(id);
      }
    }
    groups_.emplace(id, std::move(g));
  }
  lock.unlock();
  Changed();
}

// Every bundle is on the one node: the group can never be placed if their
// sum exceeds the node's totals, or if STRICT_SPREAD wants more nodes.
std::string PlacementGroupTable::Infeasible(const PlacementGroupCreationOptions& options) const {
  if (can_grow_) return "";
  std::string what = options.name.empty() ? "a placement group" : "placement group '" + options.name + "'";
  if (options.strategy == PlacementStrategy::STRICT_SPREAD && options.bundles.size() > 1)
    return Refusal(what, std::to_string(options.bundles.size()) + " bundles on as many nodes (STRICT_SPREAD)", "1 node");
  std::map<std::string, double> need;
  for (const auto& bundle : options.bundles)
    for (const auto& [name, amount] : bundle) need[name] += amount;
  return InfeasibleDemand(what, need, node_);
}

void PlacementGroupTable::Remove(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    auto it = groups_.find(id);
    if (it == groups_.end() || it->second.state == PlacementGroupState::REMOVED) return;
    it->second.state = PlacementGroupState::REMOVED;
    Record(id, it->second);
    std::erase(order_, id);
    removed_.push_back(id);
    changed_.notify_all();
  }
  Changed();  // the node manager gives its bundles back, and what waited may fit now
}

std::vector<PlacementGroup> PlacementGroupTable::Pending() {
  std::lock_guard lock(mu_);
  std::vector<PlacementGroup> pending;
  for (const std::string& id : order_)
    if (auto it = groups_.find(id); it != groups_.end() && it->second.state == PlacementGroupState::PENDING)
      pending.push_back(it->second.group);
  return pending;
}

bool PlacementGroupTable::MarkCreated(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(id);
  if (it == groups_.end() || it->second.state == PlacementGroupState::REMOVED) return false;
  it->second.state = PlacementGroupState::CREATED;
  changed_.notify_all();
  return true;
}

std::vector<std::string> PlacementGroupTable::TakeRemoved() {
  std::lock_guard lock(mu_);
  return std::exchange(removed_, {});
}

void PlacementGroupTable::MarkPending(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(id);
  if (it != groups_.end() && it->second.state == PlacementGroupState::CREATED)
    it->second.state = PlacementGroupState::PENDING;
}

PlacementGroupState PlacementGroupTable::State(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(id);
  return it == groups_.end() ? PlacementGroupState::REMOVED : it->second.state;
}

bool PlacementGroupTable::Wait(const std::string& id, int timeout_seconds) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, std::chrono::seconds(std::max(0, timeout_seconds)), [&] {
    auto it = groups_.find(id);
    return it == groups_.end() || it->second.state != PlacementGroupState::PENDING;
  }) && groups_.count(id) && groups_[id].state == PlacementGroupState::CREATED;
}

std::optional<PlacementGroup> PlacementGroupTable::ByName(const std::string& name) {
  std::lock_guard lock(mu_);
  for (const auto& [id, g] : groups_)
    if (g.group.GetName() == name && g.state != PlacementGroupState::REMOVED) return g.group;
  return std::nullopt;
}

std::optional<PlacementGroup> PlacementGroupTable::ById(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(id);
  if (it == groups_.end()) return std::nullopt;
  return it->second.group;
}

std::vector<PlacementGroup> PlacementGroupTable::All() {
  std::lock_guard lock(mu_);
  std::vector<PlacementGroup> all;
  for (const auto& [id, g] : groups_) all.push_back(g.group);
  return all;
}

std::string PlacementGroupTable::CheckRequest(const std::string& id, int index,
                                              const std::map<std::string, double>& resources) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(id);
  if (it == groups_.end()) return "placement group " + id + " does not exist";
  if (it->second.state == PlacementGroupState::REMOVED) return "placement group " + id + " was removed";
  const auto& bundles = it->second.group.GetBundles();
  if (index < -1 || index >= static_cast<int>(bundles.size()))
    return "bundle index " + std::to_string(index) + " is out of range: the group has " +
           std::to_string(bundles.size()) + " bundles (-1: any of them)";
  // Why bundle i cannot hold the request, or "".
  auto short_of = [&](size_t i) -> std::string {
    for (const auto& [name, amount] : resources) {
      auto have = bundles[i].find(name);
      double in_bundle = have == bundles[i].end() ? 0 : have->second;
      if (amount > in_bundle + 1e-9) {
        std::ostringstream os;
        os << "asks for " << amount << " " << name << " but bundle " << i << " of placement group " << id << " holds "
           << in_bundle;
        return os.str();
      }
    }
    return "";
  };
  if (index >= 0) return short_of(static_cast<size_t>(index));
  std::string why;
  for (size_t i = 0; i < bundles.size(); ++i)
    if ((why = short_of(i)).empty()) return "";
  return why + " (nor does any other of its bundles)";
}

}  // namespace internal

}  // namespace lumen
