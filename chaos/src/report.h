// The harness's output: a table a scenario a row, and for each run the
// faults as injected (with the time to the next checked result), the
// failures and notes, and the command that replays it.
#pragma once

#include <cstdio>
#include <vector>

#include "scenario.h"

namespace chaos {

void PrintTableHeader(std::FILE* out);
void PrintTableRow(std::FILE* out, const ScenarioResult& result);
void PrintTable(std::FILE* out, const std::vector<ScenarioResult>& results);
// The faults as injected, failures, notes and the replay command.
void PrintDetails(std::FILE* out, const ScenarioResult& result);

}  // namespace chaos
