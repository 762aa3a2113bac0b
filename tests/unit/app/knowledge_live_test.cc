#include "app/knowledge_live.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <future>
#include <mutex>
#include <thread>

namespace kefu::app {
namespace {

using namespace std::chrono_literals;

knowledge::Faq MakeFaq(std::string id, std::string question, std::string answer) {
  knowledge::Faq f;
  f.id = std::move(id);
  f.question = std::move(question);
  f.answer = std::move(answer);
  return f;
}

// An in-memory "store": the loader and the generation reader see what the test put there.
class FakeTables {
 public:
  FakeTables() {
    snapshot_.faqs = {MakeFaq("refund", "怎么申请退款", "在订单页申请退款。"),
                      MakeFaq("password", "如何修改登录密码", "在设置里修改密码。")};
  }
  // A change by "another process": bumps the generation.
  void Add(knowledge::Faq faq) {
    std::lock_guard lock(mu_);
    snapshot_.faqs.push_back(std::move(faq));
    ++snapshot_.generation;
  }
  void AddSynonym(std::string variant, std::string canonical) {
    std::lock_guard lock(mu_);
    snapshot_.lexicon.synonyms.emplace_back(std::move(variant), std::move(canonical));
    ++snapshot_.generation;
  }
  int64_t generation() {
    std::lock_guard lock(mu_);
    return snapshot_.generation;
  }
  LiveMatcher::Loader Loader() {
    return [this]() -> Result<KnowledgeSnapshot> {
      ++loads;
      std::lock_guard lock(mu_);
      return snapshot_;
    };
  }
  LiveMatcher::GenerationReader Reader() {
    return [this]() -> Result<int64_t> { return generation(); };
  }
  std::atomic<int> loads{0};

 private:
  std::mutex mu_;
  KnowledgeSnapshot snapshot_;
};

bool Finds(const LiveMatcher& live, std::string_view query, std::string_view id) {
  auto m = live.Match(query, 3);
  return !m.empty() && m.front().faq_id == id;
}

TEST(LiveMatcher, ServesNothingBeforeTheFirstRebuildAndTheLoadedBaseAfter) {
  FakeTables tables;
  FakeClock clock;
  LiveMatcher live({}, tables.Loader(), tables.Reader(), clock, 2s);
  EXPECT_TRUE(live.Match("怎么申请退款", 3).empty());
  EXPECT_EQ(live.generation(), -1);
  ASSERT_TRUE(live.Rebuild().ok());
  EXPECT_TRUE(Finds(live, "怎么申请退款", "refund"));
  EXPECT_EQ(live.generation(), 0);
  EXPECT_EQ(live.faq_count(), 2u);

  auto answers = live.Match("怎么申请退款", "wecom", 3);
  ASSERT_TRUE(answers.ok());
  ASSERT_FALSE(answers->candidates.empty());
  EXPECT_EQ(answers->candidates.front().answer, "在订单页申请退款。");
}

TEST(LiveMatcher, RefreshRebuildsOnlyWhenDueAndTheGenerationMoved) {
  FakeTables tables;
  FakeClock clock;
  LiveMatcher live({}, tables.Loader(), tables.Reader(), clock, 2s);
  ASSERT_TRUE(live.Rebuild().ok());

  // First check is due at once, but nothing changed.
  auto r = live.RefreshIfDue();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);

  tables.Add(MakeFaq("invoice", "怎么开发票", "在订单详情里申请发票。"));
  clock.Advance(1s);  // not due yet
  r = live.RefreshIfDue();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_FALSE(Finds(live, "怎么开发票", "invoice"));

