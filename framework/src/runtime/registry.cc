// The table of registered functions: pointer key -> name, name -> invoker.
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "lumen/remote.h"

namespace lumen::internal {
namespace {

struct Registry {
  std::mutex mu;
  std::unordered_map<std::string, std::string> names;         // pointer key -> name
  std::unordered_map<std::string, RemoteFunction> functions;  // name -> function
  std::unordered_map<std::string, std::string> keys;          // name -> pointer key
  std::unordered_set<std::string> ambiguous;  // names two different functions registered
};

Registry& TheRegistry() {
  static Registry* registry = new Registry;  // never destroyed: used until exit
  return *registry;
}

std::string StripSpaces(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\n') out += c;
  return out;
}

}  // namespace

void Register(const std::string& key, RemoteFunction function) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  r.names[key] = function.name;
  std::string name = function.name;
  auto [it, inserted] = r.keys.emplace(name, key);
  if (!inserted && it->second != key) r.ambiguous.insert(name);  // reported when called
  r.functions[name] = std::move(function);
}

const std::string& FunctionName(const std::string& key) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  auto it = r.names.find(key);
  if (it == r.names.end())
    throw Error(
        "this function is not registered as a remote function: add LUMEN_REMOTE(<function>) at "
        "namespace scope in any .cc file of the program");
  if (r.ambiguous.count(it->second))
    throw Error("more than one function is registered as '" + it->second +
                "' (e.g. functions of the same name in different namespaces): name them apart in "
                "LUMEN_REMOTE, e.g. LUMEN_REMOTE(my_namespace::" + it->second + ")");
  return it->second;
}

const RemoteFunction* FindFunction(const std::string& name) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  auto it = r.functions.find(name);
  return it == r.functions.end() ? nullptr : &it->second;
}

std::vector<std::string> SplitRemoteNames(const char* names) {
  std::vector<std::string> out;
  std::string_view s(names);
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || (s[i] == ',' && depth == 0)) {
      out.push_back(StripSpaces(s.substr(start, i - start)));
      start = i + 1;
    } else if (s[i] == '(' || s[i] == '<') {
      ++depth;
    } else if (s[i] == ')' || s[i] == '>') {
      --depth;
    }
  }
  return out;
}

}  // namespace lumen::internal
