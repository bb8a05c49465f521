// The writer of a file's latest text, by itself in a temporary directory:
// the latest text wins, the destructor writes it, a failing write is told
// once and reported by Flush.
#include "node/latest_file_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "../storage/lineage/temp_dir.h"

namespace lumen::internal {
namespace {

using namespace std::chrono_literals;
using storage::testing::TempDir;

std::string Read(const std::string& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(LatestFileWriterTest, TheFileHoldsTheLatestTextOnceFlushed) {
  TempDir dir;
  std::string file = dir.path() + "/state.json";
  LatestFileWriter writer(file, nullptr);
  EXPECT_EQ(writer.Flush(5s), "");  // nothing given: nothing to wait for
  for (int i = 0; i < 200; ++i) writer.Write("text " + std::to_string(i));
  EXPECT_EQ(writer.Flush(10s), "");
  EXPECT_EQ(Read(file), "text 199");
  EXPECT_FALSE(std::filesystem::exists(file + ".partial"));
}

TEST(LatestFileWriterTest, TheDestructorWritesTheLatestText) {
  TempDir dir;
  std::string file = dir.path() + "/state.json";
  {
    LatestFileWriter writer(file, nullptr);
    for (int i = 0; i < 50; ++i) writer.Write("text " + std::to_string(i));
  }
  EXPECT_EQ(Read(file), "text 49");
}

TEST(LatestFileWriterTest, AFailingWriteIsToldOnceAndReportedByFlush) {
  TempDir dir;
  std::string file = dir.path() + "/missing/state.json";
  std::mutex mu;
  std::vector<std::string> told;
  LatestFileWriter writer(file, [&](const std::string& error) {
    std::lock_guard lock(mu);
    told.push_back(error);
  });
  writer.Write("one");
  EXPECT_NE(writer.Flush(5s).find("cannot create"), std::string::npos);
  writer.Write("two");
  EXPECT_NE(writer.Flush(5s).find("cannot create"), std::string::npos);
  std::filesystem::create_directory(dir.path() + "/missing");
  writer.Write("three");
  EXPECT_EQ(writer.Flush(5s), "");
  EXPECT_EQ(Read(file), "three");
  std::lock_guard lock(mu);
  ASSERT_EQ(told.size(), 2u);  // the failure once, then its end
  EXPECT_NE(told[0].find("cannot create"), std::string::npos) << told[0];
  EXPECT_EQ(told[1], "");
}

}  // namespace
}  // namespace lumen::internal
