#include "app/config_reader.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kefu::app {
namespace {

std::string TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "date/time";
    default:
      return "value";
  }
}

// A short rendering of a value for error messages ("string \"four\"", "integer 0").
std::string Describe(const toml::node& node) {
  std::ostringstream out;
  out << TypeName(node);
  if (const auto* s = node.as_string()) {
    std::string v = s->get();
    if (v.size() > 40) v = v.substr(0, 40) + "...";
    out << " \"" << v << "\"";
  } else if (node.is_integer() || node.is_floating_point() || node.is_boolean()) {
    out << ' ';
    node.visit([&](const auto& n) {
      if constexpr (toml::is_integer<decltype(n)> || toml::is_floating_point<decltype(n)> ||
                    toml::is_boolean<decltype(n)>) {
        out << n;
      }
    });
  }
  return out.str();
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Join(const std::vector<std::string_view>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

Result<std::string> ResolveSecret(std::string_view value) {
  if (value.starts_with("env:")) {
    std::string name(value.substr(4));
    if (name.empty()) return InvalidArgument("env: needs a variable name (env:NAME)");
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return InvalidArgument("environment variable " + name + " is not set");
    if (*v == '\0') return InvalidArgument("environment variable " + name + " is empty");
    return std::string(v);
  }
  if (value.starts_with("file:")) {
    std::string path(value.substr(5));
    if (path.empty()) return InvalidArgument("file: needs a path (file:PATH)");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return InvalidArgument("cannot read secret file " + path + ": " + std::strerror(errno));
    }
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) return InvalidArgument("cannot read secret file " + path);
    std::string s = content.str();
    if (s.ends_with("\r\n")) {
      s.resize(s.size() - 2);
    } else if (s.ends_with('\n')) {
      s.pop_back();
    }
    if (s.empty()) return InvalidArgument("secret file " + path + " is empty");
    return s;
  }
  return std::string(value);
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("expected a duration like \"500ms\", \"10s\", \"5m\", \"1h\", got \"" +
                           std::string(text) + "\"");
  };
  if (text.empty()) return bad();
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) {
      ++i;
    }
    if (i == start) return bad();
    double number = std::strtod(std::string(text.substr(start, i - start)).c_str(), nullptr);
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])) != 0)
      ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else if (unit == "d") {
      scale = 86'400'000;
    } else {
      return bad();
    }
    total_ms += number * scale;
  }
  if (total_ms > 1e15) return bad();
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(total_ms)));
}

Result<int64_t> ParseByteSize(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("expected a size like 1048576, \"64KiB\" or \"1MiB\", got \"" +
                           std::string(text) + "\"");
  };
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0)
    ++i;
  if (i == 0 || i > 15) return bad();
  int64_t number = std::strtoll(std::string(text.substr(0, i)).c_str(), nullptr, 10);
  std::string_view unit = text.substr(i);
  while (unit.starts_with(' '))
    unit.remove_prefix(1);
  int64_t scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "KiB" || unit == "KB" || unit == "K" || unit == "k") {
    scale = int64_t{1} << 10;
  } else if (unit == "MiB" || unit == "MB" || unit == "M") {
    scale = int64_t{1} << 20;
  } else if (unit == "GiB" || unit == "GB" || unit == "G") {
    scale = int64_t{1} << 30;
  } else {
    return bad();
  }
  return number * scale;
}

bool ConfigSection::Has(std::string_view key) const {
  return table_ != nullptr && table_->get(key) != nullptr;
}

std::string ConfigSection::KeyPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const toml::node* ConfigSection::Take(std::string_view key) const {
  reader_->known_keys_.insert(schema_path_.empty() ? std::string(key)
                                                   : schema_path_ + "." + std::string(key));
  if (table_ == nullptr) return nullptr;
  const toml::node* node = table_->get(key);
  if (node != nullptr) reader_->taken_.insert(node);
  return node;
}

void ConfigSection::Error(std::string_view key, std::string_view message) const {
  reader_->AddError(KeyPath(key), message);
}

void ConfigSection::String(std::string_view key, std::string& out) const {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  if (const auto* s = node->as_string()) {
    out = s->get();
    return;
  }
  Error(key, "expected a string, got " + Describe(*node));
}

