// Rank 0 of a job whose rank 2 runs another binary (this file built with
// another CONNECTORS_VARIANT): init must say so, name that rank only, and the
// job must still end cleanly. Exits 0 when it did.
#include <connectors/mpi.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

#ifndef CONNECTORS_VARIANT
#define CONNECTORS_VARIANT "first"
#endif

int main(int argc, char** argv) {
  // Part of the binary, so that the two variants differ.
  std::printf("variant %s\n", CONNECTORS_VARIANT);
  try {
    connectors::init(argc, argv);
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    std::printf("init: %s\n", message.c_str());
    const bool names_rank_2 = message.find("ranks 2 (") != std::string::npos;
    const bool names_rank_1 = message.find(" 1 (") != std::string::npos;
    const bool explains = message.find("same executable") != std::string::npos;
    connectors::MpiExecutor executor{0};
    const bool one_rank_serves = executor.number_of_ranks() == 1;
    return names_rank_2 && !names_rank_1 && explains && one_rank_serves ? 0 : 1;
  }
  std::printf("init accepted a different binary\n");
  return 1;
}
