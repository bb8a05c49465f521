// Workload "pipeline": a chain of stateful actors, each item passed from one
// stage to the next as an ObjectRef, every stage's output checked.
//
// What is checked is what lumen promises today for actors created with
// SetMaxRestarts(-1) and SetMaxTaskRetries(-1):
//   - every output is exact (each stage applies a known function);
//   - no call is lost: every Get returns, none throws ActorDiedError;
//   - a restart re-runs the factory: a new incarnation reports
//     WasCurrentActorRestarted() and counts its calls from 1 again;
//   - calls from one caller run in submission order: within an incarnation
//     the call counter only grows.
// Replay of calls after a restart (SetReplayOnRestart) is being built. The
// pipeline asks for it as soon as the API has it (kReplay, below, detects
// the setter when this file compiles); the check then tightens to what replay
// promises: a stage's n-th call reports n, across any number of restarts.
#include <unistd.h>

#include <string>
#include <vector>

#include "workload.h"

namespace chaos {
namespace {

constexpr int kStages = 3;

struct StageOutput {
  uint64_t value = 0;
  int pid = 0;
  uint64_t calls = 0;      // calls this incarnation has run, this one included
  bool restarted = false;  // WasCurrentActorRestarted() of the incarnation
  LUMEN_FIELDS(value, pid, calls, restarted);
};

uint64_t StageFunction(int stage, uint64_t salt, uint64_t x) { return Mix(x ^ (salt + 0x1000193ULL * (stage + 1))); }

class Stage {
 public:
  static Stage* Make(int stage, uint64_t salt) { return new Stage(stage, salt); }
  StageOutput Apply(StageOutput in) {
    ++calls_;
    return {StageFunction(stage_, salt_, in.value), static_cast<int>(getpid()), calls_,
            lumen::WasCurrentActorRestarted()};
  }

 private:
  Stage(int stage, uint64_t salt) : stage_(stage), salt_(salt) {}
  const int stage_;
  const uint64_t salt_;
  uint64_t calls_ = 0;
};
LUMEN_REMOTE(Stage::Make, &Stage::Apply);

template <class Creator>
concept HasReplayOnRestart = requires(Creator creator) { creator.SetReplayOnRestart(true); };
using StageCreator = decltype(lumen::Actor(Stage::Make));
constexpr bool kReplay = HasReplayOnRestart<StageCreator>;

// A template, so that the call is only compiled where the setter exists.
template <class Creator>
Creator& AskForReplay(Creator& creator) {
  if constexpr (HasReplayOnRestart<Creator>) creator.SetReplayOnRestart(true);
  return creator;
}

class ActorPipeline : public Workload {
 public:
  explicit ActorPipeline(const WorkloadSettings& settings)
      : settings_(settings), items_per_round_(24 * settings.scale) {}

  void Configure(lumen::Config* config) const override { config->num_cpus = 2; }

  std::vector<FaultKind> Faults() const override {
    return {FaultKind::kKillActor, FaultKind::kKillActor, FaultKind::kKillWorker, FaultKind::kStopWorker};
  }

  void Start(RunLog&) override {
    for (int s = 0; s < kStages; ++s) {
      StageCreator creator = lumen::Actor(Stage::Make);
      creator.SetMaxRestarts(-1).SetMaxTaskRetries(-1);
      stages_.push_back(AskForReplay(creator).Remote(s, settings_.seed));
    }
    seen_.assign(kStages, Incarnation{});
  }

  void RunRound(RunLog& log) override {
    std::vector<std::vector<lumen::ObjectRef<StageOutput>>> outputs(kStages);
    for (int i = 0; i < items_per_round_; ++i) {
      StageOutput input;
      input.value = settings_.seed * 1000003ULL + next_item_ + i;
      outputs[0].push_back(stages_[0].Task(&Stage::Apply).Remote(input));
      for (int s = 1; s < kStages; ++s) outputs[s].push_back(stages_[s].Task(&Stage::Apply).Remote(outputs[s - 1].back()));
    }
    for (int i = 0; i < items_per_round_; ++i) {
      uint64_t expected = settings_.seed * 1000003ULL + next_item_ + i;
      for (int s = 0; s < kStages; ++s) {
        expected = StageFunction(s, settings_.seed, expected);
        std::string what = "item " + std::to_string(next_item_ + i) + " at stage " + std::to_string(s);
        StageOutput out = *GetWithin(outputs[s][i], settings_.get_timeout_ms, what);
        if (out.value != expected) log.Fail(what + ": value " + std::to_string(out.value) + ", expected " + std::to_string(expected));
        CheckIncarnation(log, s, out, what);
        if (kReplay && out.calls != next_item_ + i + 1)
          log.Fail(what + ": with replay the stage's call " + std::to_string(next_item_ + i + 1) + " reports " +
                   std::to_string(out.calls) + ": state was not replayed exactly once");
        log.ActorSeenIn("stage" + std::to_string(s), out.pid);
      }
      log.ResultChecked();
    }
    next_item_ += items_per_round_;
  }

  std::string Extra() const override {
    return std::to_string(next_item_) + " items x " + std::to_string(kStages) + (kReplay ? ", replay" : ", no replay");
  }

  void Stop() override {
    for (auto& stage : stages_) stage.Kill();
    stages_.clear();
  }

 private:
  struct Incarnation {
    int pid = 0;
    uint64_t calls = 0;
  };

  // Order within an incarnation, and a fresh start after a restart.
  void CheckIncarnation(RunLog& log, int s, const StageOutput& out, const std::string& what) {
    Incarnation& last = seen_[s];
    if (out.pid == last.pid) {
      if (out.calls <= last.calls)
        log.Fail(what + ": call counter went from " + std::to_string(last.calls) + " to " + std::to_string(out.calls) +
                 " in one process: calls ran out of order or twice");
    } else {
      bool first_ever = last.pid == 0;
      if (first_ever && out.restarted) log.Fail(what + ": the first incarnation says it was restarted");
      if (!first_ever && !out.restarted) log.Fail(what + ": a new process without WasCurrentActorRestarted()");
      // Without replay the factory re-ran, so the counter started over. A first result
      // above 1 means a call ran on the new incarnation whose result we got
      // from the old one: a call re-sent although it had finished, which
      // at-least-once allows when its reply was still on the way. A note,
      // not a failure.
      if (!kReplay && !first_ever && out.calls != 1)
        log.Note(what + ": the restarted incarnation's first result is its call " + std::to_string(out.calls) +
                 " (" + std::to_string(out.calls - 1) + " re-sent call(s) ran again)");
    }
    last = {out.pid, out.calls};
  }

  const WorkloadSettings settings_;
  const int items_per_round_;
  std::vector<lumen::ActorHandle<Stage>> stages_;
  std::vector<Incarnation> seen_;
  uint64_t next_item_ = 0;
};

}  // namespace

std::unique_ptr<Workload> MakeActorPipeline(const WorkloadSettings& settings) {
  return std::make_unique<ActorPipeline>(settings);
}

}  // namespace chaos
