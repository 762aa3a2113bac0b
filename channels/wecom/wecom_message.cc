#include "channels/wecom/wecom_message.h"

#include <cstdint>

#include "channels/common/wx_crypto.h"

namespace kefu::channels::wecom {
namespace {

int64_t ParseInt(std::string_view s) {
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    if (v > (INT64_MAX - 9) / 10) return 0;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Appends `s` (valid UTF-8) as a JSON string literal.
void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

Result<InboundMessage> ToInbound(std::string_view app, std::string_view corp_id, const XmlFields& f,
                                 std::string_view plaintext, int64_t received_at_ms) {
  std::string from(FieldOr(f, "FromUserName"));
  std::string type(FieldOr(f, "MsgType"));
  if (from.empty()) return InvalidArgument("wecom message: FromUserName missing");
  if (type.empty()) return InvalidArgument("wecom message: MsgType missing");
  std::string agent(FieldOr(f, "AgentID"));
  std::string create(FieldOr(f, "CreateTime"));
  InboundMessage m;
  m.channel = "wecom";
  m.app = std::string(app);
  m.sender = from;
  m.conversation = "wecom|" + m.app + "|" + from;
  m.msg_type = type;
  m.platform_msg_id = std::string(FieldOr(f, "MsgId"));
  m.platform_time_ms = ParseInt(create) * 1000;
  m.received_at_ms = received_at_ms;
  m.payload = std::string(plaintext);
  std::string scope = std::string(corp_id) + "|" + agent + "|" + from;
  if (type == "event" || m.platform_msg_id.empty()) {
    m.event = std::string(FieldOr(f, "Event"));
    // FromUserName + CreateTime merges distinct events of the same second (WxJava #1745): the
    // plaintext hash breaks the tie.
    m.dedupe_key = "wecom|" + scope + "|" + create + "|" + m.event + "|" +
                   std::string(FieldOr(f, "EventKey")) + "|" + Sha256Hex(plaintext);
  } else {
    // corpid|agentid|FromUserName|MsgId (spec §6.1) with the MsgId first: MsgIds grow over time,
    // so the unique index takes new keys at its end instead of at a page chosen by the sender.
    m.dedupe_key = "wecom|" + m.platform_msg_id + "|" + scope;
  }
  if (type == "text") m.text = std::string(FieldOr(f, "Content"));
  // {"agent_id": ..., "touser": ...}, built by hand: a JSON document per callback was a
  // measurable share of the I/O threads' time.
  m.reply_context.reserve(32 + agent.size() + from.size());
  m.reply_context = "{\"agent_id\":";
  AppendJsonString(m.reply_context, agent);
  m.reply_context += ",\"touser\":";
  AppendJsonString(m.reply_context, from);
  m.reply_context += '}';
  return m;
}

std::string PassiveTextReply(std::string_view to_user, std::string_view corp_id,
                             int64_t create_time_s, std::string_view text) {
  return "<xml><ToUserName>" + Cdata(to_user) + "</ToUserName><FromUserName>" + Cdata(corp_id) +
         "</FromUserName><CreateTime>" + std::to_string(create_time_s) +
         "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>" + Cdata(text) +
         "</Content></xml>";
}

}  // namespace kefu::channels::wecom
