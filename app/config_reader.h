// ConfigReader: typed, validated reads from a parsed TOML document.
//
// Every module's config section is read by a small function (app/config_<module>.cc) through a
// ConfigSection. A reader call never throws and never stops at the first problem: a missing key
// leaves the caller's default untouched; a key of the wrong type, out of range, or an unreadable
// secret records one error line naming the key ("config: server.threads: must be between 1 and
// 64, got 0") and also leaves the default. After all sections have been read,
// ConfigReader::Finish() adds one "unknown key" error for every key no reader asked for, so the
// caller can print every problem at once.
//
// Not thread-safe; used once at startup.
#pragma once

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/result.h"

namespace kefu::app {

class ConfigReader;

// Resolves a secret value: "env:NAME" reads environment variable NAME, "file:PATH" reads the file
// (one trailing newline stripped), anything else is the literal value. Fails with
// kInvalidArgument saying why (unset variable, unreadable file, empty value); the message never
// contains the secret itself.
Result<std::string> ResolveSecret(std::string_view value);

// Parses "250ms", "10s", "5m", "2h", "1d" (also combined: "1m30s"). kInvalidArgument otherwise.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Parses a byte size: an integer string, or a number with B/KiB/MiB/GiB/KB/MB/GB.
Result<int64_t> ParseByteSize(std::string_view text);

// A view of one TOML table at a dotted path ("server", "wecom.apps[0]"). Cheap to copy; valid
// while its ConfigReader lives. An absent table reads as empty, so every reader keeps defaults.
class ConfigSection {
 public:
  // Dotted path of this table; "" for the document root.
  const std::string& path() const { return path_; }
  // True if the table exists in the document.
  bool present() const { return table_ != nullptr; }
  // True if `key` is present in this table.
  bool Has(std::string_view key) const;

  // Each reader: absent key -> `out` unchanged; present and valid -> `out` set; otherwise one
  // error naming the key and `out` unchanged.
  void String(std::string_view key, std::string& out) const;
  // Like String but an empty value is an error.
  void NonEmptyString(std::string_view key, std::string& out) const;
  void Bool(std::string_view key, bool& out) const;
  void Int(std::string_view key, int& out, int min, int max) const;
  void Int64(std::string_view key, int64_t& out, int64_t min, int64_t max) const;
  void Double(std::string_view key, double& out, double min, double max) const;
  // A duration string ("10s", "500ms"); bounds inclusive.
  void Duration(std::string_view key, std::chrono::milliseconds& out, std::chrono::milliseconds min,
                std::chrono::milliseconds max) const;
  // A byte size: integer bytes or a string like "1MiB"; bounds inclusive.
  void ByteSize(std::string_view key, int64_t& out, int64_t min, int64_t max) const;
  void ByteSize(std::string_view key, size_t& out, int64_t min, int64_t max) const;
  // A secret: literal, "env:NAME" or "file:PATH" (see ResolveSecret). The resolved value is
  // stored; errors never print it.
  void Secret(std::string_view key, std::string& out) const;
  // An array of strings.
  void StringArray(std::string_view key, std::vector<std::string>& out) const;
  // One of `choices` (string -> value). The error lists the allowed names.
  template <typename T>
  void Enum(std::string_view key, T& out,
            std::initializer_list<std::pair<std::string_view, T>> choices) const {
    std::vector<std::string_view> names;
    for (const auto& c : choices)
      names.push_back(c.first);
    std::string chosen;
    if (!EnumName(key, names, chosen)) return;
    for (const auto& c : choices) {
      if (c.first == chosen) out = c.second;
    }
  }

  // A sub-table ("[server.limits]" read as Table("limits") of "server").
  ConfigSection Table(std::string_view key) const;
  // An array of tables ("[[wecom.apps]]"); empty if absent. Paths are "wecom.apps[0]", ...
  std::vector<ConfigSection> TableArray(std::string_view key) const;

  // Records a custom validation error for `key` of this table (cross-field checks):
  // "config: <path>.<key>: <message>".
  void Error(std::string_view key, std::string_view message) const;

 private:
  friend class ConfigReader;
  ConfigSection(ConfigReader* reader, const toml::table* table, std::string path,
                std::string schema_path)
      : reader_(reader),
        table_(table),
        path_(std::move(path)),
        schema_path_(std::move(schema_path)) {}

  // Marks `key` as known and returns its node or nullptr if absent.
  const toml::node* Take(std::string_view key) const;
  std::string KeyPath(std::string_view key) const;
  bool EnumName(std::string_view key, const std::vector<std::string_view>& names,
                std::string& out) const;

  ConfigReader* reader_;
  const toml::table* table_;  // nullptr when absent
  std::string path_;          // "wecom.apps[0]"
  std::string schema_path_;   // "wecom.apps[]": used for the list of known keys
};

class ConfigReader {
 public:
  // Does not own `root`; it must outlive the reader.
  explicit ConfigReader(const toml::table& root);
  ~ConfigReader();
  ConfigReader(const ConfigReader&) = delete;
  ConfigReader& operator=(const ConfigReader&) = delete;

  // The document root; read sections with root().Table("server").
  ConfigSection root();

  // Adds an error line ("config: <key_path>: <message>").
  void AddError(std::string_view key_path, std::string_view message);

  // Reports every key present in the document that no reader asked for, with a suggestion when
  // a known key of the same table is a near miss. Call once after all sections were read.
  void Finish();

  // All error lines so far, in document-reading order.
  const std::vector<std::string>& errors() const { return errors_; }

  // Every key any reader asked for, as schema paths ("server.threads", "wecom.apps[].token").
  const std::set<std::string>& known_keys() const { return known_keys_; }

 private:
  friend class ConfigSection;
  void CheckUnknown(const toml::table& table, const std::string& path,
                    const std::string& schema_path);

  const toml::table& root_;
  std::vector<std::string> errors_;
  std::unordered_set<const toml::node*> taken_;  // nodes some reader asked for
  std::set<std::string> known_keys_;
};

}  // namespace kefu::app
