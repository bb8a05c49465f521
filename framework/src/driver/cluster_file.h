// How the processes of this machine find a cluster a daemon serves: the
// head daemon (`lumen start --head`) writes `cluster` into its session dir
// (private: mode 0700, as every session dir) and its secret beside it in
// `cluster.secret` (0600). A driver with an address, `lumen status` and
// `lumen stop` look them up here.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace lumen::internal {

struct ClusterFile {
  std::string address;     // the cluster's host:port, as `lumen start --head` printed it
  std::string role = "head";  // or "node": one more node of that cluster
  pid_t pid = 0;           // the daemon's
  std::string session_dir;
  std::string node_socket;
  std::string store_socket;
  std::string dashboard_url;  // "" if none
};

// Writes session_dir/cluster whole (a temporary file renamed into place).
void WriteClusterFile(const ClusterFile& file);
// The clusters whose daemon (of this user) runs now, oldest first.
std::vector<ClusterFile> ClustersOnThisMachine();
// The head serving `address` ("localhost:P", "127.0.0.1:P" and ":P" name
// the same port here), if it runs on this machine.
bool SameAddress(const std::string& a, const std::string& b);
std::optional<ClusterFile> FindCluster(const std::string& address);
// Writes the secret into session_dir/cluster.secret (0600).
void WriteClusterSecret(const std::string& session_dir, const std::string& secret);
std::string SecretPath(const std::string& session_dir);
// The secret of a cluster of this machine; "" if unreadable.
std::string ReadClusterSecret(const std::string& session_dir);

}  // namespace lumen::internal
