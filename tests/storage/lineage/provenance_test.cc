// Provenance: the text behind `lumen lineage ID`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "lumen/storage/lineage_log.h"
#include "temp_dir.h"

namespace lumen::storage {
namespace {

using testing::TempDir;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

class ProvenanceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(LineageLog::Open(dir_.path(), {}, &log_).ok()); }

  ObjectID Task(const std::string& function, const std::vector<ObjectID>& args, ActorID actor = ActorID(),
               bool creation = false) {
    TaskRecord task;
    task.id = TaskID::Random();
    task.function = function;
    task.owner = "driver";
    task.actor = actor;
    task.actor_creation = creation;
    task.submitted_ms = 1700000000000;
    for (const ObjectID& id : args) {
      ArgRecord arg;
      arg.by_ref = true;
      arg.ref = id;
      task.args.push_back(arg);
    }
    ArgRecord inline_arg;
    inline_arg.value = std::string(8, 'x');
    task.args.push_back(inline_arg);
    task.returns.push_back(ObjectID::ForTaskReturn(task.id, 0));
    log_->Append(task);
    ObjectRecord object;
    object.id = task.returns[0];
    object.created_by = task.id;
    object.owner = "driver";
    object.size = 8;
    object.node = "node-1";
    log_->Append(object);
    return object.id;
  }

  std::string Render(const ObjectID& id, int depth) {
    EXPECT_TRUE(log_->Flush(10000));
    std::string tree;
    Status s = log_->Provenance(id, depth, &tree);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return tree;
  }

  TempDir dir_;
  std::unique_ptr<LineageLog> log_;
};

TEST_F(ProvenanceTest, ShowsObjectsTasksAndArgumentsAsATree) {
  ObjectRecord put;
  put.id = ObjectID::ForPut();
  put.created_by = put.id.Task();
  put.is_put = true;
  put.owner = "driver";
  put.size = 100;
  log_->Append(put);
  ObjectID a = Task("load", {put.id});
  ObjectID b = Task("add", {a});
  std::string tree = Render(b, 10);
  SCOPED_TRACE(tree);
  EXPECT_EQ(tree.rfind("object " + b.Hex() + " = return 0 of task " + b.Task().Hex(), 0), 0u);
  EXPECT_NE(tree.find("\n  task " + b.Task().Hex() + " add() attempt 0, owner driver"), std::string::npos);
  EXPECT_NE(tree.find("\n    arg 0: object " + a.Hex()), std::string::npos);
  EXPECT_NE(tree.find("\n      task " + a.Task().Hex() + " load()"), std::string::npos);
  EXPECT_NE(tree.find("\n        arg 0: object " + put.id.Hex() + " = put by driver, 100 B"), std::string::npos);
  EXPECT_NE(tree.find("\n    arg 1: inline 8 B\n"), std::string::npos);
}

TEST_F(ProvenanceTest, ADiamondExpandsTheSharedTaskOnce) {
  ObjectID a = Task("root", {});
  ObjectID d = Task("join", {Task("left", {a}), Task("right", {a})});
  std::string tree = Render(d, 10);
  SCOPED_TRACE(tree);
  EXPECT_EQ(Count(tree, "root()"), 1u);
  EXPECT_EQ(Count(tree, "(shown above)"), 1u);
}

TEST_F(ProvenanceTest, StopsAtTheDepthBound) {
  ObjectID last = Task("t", {});
  for (int i = 0; i < 50; ++i) last = Task("t", {last});
  std::string tree = Render(last, 3);
  SCOPED_TRACE(tree);
  EXPECT_EQ(Count(tree, " t()"), 3u);
  EXPECT_EQ(Count(tree, "depth limit 3"), 1u);
}

TEST_F(ProvenanceTest, UnknownObjectIsNotFound) {
  std::string tree;
  ObjectID stranger = ObjectID::ForPut();
  Status s = log_->Provenance(stranger, 5, &tree);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find(stranger.Hex()), std::string::npos);
}

TEST_F(ProvenanceTest, AMissingArgumentRecordIsShownNotFatal) {
  ObjectID stranger = ObjectID::ForTaskReturn(TaskID::Random(), 0);
  ObjectID a = Task("a", {stranger});
  std::string tree = Render(a, 5);
  EXPECT_NE(tree.find("(no lineage record)"), std::string::npos) << tree;
}

