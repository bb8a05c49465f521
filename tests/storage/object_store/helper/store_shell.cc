// store_shell: a store client (or server) in its own process, driven by the
// tests line by line over stdin/stdout, so they can kill it at a known point.
//
//   store_shell <socket_path>    client: one command a line, one answer a line
//   store_shell --serve <label> <socket> <capacity> <spill_dir>
//                                server: prints "ready", serves until stdin closes
//
// Answers are "ok ..." or "err <code> <message>". Commands: connect; create ID
// SIZE RECON FILL; seal ID; put ID SIZE RECON FILL; get ID (pins; answers
// size, whether the bytes lie in this process's mapping of the store's memfd, and their
// sum); release ID; delete ID; abort ID; contains ID; writeloop ID SIZE
// (creates, answers, then writes forever); mem; stats; cycles N; rtt N;
// pingpong N (then echoes N single bytes); exit.
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "lumen/storage/object_store.h"

using lumen::ObjectID;
using lumen::Status;
using namespace lumen::storage;

namespace {

std::shared_ptr<ObjectStore> store;

// Unbuffered on purpose: the tests read our answers as they come, and kill us
// between them.
void Reply(const std::string& line) {
  std::string out = line + "\n";
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = write(1, out.data() + done, out.size() - done);
    if (n <= 0) _exit(3);
    done += static_cast<size_t>(n);
  }
}

void ReplyStatus(const Status& s, const std::string& extra = "") {
  if (s.ok()) {
    Reply("ok" + (extra.empty() ? "" : " " + extra));
  } else {
    Reply("err " + std::to_string(static_cast<int>(s.code())) + " " + s.message());
  }
}

// Byte-at-a-time so nothing the tests send later is swallowed by a buffer.
bool ReadLine(std::string* line) {
  line->clear();
  char c;
  for (;;) {
    ssize_t n = read(0, &c, 1);
    if (n <= 0) return false;
    if (c == '\n') return true;
    line->push_back(c);
  }
}

ObjectID ParseId(const std::string& hex) {
  ObjectID id;
  if (!ObjectID::FromHex(hex, &id)) {
    Reply("err bad id " + hex);
    _exit(2);
  }
  return id;
}

// True if [p, p + n) lies inside one memfd mapping of this process: the
// store's segment, shared with the server, not a private copy.
bool InSegmentMapping(const void* p, size_t n) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const auto addr = reinterpret_cast<uintptr_t>(p);
  while (std::getline(maps, line)) {
    if (line.find("/memfd:") == std::string::npos) continue;
    uintptr_t lo, hi;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) != 2) continue;
    if (addr >= lo && addr + n <= hi) return true;
  }
  return false;
}

