// Runs one task on an embedded cluster through the installed package.
#include <lumen/api.h>

#include <iostream>

int Plus(int x, int y) { return x + y; }
LUMEN_REMOTE(Plus);

int main(int argc, char** argv) {
  lumen::Config config;
  config.num_cpus = 1;
  lumen::Init(config, argc, argv);
  int sum = *lumen::Task(Plus).Remote(40, 2).Get();
  lumen::Shutdown();
  std::cout << "consumer: 40 + 2 = " << sum << std::endl;
  return sum == 42 ? 0 : 1;
}
