// Runtime bugs the harness has found and that are not fixed yet, recognised
// by what their failure says. A run that fails only with known bugs gets the
// verdict KNOWN (printed with the bug's id) instead of FAIL, so that the
// ctest matrix stays a guard against new failures while the table keeps
// showing the old ones; --strict turns KNOWN into a failure. Delete an entry
// once its fix lands: the seeds listed replay it.
#pragma once

#include <string>

namespace chaos {

struct KnownBug {
  const char* id;
  const char* what;
};

// The known bug a failure line shows, or nullptr.
const KnownBug* MatchKnownBug(const std::string& failure);

}  // namespace chaos