void ConfigSection::NonEmptyString(std::string_view key, std::string& out) const {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  const auto* s = node->as_string();
  if (s == nullptr) {
    Error(key, "expected a string, got " + Describe(*node));
  } else if (s->get().empty()) {
    Error(key, "must not be empty");
  } else {
    out = s->get();
  }
}

void ConfigSection::Bool(std::string_view key, bool& out) const {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  if (const auto* b = node->as_boolean()) {
    out = b->get();
    return;
  }
  Error(key, "expected true or false, got " + Describe(*node));
}

void ConfigSection::Int64(std::string_view key, int64_t& out, int64_t min, int64_t max) const {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  const auto* i = node->as_integer();
  if (i == nullptr) {
    Error(key, "expected an integer, got " + Describe(*node));
    return;
  }
  int64_t v = i->get();
  if (v < min || v > max) {
    Error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                   std::to_string(v));
    return;
  }
  out = v;
}

void ConfigSection::Int(std::string_view key, int& out, int min, int max) const {
  int64_t v = out;
  Int64(key, v, min, max);
  out = static_cast<int>(v);
}

void ConfigSection::Double(std::string_view key, double& out, double min, double max) const {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  double v = 0;
  if (const auto* f = node->as_floating_point()) {
    v = f->get();
  } else if (const auto* i = node->as_integer()) {
    v = static_cast<double>(i->get());
  } else {
    Error(key, "expected a number, got " + Describe(*node));
    return;
  }
  if (!(v >= min && v <= max)) {
    std::ostringstream msg;
    msg << "must be between " << min << " and " << max << ", got " << v;
    Error(key, msg.str());
    return;
  }
  out = v;
}

void ConfigSection::Duration(std::string_view key, std::chrono::milliseconds& out,
                             std::chrono::milliseconds min, std::chrono::milliseconds max) const {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  const auto* s = node->as_string();
  if (s == nullptr) {
    Error(key, "expected a duration string like \"10s\", got " + Describe(*node));
    return;
  }
  auto d = ParseDuration(s->get());
  if (!d.ok()) {
    Error(key, d.status().message());
    return;
  }
  if (*d < min || *d > max) {
    Error(key, "must be between " + std::to_string(min.count()) + "ms and " +
                   std::to_string(max.count()) + "ms, got \"" + s->get() + "\"");
    return;
  }
  out = *d;
}

void ConfigSection::ByteSize(std::string_view key, int64_t& out, int64_t min, int64_t max) const {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  int64_t v = 0;
  std::string shown;
  if (const auto* i = node->as_integer()) {
    v = i->get();
    shown = std::to_string(v);
  } else if (const auto* s = node->as_string()) {
    auto parsed = ParseByteSize(s->get());
    if (!parsed.ok()) {
      Error(key, parsed.status().message());
      return;
    }
    v = *parsed;
    shown = "\"" + s->get() + "\"";
  } else {
    Error(key, "expected a size (integer bytes or \"1MiB\"), got " + Describe(*node));
    return;
  }
  if (v < min || v > max) {
    Error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                   " bytes, got " + shown);
    return;
  }
  out = v;
}

void ConfigSection::ByteSize(std::string_view key, size_t& out, int64_t min, int64_t max) const {
  int64_t v = static_cast<int64_t>(out);
  ByteSize(key, v, min, max);
  out = static_cast<size_t>(v);
}

void ConfigSection::Secret(std::string_view key, std::string& out) const {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  const auto* s = node->as_string();
  if (s == nullptr) {
    Error(key, "expected a string (literal, env:NAME or file:PATH), got " + TypeName(*node));
    return;
  }
  auto resolved = ResolveSecret(s->get());
  if (!resolved.ok()) {
    Error(key, resolved.status().message());
    return;
  }
  out = std::move(resolved).value();
}

