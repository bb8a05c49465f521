// Who may talk to the supervisor port: a process on this machine that does
// not hold the session's credentials must neither make the driver allocate
// what it claims nor make the node manager kill its workers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "lumen/api.h"
#include "control/session_credentials.h"

namespace {

int Doubled(int x) { return 2 * x; }
LUMEN_REMOTE(Doubled);

// This process's resident anonymous memory (RssAnon), in bytes: where a
// buffer set aside for a payload would be. Not VmRSS: that also counts the
// object store's shared segment, which the driver prefaults in the
// background (512 MiB by default), so under load it grows by hundreds of MiB
// while the test runs whatever the supervisor does.
size_t AnonymousBytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "RssAnon:") {
      size_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True once the peer has closed `fd` (EOF or reset), false after `ms`.
bool HangsUp(int fd, int ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;  // whatever the driver sent before, it hung up
  }
}

// A BASP client handshake header (32 bytes) that claims a payload of 4 GiB - 1:
// BASP as such would set aside that much for the payload.
std::vector<uint8_t> OversizedBaspHeader() {
  std::vector<uint8_t> h(32, 0);
  h[0] = 0x01;                                // client_handshake
  std::memset(h.data() + 4, 0xff, 4);         // payload_len
  h[15] = 1;                                  // operation_data
  return h;
}

TEST(SupervisorPortTest, OversizedBaspHeadersNeitherAllocateNorStopTheDriver) {
  lumen::Config config;
  config.num_cpus = 1;
  lumen::Init(config);
  EXPECT_EQ(*lumen::Task(Doubled).Remote(1).Get(30000), 2);
  lumen::ClusterInfo info = lumen::GetClusterInfo();
  uint16_t port = info.supervisor_port;
  ASSERT_GT(port, 0);
  size_t before = AnonymousBytes();
  std::vector<int> fds;
  std::vector<uint8_t> header = OversizedBaspHeader();
  for (int i = 0; i < 3; ++i) {
    int fd = ConnectLoopback(port);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
    ASSERT_EQ(::send(fd, header.data(), header.size(), MSG_NOSIGNAL), static_cast<ssize_t>(header.size()));
    EXPECT_TRUE(HangsUp(fd, 5000)) << "connection " << i << " was not refused";
  }
  // Measured while the connections are open: a buffer set aside for them is still held.
  size_t after = AnonymousBytes();
  EXPECT_LT(after, before + (size_t{100} << 20)) << "grew from " << before << " to " << after << " bytes";
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(*lumen::Task(Doubled).Remote(21).Get(30000), 42);
  // Refusing them cost the real worker nothing.
  EXPECT_EQ(lumen::GetClusterInfo().worker_pids, info.worker_pids);
  EXPECT_EQ(lumen::GetClusterInfo().worker_deaths_seen_by_caf, info.worker_deaths_seen_by_caf);
  lumen::Shutdown();
}

using register_atom = caf::atom_constant<caf::atom("register")>;

// A peer that speaks CAF as a worker does, without the session's
// credentials, and registers as workers 0-9. Returns how many registrations
// the supervisor accepted. Its actors then quit, which a supervisor that
// accepted them would take for the deaths of those workers.
int RegisterFakeWorkers(uint16_t port, const lumen::internal::SessionCredentials* own_credentials) {
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  if (own_credentials) {  // TLS, with a key and certificate of its own making
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = own_credentials->certificate_path;
    cfg.openssl_key = own_credentials->key_path;
    cfg.openssl_cafile = own_credentials->certificate_path;
  }
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  caf::actor supervisor;
  // The middleman's own request, with a timeout: remote_actor() would wait
  // forever for a handshake that never comes.
  auto middleman = own_credentials ? system.openssl_manager().actor_handle() : system.middleman().actor_handle();
  self->request(middleman, std::chrono::seconds(3), caf::connect_atom::value,
                std::string("127.0.0.1"), port)
      .receive([&](const caf::node_id&, caf::strong_actor_ptr& ptr,
                   const std::set<std::string>&) { supervisor = caf::actor_cast<caf::actor>(ptr); },
               [](caf::error&) {});
  if (!supervisor) return 0;
  int accepted = 0;
  std::vector<caf::actor> fakes;
  for (int32_t number = 0; number < 10; ++number) {
    fakes.push_back(system.spawn(
        [](caf::event_based_actor*, int32_t) -> caf::behavior { return {[](caf::atom_value) {}}; }, number));
    self->request(supervisor, std::chrono::seconds(3), register_atom::value, number, fakes.back())
        .receive([&](caf::atom_value) { ++accepted; }, [](caf::error&) {});
  }
  for (auto& fake : fakes) self->send_exit(fake, caf::exit_reason::user_shutdown);
  self->wait_for(fakes);
  return accepted;
}

