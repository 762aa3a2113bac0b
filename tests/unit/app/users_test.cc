#include "app/users.h"

#include <gtest/gtest.h>

#include <chrono>

#include "app/api_tokens.h"
#include "app/app_module.h"
#include "app/login_throttle.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "tests/support/temp_dir.h"

namespace kefu::app {
namespace {

class UsersTest : public ::testing::Test {
 protected:
  UsersTest() {
    storage::DatabaseOptions options;
    options.path = dir_.File("kefu.db");
    auto db = storage::Database::Open(options);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    EXPECT_TRUE(storage::ApplyMigrations(*db_, "app", AppMigrations()).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  FakeClock clock_;
};

TEST_F(UsersTest, PasswordHashVerifiesOnlyTheSamePassword) {
  auto hash = HashPassword("correct horse");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horsf"));
  EXPECT_FALSE(VerifyPassword("not a hash", "correct horse"));
  EXPECT_NE(*HashPassword("correct horse"), *hash) << "salted";
  EXPECT_EQ(HashPassword("short").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(UsersTest, InsertFindListAndRejectDuplicates) {
  auto u = InsertUser(*db_, clock_, "wang.li", "王丽", "supervisor", "$hash");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(InsertUser(*db_, clock_, "wang.li", "x", "agent", "$h").status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(InsertUser(*db_, clock_, "wang li", "x", "agent", "$h").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(InsertUser(*db_, clock_, "zhao", "x", "root", "$h").status().code(),
            StatusCode::kInvalidArgument);
  auto found = FindUser(*db_, "wang.li");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->user.display_name, "王丽");
  EXPECT_EQ((*found)->password_hash, "$hash");
  EXPECT_FALSE(UserJson((*found)->user).contains("password_hash"));
  auto none = FindUser(*db_, "nobody");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(ListUsers(*db_)->size(), 1u);
}

TEST_F(UsersTest, DisablingRevokesOnlyThatUsersSessions) {
  auto alice = InsertUser(*db_, clock_, "alice", "", "agent", "$h");
  auto bob = InsertUser(*db_, clock_, "bob", "", "agent", "$h");
  ASSERT_TRUE(alice.ok() && bob.ok());
  EXPECT_EQ(alice->display_name, "alice") << "display name defaults to the username";
  auto a = CreateSessionToken(*db_, clock_, alice->id, "alice", "agent", 3'600'000);
  auto b = CreateSessionToken(*db_, clock_, bob->id, "bob", "agent", 3'600'000);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(DisableUser(*db_, clock_, "alice").ok());
  EXPECT_FALSE(VerifyApiToken(*db_, clock_, a->bearer).ok());
  EXPECT_TRUE(VerifyApiToken(*db_, clock_, b->bearer).ok());
  EXPECT_EQ(DisableUser(*db_, clock_, "alice").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(DisableUser(*db_, clock_, "nobody").code(), StatusCode::kNotFound);
  EXPECT_EQ(SetPasswordHash(*db_, "nobody", "$h").code(), StatusCode::kNotFound);
}

TEST(LoginThrottle, LocksAUsernameAfterRepeatedFailuresUntilTheWindowPasses) {
  FakeClock clock;
  LoginThrottle throttle(clock, 3, std::chrono::minutes(15));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(throttle.Allowed("alice"));
    throttle.RecordFailure("alice");
  }
  EXPECT_FALSE(throttle.Allowed("alice"));
  EXPECT_TRUE(throttle.Allowed("bob")) << "other usernames are not affected";
  clock.Advance(std::chrono::minutes(14));
  EXPECT_FALSE(throttle.Allowed("alice"));
  clock.Advance(std::chrono::minutes(1));
  EXPECT_TRUE(throttle.Allowed("alice"));
}

TEST(LoginThrottle, SuccessClearsTheCount) {
  FakeClock clock;
  LoginThrottle throttle(clock, 2, std::chrono::minutes(15));
  throttle.RecordFailure("alice");
  throttle.RecordSuccess("alice");
  throttle.RecordFailure("alice");
  EXPECT_TRUE(throttle.Allowed("alice"));
  throttle.RecordFailure("alice");
  EXPECT_FALSE(throttle.Allowed("alice"));
}

}  // namespace
}  // namespace kefu::app
