// Decrypted WeCom app messages -> InboundMessage (spec §2.3, dedupe keys §6.1). Pure.
#pragma once

#include <string_view>

#include "channels/common/inbound.h"
#include "channels/common/xml.h"
#include "core/result.h"

namespace kefu::channels::wecom {

// Builds the normalised message from decrypted XML fields. `plaintext` is the decrypted XML (kept
// as payload, hashed for event dedupe). Unknown MsgType/Event values are kept as they are (the bot
// ignores them). Errors: kInvalidArgument when FromUserName or MsgType is missing.
Result<InboundMessage> ToInbound(std::string_view app, std::string_view corp_id, const XmlFields& f,
                                 std::string_view plaintext, int64_t received_at_ms);

// Outbound text in XML: the passive text reply of spec §2.4 (To/From swapped).
std::string PassiveTextReply(std::string_view to_user, std::string_view corp_id,
                             int64_t create_time_s, std::string_view text);

}  // namespace kefu::channels::wecom
