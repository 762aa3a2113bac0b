// kefuctl user add|list|passwd|disable: console users (app/users.h). Passwords are read from a
// file or standard input (--password-file -), never from the command line, where other local users
// could see them in the process list.
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "app/users.h"
#include "storage/database.h"
#include "tools/command.h"

namespace kefu::tools {
namespace {

// The first line of `path` ("-" = standard input), without the line end.
Result<std::string> ReadPassword(const std::string& path) {
  std::string line;
  if (path == "-") {
    std::getline(std::cin, line);
  } else {
    std::ifstream in(path);
    if (!in) return InvalidArgument("--password-file: cannot read \"" + path + "\"");
    std::getline(in, line);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Runs `write` in one transaction on the write connection.
Status InTransaction(CommandContext& ctx, const std::function<Status(storage::Database&)>& write) {
  KEFU_ASSIGN_OR_RETURN(storage::Database * db, ctx.WriteDatabase());
  storage::Transaction tx(*db);
  KEFU_RETURN_IF_ERROR(write(*db));
  return tx.Commit();
}

struct AddArgs {
  std::string username;
  std::string role;
  std::string display_name;
  std::string password_file;
};

int AddUser(CommandContext& ctx, const AddArgs& args) {
  if (Status s = app::ValidateUsername(args.username); !s.ok()) return ctx.Fail(s);
  auto password = ReadPassword(args.password_file);
  if (!password.ok()) return ctx.Fail(password.status());
  auto hash = app::HashPassword(*password);
  if (!hash.ok()) return ctx.Fail(hash.status());
  app::User user;
  Status s = InTransaction(ctx, [&](storage::Database& db) -> Status {
    KEFU_ASSIGN_OR_RETURN(
        user, app::InsertUser(db, ctx.clock(), args.username, args.display_name, args.role, *hash));
    return Status::Ok();
  });
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(app::UserJson(user));
  } else {
    ctx.out() << "created user " << user.username << " role=" << user.role << '\n';
  }
  return kExitOk;
}

int ListUsers(CommandContext& ctx) {
  auto db = ctx.WriteDatabase();
  if (!db.ok()) return ctx.Fail(db.status());
  auto users = app::ListUsers(**db);
  if (!users.ok()) return ctx.Fail(users.status());
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const app::User& u : *users)
      list.push_back(app::UserJson(u));
    ctx.PrintJson(list);
    return kExitOk;
  }
  ctx.out() << std::left << std::setw(24) << "USERNAME" << std::setw(11) << "ROLE" << std::setw(10)
            << "STATE"
            << "DISPLAY NAME\n";
  for (const app::User& u : *users) {
    ctx.out() << std::left << std::setw(24) << u.username << std::setw(11) << u.role
              << std::setw(10) << (u.disabled_at_ms ? "disabled" : "active") << u.display_name
              << '\n';
  }
  return kExitOk;
}

int ChangePassword(CommandContext& ctx, const std::string& username,
                   const std::string& password_file) {
  auto password = ReadPassword(password_file);
  if (!password.ok()) return ctx.Fail(password.status());
  auto hash = app::HashPassword(*password);
  if (!hash.ok()) return ctx.Fail(hash.status());
  Status s = InTransaction(
      ctx, [&](storage::Database& db) { return app::SetPasswordHash(db, username, *hash); });
  if (!s.ok()) return ctx.Fail(s);
  if (!ctx.json()) ctx.out() << "changed the password of " << username << '\n';
  return kExitOk;
}

int Disable(CommandContext& ctx, const std::string& username) {
  Status s = InTransaction(
      ctx, [&](storage::Database& db) { return app::DisableUser(db, ctx.clock(), username); });
  if (!s.ok()) return ctx.Fail(s);
  if (!ctx.json()) {
    ctx.out() << "disabled " << username
              << " and ended their sessions (a running kefud stops accepting them within "
                 "auth.token_cache_ttl)\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterUserCommands(CLI::App& kefuctl, CommandContext& ctx) {
  CLI::App* user = kefuctl.add_subcommand("user", "Console users (agents, supervisors, admins)")
                       ->require_subcommand(1);

  auto add_args = std::make_shared<AddArgs>();
  CLI::App* add = user->add_subcommand("add", "Create a user");
  add->add_option("USERNAME", add_args->username, "Login name (A-Z a-z 0-9 . _ -)")->required();
  add->add_option("--role", add_args->role, "agent, supervisor or admin")->required();
  add->add_option("--display-name", add_args->display_name, "Name shown in the console");
  add->add_option("--password-file", add_args->password_file,
                  "File whose first line is the password (- = standard input)")
      ->required();
  add->callback(
      [&ctx, add_args] { ctx.SetAction([&ctx, add_args] { return AddUser(ctx, *add_args); }); });

  CLI::App* list = user->add_subcommand("list", "List users");
  list->callback([&ctx] { ctx.SetAction([&ctx] { return ListUsers(ctx); }); });

  auto passwd_args = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* passwd = user->add_subcommand("passwd", "Set a user's password");
  passwd->add_option("USERNAME", passwd_args->first)->required();
  passwd
      ->add_option("--password-file", passwd_args->second,
                   "File whose first line is the password (- = standard input)")
      ->required();
  passwd->callback([&ctx, passwd_args] {
    ctx.SetAction([&ctx, passwd_args] {
      return ChangePassword(ctx, passwd_args->first, passwd_args->second);
    });
  });

  auto disable_name = std::make_shared<std::string>();
  CLI::App* disable = user->add_subcommand("disable", "Disable a user and end their sessions");
  disable->add_option("USERNAME", *disable_name)->required();
  disable->callback([&ctx, disable_name] {
    ctx.SetAction([&ctx, disable_name] { return Disable(ctx, *disable_name); });
  });
}

}  // namespace kefu::tools
