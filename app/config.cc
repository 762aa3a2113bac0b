#include "app/config.h"

#include <filesystem>
#include <sstream>

#include "app/bot_api.h"
#include "app/channels_api.h"
#include "app/config_reader.h"
#include "app/config_sections.h"
#include "app/config_sla.h"

namespace kefu::app {
namespace {

// One line per module; the order is the order errors are reported in.
constexpr SectionReader kSectionReaders[] = {
    ReadServerConfig, ReadStorageConfig,   ReadDaemonConfig,    ReadSlaConfig,
    ReadBotConfig,    ReadChannelsSection, ReadKnowledgeConfig,
};

std::string SyntaxError(const toml::parse_error& e, std::string_view origin) {
  std::ostringstream out;
  out << "config: " << origin << ":" << e.source().begin.line << ":" << e.source().begin.column
      << ": " << e.description();
  return out.str();
}

// Splits "a.b.c" into segments; keys may be quoted ("wecom.\"x.y\"") only trivially, so dots
// always separate.
std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    parts.emplace_back(path.substr(start, dot == std::string_view::npos ? path.npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

// Applies "section.key=value" to `root`. Returns an error line or "".
std::string ApplyOverride(toml::table& root, std::string_view text) {
  size_t eq = text.find('=');
  std::string shown = "--set " + std::string(text.substr(0, eq));
  if (eq == std::string_view::npos || eq == 0) {
    return "config: " + shown + ": expected section.key=value";
  }
  std::string key_path(text.substr(0, eq));
  std::string value_text(text.substr(eq + 1));
  std::vector<std::string> parts = SplitPath(key_path);
  for (const std::string& p : parts) {
    if (p.empty()) return "config: " + shown + ": empty key segment in \"" + key_path + "\"";
  }

  toml::table holder;
  try {
    holder = toml::parse("v = " + value_text);
  } catch (const toml::parse_error&) {
    holder = toml::table{};
    holder.insert("v", value_text);
  }

  toml::table* table = &root;
  std::string walked;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (walked.empty() ? "" : ".") + parts[i];
    toml::node* next = table->get(parts[i]);
    if (next == nullptr) {
      table = table->insert(parts[i], toml::table{}).first->second.as_table();
    } else if (next->is_table()) {
      table = next->as_table();
    } else {
      return "config: " + shown + ": " + walked + " is not a table";
    }
  }
  table->insert_or_assign(parts.back(), std::move(*holder.get("v")));
  return "";
}

ConfigLoad LoadFromTable(toml::table& root, const std::vector<std::string>& overrides) {
  ConfigLoad load;
  for (const std::string& o : overrides) {
    std::string error = ApplyOverride(root, o);
    if (!error.empty()) load.errors.push_back(std::move(error));
  }
  ConfigReader reader(root);
  ConfigSection top = reader.root();
  for (SectionReader read : kSectionReaders)
    read(top, load.config);
  reader.Finish();
  load.errors.insert(load.errors.end(), reader.errors().begin(), reader.errors().end());
  return load;
}

}  // namespace

void ReadBotConfig(const ConfigSection& root, Config& config) {
  ReadBotOptions(root.Table("bot"), config.bot);
}

void ReadChannelsSection(const ConfigSection& root, Config& config) {
  ReadChannelsConfig(root, config.channels);
}

std::string StorageConfig::DatabasePath() const {
  return (std::filesystem::path(data_dir) / database_file).string();
}

ConfigLoad LoadConfigFromString(std::string_view toml_text,
                                const std::vector<std::string>& overrides,
                                std::string_view origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    ConfigLoad load;
    load.errors.push_back(SyntaxError(e, origin));
    return load;
  }
  return LoadFromTable(root, overrides);
}

ConfigLoad LoadConfig(const ConfigSource& source) {
  toml::table root;
  if (!source.path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(source.path, ec)) {
      ConfigLoad load;
      load.errors.push_back("config: " + source.path + ": no such file");
      return load;
    }
    try {
      root = toml::parse_file(source.path);
    } catch (const toml::parse_error& e) {
      ConfigLoad load;
      load.errors.push_back(SyntaxError(e, source.path));
      return load;
    }
  }
  return LoadFromTable(root, source.overrides);
}

std::vector<std::string> KnownConfigKeys(std::string_view toml_text) {
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error&) {
    return {};
  }
  ConfigReader reader(root);
  Config config;
  ConfigSection top = reader.root();
  for (SectionReader read : kSectionReaders)
    read(top, config);
  return {reader.known_keys().begin(), reader.known_keys().end()};
}

}  // namespace kefu::app
