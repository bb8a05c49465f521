// Another driver of the placement-group tests: joins the cluster at
// LUMEN_ADDRESS and answers each line on stdin with one line on stdout,
//   find NAME   -> "ID STATE" of the live group of that name, or "none"
//   state ID    -> the group's state (PENDING, CREATED, REMOVED)
//   list        -> "N ID:NAME:STATE ..." of every group, removed ones too
//   remove ID   -> "ok"
// (a lumen::Error: "error WHAT"), until stdin closes.
#include <iostream>
#include <sstream>
#include <string>

#include "lumen/api.h"

namespace {

const char* Named(lumen::PlacementGroupState s) {
  switch (s) {
    case lumen::PlacementGroupState::PENDING: return "PENDING";
    case lumen::PlacementGroupState::CREATED: return "CREATED";
    case lumen::PlacementGroupState::REMOVED: return "REMOVED";
  }
  return "?";
}

std::string Answer(const std::string& line) {
  std::istringstream words(line);
  std::string verb, arg;
  words >> verb >> arg;
  if (verb == "find") {
    auto g = lumen::GetPlacementGroup(arg);
    return g ? g->GetID() + " " + Named(g->GetState()) : "none";
  }
  if (verb == "state") return Named(lumen::PlacementGroup(arg, {}).GetState());
  if (verb == "list") {
    std::vector<lumen::PlacementGroup> all = lumen::GetAllPlacementGroups();
    std::string out = std::to_string(all.size());
    for (const auto& g : all) out += " " + g.GetID() + ":" + g.GetName() + ":" + Named(g.GetState());
    return out;
  }
  if (verb == "remove") {
    lumen::RemovePlacementGroup(arg);
    return "ok";
  }
  return "error unknown command '" + verb + "'";
}

}  // namespace

int main() {
  lumen::Init();  // LUMEN_ADDRESS names the cluster
  for (std::string line; std::getline(std::cin, line);) {
    try {
      std::cout << Answer(line) << std::endl;
    } catch (const lumen::Error& e) {
      std::cout << "error " << e.what() << std::endl;
    }
  }
  lumen::Shutdown();
  return 0;
}
