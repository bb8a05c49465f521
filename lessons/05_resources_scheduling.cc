// Lesson 05 — Resources and scheduling: a real cluster of several nodes
//
// THE IDEA
//   A node offers *resources*: CPUs, GPUs, and any custom names you give it
//   ("red", "tpu", "ssd"...). A task *asks* for some: 1 CPU unless it says
//   otherwise, plus whatever SetResource / SetResources add. The scheduler
//   runs a task only where what it asks for is free, and holds it there while
//   the task runs. Resources are promises about *placement*, not limits: a
//   task granted 1 CPU may use four threads; lumen only counts.
//
// THE CLUSTER OF THIS LESSON
//   Until now every lesson ran an embedded cluster inside the driver. This
//   one starts daemons with the lumen CLI, as you would by hand:
//
//     lumen start --head --port P --num-cpus 2                         # "head"
//     lumen start --address 127.0.0.1:P --num-cpus 2 --resources '{"red": 2}'
//     lumen start --address 127.0.0.1:P --num-cpus 1 --resources '{"GPU": 2}'
//
//   and joins it (Config::address). Each node is a daemon with its own object
//   store and its own worker processes (running this binary, as always). A
//   worker's parent process is its node's daemon: a task returns getppid(),
//   and the lesson maps daemon pids to node names to show where it ran.
//
// HOW THE SCHEDULER PLACES A TASK (today)
//   1. It fits the head's node now: it runs there.
//   2. Otherwise (the head is busy, or only another node has the resource)
//      it goes to a node with room for it — the one with the most free CPU.
//      Its by-ref arguments are copied into that node's store first, and its
//      result comes back into the head's.
//   3. No node has it at all: it waits (said once in the head's log) and
//      runs when a node that has it joins.
//   A strategy changes 1 and 2: SPREAD takes the nodes in turn; node
//   affinity names a node (`lumen start --node-name`), hard or soft. Actors
//   are placed the same way and hold what they ask for on their node.
//
// PLACEMENT GROUPS
//   A group reserves *bundles* of resources ahead of the work, on the nodes
//   its strategy says (PACK, STRICT_PACK: together; SPREAD, STRICT_SPREAD:
//   apart), all of them or none: the head asks each node to hold its
//   bundles, and only once every node said yes are they in use. A task or
//   actor of a bundle runs on that bundle's node, inside what it reserved.
//
// Run it:  build/lessons/05_resources_scheduling      (about 5 seconds)

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lesson_util.h"
#include "local_cluster.h"
#include "lumen/api.h"

