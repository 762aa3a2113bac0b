// kefuctl: administration CLI; everything is in kefu::tools::RunKefuctl.
#include <iostream>

#include "core/clock.h"
#include "tools/command.h"

int main(int argc, char** argv) {
  kefu::SystemClock clock;
  return kefu::tools::RunKefuctl(argc, argv, std::cout, std::cerr, clock);
}
