// `lumen lineage ID --storage DIR [--json]` and `lumen gc --storage DIR`,
// through the real binary: output, exit status and the messages of each error.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lumen/storage/lineage_log.h"
#include "temp_dir.h"

namespace lumen::storage {
namespace {

using testing::TempDir;

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `lumen ARGS...` to completion, its output in files under `scratch`.
Outcome Lumen(const std::string& scratch, std::vector<std::string> args) {
  args.insert(args.begin(), LUMEN_CLI_PATH);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string out_path = scratch + "/stdout", err_path = scratch + "/stderr";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  Outcome o;
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
  o.out = ReadFile(out_path);
  o.err = ReadFile(err_path);
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return o;
}

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

class LineageCliTest : public ::testing::Test {
 protected:
  std::string dir() const { return storage_.path() + "/log"; }

  // Opens the log, its records stamped `age_ms` in the past.
  void Open(uint64_t age_ms) {
    log_.reset();
    LineageOptions options;
    options.now_ms = [age_ms] { return NowMs() - age_ms; };
    options.retention.interval = std::chrono::milliseconds(0);
    ASSERT_TRUE(LineageLog::Open(dir(), options, &log_).ok());
  }

  ObjectID Task(const std::string& function, const std::vector<ObjectID>& args) {
    TaskRecord task;
    task.id = TaskID::Random();
    task.function = function;
    task.owner = "driver";
    for (const ObjectID& id : args) {
      ArgRecord arg;
      arg.by_ref = true;
      arg.ref = id;
      task.args.push_back(arg);
    }
    task.args.emplace_back();
    task.args.back().value = "12345678";
    task.returns.push_back(ObjectID::ForTaskReturn(task.id, 0));
    log_->Append(task);
    ObjectRecord object;
    object.id = task.returns[0];
    object.created_by = task.id;
    object.owner = "driver";
    object.size = 8;
    log_->Append(object);
    EXPECT_TRUE(log_->Flush(10000));
    return object.id;
  }

  TempDir storage_;
  TempDir scratch_;
  std::unique_ptr<LineageLog> log_;
};

TEST_F(LineageCliTest, PrintsTheTreeWhileALiveDriverHoldsTheLog) {
  Open(0);
  ObjectID a = Task("load", {});
  ObjectID b = Task("add", {a});
  // log_ stays open: RocksDB's lock is held, as by a running driver.
  Outcome o = Lumen(scratch_.path(), {"lineage", b.Hex(), "--storage", dir()});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out.rfind("object " + b.Hex() + " = return 0 of task " + b.Task().Hex(), 0), 0u) << o.out;
  EXPECT_NE(o.out.find("  task " + b.Task().Hex() + " add() attempt 0, owner driver"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("arg 0: object " + a.Hex()), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(" load() attempt 0"), std::string::npos) << o.out;

  o = Lumen(scratch_.path(), {"lineage", b.Hex(), "--storage", dir(), "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  nlohmann::json doc = nlohmann::json::parse(o.out);
  EXPECT_EQ(doc["object"]["task"]["function"], "add");
  EXPECT_EQ(doc["object"]["task"]["args"][0]["object"]["task"]["function"], "load");
  EXPECT_EQ(doc["object"]["task"]["args"][1]["inline_bytes"], 8);
}

TEST_F(LineageCliTest, SaysWhyItCannotAnswer) {
  Outcome o = Lumen(scratch_.path(), {"lineage", ObjectID::ForPut().Hex(), "--storage", dir()});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("no lineage log in '" + dir() + "'"), std::string::npos) << o.err;
  EXPECT_FALSE(std::filesystem::exists(dir())) << "a query must not create a log";

  Open(0);
  Task("load", {});
  o = Lumen(scratch_.path(), {"lineage", "xyz", "--storage", dir()});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("'xyz' is not an object id (40 hex digits)"), std::string::npos) << o.err;
  std::string task_id = TaskID::Random().Hex();
  o = Lumen(scratch_.path(), {"lineage", task_id, "--storage", dir()});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("that is a task id's length"), std::string::npos) << o.err;

  ObjectID stranger = ObjectID::ForPut();
  o = Lumen(scratch_.path(), {"lineage", stranger.Hex(), "--storage", dir()});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find(stranger.Hex() + ": never recorded in this log"), std::string::npos) << o.err;
}

TEST_F(LineageCliTest, GcRemovesOldRecordsAndLineageSaysSo) {
  Open(40ull * 24 * 3600 * 1000);  // written 40 days ago
  ObjectID old_object = Task("old", {});
  Open(0);
  ObjectID new_object = Task("new", {old_object});

  Outcome o = Lumen(scratch_.path(), {"gc", "--storage", dir(), "--older-than", "30d"});
  EXPECT_EQ(o.exit_code, 1) << "the log is held open here, as by a running driver";
  EXPECT_NE(o.err.find("in use by a running lumen process"), std::string::npos) << o.err;

  // Durable Put copies go with their records, and half-written ones go.
  std::string puts = dir() + "/puts";
  std::filesystem::create_directories(puts);
  for (const std::string& name : {old_object.Hex(), new_object.Hex(), new_object.Hex() + ".partial"})
    std::ofstream(puts + "/" + name) << "0123456789";

  log_.reset();
  o = Lumen(scratch_.path(), {"gc", "--storage", dir(), "--older-than", "30d"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out.rfind("removed 1 tasks, 1 objects, 0 actors", 0), 0u) << o.out;
  EXPECT_NE(o.out.find("removed 2 durable Put copies (20 bytes)"), std::string::npos) << o.out;
  EXPECT_FALSE(std::filesystem::exists(puts + "/" + old_object.Hex()));
  EXPECT_TRUE(std::filesystem::exists(puts + "/" + new_object.Hex()));
  EXPECT_FALSE(std::filesystem::exists(puts + "/" + new_object.Hex() + ".partial"));

  o = Lumen(scratch_.path(), {"lineage", old_object.Hex(), "--storage", dir()});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("removed by retention on "), std::string::npos) << o.err;

  o = Lumen(scratch_.path(), {"lineage", new_object.Hex(), "--storage", dir()});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.out.find(" new() "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("task " + old_object.Task().Hex() + " (removed by retention on "), std::string::npos)
      << o.out;

  o = Lumen(scratch_.path(), {"gc", "--storage", dir(), "--older-than", "soon"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("is not a duration"), std::string::npos) << o.err;
}

}  // namespace
}  // namespace lumen::storage
