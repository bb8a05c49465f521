// Provenance: the text behind `lumen lineage ID`.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace lumen::storage
