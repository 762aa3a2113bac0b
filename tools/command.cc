#include "tools/command.h"

#include "app/database_setup.h"

namespace kefu::tools {

CommandContext::CommandContext(std::ostream& out, std::ostream& err, const Clock& clock)
    : out_(out), err_(err), clock_(clock) {}

CommandContext::~CommandContext() = default;

Result<const app::Config*> CommandContext::Config() {
  if (!config_) {
    config_ = std::make_unique<app::ConfigLoad>(app::LoadConfig(source_));
    for (const std::string& line : config_->errors)
      err_ << line << '\n';
  }
  if (!config_->ok()) return InvalidArgument("configuration errors");
  return &config_->config;
}

Result<storage::Database*> CommandContext::WriteDatabase() {
  if (write_db_) return write_db_.get();
  KEFU_ASSIGN_OR_RETURN(const app::Config* config, Config());
  if (modules_.empty()) modules_ = app::MakeModules(*config);
  storage::DatabaseOptions options = app::MakeDatabaseOptions(config->storage, modules_);
  options.quick_check_on_open = false;
  KEFU_ASSIGN_OR_RETURN(write_db_, app::OpenAndMigrate(config->storage, options, modules_));
  return write_db_.get();
}

Result<storage::Database*> CommandContext::ReadDatabase() {
  if (read_db_) return read_db_.get();
  KEFU_ASSIGN_OR_RETURN(const app::Config* config, Config());
  if (modules_.empty()) modules_ = app::MakeModules(*config);
  storage::DatabaseOptions options = app::MakeDatabaseOptions(config->storage, modules_);
  options.read_only = true;
  options.quick_check_on_open = false;
  KEFU_ASSIGN_OR_RETURN(read_db_, storage::Database::Open(options));
  return read_db_.get();
}

int CommandContext::Fail(const Status& status) {
  if (status.message() != "configuration errors") err_ << "kefuctl: " << status.message() << '\n';
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

void CommandContext::PrintJson(const nlohmann::json& j) {
  out_ << j.dump(2) << '\n';
}

int CommandContext::RunAction() {
  if (!action_) {
    err_ << "kefuctl: no command given (see kefuctl --help)\n";
    return kExitUsage;
  }
  return action_();
}

}  // namespace kefu::tools
