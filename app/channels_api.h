// The channels in kefud: the [[wecom.apps]] / [[dingtalk.apps]] reader, the callback routes, the
// outbox REST view and the Module that runs the outbox dispatcher and kf syncs.
//
// Routes (public, signed by the platforms):
//   GET|POST /callback/wecom/{app}          WeCom URL verification / encrypted callbacks
//   POST     /callback/dingtalk/{app}       DingTalk robot callback (header sign)
//   POST     /callback/dingtalk/{app}/event DingTalk encrypted event subscription
// REST (authenticated, supervisor):
//   GET /api/v1/outbox?state=pending|held|sent|dead&limit=N
//       -> {"outbox": [{"id","channel","app","destination","state","attempts","last_error",
//                       "next_attempt_ms","created_ms","sent_ms","inbound_id"}...]}
//
// Ports for the bot (when the bot module is in the build): Init Provides bot::InboundLedger and
// bot::ReplyOutbox over the channels' tables, and hands every newly stored inbound message (and,
// at Start, every unprocessed one) to the bot::InboundSubmitter the bot module Provides. With
// ticketing in the build it Provides ticketing::ReplySink: an agent's reply is addressed with the
// app and reply context of the customer's latest message on that channel.
#pragma once

#include <memory>

#include "app/channels_config.h"
#include "app/config_reader.h"
#include "app/module.h"

namespace kefu::app {

// Reads [[wecom.apps]] and [[dingtalk.apps]] from the document root into `out`, recording every
// problem on the section naming the key (app/config_channels.cc).
void ReadChannelsConfig(const ConfigSection& root, ChannelsConfig& out);

// The "channels" module over `config` (the apps read by ReadChannelsConfig).
std::unique_ptr<Module> MakeChannelsModule(ChannelsConfig config);

}  // namespace kefu::app
