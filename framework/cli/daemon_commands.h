// `lumen start` and `lumen stop`: the daemons of a cluster on this machine.
//
//   lumen start --head [--port P] [--num-cpus N] [--resources JSON] [--storage DIR]
//                      [--dashboard-host H] [--dashboard-port P] [--no-dashboard]
//   lumen start --address HOST:PORT [--num-cpus N] [--resources JSON]
//   lumen stop [--address HOST:PORT]
//
// `start --head` forks the head daemon (the lineage log, its node: store,
// scheduler, worker pool; the dashboard), returns once it serves, and
// prints its address and how drivers and nodes join. `start --address`
// forks one more node daemon (its own store, resources and workers) that
// registers with that head, on this machine, and stops when the head goes.
// `stop` ends every lumen daemon of this user on this machine (only those;
// with --address, only that cluster's), bounded.
//
// Exit status: 0 done; 1 it could not (the reason is printed); 2 a malformed argument.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace lumen::cli {

struct StartOptions {
  bool head = false;
  std::string address;  // --address: add a node to the cluster there
  int port = 6379;
  // Where other hosts reach this daemon: the head listens there on --port
  // (default 127.0.0.1), a node on a free port. A node whose head is not on
  // this machine needs one; a node given an IP other than its head's is
  // taken for another host's even on this machine: it speaks TCP to it.
  std::string node_ip;
  int num_cpus = 0;     // 0: the machine's cores
  std::string resources_json;
  std::string node_name;  // "" = node-<session id>
  std::string storage;
  std::string dashboard_host = "127.0.0.1";
  int dashboard_port = 8265;
  bool no_dashboard = false;
};

class DaemonCommands {
 public:
  explicit DaemonCommands(CLI::App& app);
  bool Parsed() const;
  int Run();
  std::vector<CLI::App*> commands() const { return {start_, stop_}; }
  static bool IsCommand(const std::string& name) { return name == "start" || name == "stop"; }

 private:
  StartOptions options_;
  std::string stop_address_;
  CLI::App* start_;
  CLI::App* stop_;
};

}  // namespace lumen::cli
