#include "abandon.h"

#include <iterator>
#include <map>
#include <mutex>

namespace chaos {
namespace {

std::mutex g_mu;
uint64_t g_next = 0;                                 // guarded by g_mu
std::map<uint64_t, std::function<void()>> g_actions;  // guarded by g_mu

}  // namespace

AbandonAction::AbandonAction(std::function<void()> action) {
  std::lock_guard lock(g_mu);
  id_ = g_next++;
  g_actions[id_] = std::move(action);
}

AbandonAction::~AbandonAction() {
  std::lock_guard lock(g_mu);
  g_actions.erase(id_);
}

void AbandonRun() {
  std::lock_guard lock(g_mu);
  for (auto it = g_actions.rbegin(); it != g_actions.rend(); ++it) it->second();
}

}  // namespace chaos
