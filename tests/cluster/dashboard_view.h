// What a head's dashboard says of its cluster, read as a user reads it:
// `lumen list KIND --json` against the dashboard a HeadDaemon serves.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "head_daemon.h"

namespace lumen::testing {

// The rows of `lumen list kind --json -f filter`; an empty array if the CLI failed.
inline nlohmann::json ListJson(const Daemon& head, const std::string& kind, const std::string& filter = "") {
  std::string address = head.dashboard_url().substr(std::string("http://").size());
  ShellRun run = Shell(std::string(LUMEN_CLI_PATH) + " list " + kind + " --json --limit 1000 --address " + address +
                       (filter.empty() ? "" : " -f " + filter));
  if (run.status != 0) return nlohmann::json::array();
  nlohmann::json page = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  return page.is_object() && page["items"].is_array() ? page["items"] : nlohmann::json::array();
}

// The row of the node named `name` in state `state` (alive or dead), if listed.
inline std::optional<nlohmann::json> NodeRow(const Daemon& head, const std::string& name,
                                             const std::string& state = "alive") {
  for (const nlohmann::json& n : ListJson(head, "nodes"))
    if (n.value("node_id", "") == name && n.value("state", "") == state) return n;
  return std::nullopt;
}

// The row of the task named `name` (SetName), if listed.
inline std::optional<nlohmann::json> TaskNamed(const Daemon& head, const std::string& name) {
  for (const nlohmann::json& t : ListJson(head, "tasks", "name=" + name))
    if (t.value("name", "") == name) return t;
  return std::nullopt;
}

}  // namespace lumen::testing
