// This process's command line and executable, as /proc tells them: what a
// worker re-executes to become a copy of its driver.
#pragma once

#include <string>
#include <vector>

namespace lumen::internal {

std::vector<std::string> OwnCommandLine();
// The absolute path of this process's executable ("" if unknown).
std::string OwnBinary();

}  // namespace lumen::internal
