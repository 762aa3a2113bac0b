#include "channels/common/outbox.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace kefu::channels {
namespace {

constexpr char kEnqueue[] =
    "INSERT INTO channel_outbox(idempotency_key, channel, app, destination, msg_type, content, "
    "reply_context, inbound_id, state, next_attempt_ms, created_ms, updated_ms) "
    "VALUES(?,?,?,?,?,?,?,?,'pending',?,?,?) ON CONFLICT(idempotency_key) DO NOTHING";
constexpr char kColumns[] =
    "SELECT id, idempotency_key, channel, app, destination, msg_type, content, reply_context, "
    "inbound_id, state, attempts, next_attempt_ms, last_error, created_ms, updated_ms, sent_ms "
    "FROM channel_outbox ";
constexpr char kWhereDue[] = "WHERE state = 'pending' AND next_attempt_ms <= ? ORDER BY id LIMIT ?";
constexpr char kWhereState[] = "WHERE state = ? ORDER BY id DESC LIMIT ?";
constexpr char kWhereAll[] = "ORDER BY id DESC LIMIT ?";
constexpr char kWhereId[] = "WHERE id = ?";
constexpr char kSentContents[] =
    "SELECT content FROM channel_outbox WHERE channel = ? AND app = ? AND destination = ? "
    "AND state = 'sent' AND sent_ms >= ? ORDER BY id";
constexpr char kMarkSent[] =
    "UPDATE channel_outbox SET state = 'sent', attempts = attempts + 1, sent_ms = ?, "
    "last_error = ?, updated_ms = ? WHERE id = ?";
constexpr char kMarkRetry[] =
    "UPDATE channel_outbox SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ?, "
    "updated_ms = ? WHERE id = ?";
constexpr char kMarkWait[] =
    "UPDATE channel_outbox SET next_attempt_ms = ?, last_error = ?, updated_ms = ? WHERE id = ?";
constexpr char kMarkState[] =
    "UPDATE channel_outbox SET state = ?, attempts = attempts + ?, last_error = ?, updated_ms = ? "
    "WHERE id = ?";

OutboxState ParseState(std::string_view s) {
  if (s == "held") return OutboxState::kHeld;
  if (s == "sent") return OutboxState::kSent;
  if (s == "dead") return OutboxState::kDead;
  return OutboxState::kPending;
}

OutboxRow ReadRow(storage::Statement& st) {
  OutboxRow r;
  r.id = st.ColumnInt64(0);
  r.message.idempotency_key = st.ColumnText(1);
  r.message.channel = st.ColumnText(2);
  r.message.app = st.ColumnText(3);
  r.message.destination = st.ColumnText(4);
  r.message.msg_type = st.ColumnText(5);
  r.message.content = st.ColumnText(6);
  r.message.reply_context = st.ColumnText(7);
  r.message.inbound_id = st.ColumnOptionalInt64(8);
  r.state = ParseState(st.ColumnText(9));
  r.attempts = st.ColumnInt(10);
  r.next_attempt_ms = st.ColumnInt64(11);
  r.last_error = st.ColumnText(12);
  r.created_ms = st.ColumnInt64(13);
  r.updated_ms = st.ColumnInt64(14);
  r.sent_ms = st.ColumnOptionalInt64(15);
  return r;
}

Result<std::vector<OutboxRow>> Query(storage::Statement* st) {
  std::vector<OutboxRow> out;
  while (true) {
    KEFU_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(ReadRow(*st));
  }
  return out;
}

}  // namespace

std::string_view OutboxStateName(OutboxState s) {
  switch (s) {
    case OutboxState::kPending:
      return "pending";
    case OutboxState::kHeld:
      return "held";
    case OutboxState::kSent:
      return "sent";
    case OutboxState::kDead:
      return "dead";
  }
  return "pending";
}

Result<std::optional<int64_t>> EnqueueOutbound(storage::Database& db, const OutboundMessage& m,
                                               int64_t now_ms) {
  if (m.idempotency_key.empty()) return InvalidArgument("outbox: idempotency_key is empty");
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kEnqueue));
  KEFU_RETURN_IF_ERROR(st->BindAll(m.idempotency_key, m.channel, m.app, m.destination, m.msg_type,
                                   m.content, m.reply_context, m.inbound_id, now_ms, now_ms,
                                   now_ms));
  KEFU_RETURN_IF_ERROR(st->Run());
  if (db.Changes() == 0) return std::optional<int64_t>();
  return std::optional<int64_t>(db.LastInsertRowId());
}