std::string MemoryLine() {
  std::ifstream rollup("/proc/self/smaps_rollup");
  std::string key;
  long rss = 0, pss = 0, anon = 0, value;
  std::string unit, line;
  while (std::getline(rollup, line)) {
    std::istringstream in(line);
    if (!(in >> key >> value)) continue;
    if (key == "Rss:") rss = value;
    if (key == "Pss:") pss = value;
    if (key == "Anonymous:") anon = value;
  }
  return std::to_string(rss) + " " + std::to_string(pss) + " " + std::to_string(anon);
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Fill(uint8_t* data, size_t size, int fill) { std::memset(data, fill, size); }

int Client(const std::string& socket_path) {
  std::string line;
  while (ReadLine(&line)) {
    std::istringstream in(line);
    std::string cmd, hex;
    in >> cmd;
    if (cmd == "exit") return 0;
    if (cmd == "connect") {
      ReplyStatus(ConnectToStore(socket_path, &store));
      continue;
    }
    if (cmd == "mem") {
      Reply("ok " + MemoryLine());
      continue;
    }
    if (cmd == "pingpong") {
      long n;
      in >> n;
      Reply("ok");
      char c;
      for (long i = 0; i < n; ++i) {
        if (read(0, &c, 1) != 1 || write(1, &c, 1) != 1) return 3;
      }
      continue;
    }
    if (!store) {
      Reply("err not connected");
      continue;
    }
    if (cmd == "create" || cmd == "put") {
      size_t size;
      int recon, fill;
      in >> hex >> size >> recon >> fill;
      const ObjectID id = ParseId(hex);
      uint8_t* data;
      Status s = store->Create(id, size, recon != 0, &data);
      if (s.ok()) Fill(data, size, fill);
      if (s.ok() && cmd == "put") s = store->Seal(id);
      ReplyStatus(s);
    } else if (cmd == "seal") {
      in >> hex;
      ReplyStatus(store->Seal(ParseId(hex)));
    } else if (cmd == "get") {
      in >> hex;
      ObjectBuffer buf;
      Status s = store->Get(ParseId(hex), &buf);
      if (!s.ok()) {
        ReplyStatus(s);
        continue;
      }
      uint64_t sum = 0;
      for (size_t i = 0; i < buf.size; ++i) sum += buf.data[i];
      ReplyStatus(s, std::to_string(buf.size) + " " +
                         std::to_string(InSegmentMapping(buf.data, buf.size) ? 1 : 0) + " " +
                         std::to_string(sum));
    } else if (cmd == "release") {
      in >> hex;
      ReplyStatus(store->Release(ParseId(hex)));
    } else if (cmd == "delete") {
      in >> hex;
      ReplyStatus(store->Delete(ParseId(hex)));
    } else if (cmd == "abort") {
      in >> hex;
      ReplyStatus(store->Abort(ParseId(hex)));
    } else if (cmd == "contains") {
      in >> hex;
      Reply(store->Contains(ParseId(hex)) ? "ok 1" : "ok 0");
    } else if (cmd == "writeloop") {
      size_t size;
      in >> hex >> size;
      uint8_t* data;
      Status s = store->Create(ParseId(hex), size, false, &data);
      ReplyStatus(s);
      if (!s.ok()) continue;
      for (int round = 0;; ++round) Fill(data, size, round & 0xff);
    } else if (cmd == "stats") {
      StoreStats st = store->Stats();
      Reply("ok " + std::to_string(st.used_bytes) + " " + std::to_string(st.num_objects) + " " +
            std::to_string(st.pinned_bytes) + " " + std::to_string(st.num_clients));
    } else if (cmd == "cycles") {
      // create+seal+get+release of 64-byte objects; deletes run after the clock stops.
      int n;
      in >> n;
      std::unique_ptr<ObjectID[]> ids(new ObjectID[n]);
      for (int i = 0; i < n; ++i) ids[i] = ObjectID::ForPut();
      const auto start = std::chrono::steady_clock::now();
      Status s;
      for (int i = 0; i < n && s.ok(); ++i) {
        uint8_t* data;
        ObjectBuffer buf;
        s = store->Create(ids[i], 64, true, &data);
        if (s.ok()) {
          Fill(data, 64, i & 0xff);
          s = store->Seal(ids[i]);
        }
        if (s.ok()) s = store->Get(ids[i], &buf);
        if (s.ok()) s = store->Release(ids[i]);
      }
      const double elapsed = Seconds(start);
      for (int i = 0; i < n; ++i) (void)store->Delete(ids[i]);
      ReplyStatus(s, std::to_string(n / elapsed));
    } else if (cmd == "rtt") {
      int n;
      in >> n;
      const ObjectID id = ObjectID::ForPut();
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < n; ++i) store->Contains(id);
      Reply("ok " + std::to_string(Seconds(start) / n * 1e6));
    } else {
      Reply("err unknown command " + cmd);
    }
  }
  return 0;
}

int Serve(char** argv) {
  StoreConfig config;
  config.label = argv[0];
  config.socket_path = argv[1];
  config.capacity_bytes = std::strtoull(argv[2], nullptr, 10);
  config.spill_dir = argv[3];
  std::unique_ptr<StoreServer> server;
  Status s = StoreServer::Start(config, &server);
  ReplyStatus(s, "ready");
  if (!s.ok()) return 1;
  std::string line;
  while (ReadLine(&line)) {
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 6 && std::strcmp(argv[1], "--serve") == 0) return Serve(argv + 2);
  if (argc != 2) {
    std::fprintf(stderr, "usage: store_shell <socket> | --serve <label> <socket> <capacity> <spill_dir>\n");
    return 2;
  }
  return Client(argv[1]);
}
