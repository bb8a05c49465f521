// Who may read a session: its sockets, segment and log are the user's alone
// (failed before its fix: the session dir was 0755 and the store socket and
// lineage files open to every local user, whatever the umask).
#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "lumen/api.h"

namespace {

namespace fs = std::filesystem;

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

TEST(SessionTest, SessionFilesArePrivateWhateverTheUmask) {
  mode_t old = ::umask(0);
  lumen::Init();
  std::string dir = lumen::GetClusterInfo().session_dir;
  EXPECT_EQ(ModeOf(dir), 0700u);
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    mode_t mode = ModeOf(entry.path());
    EXPECT_EQ(mode & 0077, 0u) << entry.path() << " is open to others: " << std::oct << mode;
  }
  lumen::Shutdown();
  ::umask(old);
}

}  // namespace