namespace {

using namespace lesson;  // MsSince, Section, Check, LocalCluster: lesson_util.h, local_cluster.h

// ---- The remote functions ---------------------------------------------------

// What a task saw of where it ran.
struct Where {
  int node_pid = 0;    // its worker's parent: the node's daemon
  int worker_pid = 0;
  std::string cuda;    // CUDA_VISIBLE_DEVICES, "-" if unset
  std::vector<int> gpus;  // lumen::GetGpuIds()
  double start_ms = 0, end_ms = 0;  // wall clock, to see which ran at the same time
  LUMEN_FIELDS(node_pid, worker_pid, cuda, gpus, start_ms, end_ms);
};

double WallMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Where RunFor(int ms) {
  Where w;
  w.start_ms = WallMs();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  w.node_pid = getppid();
  w.worker_pid = getpid();
  const char* cuda = std::getenv("CUDA_VISIBLE_DEVICES");
  w.cuda = cuda ? cuda : "-";
  w.gpus = lumen::GetGpuIds();
  w.end_ms = WallMs();
  return w;
}

// Waits (at most 10 s) until `n` tasks have arrived in `dir`, then runs: the
// tasks of a group overlap for sure when the scheduler runs them at once,
// however slowly their workers started; if it ran them one after another,
// the first comes out after 10 s and the lesson says so.
Where MeetThenRun(std::string dir, int n, int ms) {
  std::ofstream(dir + "/" + std::to_string(getpid()));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto arrived = [&] {
    auto it = std::filesystem::directory_iterator(dir);
    return std::distance(std::filesystem::begin(it), std::filesystem::end(it)) >= n;
  };
  while (!arrived() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return RunFor(ms);
}

double Sum(std::vector<double> v) { return std::accumulate(v.begin(), v.end(), 0.0); }
std::vector<double> Fill(int n, double value) { return std::vector<double>(static_cast<size_t>(n), value); }

class Resident {
 public:
  static Resident* Create() { return new Resident; }
  int NodePid() { return getppid(); }
};

LUMEN_REMOTE(RunFor, MeetThenRun, Sum, Fill, Resident::Create, &Resident::NodePid);

// ---- Helpers ----------------------------------------------------------------

bool Overlap(const Where& a, const Where& b) { return a.start_ms < b.end_ms && b.start_ms < a.end_ms; }

std::string Ids(const std::vector<int>& ids) {
  std::string s = "[";
  for (int id : ids) s += (s.size() > 1 ? "," : "") + std::to_string(id);
  return s + "]";
}

// "head 2, red 2, gpu 1": how many of `runs` each node ran.
std::string Spread(const LocalCluster& cluster, const std::vector<std::shared_ptr<Where>>& runs) {
  std::map<std::string, int> per_node;
  for (const auto& w : runs) ++per_node[cluster.NameOf(w->node_pid)];
  std::string s;
  for (const auto& [name, n] : per_node) s += (s.empty() ? "" : ", ") + name + " " + std::to_string(n);
  return s;
}

// Every wait is bounded: a task that never runs is a GetTimeoutError (the
// lesson then fails and still stops its cluster), never a hang.
constexpr int64_t kBound = 20000;
template <class T>
std::shared_ptr<T> Await(const lumen::ObjectRef<T>& ref) {
  return lumen::Get(ref, kBound);
}
std::vector<std::shared_ptr<Where>> GetAll(const std::vector<lumen::ObjectRef<Where>>& refs) {
  return lumen::Get(refs, kBound);
}

// This run's scratch directory (removed at the end), and in it a fresh one
// for a group of tasks to meet in (MeetThenRun).
std::filesystem::path Scratch() {
  return std::filesystem::temp_directory_path() / ("lesson05-" + std::to_string(getpid()));
}
std::string MeetingDir(const std::string& name) {
  std::filesystem::create_directories(Scratch() / name);
  return (Scratch() / name).string();
}

void Lesson(LocalCluster& cluster) {
  const int head = cluster.Find("head")->pid, red = cluster.Find("red")->pid, gpu = cluster.Find("gpu")->pid;

  // ---- 2. CPUs ------------------------------------------------------------
  Section("2. CPU requests: a task takes 1 CPU unless it says; where did it run?");
  {
    auto one = Await(lumen::Task(RunFor).Remote(0));
    std::printf("  RunFor()                     ran on %-4s (worker pid %d, its parent %d)\n",
                cluster.NameOf(one->node_pid).c_str(), one->worker_pid, one->node_pid);
    Check(one->node_pid == head, "a 1-CPU task on an idle cluster runs on the head's node");
    // Two CPUs fill the head: a 1-CPU task submitted meanwhile must go elsewhere.
    auto both = lumen::Task(RunFor).SetResource("CPU", 2).Remote(800);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it start
    auto t0 = Clock::now();
    auto beside = Await(lumen::Task(RunFor).Remote(0));
    double beside_ms = MsSince(t0);
    auto big = Await(both);
    std::printf("  SetResource(\"CPU\", 2)        ran on %-4s (both of its CPUs)\n", cluster.NameOf(big->node_pid).c_str());
    std::printf("  RunFor() meanwhile           ran on %-4s after %.0f ms (overlapping: %s): the head had no CPU free\n",
                cluster.NameOf(beside->node_pid).c_str(), beside_ms, Overlap(*big, *beside) ? "yes" : "no");
    Check(big->node_pid == head, "the 2-CPU task fits the idle head");
    Check(beside->node_pid != head, "a task that does not fit the busy head runs beside it");
  }

  // ---- 3. Custom resources --------------------------------------------------
  Section("3. Custom resources route tasks to the node that has them");
  {
    std::vector<lumen::ObjectRef<Where>> refs;
    auto t0 = Clock::now();
    for (int i = 0; i < 4; ++i) refs.push_back(lumen::Task(RunFor).SetResource("red", 1).Remote(200));
    auto runs = GetAll(refs);
    int max_at_once = 0;  // a sweep over starts (+1) and ends (-1), ends first at a tie
    std::vector<std::pair<double, int>> events;
    for (const auto& w : runs) events.push_back({w->start_ms, 1}), events.push_back({w->end_ms, -1});
    std::sort(events.begin(), events.end());
    for (int at_once = 0; const auto& [t, step] : events) max_at_once = std::max(max_at_once, at_once += step);
    std::printf("  4 x RunFor(200 ms) with SetResource(\"red\", 1): %s; at most %d at once, %.0f ms in all\n",
                Spread(cluster, runs).c_str(), max_at_once, MsSince(t0));
    std::printf("  (the red node has red = 2: two run, two wait for a red unit to come back)\n");
    bool all_red = true;
    for (const auto& w : runs) all_red &= w->node_pid == red;
    Check(all_red, "every red task ran on the red node");
    Check(max_at_once <= 2, "no more red tasks at once than the red node has red");
  }

  // ---- 4. GPUs --------------------------------------------------------------
  Section("4. GPUs: logical ids, and CUDA_VISIBLE_DEVICES per task");
  {
    auto none = Await(lumen::Task(RunFor).Remote(0));
    auto two = Await(lumen::Task(RunFor).SetResource("GPU", 2).Remote(0));
    std::printf("  no GPU asked:           ran on %-4s CUDA_VISIBLE_DEVICES=%s GetGpuIds()=%s\n",
                cluster.NameOf(none->node_pid).c_str(), none->cuda.c_str(), Ids(none->gpus).c_str());
    std::printf("  SetResource(\"GPU\", 2):  ran on %-4s CUDA_VISIBLE_DEVICES=%s GetGpuIds()=%s\n",
                cluster.NameOf(two->node_pid).c_str(), two->cuda.c_str(), Ids(two->gpus).c_str());
    Check(none->cuda == "-" && none->gpus.empty(), "a task granted no GPU sees none");
    Check(two->node_pid == gpu && two->cuda == "0,1", "a 2-GPU task runs on the gpu node and sees both ids");
    // A GPU task still takes 1 CPU, and the gpu node has one: ask for half a
    // CPU each and two GPU tasks run there at once, on different ids.
    std::string dir = MeetingDir("gpu");
    auto a = lumen::Task(MeetThenRun).SetResources({{"GPU", 1}, {"CPU", 0.5}}).Remote(dir, 2, 100);
    auto b = lumen::Task(MeetThenRun).SetResources({{"GPU", 1}, {"CPU", 0.5}}).Remote(dir, 2, 100);
    auto wa = Await(a), wb = Await(b);
    std::filesystem::remove_all(dir);
    std::printf("  2 x {GPU: 1, CPU: 0.5} at once: CUDA_VISIBLE_DEVICES=%s and %s, in pids %d and %d, "
                "overlapping: %s\n", wa->cuda.c_str(), wb->cuda.c_str(), wa->worker_pid, wb->worker_pid,
                Overlap(*wa, *wb) ? "yes" : "no");
    Check(wa->node_pid == gpu && wb->node_pid == gpu, "GPU tasks run on the gpu node");
    Check(Overlap(*wa, *wb) && wa->gpus.size() == 1 && wb->gpus.size() == 1 && wa->gpus != wb->gpus,
          "two 1-GPU tasks at once get one id each, not the same one");
  }

  // ---- 5. Fractions ---------------------------------------------------------
  Section("5. Fractional resources: two 0.5-GPU tasks share one id");
  {
    std::vector<lumen::ObjectRef<Where>> refs;
    std::string dir = MeetingDir("half");
    for (int i = 0; i < 2; ++i)
      refs.push_back(lumen::Task(MeetThenRun).SetResources({{"GPU", 0.5}, {"CPU", 0.5}}).Remote(dir, 2, 100));
    auto runs = GetAll(refs);
    std::filesystem::remove_all(dir);
    std::printf("  2 x {GPU: 0.5, CPU: 0.5}: GetGpuIds()=%s and %s, overlapping: %s\n", Ids(runs[0]->gpus).c_str(),
                Ids(runs[1]->gpus).c_str(), Overlap(*runs[0], *runs[1]) ? "yes" : "no");
    std::printf("  (a fraction goes on the id with the least room that still fits, so whole GPUs stay free;\n"
                "   lumen only counts: the two must share that GPU's memory politely)\n");
    Check(Overlap(*runs[0], *runs[1]) && runs[0]->gpus.size() == 1 && runs[0]->gpus == runs[1]->gpus,
          "two half-GPU tasks at once share one id");
  }

  // ---- 6. Demand no node has ------------------------------------------------
  Section("6. Demand no node has waits, and runs when a node that has it joins");
  {
    auto needs_tpu = lumen::Task(RunFor).SetName("needs_tpu").SetResource("tpu", 1).Remote(0);
    try {
      lumen::Get(needs_tpu, /*timeout_ms=*/500);
      Check(false, "a task asking for a resource no node has ran");
    } catch (const lumen::GetTimeoutError&) {
      std::printf("  SetResource(\"tpu\", 1): Get(.., 500 ms) -> lumen::GetTimeoutError: no node has a tpu\n");
    }
    std::string log = cluster.HeadLog();
    auto line = log.find("task 'needs_tpu' waits");
    std::printf("  the head's log says: %s\n",
                line == std::string::npos ? "(nothing)" : log.substr(line, log.find('\n', line) - line).c_str());
    Check(line != std::string::npos, "the head's log names the waiting task");
    std::string why;
    auto t0 = Clock::now();
    bool joined = cluster.AddNode("tpu", 1, R"({"tpu": 1})", &why);
    std::printf("  lumen start --address %s --num-cpus 1 --resources '{\"tpu\": 1}'  (%.0f ms)\n",
                cluster.address().c_str(), MsSince(t0));
    Check(joined, "the tpu node started: " + why);
    if (!joined) return;
    auto ran = Await(needs_tpu);
    std::printf("  needs_tpu then ran on %s, %.0f ms after the node was started\n", cluster.NameOf(ran->node_pid).c_str(),
                MsSince(t0));
    Check(ran->node_pid == cluster.Find("tpu")->pid, "the waiting task ran on the node that joined");
  }

  // ---- 7. Spillback ---------------------------------------------------------
  Section("7. Spillback: a busy head sends plain CPU tasks to nodes with room");
  {
    std::vector<lumen::ObjectRef<Where>> refs;
    auto t0 = Clock::now();
    for (int i = 0; i < 6; ++i) refs.push_back(lumen::Task(RunFor).Remote(400));
    auto runs = GetAll(refs);
    double ms = MsSince(t0);
    std::printf("  6 x RunFor(400 ms), no resources asked: %s\n", Spread(cluster, runs).c_str());
    std::printf("  all done in %.0f ms (the head alone, 2 CPUs: 3 rounds, about 1200 ms)\n", ms);
    std::set<int> nodes;
    int on_head = 0;
    for (const auto& w : runs) nodes.insert(w->node_pid), on_head += w->node_pid == head;
    Check(nodes.size() >= 3 && on_head >= 1, "the tasks ran on the head and spilled to at least two other nodes");
    std::printf("  that is the default: fill the head, then the node with the most free CPU\n");
  }
  Section("7b. Strategies: SPREAD takes the nodes in turn, node affinity names one");
  {
    std::vector<lumen::ObjectRef<Where>> refs;
    for (int i = 0; i < 3; ++i)
      refs.push_back(lumen::Task(RunFor).SetSchedulingStrategy(lumen::SchedulingStrategy::Spread()).Remote(200));
    auto runs = GetAll(refs);
    std::printf("  3 x RunFor(200 ms) with SPREAD: %s\n", Spread(cluster, runs).c_str());
    std::set<int> nodes;
    for (const auto& w : runs) nodes.insert(w->node_pid);
    Check(nodes.size() == 3, "SPREAD put three tasks on three nodes");
    auto pinned = Await(lumen::Task(RunFor)
                            .SetSchedulingStrategy(lumen::SchedulingStrategy::NodeAffinity("gpu"))
                            .Remote(10));
    std::printf("  NodeAffinity(\"gpu\") (no GPU asked for): ran on %s\n", cluster.NameOf(pinned->node_pid).c_str());
    Check(pinned->node_pid == cluster.Find("gpu")->pid, "node affinity ran the task on the node it names");
    // Actors: where they fit, or where affinity says; they hold their resources there.
    auto resident = lumen::Actor(Resident::Create)
                        .SetSchedulingStrategy(lumen::SchedulingStrategy::NodeAffinity("red"))
                        .Remote();
    int actor_node = *Await(resident.Task(&Resident::NodePid).Remote());
    std::printf("  an actor with NodeAffinity(\"red\") lives on %s\n", cluster.NameOf(actor_node).c_str());
    Check(actor_node == cluster.Find("red")->pid, "the actor lives on the node its affinity names");
    resident.Kill();
  }

  Section("7c. Placement groups reserve bundles on the nodes, all or none");
  {
    const std::map<std::string, double> cpu{{"CPU", 1}};
    auto t0 = Clock::now();
    lumen::PlacementGroup apart =
        lumen::CreatePlacementGroup({"apart", {cpu, cpu, cpu}, lumen::PlacementStrategy::STRICT_SPREAD});
    bool created = apart.Wait(20);
    std::printf("  STRICT_SPREAD of 3 x {CPU: 1}: %s in %.0f ms\n", created ? "CREATED" : "not created", MsSince(t0));
    Check(created, "a group of three bundles on three nodes was reserved");
    std::vector<lumen::ObjectRef<Where>> refs;
    for (int i = 0; i < 3; ++i) refs.push_back(lumen::Task(RunFor).SetPlacementGroup(apart, i).Remote(50));
    auto runs = GetAll(refs);
    std::set<int> nodes;
    for (const auto& w : runs) nodes.insert(w->node_pid);
    std::printf("  a task in each bundle ran on: %s\n", Spread(cluster, runs).c_str());
    Check(nodes.size() == 3, "each bundle is on a node of its own");
    // Every node now has at most 1 CPU unreserved: two CPUs together wait.
    lumen::PlacementGroup together =
        lumen::CreatePlacementGroup({"together", {cpu, cpu}, lumen::PlacementStrategy::STRICT_PACK});
    bool waits = !together.Wait(1);
    std::printf("  STRICT_PACK of 2 x {CPU: 1}: %s (no node has 2 CPUs unreserved)\n",
                waits ? "PENDING" : "CREATED?");
    Check(waits, "a group that fits no node now waits, holding nothing");
    t0 = Clock::now();
    lumen::RemovePlacementGroup(apart.GetID());
    created = together.Wait(20);
    auto where = Await(lumen::Task(RunFor).SetPlacementGroup(together, 1).Remote(10));
    std::printf("  removed 'apart': 'together' CREATED %.0f ms later, both bundles on %s\n", MsSince(t0),
                cluster.NameOf(where->node_pid).c_str());
    Check(created, "removing a group gives its bundles back, and a waiting group takes them");
    lumen::RemovePlacementGroup(together.GetID());
  }

  // ---- 8. Data between nodes ------------------------------------------------
  Section("8. Data moves between the nodes' stores");
  {
    const int n = 4 << 20;  // 4 Mi doubles: 32 MiB
    auto t0 = Clock::now();
    auto data = lumen::Put(std::vector<double>(n, 0.25));
    std::printf("  Put(32 MiB) into the head's store: %.0f ms\n", MsSince(t0));
    t0 = Clock::now();
    double here = *Await(lumen::Task(Sum).Remote(data));
    std::printf("  Sum(ref) on head: %.0f in %4.0f ms (the idle head: read in place)\n", here, MsSince(t0));
    t0 = Clock::now();
    double there = *Await(lumen::Task(Sum).SetResource("red", 1).Remote(data));
    std::printf("  Sum(ref) on red:  %.0f in %4.0f ms (copied into red's store first, segment to segment)\n", there,
                MsSince(t0));
    Check(here == 0.25 * n && there == here, "the same sum on both nodes");
    t0 = Clock::now();
    auto made = lumen::Task(Fill).SetResource("red", 1).Remote(n, 0.5);
    auto back = Await(made);
    std::printf("  Fill(4 Mi, 0.5) on red, Get here: %zu doubles (%zu MiB) back in %.0f ms, sum %.0f\n", back->size(),
                back->size() * sizeof(double) >> 20, MsSince(t0), Sum(*back));
    Check(back->size() == size_t(n) && Sum(*back) == 0.5 * n, "a 32 MiB result made on red read back here");
    // A result made on red, consumed on the gpu node: red -> head -> gpu.
    double on_gpu = *Await(lumen::Task(Sum).SetResource("GPU", 1).Remote(made));
    std::printf("  Sum(that result) on gpu: %.0f\n", on_gpu);
    Check(on_gpu == 0.5 * n, "a result made on red consumed on the gpu node");
  }
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // line by line, even into a pipe
  std::printf("Lesson 05: resources and scheduling on a cluster of several nodes\n");
  ::unsetenv("CUDA_VISIBLE_DEVICES");  // the daemons and their workers inherit our environment
  LocalCluster cluster;  // stops the daemons when it goes, whatever happened

  // ---- 1. Start a cluster and join it ---------------------------------------
  Section("1. Start a cluster of three nodes with the lumen CLI, and join it");
  std::string why;
  auto t0 = Clock::now();
  bool up = cluster.StartHead(2, &why) && cluster.AddNode("red", 2, R"({"red": 2})", &why) &&
            cluster.AddNode("gpu", 1, R"({"GPU": 2})", &why);
  Check(up, "the cluster started: " + why);
  if (!up) return Finish("05");
  std::printf("  lumen start --head --port %s --num-cpus 2       -> head (pid %d)\n",
              cluster.address().substr(cluster.address().find(':') + 1).c_str(), cluster.Find("head")->pid);
  std::printf("  lumen start --address %s --num-cpus 2 --resources '{\"red\": 2}' -> red (pid %d)\n",
              cluster.address().c_str(), cluster.Find("red")->pid);
  std::printf("  lumen start --address %s --num-cpus 1 --resources '{\"GPU\": 2}' -> gpu (pid %d)\n",
              cluster.address().c_str(), cluster.Find("gpu")->pid);
  std::printf("  three daemons up in %.0f ms\n", MsSince(t0));

  try {
    lumen::Config config;
    config.address = cluster.address();
    lumen::Init(config);
    std::printf("  lumen::Init with config.address = \"%s\": joined\n", cluster.address().c_str());
    Lesson(cluster);
  } catch (const std::exception& e) {
    Check(false, std::string("the lesson threw: ") + e.what());
    std::string log = cluster.HeadLog();  // what the head saw last, to tell why
    std::printf("  the head's log ends with:\n%s\n", log.substr(log.size() > 3000 ? log.size() - 3000 : 0).c_str());
  }

  // ---- 9. Stop ----------------------------------------------------------------
  Section("9. Stop the cluster: nothing is left");
  {
    std::map<int, std::set<int>> workers;
    for (const auto& d : cluster.daemons()) workers[d.pid] = ChildrenOf(d.pid);
    if (lumen::IsInitialized()) lumen::Shutdown();  // ends this driver's job: its workers go
    std::string out = cluster.Stop();
    std::printf("  lumen stop --address %s\n", cluster.address().c_str());
    for (size_t at = 0, end; (end = out.find('\n', at)) != std::string::npos; at = end + 1)
      std::printf("    %s\n", out.substr(at, end - at).c_str());
    size_t processes = 0, left = 0;
    for (const auto& [daemon, children] : workers)
      for (int pid : children) ++processes, left += !Within(5000, [&] { return !Alive(pid); });
    for (const auto& d : cluster.daemons()) {
      bool gone = Within(5000, [&] { return !Alive(d.pid); });
      std::printf("  %-4s daemon pid %d: %s\n", d.name.c_str(), d.pid, gone ? "gone" : "STILL RUNNING");
      Check(gone, d.name + " daemon stopped");
    }
    std::printf("  %zu worker processes they had: %zu left\n", processes, left);
    Check(left == 0, "every worker process stopped with its daemon");
    std::error_code ignore;
    std::filesystem::remove_all(Scratch(), ignore);
  }

  std::printf(
      "\nExercises\n"
      "  1. Start the red node with --num-cpus 1 and run section 3 again: how many red tasks run at\n"
      "     once now, and why (a red task also takes 1 CPU)?\n"
      "  2. Ask for SetResource(\"GPU\", 1) without lowering the CPU: do the two GPU tasks of section 4\n"
      "     still overlap on the 1-CPU gpu node? Print their start times.\n"
      "  3. Submit 12 RunFor(400) in section 7 instead of 6: how do they spread, and how long does it\n"
      "     take? Compare with SetResource(\"CPU\", 0.5).\n"
      "  4. In section 8, pass the 32 MiB by value instead of by ref to a red task, three times:\n"
      "     what does each call cost, and why is one Put better?\n"
      "  5. By hand: lumen start --head --port 7070 --num-cpus 2, add a node, run `lumen status`\n"
      "     while a driver's tasks run, then `lumen stop`.\n"
      "  6. In section 7c, make 'apart' four bundles: what state is it in, and what would make it\n"
      "     CREATED? Try SPREAD instead of STRICT_SPREAD.\n");
  return Finish("05");
}

// Exercises (also printed at the end of the run):
//   1. Start the red node with --num-cpus 1: how many red tasks run at once?
//   2. GPU tasks with 1 CPU each on the 1-CPU gpu node: do they overlap?
//   3. 12 tasks in section 7 instead of 6; then with CPU 0.5 each.
//   4. The 32 MiB by value instead of by ref, three times: what does each cost?
//   5. By hand: lumen start --head, a node, `lumen status`, `lumen stop`.
//   6. Four bundles STRICT_SPREAD in section 7c: what state, and why? SPREAD?
