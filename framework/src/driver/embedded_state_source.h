// What the dashboard of an embedded cluster reads: the node's snapshot, the
// store's figures, and objects' lineage from the log.
#pragma once

#include <string>

#include "head/cluster_state.h"

namespace lumen::storage {
class LineageLog;
class StoreServer;
}  // namespace lumen::storage

namespace lumen::internal {

class NodeManager;

class EmbeddedStateSource : public head::StateSource {
 public:
  // Each outlives the source; `lineage` may be null (lineage off).
  EmbeddedStateSource(std::string session, NodeManager& node, storage::StoreServer& store,
                      storage::LineageLog* lineage)
      : session_(std::move(session)), node_(node), store_(store), lineage_(lineage) {}

  head::ClusterSnapshot Snapshot() override;
  std::optional<head::LineageStep> Lineage(const std::string& object_id_hex) override;

 private:
  std::string session_;
  NodeManager& node_;
  storage::StoreServer& store_;
  storage::LineageLog* lineage_;
};

}  // namespace lumen::internal