// Another process plays the intruder (a CAF system of its own, as it would
// have), forked before the cluster starts so that it copies no threads: it
// reads the port from a pipe and exits with RegisterFakeWorkers' result.
// With `tls`, it speaks TLS with credentials of its own.
class Intruder {
 public:
  explicit Intruder(bool tls) {
    if (::pipe(fds_) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds_[1]);
      uint16_t port = 0;
      if (::read(fds_[0], &port, sizeof port) != sizeof port) ::_exit(100);
      if (!tls) ::_exit(RegisterFakeWorkers(port, nullptr));
      std::string dir = (std::filesystem::temp_directory_path() / ("lumen-intruder-" + std::to_string(getpid()))).string();
      std::filesystem::create_directories(dir);
      lumen::internal::SessionCredentials own;
      std::string error;
      int accepted = lumen::internal::MakeSessionCredentials(dir, &own, &error) ? RegisterFakeWorkers(port, &own) : 101;
      std::filesystem::remove_all(dir);
      ::_exit(accepted);
    }
    ::close(fds_[0]);
  }
  ~Intruder() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(fds_[1]);
  }
  // Registrations the supervisor accepted, or -1 if the intruder failed.
  int Attack(uint16_t port) {
    if (pid_ <= 0 || ::write(fds_[1], &port, sizeof port) != sizeof port) return -1;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    done_ = true;
    return WIFEXITED(status) && WEXITSTATUS(status) <= 10 ? WEXITSTATUS(status) : -1;
  }

 private:
  int fds_[2] = {-1, -1};
  pid_t pid_ = -1;
  bool done_ = false;
};

// A peer without the session's credentials registers as workers 0-9 and
// quits: the real workers live on. `tls`: it speaks TLS with a key of its own.
void ExpectIntruderRefused(bool tls) {
  Intruder intruder(tls);
  lumen::Config config;
  config.num_cpus = 3;
  lumen::Init(config);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*lumen::Task(Doubled).Remote(i).Get(30000), 2 * i);
  lumen::ClusterInfo before = lumen::GetClusterInfo();
  for (int i = 0; i < 5000 && before.worker_pids.size() < 3; ++i) {  // all started: bounded wait
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    before = lumen::GetClusterInfo();
  }
  ASSERT_EQ(before.worker_pids.size(), 3u);
  EXPECT_EQ(intruder.Attack(before.supervisor_port), 0);
  // Nothing to wait for if the fix holds; a down message for a fake would
  // arrive within milliseconds of its actor quitting.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(*lumen::Task(Doubled).Remote(21).Get(30000), 42);
  lumen::ClusterInfo after = lumen::GetClusterInfo();
  EXPECT_EQ(after.worker_pids, before.worker_pids);
  EXPECT_EQ(after.worker_deaths_seen_by_caf, before.worker_deaths_seen_by_caf);
  EXPECT_EQ(after.worker_deaths_seen_by_reaping, before.worker_deaths_seen_by_reaping);
  for (pid_t pid : before.worker_pids) EXPECT_EQ(::kill(pid, 0), 0) << pid;
  lumen::Shutdown();
}

TEST(SupervisorPortTest, PeerWithoutSessionCredentialsCannotPassForAWorker) { ExpectIntruderRefused(false); }

TEST(SupervisorPortTest, PeerWithACertificateOfItsOwnCannotPassForAWorker) { ExpectIntruderRefused(true); }

}  // namespace
