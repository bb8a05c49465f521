#include "runtime/current_core.h"

#include <atomic>
#include <cstdlib>

#include "lumen/errors.h"

namespace lumen::internal {
namespace {
std::shared_ptr<Core> g_core_owner;
std::atomic<Core*> g_core{nullptr};
thread_local NestedRefCollector* t_collector = nullptr;
}  // namespace

void SetCurrentCore(std::shared_ptr<Core> core) {
  g_core.store(core.get());
  g_core_owner = std::move(core);
}

bool HasCurrentCore() { return g_core.load(std::memory_order_acquire) != nullptr; }

Core& CurrentCore() {
  Core* core = g_core.load(std::memory_order_acquire);
  if (!core) throw Error("lumen is not running: call lumen::Init() first (and not after lumen::Shutdown())");
  return *core;
}

void AddRef(const ObjectID& id) {
  if (Core* core = g_core.load(std::memory_order_acquire)) core->AddRef(id);
}

void RemoveRef(const ObjectID& id) {
  if (Core* core = g_core.load(std::memory_order_acquire)) core->RemoveRef(id);
}

NestedRefCollector::NestedRefCollector() : outer_(t_collector) { t_collector = this; }
NestedRefCollector::~NestedRefCollector() { t_collector = outer_; }
void NestedRefCollector::Note(const ObjectID& id) {
  if (t_collector) t_collector->refs_.push_back(id);
}

void ThrowDecodeError(const std::string& what, const std::exception& e) {
  throw Error(what + " does not hold the type asked for: " + e.what());
}

TaskArg ValueArgOf(const codec::Encoded& encoded, std::vector<ObjectID> nested_refs) {
  TaskArg arg;
  if (encoded.size() > kMaxInlineBytes) {
    arg.by_ref = true;
    arg.ref = CurrentCore().Put(encoded, std::move(nested_refs));
    arg.transfer_ref = true;
    return arg;
  }
  auto bytes = std::make_shared<Bytes>(encoded.size());
  encoded.WriteTo(bytes->data());
  arg.value = {std::move(bytes), std::move(nested_refs)};
  return arg;
}

bool IsWorkerProcess() { return std::getenv("LUMEN_WORKER_SOCKET") != nullptr; }

std::string WorkerNamespace() {
  const char* ns = std::getenv("LUMEN_WORKER_NAMESPACE");
  return ns ? ns : "";
}

}  // namespace lumen::internal