  clock.Advance(1s);
  r = live.RefreshIfDue();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_TRUE(Finds(live, "怎么开发票", "invoice"));
  EXPECT_EQ(live.generation(), 1);
  EXPECT_EQ(live.rebuild_count(), 2u);
}

TEST(LiveMatcher, ZeroIntervalNeverRefreshes) {
  FakeTables tables;
  FakeClock clock;
  LiveMatcher live({}, tables.Loader(), tables.Reader(), clock, 0ms);
  ASSERT_TRUE(live.Rebuild().ok());
  tables.Add(MakeFaq("invoice", "怎么开发票", "发票。"));
  clock.Advance(1h);
  auto r = live.RefreshIfDue();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
}

TEST(LiveMatcher, OwnChangeInStepWithTheGenerationNeedsNoRebuild) {
  FakeTables tables;
  FakeClock clock;
  LiveMatcher live({}, tables.Loader(), tables.Reader(), clock, 2s);
  ASSERT_TRUE(live.Rebuild().ok());

  knowledge::Faq invoice = MakeFaq("invoice", "怎么开发票", "发票。");
  tables.Add(invoice);  // the commit (generation 0 -> 1)
  live.Apply({{invoice, {}}}, 0, 1);
  EXPECT_TRUE(Finds(live, "怎么开发票", "invoice"));
  EXPECT_EQ(live.generation(), 1);

  const int loads = tables.loads;
  auto r = live.RefreshIfDue();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(tables.loads, loads);

  live.Apply({{{}, "invoice"}}, 1, 2);
  EXPECT_FALSE(Finds(live, "怎么开发票", "invoice"));
}

TEST(LiveMatcher, ChangeAfterAnotherProcessWroteIsAppliedAndTheRefreshCatchesUp) {
  FakeTables tables;
  FakeClock clock;
  LiveMatcher live({}, tables.Loader(), tables.Reader(), clock, 2s);
  ASSERT_TRUE(live.Rebuild().ok());

  tables.Add(MakeFaq("invoice", "怎么开发票", "发票。"));  // kefuctl: 0 -> 1
  knowledge::Faq phone = MakeFaq("phone", "怎么更换绑定手机号", "在安全中心更换。");
  tables.Add(phone);                // kefud: 1 -> 2
  live.Apply({{phone, {}}}, 1, 2);  // visible at once, but the served state missed 0 -> 1
  EXPECT_TRUE(Finds(live, "怎么更换绑定手机号", "phone"));
  EXPECT_EQ(live.generation(), 0);

  auto r = live.RefreshIfDue();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_TRUE(Finds(live, "怎么开发票", "invoice"));
  EXPECT_TRUE(Finds(live, "怎么更换绑定手机号", "phone"));
  EXPECT_EQ(live.generation(), 2);
}

TEST(LiveMatcher, AdminSynonymReachesTheMatcherOnRebuild) {
  FakeTables tables;
  FakeClock clock;
  LiveMatcher live({}, tables.Loader(), tables.Reader(), clock, 2s);
  ASSERT_TRUE(live.Rebuild().ok());
  EXPECT_FALSE(Finds(live, "钥匙丢了", "password"));
  tables.AddSynonym("钥匙", "登录密码");
  ASSERT_TRUE(live.Rebuild().ok());
  EXPECT_TRUE(Finds(live, "钥匙丢了", "password"));
}

// A loader that, once armed, blocks after loading until released, to look at the live matcher
// during a rebuild.
struct GatedLoader {
  FakeTables& tables;
  bool armed = false;
  std::promise<void> entered;
  std::promise<void> release;
  LiveMatcher::Loader Loader() {
    return [this]() -> Result<KnowledgeSnapshot> {
      KnowledgeSnapshot snap = *tables.Loader()();
      if (armed) {
        entered.set_value();
        release.get_future().wait();
      }
      return snap;
    };
  }
};

TEST(LiveMatcher, MatchesDuringARebuildAreServedByTheOldStateAndChangesAreNotLost) {
  FakeTables tables;
  FakeClock clock;
  GatedLoader gate{tables, false, {}, {}};
  LiveMatcher live({}, gate.Loader(), tables.Reader(), clock, 2s);
  ASSERT_TRUE(live.Rebuild().ok());
  gate.armed = true;

  tables.Add(MakeFaq("invoice", "怎么开发票", "发票。"));  // another process: 0 -> 1
  std::thread rebuild([&] { ASSERT_TRUE(live.Rebuild().ok()); });
  gate.entered.get_future().wait();  // the snapshot (generation 1) is loaded, not yet swapped

  // Matching is not blocked and sees the old state.
  EXPECT_TRUE(Finds(live, "怎么申请退款", "refund"));
  EXPECT_FALSE(Finds(live, "怎么开发票", "invoice"));
  // kefud's own change committed after the snapshot: applied now and replayed onto the new state.
  knowledge::Faq phone = MakeFaq("phone", "怎么更换绑定手机号", "在安全中心更换。");
  tables.Add(phone);  // 1 -> 2
  live.Apply({{phone, {}}}, 1, 2);
  EXPECT_TRUE(Finds(live, "怎么更换绑定手机号", "phone"));

  gate.release.set_value();
  rebuild.join();
  EXPECT_TRUE(Finds(live, "怎么开发票", "invoice"));
  EXPECT_TRUE(Finds(live, "怎么更换绑定手机号", "phone"));
  EXPECT_EQ(live.generation(), 2);
}

TEST(LiveMatcher, FailedLoadKeepsTheServedState) {
  FakeTables tables;
  FakeClock clock;
  bool fail = false;
  LiveMatcher live(
      {},
      [&]() -> Result<KnowledgeSnapshot> {
        if (fail) return Unavailable("database is locked");
        return tables.Loader()();
      },
      tables.Reader(), clock, 2s);
  ASSERT_TRUE(live.Rebuild().ok());
  fail = true;
  tables.Add(MakeFaq("invoice", "怎么开发票", "发票。"));
  auto r = live.RefreshIfDue();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(Finds(live, "怎么申请退款", "refund"));
  EXPECT_EQ(live.generation(), 0);
}

double Value(prometheus::Registry& registry, const std::string& name, const std::string& result) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      const bool match = result.empty() || (!m.label.empty() && m.label[0].value == result);
      if (match)
        return family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return -1;
}

