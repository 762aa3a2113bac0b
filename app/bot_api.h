// The bot in kefud: REST handlers for customers and conversations, the [bot] config reader, and
// the Module that runs the conversation engine.
//
// REST (authenticated, any role):
//   GET /api/v1/conversations?state=&channel=&customer_id=&limit=&before=
//       -> {"conversations": [conversation...], "next_before": id | null}
//   GET /api/v1/conversations/{id}
//       -> {"conversation": {...}, "customer": {...}, "messages": [message...]}   (404 unknown)
//   GET /api/v1/customers/{id}
//       -> {"customer": {...}, "conversations": [conversation...]}                (404 unknown)
// Shapes: bot::CustomerToJson / ConversationToJson / MessageToJson (bot/conversation.h).
#pragma once

#include <memory>

#include "app/config_reader.h"
#include "app/module.h"
#include "bot/bot_options.h"

namespace kefu::app {

// Registers the three routes above; reads run on the worker pool with a ReadPool connection.
void RegisterBotApi(Services& services);

// Reads the [bot] table (`bot_table` = root.Table("bot")) into `out`; every problem is recorded
// on the section naming the key (cross-field rules from BotOptions::Validate under "bot").
void ReadBotOptions(const ConfigSection& bot_table, bot::BotOptions& out);

// The "bot" module: migrations of bot::SqliteConversationStore, the REST routes, and (in Start)
// the ConversationEngine over the ports other modules Provide():
//   bot::FaqMatcher   (else: a bot::KnowledgeFaqMatcher over a provided knowledge::Matcher,
//                      loaded from a provided knowledge::FaqStore),
//   bot::InboundLedger, bot::ReplyOutbox (the channels module),
//   bot::HandoffDesk  (else: a bot::TicketingHandoffDesk over a provided
//                      ticketing::TicketService, started and stopped by this module).
// It Provides bot::InboundSubmitter in Init (forwarding to the engine once started) for the
// channels' InboundSink. When a port is missing the engine is not started (logged); REST works.
std::unique_ptr<Module> MakeBotModule(bot::BotOptions options = {});

}  // namespace kefu::app
