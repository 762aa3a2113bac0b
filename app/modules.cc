#include "app/app_module.h"
#include "app/module.h"
#if defined(KEFU_HAVE_knowledge)
#include "app/knowledge_api.h"
#endif
#if defined(KEFU_HAVE_ticketing)
#include "app/ticketing_api.h"
#endif
#if defined(KEFU_HAVE_bot)
#include "app/bot_api.h"
#endif

namespace kefu::app {

// One line per module, in dependency order: a module that Get()s a service comes after the one
// that Provide()s it. Feature modules are guarded by KEFU_HAVE_<library> (set by
// app/CMakeLists.txt when the library is in the build).
std::vector<std::unique_ptr<Module>> MakeModules(const Config& config) {
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(MakeAppModule());
#if defined(KEFU_HAVE_knowledge)
  modules.push_back(MakeKnowledgeModule());
#endif
#if defined(KEFU_HAVE_ticketing)
  modules.push_back(MakeTicketingModule());
#endif
#if defined(KEFU_HAVE_bot)
  modules.push_back(MakeBotModule(config.bot));
#endif
  (void)config;
  return modules;
}

}  // namespace kefu::app
