#include "tools/simulate_commands.h"

#include <httplib.h>
#include <toml++/toml.h>

#include <memory>

#include "app/channels_api.h"
#include "app/config_reader.h"
#include "channels/common/callback_util.h"
#include "channels/common/http_client.h"
#include "channels/common/wx_crypto.h"
#include "channels/common/xml.h"

namespace kefu::tools {
namespace {

struct SimulateOptions {
  std::string platform;
  std::string url;
  std::string app;
  std::string from = "kefuctl-simulate";
  std::string text;
  std::string msg_id;
};

std::string RandomDigits(size_t n) {
  std::string s = channels::RandomAlnum(n * 4);
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out += c;
    if (out.size() == n) break;
  }
  while (out.size() < n)
    out += '7';
  if (out[0] == '0') out[0] = '1';
  return out;
}

// Reads only the channel tables of the file (other sections are kefud's business).
Result<app::ChannelsConfig> LoadChannels(const std::string& path) {
  if (path.empty()) return InvalidArgument("--config: required (the kefud TOML file)");
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("--config: " + path + ": " + std::string(e.description()));
  }
  app::ConfigReader reader(root);
  app::ChannelsConfig out;
  app::ReadChannelsConfig(reader.root(), out);
  if (!reader.errors().empty()) return InvalidArgument(reader.errors().front());
  return out;
}

int Simulate(CommandContext& ctx, const SimulateOptions& o) {
  auto channels = LoadChannels(ctx.source().path);
  if (!channels.ok()) return ctx.Fail(channels.status());
  std::string msg_id = o.msg_id.empty() ? RandomDigits(19) : o.msg_id;
  Result<SimulatedRequest> req = InvalidArgument("no such app");
  if (o.platform == "wecom") {
    for (const auto& a : channels->wecom_apps) {
      if (o.app.empty() || a.name == o.app) {
        req = BuildWecomCallback(a, o.from, o.text, msg_id, ctx.clock().NowUnixSeconds());
        break;
      }
    }
  } else {
    for (const auto& a : channels->dingtalk_apps) {
      if (o.app.empty() || a.name == o.app) {
        req = BuildDingtalkCallback(a, o.from, o.text, "msg" + msg_id, ctx.clock().NowUnixMs());
        break;
      }
    }
  }
  if (!req.ok()) {
    return ctx.Fail(InvalidArgument("--app: no " + o.platform + " app named \"" + o.app + "\" in " +
                                    ctx.source().path));
  }
  std::string origin;
  std::string path;
  if (!channels::SplitUrl(o.url, origin, path)) {
    return ctx.Fail(InvalidArgument("--url: must be an absolute http(s) URL"));
  }
  if (!req->target_suffix.empty()) {
    path += (path.find('?') == std::string::npos ? "?" : "&") + req->target_suffix;
  }
  httplib::Client cli(origin);
  cli.set_connection_timeout(3, 0);
  cli.set_read_timeout(10, 0);
  httplib::Headers headers;
  for (const auto& [k, v] : req->headers)
    headers.emplace(k, v);
  auto res = cli.Post(path, headers, req->body, req->content_type);
  if (!res) {
    return ctx.Fail(Unavailable("POST " + o.url + ": " + httplib::to_string(res.error())));
  }
  if (ctx.json()) {
    ctx.PrintJson({{"status", res->status}, {"body", res->body}, {"msg_id", msg_id}});
  } else {
    ctx.out() << "HTTP " << res->status << " msg_id=" << msg_id << "\n";
    if (!res->body.empty()) ctx.out() << res->body << "\n";
  }
  return res->status == 200 ? kExitOk : kExitFailure;
}

}  // namespace

Result<SimulatedRequest> BuildWecomCallback(const channels::wecom::WecomAppConfig& app,
                                            const std::string& from, const std::string& text,
                                            const std::string& msg_id, int64_t now_s) {
  channels::AesKey key;
  if (channels::DecodeAesKey(app.encoding_aes_key, key) != channels::CryptoError::kOk) {
    return InvalidArgument("encoding_aes_key of app " + app.name + " is invalid");
  }
  std::string ts = std::to_string(now_s);
  std::string xml = "<xml><ToUserName>" + channels::Cdata(app.corp_id) + "</ToUserName>" +
                    "<FromUserName>" + channels::Cdata(from) + "</FromUserName><CreateTime>" + ts +
                    "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>" +
                    channels::Cdata(text) + "</Content><MsgId>" + msg_id + "</MsgId><AgentID>" +
                    std::to_string(app.agent_id) + "</AgentID></xml>";
  std::string enc;
  if (channels::Encrypt(key, xml, app.corp_id, channels::RandomAlnum(16), enc) !=
      channels::CryptoError::kOk) {
    return Internal("encrypt failed");
  }
  std::string nonce = channels::RandomAlnum(10);
  std::string sig = channels::Sha1Signature(app.token, ts, nonce, enc);
  SimulatedRequest r;
  r.target_suffix = "msg_signature=" + sig + "&timestamp=" + ts + "&nonce=" + nonce;
  r.body = "<xml><ToUserName>" + channels::Cdata(app.corp_id) + "</ToUserName><AgentID>" +
           channels::Cdata(std::to_string(app.agent_id)) + "</AgentID><Encrypt>" +
           channels::Cdata(enc) + "</Encrypt></xml>";
  r.content_type = "text/xml";
  return r;
}

Result<SimulatedRequest> BuildDingtalkCallback(const channels::dingtalk::DingtalkAppConfig& app,
                                               const std::string& from, const std::string& text,
                                               const std::string& msg_id, int64_t now_ms) {
  std::string ts = std::to_string(now_ms);
  nlohmann::json body = {
      {"msgtype", "text"},
      {"text", {{"content", text}}},
      {"msgId", msg_id},
      {"createAt", now_ms},
      {"conversationType", "1"},
      {"conversationId", "cid-simulate-" + from},
      {"senderId", "$:LWCP_v1:$" + from},
      {"senderNick", from},
      {"senderStaffId", from},
      {"sessionWebhook", app.oapi_base + "/robot/sendBySession?session=simulate-" + from},
      {"sessionWebhookExpiredTime", now_ms + 90 * 60 * 1000},
      {"robotCode", app.robot_code.empty() ? app.app_key : app.robot_code},
      {"isInAtList", true}};
  SimulatedRequest r;
  r.body = body.dump();
  r.content_type = "application/json; charset=utf-8";
  r.headers["timestamp"] = ts;
  r.headers["sign"] = channels::DingtalkRobotSign(ts, app.app_secret);
  return r;
}

void RegisterSimulateCommands(CLI::App& kefuctl, CommandContext& ctx) {
  CLI::App* sim = kefuctl.add_subcommand(
      "simulate", "Send a signed (and encrypted) platform callback to a running kefud");
  sim->require_subcommand(1);
  for (const char* platform : {"wecom", "dingtalk"}) {
    auto o = std::make_shared<SimulateOptions>();
    o->platform = platform;
    CLI::App* cmd = sim->add_subcommand(
        platform, std::string("Simulate a ") + platform + " text message from a user");
    cmd->add_option("--url", o->url, "Callback URL of kefud (…/callback/<platform>/<app>)")
        ->required();
    cmd->add_option("--app", o->app, "App name in the config (default: the first)");
    cmd->add_option("--from", o->from, "Sender user id");
    cmd->add_option("--text", o->text, "Message text")->required();
    cmd->add_option("--msg-id", o->msg_id, "Platform message id (default: random)");
    cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Simulate(ctx, *o); }); });
  }
}

}  // namespace kefu::tools
