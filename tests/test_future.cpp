#include <connectors/connectors.hpp>
#include <gtest/gtest.h>
TEST(Placeholder, Compiles) { SUCCEED(); }
