// Schema shared by the crash-safety helper and its test.
#pragma once

#include <string_view>
#include <vector>

#include "storage/migrations.h"

namespace kefu::crash {

inline constexpr std::string_view kModule = "crash_test";
inline constexpr std::string_view kInsert = "INSERT INTO acks (id, payload) VALUES (?1, ?2)";
inline constexpr std::string_view kMaxId = "SELECT COALESCE(MAX(id), 0) FROM acks";
inline constexpr std::string_view kHasId = "SELECT payload FROM acks WHERE id = ?1";

inline std::vector<storage::Migration> Migrations() {
  return {{1, "acks", "CREATE TABLE acks (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)"},
          {2, "acks index", "CREATE INDEX acks_payload ON acks (payload)"}};
}

}  // namespace kefu::crash
