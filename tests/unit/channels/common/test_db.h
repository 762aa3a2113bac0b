// Test fixture: a migrated channels database in a temp dir with a writer and a read pool.
#pragma once

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <memory>

#include "channels/common/inbound.h"
#include "storage/database.h"
#include "storage/read_pool.h"
#include "storage/writer_executor.h"
#include "tests/support/temp_dir.h"

namespace kefu::channels::testing {

struct TestDb {
  TestDb() {
    options.path = dir.File("kefu.db");
    options.synchronous = storage::DatabaseOptions::Synchronous::kNormal;
    {
      auto db = storage::Database::Open(options);
      EXPECT_TRUE(db.ok()) << db.status().ToString();
      EXPECT_TRUE(MigrateChannels(**db).ok());
    }
    auto w = storage::WriterExecutor::Open(options, registry);
    EXPECT_TRUE(w.ok());
    writer = std::move(*w);
    auto r = storage::ReadPool::Open(options, 2);
    EXPECT_TRUE(r.ok());
    reads = std::move(*r);
  }
  template <typename F>
  auto Read(F&& f) {
    return reads->Read(std::forward<F>(f));
  }

  kefu::testing::TempDir dir;
  storage::DatabaseOptions options;
  prometheus::Registry registry;
  std::unique_ptr<storage::WriterExecutor> writer;
  std::unique_ptr<storage::ReadPool> reads;
};

}  // namespace kefu::channels::testing