void ConfigSection::StringArray(std::string_view key, std::vector<std::string>& out) const {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  const auto* array = node->as_array();
  if (array == nullptr) {
    Error(key, "expected an array of strings, got " + Describe(*node));
    return;
  }
  std::vector<std::string> values;
  for (size_t i = 0; i < array->size(); ++i) {
    const auto* s = array->get(i)->as_string();
    if (s == nullptr) {
      Error(std::string(key) + "[" + std::to_string(i) + "]",
            "expected a string, got " + Describe(*array->get(i)));
      return;
    }
    values.push_back(s->get());
  }
  out = std::move(values);
}

bool ConfigSection::EnumName(std::string_view key, const std::vector<std::string_view>& names,
                             std::string& out) const {
  const toml::node* node = Take(key);
  if (node == nullptr) return false;
  const auto* s = node->as_string();
  if (s == nullptr || std::find(names.begin(), names.end(), s->get()) == names.end()) {
    Error(key, "must be one of " + Join(names) + ", got " + Describe(*node));
    return false;
  }
  out = s->get();
  return true;
}

ConfigSection ConfigSection::Table(std::string_view key) const {
  std::string path = KeyPath(key);
  std::string schema =
      schema_path_.empty() ? std::string(key) : schema_path_ + "." + std::string(key);
  const toml::node* node = Take(key);
  if (node == nullptr) return ConfigSection(reader_, nullptr, path, schema);
  const auto* table = node->as_table();
  if (table == nullptr) {
    Error(key, "expected a table, got " + Describe(*node));
    return ConfigSection(reader_, nullptr, path, schema);
  }
  return ConfigSection(reader_, table, path, schema);
}

std::vector<ConfigSection> ConfigSection::TableArray(std::string_view key) const {
  std::vector<ConfigSection> sections;
  const toml::node* node = Take(key);
  if (node == nullptr) return sections;
  const auto* array = node->as_array();
  std::string schema =
      (schema_path_.empty() ? std::string(key) : schema_path_ + "." + std::string(key)) + "[]";
  if (array == nullptr || !array->is_array_of_tables()) {
    Error(key, "expected an array of tables ([[" + KeyPath(key) + "]]), got " + Describe(*node));
    return sections;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node* element = array->get(i);
    reader_->taken_.insert(element);
    sections.push_back(ConfigSection(reader_, element->as_table(),
                                     KeyPath(key) + "[" + std::to_string(i) + "]", schema));
  }
  return sections;
}

ConfigReader::ConfigReader(const toml::table& root) : root_(root) {}

ConfigReader::~ConfigReader() = default;

ConfigSection ConfigReader::root() {
  return ConfigSection(this, &root_, "", "");
}

void ConfigReader::AddError(std::string_view key_path, std::string_view message) {
  errors_.push_back("config: " + std::string(key_path) + ": " + std::string(message));
}

void ConfigReader::Finish() {
  CheckUnknown(root_, "", "");
}

void ConfigReader::CheckUnknown(const toml::table& table, const std::string& path,
                                const std::string& schema_path) {
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    std::string key_path = path.empty() ? name : path + "." + name;
    std::string key_schema = schema_path.empty() ? name : schema_path + "." + name;
    if (taken_.count(&node) == 0) {
      // Suggest the closest key some reader asked for in the same table.
      std::string best;
      size_t best_distance = 3;
      std::string prefix = schema_path.empty() ? "" : schema_path + ".";
      for (const std::string& known : known_keys_) {
        if (!known.starts_with(prefix)) continue;
        std::string_view rest = std::string_view(known).substr(prefix.size());
        if (rest.find('.') != std::string_view::npos) continue;
        size_t d = EditDistance(rest, name);
        if (d < best_distance) {
          best_distance = d;
          best = std::string(rest);
        }
      }
      AddError(key_path, best.empty() ? "unknown key" : "unknown key (did you mean " + best + "?)");
      continue;
    }
    if (const auto* sub = node.as_table()) {
      CheckUnknown(*sub, key_path, key_schema);
    } else if (const auto* array = node.as_array();
               array != nullptr && array->is_array_of_tables()) {
      for (size_t i = 0; i < array->size(); ++i) {
        if (taken_.count(array->get(i)) == 0) continue;
        CheckUnknown(*array->get(i)->as_table(), key_path + "[" + std::to_string(i) + "]",
                     key_schema + "[]");
      }
    }
  }
}

}  // namespace kefu::app
