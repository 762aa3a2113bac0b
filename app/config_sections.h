// The section readers that LoadConfig runs, one per module, each in its own app/config_<x>.cc.
// Each reads its table(s) from the document root into its field of Config; problems are recorded
// on the ConfigSection, never thrown.
#pragma once

#include "app/config.h"
#include "app/config_reader.h"

namespace kefu::app {

using SectionReader = void (*)(const ConfigSection& root, Config& config);

void ReadServerConfig(const ConfigSection& root, Config& config);   // [server]
void ReadStorageConfig(const ConfigSection& root, Config& config);  // [storage]
void ReadDaemonConfig(const ConfigSection& root, Config& config);   // [log] [daemon] [auth]
void ReadSlaConfig(const ConfigSection& root, Config& config);      // [sla], app/config_sla.cc
void ReadBotConfig(const ConfigSection& root, Config& config);      // [bot], app/config_bot.cc
// [[wecom.apps]] [[dingtalk.apps]], app/config_channels.cc
void ReadChannelsSection(const ConfigSection& root, Config& config);
void ReadKnowledgeConfig(const ConfigSection& root, Config& config);  // app/config_knowledge.cc

}  // namespace kefu::app