TEST(LiveMatcher, MetricsCountRebuildsAndShowTheServedGeneration) {
  FakeTables tables;
  FakeClock clock;
  prometheus::Registry registry;
  bool fail = false;
  LiveMatcher live(
      {},
      [&]() -> Result<KnowledgeSnapshot> {
        if (fail) return Unavailable("database is locked");
        return tables.Loader()();
      },
      tables.Reader(), clock, 2s);
  live.RegisterMetrics(registry);
  tables.Add(MakeFaq("invoice", "怎么开发票", "发票。"));
  ASSERT_TRUE(live.Rebuild().ok());
  EXPECT_EQ(Value(registry, "kefu_knowledge_matcher_rebuilds_total", "ok"), 1);
  EXPECT_EQ(Value(registry, "kefu_knowledge_matcher_generation", ""), 1);
  live.Apply({}, 1, 2);
  EXPECT_EQ(Value(registry, "kefu_knowledge_matcher_generation", ""), 2);
  fail = true;
  EXPECT_FALSE(live.Rebuild().ok());
  EXPECT_EQ(Value(registry, "kefu_knowledge_matcher_rebuilds_total", "error"), 1);
}

TEST(LiveMatcher, BackgroundThreadStartsAndStops) {
  FakeTables tables;
  FakeClock clock;
  LiveMatcher live({}, tables.Loader(), tables.Reader(), clock, 2s);
  ASSERT_TRUE(live.Rebuild().ok());
  live.Start(1ms);
  live.Stop();
  live.Stop();  // idempotent
  EXPECT_TRUE(Finds(live, "怎么申请退款", "refund"));
}

}  // namespace
}  // namespace kefu::app