TEST_F(ProvenanceTest, MarksWhichObjectsExistNow) {
  ObjectID a = Task("load", {});
  ObjectID b = Task("add", {a});
  ASSERT_TRUE(log_->Flush(10000));
  ProvenanceQuery query;
  query.exists = [&](const ObjectID& id) { return id == a; };  // b was evicted, a is still there
  std::string tree;
  ASSERT_TRUE(log_->Provenance(b, query, &tree).ok());
  SCOPED_TRACE(tree);
  EXPECT_NE(tree.find("object " + b.Hex() + " = return 0 of task " + b.Task().Hex() + ", 8 B on node-1, owner driver [missing]\n"),
            std::string::npos);
  EXPECT_NE(tree.find("arg 0: object " + a.Hex() + " = return 0 of task " + a.Task().Hex() +
                      ", 8 B on node-1, owner driver [in store]\n"),
            std::string::npos);
  EXPECT_NE(tree.find("submitted 2023-11-14T22:13:20.000Z"), std::string::npos);
}

TEST_F(ProvenanceTest, JsonHasTheSameTree) {
  ObjectRecord put;
  put.id = ObjectID::ForPut();
  put.created_by = put.id.Task();
  put.is_put = true;
  put.owner = "driver";
  put.size = 100;
  log_->Append(put);
  ObjectID a = Task("load", {put.id});
  ObjectID b = Task("add", {a});
  ASSERT_TRUE(log_->Flush(10000));
  ProvenanceQuery query;
  query.json = true;
  query.exists = [&](const ObjectID& id) { return id != b; };
  std::string text;
  ASSERT_TRUE(log_->Provenance(b, query, &text).ok());
  SCOPED_TRACE(text);
  nlohmann::json doc = nlohmann::json::parse(text);
  const auto& object = doc["object"];
  EXPECT_EQ(object["id"], b.Hex());
  EXPECT_EQ(object["kind"], "task_return");
  EXPECT_EQ(object["record"], "present");
  EXPECT_EQ(object["exists"], false);
  EXPECT_EQ(object["size"], 8);
  const auto& task = object["task"];
  EXPECT_EQ(task["function"], "add");
  EXPECT_EQ(task["owner"], "driver");
  EXPECT_EQ(task["submitted_ms"], 1700000000000u);
  EXPECT_GT(task["recorded_ms"].get<uint64_t>(), 0u);
  ASSERT_EQ(task["args"].size(), 2u);
  EXPECT_EQ(task["args"][1]["inline_bytes"], 8);
  const auto& input = task["args"][0]["object"];
  EXPECT_EQ(input["id"], a.Hex());
  EXPECT_EQ(input["exists"], true);
  EXPECT_EQ(input["task"]["function"], "load");
  const auto& leaf = input["task"]["args"][0]["object"];
  EXPECT_EQ(leaf["kind"], "put");
  EXPECT_EQ(leaf["size"], 100);
  EXPECT_FALSE(leaf.contains("task"));
}

TEST_F(ProvenanceTest, AnActorCallShowsTheActorAndHowItWasCreated) {
  ActorRecord actor;
  actor.id = TaskID::Random();
  actor.class_name = "Counter";
  actor.name = "hits";
  actor.ns = "web";
  actor.state = ActorState::kAlive;
  actor.creation_task = Task("Counter", {}, actor.id, true).Task();
  log_->Append(actor);
  ObjectID call = Task("incr", {}, actor.id);
  std::string tree = Render(call, 10);
  SCOPED_TRACE(tree);
  EXPECT_NE(tree.find("\n  task " + call.Task().Hex() + " incr() on actor " + actor.id.Hex()), std::string::npos);
  EXPECT_NE(tree.find("\n    actor " + actor.id.Hex() + " Counter \"hits\" in web (alive, 0 restarts)\n"),
            std::string::npos);
  EXPECT_NE(tree.find("\n      task " + actor.creation_task.Hex() + " Counter() creates actor " + actor.id.Hex()),
            std::string::npos);
}

TEST_F(ProvenanceTest, AReaderBesideTheLiveWriterSeesWhatIsDurable) {
  ObjectID a = Task("load", {});
  ObjectID b = Task("add", {a});
  ASSERT_TRUE(log_->Flush(10000));  // durable in the write-ahead log only: nothing compacted
  std::unique_ptr<LineageLog> reader;
  Status s = LineageLog::OpenReadOnly(dir_.path(), &reader);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string tree;
  ASSERT_TRUE(reader->Provenance(b, 10, &tree).ok());
  EXPECT_NE(tree.find(" load()"), std::string::npos) << tree;
  log_->Append(TaskRecord());  // the writer goes on while the reader is open
  EXPECT_TRUE(log_->Flush(10000));
}

TEST(ProvenanceReadOnly, NoLogIsNotFoundAndCreatesNothing) {
  TempDir dir;
  std::unique_ptr<LineageLog> reader;
  Status s = LineageLog::OpenReadOnly(dir.path() + "/nothing", &reader);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("no lineage log"), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/nothing"));
}

}  // namespace
}  // namespace lumen::storage
