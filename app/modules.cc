#include "app/app_module.h"
#include "app/module.h"

namespace kefu::app {

std::vector<std::unique_ptr<Module>> MakeModules() {
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(MakeAppModule());
  return modules;
}

}  // namespace kefu::app