Result<std::vector<OutboxRow>> ListOutbox(storage::Database& db, std::optional<OutboxState> state,
                                          int limit) {
  if (state) {
    KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(std::string(kColumns) + kWhereState));
    KEFU_RETURN_IF_ERROR(st->BindAll(std::string(OutboxStateName(*state)), limit));
    return Query(st);
  }
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(std::string(kColumns) + kWhereAll));
  KEFU_RETURN_IF_ERROR(st->Bind(1, limit));
  return Query(st);
}

Result<OutboxRow> GetOutboxRow(storage::Database& db, int64_t id) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(std::string(kColumns) + kWhereId));
  KEFU_RETURN_IF_ERROR(st->Bind(1, id));
  KEFU_ASSIGN_OR_RETURN(auto rows, Query(st));
  if (rows.empty()) return NotFound("outbox row " + std::to_string(id) + " not found");
  return rows.front();
}

Result<std::vector<std::string>> SentContentsSince(storage::Database& db, std::string_view channel,
                                                   std::string_view app,
                                                   std::string_view destination, int64_t since_ms) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kSentContents));
  KEFU_RETURN_IF_ERROR(st->BindAll(channel, app, destination, since_ms));
  std::vector<std::string> out;
  while (true) {
    KEFU_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) return out;
    out.push_back(st->ColumnText(0));
  }
}

std::chrono::milliseconds BackoffDelay(const DispatcherOptions& o, int attempts, double jitter01) {
  double base = static_cast<double>(o.base_backoff.count());
  int exp = std::clamp(attempts - 1, 0, 30);
  double d = std::min(static_cast<double>(o.max_backoff.count()), base * double(1LL << exp));
  d *= 0.5 + 0.5 * std::clamp(jitter01, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(d));
}

OutboxDispatcher::OutboxDispatcher(storage::WriterExecutor& writer, storage::ReadPool& reads,
                                   const Clock& clock, prometheus::Registry& registry,
                                   DispatcherOptions options)
    : writer_(writer),
      reads_(reads),
      clock_(clock),
      options_(options),
      results_(&prometheus::BuildCounter()
                    .Name("kefu_channels_outbox_total")
                    .Help("Outbox send attempts by channel and result")
                    .Register(registry)),
      rng_(std::random_device{}()),
      pool_(std::make_unique<HttpWorkerPool>(options.workers)) {}

OutboxDispatcher::~OutboxDispatcher() {
  Stop();
}

void OutboxDispatcher::AddSender(const std::string& channel, const std::string& app,
                                 ChannelSender* sender) {
  senders_[channel + "|" + app] = sender;
}

Status OutboxDispatcher::Record(const OutboxRow& row, const SendOutcome& outcome, TimePoint now) {
  int64_t now_ms = ToUnixMs(now);
  std::string result;
  Status s;
  switch (outcome.kind) {
    case SendOutcome::Kind::kSent:
      result = "sent";
      s = writer_.Run([&](storage::Database& db) -> Status {
        KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kMarkSent));
        KEFU_RETURN_IF_ERROR(st->BindAll(now_ms, outcome.error, now_ms, row.id));
        return st->Run();
      });
      break;
    case SendOutcome::Kind::kRetry:
      if (row.attempts + 1 >= options_.max_attempts) {
        result = "dead";
        s = writer_.Run([&](storage::Database& db) -> Status {
          KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kMarkState));
          KEFU_RETURN_IF_ERROR(st->BindAll("dead", 1, outcome.error, now_ms, row.id));
          return st->Run();
        });
      } else {
        result = "retry";
        double jitter;
        {
          std::lock_guard lock(rng_mu_);
          jitter = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
        }
        int64_t next = now_ms + BackoffDelay(options_, row.attempts + 1, jitter).count();
        s = writer_.Run([&](storage::Database& db) -> Status {
          KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kMarkRetry));
          KEFU_RETURN_IF_ERROR(st->BindAll(next, outcome.error, now_ms, row.id));
          return st->Run();
        });
      }
      break;
    case SendOutcome::Kind::kRateLimited: {
      result = "rate_limited";
      int64_t next = outcome.retry_at ? ToUnixMs(*outcome.retry_at) : now_ms + 60'000;
      s = writer_.Run([&](storage::Database& db) -> Status {
        KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kMarkWait));
        KEFU_RETURN_IF_ERROR(st->BindAll(next, outcome.error, now_ms, row.id));
        return st->Run();
      });
      break;
    }
    case SendOutcome::Kind::kHold:
    case SendOutcome::Kind::kDead: {
      bool hold = outcome.kind == SendOutcome::Kind::kHold;
      result = hold ? "held" : "dead";
      s = writer_.Run([&](storage::Database& db) -> Status {
        KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kMarkState));
        KEFU_RETURN_IF_ERROR(
            st->BindAll(hold ? "held" : "dead", hold ? 0 : 1, outcome.error, now_ms, row.id));
        return st->Run();
      });
      if (hold) {
        spdlog::warn("outbox row held channel={} app={} outbox_id={} reason={}",
                     row.message.channel, row.message.app, row.id, outcome.error);
      } else {
        spdlog::error("outbox row dead-lettered channel={} app={} outbox_id={} error={}",
                      row.message.channel, row.message.app, row.id, outcome.error);
      }
      break;
    }
  }
  results_->Add({{"channel", row.message.channel}, {"result", result}}).Increment();
  return s;
}

