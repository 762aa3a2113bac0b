// kefuctl token create|list|revoke: API bearer tokens (app/api_tokens.h).
#include <iomanip>
#include <memory>

#include "app/api_tokens.h"
#include "storage/database.h"
#include "tools/command.h"

namespace kefu::tools {
namespace {

std::string FormatTime(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int CreateToken(CommandContext& ctx, const std::string& role, const std::string& name) {
  if (!app::IsValidRole(role)) {
    return ctx.Fail(
        InvalidArgument("--role must be admin, supervisor or agent, got \"" + role + "\""));
  }
  auto db = ctx.WriteDatabase();
  if (!db.ok()) return ctx.Fail(db.status());
  Result<app::CreatedToken> created = InvalidArgument("not run");
  {
    storage::Transaction tx(**db);
    created = app::CreateApiToken(**db, ctx.clock(), role, name);
    if (created.ok()) {
      if (Status s = tx.Commit(); !s.ok()) return ctx.Fail(s);
    }
  }
  if (!created.ok()) return ctx.Fail(created.status());
  if (ctx.json()) {
    nlohmann::json j = app::TokenJson(created->token);
    j["token"] = created->bearer;
    ctx.PrintJson(j);
    return kExitOk;
  }
  ctx.out() << "created token " << created->token.id << " role=" << created->token.role
            << " name=\"" << created->token.name << "\"\n"
            << "it is shown only once; use it as: Authorization: Bearer <token>\n"
            << created->bearer << '\n';
  return kExitOk;
}

int ListTokens(CommandContext& ctx) {
  auto db = ctx.WriteDatabase();
  if (!db.ok()) return ctx.Fail(db.status());
  auto tokens = app::ListApiTokens(**db);
  if (!tokens.ok()) return ctx.Fail(tokens.status());
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const app::ApiToken& t : *tokens)
      list.push_back(app::TokenJson(t));
    ctx.PrintJson(list);
    return kExitOk;
  }
  ctx.out() << std::left << std::setw(6) << "ID" << std::setw(11) << "ROLE" << std::setw(22)
            << "CREATED" << std::setw(22) << "REVOKED"
            << "NAME\n";
  for (const app::ApiToken& t : *tokens) {
    ctx.out() << std::left << std::setw(6) << t.id << std::setw(11) << t.role << std::setw(22)
              << FormatTime(t.created_at_ms) << std::setw(22)
              << (t.revoked_at_ms ? FormatTime(*t.revoked_at_ms) : "-") << t.name << '\n';
  }
  return kExitOk;
}

int RevokeToken(CommandContext& ctx, int64_t id) {
  auto db = ctx.WriteDatabase();
  if (!db.ok()) return ctx.Fail(db.status());
  Status s;
  {
    storage::Transaction tx(**db);
    s = app::RevokeApiToken(**db, ctx.clock(), id);
    if (s.ok()) s = tx.Commit();
  }
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson({{"id", id}, {"revoked", true}});
  } else {
    ctx.out() << "revoked token " << id
              << " (a running kefud stops accepting it within auth.token_cache_ttl)\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterTokenCommands(CLI::App& kefuctl, CommandContext& ctx) {
  CLI::App* token = kefuctl.add_subcommand("token", "API bearer tokens")->require_subcommand(1);

  struct CreateArgs {
    std::string role;
    std::string name;
  };
  auto create_args = std::make_shared<CreateArgs>();
  CLI::App* create = token->add_subcommand(
      "create", "Create a token; prints it alone on the last line (shown only once)");
  create->add_option("--role", create_args->role, "admin, supervisor or agent")->required();
  create->add_option("--name", create_args->name, "A label (who or what uses the token)");
  create->callback([&ctx, create_args] {
    ctx.SetAction(
        [&ctx, create_args] { return CreateToken(ctx, create_args->role, create_args->name); });
  });

  CLI::App* list = token->add_subcommand("list", "List tokens (never their secrets)");
  list->callback([&ctx] { ctx.SetAction([&ctx] { return ListTokens(ctx); }); });

  auto revoke_id = std::make_shared<int64_t>(0);
  CLI::App* revoke = token->add_subcommand("revoke", "Revoke a token by id");
  revoke->add_option("ID", *revoke_id, "Token id (see token list)")->required();
  revoke->callback([&ctx, revoke_id] {
    ctx.SetAction([&ctx, revoke_id] { return RevokeToken(ctx, *revoke_id); });
  });
}

}  // namespace kefu::tools
