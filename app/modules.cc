#include "app/app_module.h"
#include "app/bot_api.h"
#include "app/channels_api.h"
#include "app/knowledge_api.h"
#include "app/module.h"
#include "app/ticketing_api.h"

namespace kefu::app {

// One line per module, in dependency order: a module that Get()s a service comes after the one
// that Provide()s it. Channels come after the bot: at Start they hand unprocessed inbound
// messages to the bot's engine, which must be running by then.
std::vector<std::unique_ptr<Module>> MakeModules(const Config& config) {
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(MakeAppModule());
  modules.push_back(MakeKnowledgeModule(config.knowledge));
  modules.push_back(MakeTicketingModule());
  modules.push_back(MakeBotModule(config.bot));
  modules.push_back(MakeChannelsModule(config.channels));
  return modules;
}

}  // namespace kefu::app
