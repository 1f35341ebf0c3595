// The main of the test programs that use worker processes: connectors::init
// must run first, while the program is single-threaded.
#include <connectors/init.hpp>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  connectors::init(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