void OutboxDispatcher::SendDestination(std::vector<OutboxRow> rows, int* sent) {
  for (const OutboxRow& row : rows) {
    TimePoint now = clock_.Now();
    auto it = senders_.find(row.message.channel + "|" + row.message.app);
    if (it == senders_.end()) {
      (void)Record(row,
                   {SendOutcome::Kind::kDead,
                    "no sender for " + row.message.channel + " app " + row.message.app,
                    {}},
                   now);
      continue;
    }
    ChannelSender* sender = it->second;
    auto limits = sender->Limits(row);
    const int sends = sender->PlatformSends(row);
    std::optional<TimePoint> wait;
    for (const auto& [key, limit] : limits) {
      wait = limiter_.TryAcquire(key, limit, now, sends);
      if (wait) break;
    }
    if (wait) {
      // Queued, never dropped: the row (and the rest of this destination) waits for capacity.
      (void)writer_.Run([&](storage::Database& db) -> Status {
        KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kMarkWait));
        KEFU_RETURN_IF_ERROR(st->BindAll(ToUnixMs(*wait), row.last_error, ToUnixMs(now), row.id));
        return st->Run();
      });
      return;
    }
    std::optional<std::string> hold =
        reads_.Read([&](storage::Database& db) { return sender->HoldReason(db, row, now); });
    SendOutcome outcome;
    if (hold) {
      outcome = {SendOutcome::Kind::kHold, *hold, {}};
    } else {
      outcome = sender->Send(row);
    }
    if (outcome.kind == SendOutcome::Kind::kRateLimited) {
      TimePoint until = outcome.retry_at.value_or(now + std::chrono::seconds(60));
      for (const auto& lim : limits)
        limiter_.Penalise(lim.first, until);
    }
    Status s = Record(row, outcome, now);
    if (!s.ok()) {
      spdlog::error("outbox: cannot record result outbox_id={} error={}", row.id, s.ToString());
      return;
    }
    if (outcome.kind == SendOutcome::Kind::kSent) ++*sent;
    if (outcome.kind == SendOutcome::Kind::kRetry ||
        outcome.kind == SendOutcome::Kind::kRateLimited) {
      return;  // keep per-destination order
    }
  }
}

int OutboxDispatcher::RunOnce() {
  std::lock_guard run_lock(run_mu_);
  int64_t now_ms = clock_.NowUnixMs();
  auto due = reads_.Read([&](storage::Database& db) -> Result<std::vector<OutboxRow>> {
    KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(std::string(kColumns) + kWhereDue));
    KEFU_RETURN_IF_ERROR(st->BindAll(now_ms, options_.batch));
    return Query(st);
  });
  if (!due.ok()) {
    spdlog::error("outbox: cannot read due rows: {}", due.status().ToString());
    return 0;
  }
  std::map<std::string, std::vector<OutboxRow>> groups;
  for (auto& r : *due) {
    std::string key = r.message.channel + "|" + r.message.app + "|" + r.message.destination;
    groups[key].push_back(std::move(r));
  }
  std::mutex done_mu;
  std::condition_variable done_cv;
  size_t remaining = groups.size();
  std::vector<int> sent(groups.size(), 0);
  size_t i = 0;
  for (auto& [key, rows] : groups) {
    int* slot = &sent[i++];
    pool_->Post([&, slot, rows = std::move(rows)]() mutable {
      SendDestination(std::move(rows), slot);
      std::lock_guard lock(done_mu);
      if (--remaining == 0) done_cv.notify_all();
    });
  }
  std::unique_lock lock(done_mu);
  done_cv.wait(lock, [&] { return remaining == 0; });
  int total = 0;
  for (int n : sent)
    total += n;
  return total;
}

void OutboxDispatcher::Start() {
  thread_ = std::thread([this] {
    while (true) {
      RunOnce();
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.poll_interval, [&] { return stopping_ || notified_; });
      if (stopping_) return;
      notified_ = false;
    }
  });
}

void OutboxDispatcher::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_all();
}

void OutboxDispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kefu::channels
