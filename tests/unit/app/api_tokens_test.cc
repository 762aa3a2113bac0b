#include "app/api_tokens.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>

#include "app/app_module.h"
#include "app/token_authenticator.h"
#include "app/users.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "storage/read_pool.h"
#include "tests/support/temp_dir.h"

namespace kefu::app {
namespace {

class ApiTokensTest : public ::testing::Test {
 protected:
  ApiTokensTest() {
    options_.path = dir_.File("kefu.db");
    auto db = storage::Database::Open(options_);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    EXPECT_TRUE(storage::ApplyMigrations(*db_, "app", AppMigrations()).ok());
  }

  CreatedToken Create(std::string_view role, std::string_view name = "t") {
    auto created = CreateApiToken(*db_, clock_, role, name);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return std::move(created).value();
  }

  testing::TempDir dir_;
  storage::DatabaseOptions options_;
  std::unique_ptr<storage::Database> db_;
  FakeClock clock_;
};

TEST_F(ApiTokensTest, CreatedTokenVerifiesAndStoresOnlyAHash) {
  CreatedToken created = Create("supervisor", "alice");
  EXPECT_EQ(created.bearer.size(), std::string("kefu_1_").size() + 64);
  auto verified = VerifyApiToken(*db_, clock_, created.bearer);
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->role, "supervisor");
  EXPECT_EQ(verified->name, "alice");

  auto stored = FindApiToken(*db_, created.token.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->secret_hash.size(), 32u);
  ParsedToken parsed = ParseBearerToken(created.bearer).value();
  EXPECT_EQ((*stored)->secret_hash, HashTokenSecret(parsed.secret));
  EXPECT_EQ((*stored)->secret_hash.find(parsed.secret), std::string::npos);
}

TEST_F(ApiTokensTest, WrongSecretWrongIdAndGarbageAreUnauthenticated) {
  CreatedToken a = Create("admin");
  CreatedToken b = Create("agent");
  std::string tampered = a.bearer;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  // b's secret presented with a's id.
  std::string swapped = "kefu_" + std::to_string(a.token.id) + b.bearer.substr(b.bearer.rfind('_'));
  for (const std::string& bad :
       {tampered, swapped, std::string("kefu_1_xyz"), std::string(""),
        std::string("Bearer ") + a.bearer, std::string("kefu_99_") + std::string(64, 'a')}) {
    EXPECT_EQ(VerifyApiToken(*db_, clock_, bad).status().code(), StatusCode::kUnauthenticated)
        << bad;
  }
}

TEST_F(ApiTokensTest, UnknownRoleAndLongNameAreRejected) {
  EXPECT_EQ(CreateApiToken(*db_, clock_, "root", "x").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateApiToken(*db_, clock_, "agent", std::string(201, 'n')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(ListApiTokens(*db_).value().empty());
}

TEST_F(ApiTokensTest, RevokeMarksTheTokenAndReportsUnknownOrRepeatedRevocations) {
  CreatedToken t = Create("agent");
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(RevokeApiToken(*db_, clock_, t.token.id).ok());
  EXPECT_EQ(VerifyApiToken(*db_, clock_, t.bearer).status().code(), StatusCode::kUnauthenticated);
  auto list = ListApiTokens(*db_).value();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].revoked_at_ms, clock_.NowUnixMs());
  EXPECT_EQ(RevokeApiToken(*db_, clock_, t.token.id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(RevokeApiToken(*db_, clock_, 42).code(), StatusCode::kNotFound);
}

TEST_F(ApiTokensTest, AuthenticatorFindsNewTokensAtOnceAndForgetsRevokedOnesAfterTheTtl) {
  auto pool = storage::ReadPool::Open(options_, 1);
  ASSERT_TRUE(pool.ok());
  prometheus::Registry registry;
  TokenAuthenticator auth(**pool, clock_, std::chrono::seconds(10), registry);

  EXPECT_EQ(auth.Authenticate("kefu_1_" + std::string(64, 'a')).status().code(),
            StatusCode::kUnauthenticated);
  CreatedToken t = Create("admin", "ops");  // created after a failed lookup: no negative cache
  auto principal = auth.Authenticate(t.bearer);
  ASSERT_TRUE(principal.ok()) << principal.status().ToString();
  EXPECT_EQ(principal->role, "admin");
  EXPECT_EQ(principal->subject, "token:1:ops");

  std::string wrong = t.bearer;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_FALSE(auth.Authenticate(wrong).ok()) << "the cache still checks the secret";

  ASSERT_TRUE(RevokeApiToken(*db_, clock_, t.token.id).ok());
  EXPECT_TRUE(auth.Authenticate(t.bearer).ok()) << "cached within the TTL";
  clock_.Advance(std::chrono::seconds(11));
  EXPECT_EQ(auth.Authenticate(t.bearer).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(ApiTokensTest, SessionTokenEndsAtItsExpiryEvenWhenCached) {
  auto alice = InsertUser(*db_, clock_, "alice", "", "agent", "$argon2id$placeholder");
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  auto session = CreateSessionToken(*db_, clock_, alice->id, "alice", "agent", 60'000);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  auto verified = VerifyApiToken(*db_, clock_, session->bearer);
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(TokenSubject(*verified), "user:alice");
  EXPECT_EQ(TokenJson(*verified)["kind"], "session");

  prometheus::Registry registry;
  storage::DatabaseOptions read_options = options_;
  read_options.read_only = true;
  auto reads = storage::ReadPool::Open(read_options, 1);
  ASSERT_TRUE(reads.ok());
  // The cache TTL (10 min) is longer than the session: the session still ends on time.
  TokenAuthenticator auth(**reads, clock_, std::chrono::minutes(10), registry);
  auto principal = auth.Authenticate(session->bearer);
  ASSERT_TRUE(principal.ok());
  EXPECT_EQ(principal->subject, "user:alice");
  EXPECT_EQ(principal->role, "agent");
  clock_.Advance(std::chrono::seconds(59));
  EXPECT_TRUE(auth.Authenticate(session->bearer).ok());
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(auth.Authenticate(session->bearer).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyApiToken(*db_, clock_, session->bearer).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(ApiTokensTest, ForgottenTokenIsCheckedAgainstTheStoreAtOnce) {
  CreatedToken t = Create("agent");
  prometheus::Registry registry;
  storage::DatabaseOptions read_options = options_;
  read_options.read_only = true;
  auto reads = storage::ReadPool::Open(read_options, 1);
  ASSERT_TRUE(reads.ok());
  TokenAuthenticator auth(**reads, clock_, std::chrono::minutes(10), registry);
  ASSERT_TRUE(auth.Authenticate(t.bearer).ok());
  ASSERT_TRUE(RevokeApiToken(*db_, clock_, t.token.id).ok());
  EXPECT_TRUE(auth.Authenticate(t.bearer).ok()) << "served from the cache until the TTL";
  auth.Forget(t.token.id);
  EXPECT_EQ(auth.Authenticate(t.bearer).status().code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace kefu::app
