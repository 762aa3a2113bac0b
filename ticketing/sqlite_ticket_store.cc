#include "ticketing/sqlite_ticket_store.h"

#include <algorithm>
#include <array>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "storage/migrations.h"

namespace kefu::ticketing {
const std::vector<storage::Migration>& SqliteTicketStore::Migrations() {
  static const std::vector<storage::Migration> kMigrations = {
      {1, "tickets, append-only events, sla metric results", R"sql(
CREATE TABLE tickets(
  id INTEGER PRIMARY KEY,
  subject TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  priority TEXT NOT NULL,
  grp TEXT NOT NULL DEFAULT '',
  assignee TEXT NOT NULL DEFAULT '',
  requester TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '[]',
  customer_tags TEXT NOT NULL DEFAULT '[]',
  conversation_id INTEGER,
  follow_up_of INTEGER,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  solved_at_ms INTEGER,
  sla_policy TEXT NOT NULL DEFAULT '',
  sla_state TEXT NOT NULL DEFAULT 'ok',
  next_wake_ms INTEGER,
  version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tickets_status ON tickets(status, priority);
CREATE INDEX tickets_conversation ON tickets(conversation_id, id);
CREATE INDEX tickets_wake ON tickets(next_wake_ms) WHERE next_wake_ms IS NOT NULL;
CREATE TABLE ticket_events(
  id INTEGER PRIMARY KEY,
  ticket_id INTEGER NOT NULL REFERENCES tickets(id),
  kind TEXT NOT NULL,
  actor_kind TEXT NOT NULL,
  actor_id TEXT NOT NULL DEFAULT '',
  at_ms INTEGER NOT NULL,
  field TEXT NOT NULL DEFAULT '',
  before TEXT NOT NULL DEFAULT '',
  after TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT '',
  instance INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);
CREATE UNIQUE INDEX ticket_events_sla_once ON ticket_events(ticket_id, kind, field, instance)
  WHERE kind IN ('sla_warning', 'sla_breach');
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
  BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;
CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
  BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;
CREATE TABLE sla_metric_results(
  ticket_id INTEGER NOT NULL REFERENCES tickets(id),
  metric TEXT NOT NULL,
  instance INTEGER NOT NULL,
  policy TEXT NOT NULL,
  priority TEXT NOT NULL,
  grp TEXT NOT NULL,
  business_hours INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  due_ms INTEGER,
  fulfilled_ms INTEGER,
  target_minutes INTEGER NOT NULL,
  actual_minutes INTEGER NOT NULL,
  breached INTEGER NOT NULL,
  late_by_minutes INTEGER NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY(ticket_id, metric, instance)
) WITHOUT ROWID;
CREATE INDEX sla_metric_results_start ON sla_metric_results(start_ms);
)sql"},
      // Every status or priority change rewrote two entries of this index (random pages at
      // commit); the list's filters scan tickets in id order and stop at the page limit.
      {2, "drop the tickets(status, priority) index", R"sql(
DROP INDEX tickets_status;
)sql"},
  };
  return kMigrations;
}

namespace {

constexpr char kSelectTicket[] =
    "SELECT id, subject, status, priority, grp, assignee, requester, channel, tags, "
    "customer_tags, conversation_id, follow_up_of, created_at_ms, updated_at_ms, solved_at_ms, "
    "sla_policy, sla_state, next_wake_ms, version FROM tickets WHERE id = ?";
constexpr char kSelectLatestForConversation[] =
    "SELECT id, subject, status, priority, grp, assignee, requester, channel, tags, "
    "customer_tags, conversation_id, follow_up_of, created_at_ms, updated_at_ms, solved_at_ms, "
    "sla_policy, sla_state, next_wake_ms, version FROM tickets WHERE conversation_id = ? "
    "ORDER BY id DESC LIMIT 1";
constexpr char kInsertTicket[] =
    "INSERT INTO tickets(subject, status, priority, grp, assignee, requester, channel, tags, "
    "customer_tags, conversation_id, follow_up_of, created_at_ms, updated_at_ms, solved_at_ms, "
    "sla_policy, sla_state, next_wake_ms, version) "
    "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)";
// Ticket updates leave next_wake_ms out unless it changed: SQLite rewrites the entries of every
// index with a column in the SET list, even to the same value, and each rewrite dirties a random
// page (commit cost grows with dirty pages, not rows). conversation_id never changes after insert.
constexpr char kUpdateTicket[] =
    "UPDATE tickets SET subject = ?1, grp = ?2, assignee = ?3, requester = ?4, channel = ?5, "
    "tags = ?6, customer_tags = ?7, follow_up_of = ?8, updated_at_ms = ?9, solved_at_ms = ?10, "
    "sla_policy = ?11, sla_state = ?12, status = ?13, priority = ?14, version = version + 1 "
    "WHERE id = ?16";
constexpr char kUpdateTicketAndWake[] =
    "UPDATE tickets SET subject = ?1, grp = ?2, assignee = ?3, requester = ?4, channel = ?5, "
    "tags = ?6, customer_tags = ?7, follow_up_of = ?8, updated_at_ms = ?9, solved_at_ms = ?10, "
    "sla_policy = ?11, sla_state = ?12, status = ?13, priority = ?14, next_wake_ms = ?15, "
    "version = version + 1 WHERE id = ?16";
constexpr char kSelectEvents[] =
    "SELECT id, ticket_id, kind, actor_kind, actor_id, at_ms, field, before, after, body, "
    "instance FROM ticket_events WHERE ticket_id = ? ORDER BY id";
constexpr char kInsertEvent[] =
    "INSERT INTO ticket_events(ticket_id, kind, actor_kind, actor_id, at_ms, field, before, "
    "after, body, instance) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kDeleteMetric[] =
    "DELETE FROM sla_metric_results WHERE ticket_id = ? AND metric = ? AND instance = ?";
// An upsert (not INSERT OR REPLACE, which deletes and re-inserts every index entry): an instance's
// start never changes (it comes from append-only events), so the start_ms index is left alone.
constexpr char kUpsertMetric[] =
    "INSERT INTO sla_metric_results(ticket_id, metric, instance, policy, priority, grp, "
    "business_hours, start_ms, due_ms, fulfilled_ms, target_minutes, actual_minutes, breached, "
    "late_by_minutes, state) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(ticket_id, metric, instance) DO UPDATE SET policy = excluded.policy, "
    "priority = excluded.priority, grp = excluded.grp, business_hours = excluded.business_hours, "
    "due_ms = excluded.due_ms, fulfilled_ms = excluded.fulfilled_ms, "
    "target_minutes = excluded.target_minutes, actual_minutes = excluded.actual_minutes, "
    "breached = excluded.breached, late_by_minutes = excluded.late_by_minutes, "
    "state = excluded.state";
constexpr char kFirstWake[] =
    "SELECT next_wake_ms FROM tickets WHERE next_wake_ms IS NOT NULL ORDER BY next_wake_ms LIMIT 1";
constexpr char kLastWake[] =
    "SELECT next_wake_ms FROM tickets WHERE next_wake_ms IS NOT NULL "
    "ORDER BY next_wake_ms DESC LIMIT 1";
constexpr char kSelectTimers[] =
    "SELECT id, next_wake_ms FROM tickets WHERE next_wake_ms >= ?1 AND next_wake_ms < ?2 "
    "ORDER BY next_wake_ms";
constexpr char kListTickets[] =
    "SELECT id, subject, status, priority, grp, assignee, requester, channel, tags, "
    "customer_tags, conversation_id, follow_up_of, created_at_ms, updated_at_ms, solved_at_ms, "
    "sla_policy, sla_state, next_wake_ms, version FROM tickets WHERE id > ?1 "
    "AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR priority = ?3) "
    "AND (?4 IS NULL OR grp = ?4) AND (?5 IS NULL OR assignee = ?5) "
    "AND (?6 IS NULL OR sla_state = ?6) "
    "AND (?7 IS NULL OR instr(subject, ?7) > 0 OR instr(requester, ?7) > 0) "
    "ORDER BY id LIMIT ?8";
constexpr char kSelectMetrics[] =
    "SELECT ticket_id, metric, instance, policy, priority, grp, business_hours, start_ms, due_ms, "
    "fulfilled_ms, target_minutes, actual_minutes, breached, late_by_minutes, state "
    "FROM sla_metric_results WHERE start_ms >= ? AND start_ms < ? AND (?3 IS NULL OR grp = ?3) "
    "ORDER BY start_ms";
constexpr char kSelectMetricsOf[] =
    "SELECT ticket_id, metric, instance, policy, priority, grp, business_hours, start_ms, due_ms, "
    "fulfilled_ms, target_minutes, actual_minutes, breached, late_by_minutes, state "
    "FROM sla_metric_results WHERE ticket_id = ? ORDER BY metric, instance";

// The statements every unit of work runs, kept prepared by the store (index into kHotSql).
enum HotStatement : size_t {
  kHotInsertTicket,
  kHotUpdateTicket,
  kHotUpdateTicketAndWake,
  kHotInsertEvent,
  kHotUpsertMetric,
  kHotDeleteMetric,
};
constexpr std::array<const char*, SqliteTicketStore::kHotStatements> kHotSql = {
    kInsertTicket, kUpdateTicket, kUpdateTicketAndWake, kInsertEvent, kUpsertMetric, kDeleteMetric,
};

std::string ToJson(const std::vector<std::string>& v) {
  if (v.empty()) return "[]";  // most tickets: no JSON document to build
  return nlohmann::json(v).dump();
}

std::vector<std::string> FromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& x : j) {
    if (x.is_string()) out.push_back(x.get<std::string>());
  }
  return out;
}

std::optional<int64_t> OptMs(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return ToUnixMs(*t);
}
std::optional<TimePoint> OptTime(const std::optional<int64_t>& ms) {
  if (!ms) return std::nullopt;
  return FromUnixMs(*ms);
}
std::optional<int64_t> OptId(int64_t v) {
  return v > 0 ? std::optional<int64_t>(v) : std::nullopt;
}

Result<Ticket> ReadTicket(storage::Statement& s) {
  Ticket t;
  t.id = TicketId(s.ColumnInt64(0));
  t.subject = s.ColumnText(1);
  KEFU_ASSIGN_OR_RETURN(t.status, ParseTicketStatus(s.ColumnText(2), "tickets.status"));
  KEFU_ASSIGN_OR_RETURN(t.priority, ParsePriority(s.ColumnText(3), "tickets.priority"));
  t.group = s.ColumnText(4);
  t.assignee = s.ColumnText(5);
  t.requester = s.ColumnText(6);
  t.channel = s.ColumnText(7);
  t.tags = FromJson(s.ColumnText(8));
  t.customer_tags = FromJson(s.ColumnText(9));
  t.conversation = ConversationId(s.ColumnOptionalInt64(10).value_or(0));
  t.follow_up_of = TicketId(s.ColumnOptionalInt64(11).value_or(0));
  t.created_at = FromUnixMs(s.ColumnInt64(12));
  t.updated_at = FromUnixMs(s.ColumnInt64(13));
  t.solved_at = OptTime(s.ColumnOptionalInt64(14));
  t.sla_policy = s.ColumnText(15);
  t.sla_state = s.ColumnText(16);
  t.next_wake = OptTime(s.ColumnOptionalInt64(17));
  t.version = s.ColumnInt64(18);
  return t;
}

// The write path's statements run through the SQLite handle rather than Statement::Bind: text is
// bound SQLITE_STATIC (no copy per column; the arguments outlive the call, temporaries included,
// and the bindings are cleared before it returns). Parameters are numbered from `first`.
template <typename T>
int BindStatic(sqlite3_stmt* s, int idx, const T& v) {
  using V = std::decay_t<T>;
  if constexpr (std::is_same_v<V, std::optional<int64_t>>) {
    return v ? sqlite3_bind_int64(s, idx, *v) : sqlite3_bind_null(s, idx);
  } else if constexpr (std::is_integral_v<V>) {
    return sqlite3_bind_int64(s, idx, static_cast<int64_t>(v));
  } else if constexpr (requires {
                         v.value();
                         v.valid();
                       }) {  // typed ids
    return sqlite3_bind_int64(s, idx, v.value());
  } else {
    const std::string_view text(v);
    return sqlite3_bind_text64(s, idx, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  }
}

template <typename... Args>
Status RunStatic(storage::Database& db, storage::Statement& stmt, int first, const Args&... args) {
  sqlite3_stmt* s = stmt.handle();
  int idx = first;
  int rc = SQLITE_OK;
  ((rc == SQLITE_OK ? (rc = BindStatic(s, idx++, args)) : rc), ...);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    }
  }
  Status out = rc == SQLITE_DONE ? Status::Ok() : db.ErrorStatus(rc, stmt.sql());
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return out;
}

Status RunTicketUpdate(storage::Database& db, storage::Statement& s, const Ticket& t, bool wake) {
  if (wake) {
    return RunStatic(db, s, 1, t.subject, t.group, t.assignee, t.requester, t.channel,
                     ToJson(t.tags), ToJson(t.customer_tags), OptId(t.follow_up_of.value()),
                     ToUnixMs(t.updated_at), OptMs(t.solved_at), t.sla_policy, t.sla_state,
                     ToString(t.status), ToString(t.priority), OptMs(t.next_wake), t.id);
  }
  // ?15 (next_wake_ms) does not occur in this statement; ?16 is the id.
  KEFU_RETURN_IF_ERROR(sqlite3_bind_int64(s.handle(), 16, t.id.value()) == SQLITE_OK
                           ? Status::Ok()
                           : db.ErrorStatus(SQLITE_RANGE, s.sql()));
  return RunStatic(db, s, 1, t.subject, t.group, t.assignee, t.requester, t.channel, ToJson(t.tags),
                   ToJson(t.customer_tags), OptId(t.follow_up_of.value()), ToUnixMs(t.updated_at),
                   OptMs(t.solved_at), t.sla_policy, t.sla_state, ToString(t.status),
                   ToString(t.priority));
}

Status RunTicketInsert(storage::Database& db, storage::Statement& s, const Ticket& t) {
  return RunStatic(db, s, 1, t.subject, ToString(t.status), ToString(t.priority), t.group,
                   t.assignee, t.requester, t.channel, ToJson(t.tags), ToJson(t.customer_tags),
                   OptId(t.conversation.value()), OptId(t.follow_up_of.value()),
                   ToUnixMs(t.created_at), ToUnixMs(t.updated_at), OptMs(t.solved_at), t.sla_policy,
                   t.sla_state, OptMs(t.next_wake));
}

Result<Ticket> GetTicket(storage::Database& db, TicketId id) {
  KEFU_ASSIGN_OR_RETURN(auto* s, db.Prepare(kSelectTicket));
  KEFU_RETURN_IF_ERROR(s->Bind(1, id));
  KEFU_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return NotFound("ticket " + id.ToString() + " not found");
  auto t = ReadTicket(*s);
  s->Reset();
  return t;
}

Result<std::vector<TicketEvent>> GetEvents(storage::Database& db, TicketId id) {
  KEFU_ASSIGN_OR_RETURN(auto* s, db.Prepare(kSelectEvents));
  KEFU_RETURN_IF_ERROR(s->Bind(1, id));
  std::vector<TicketEvent> out;
  while (true) {
    KEFU_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    TicketEvent e;
    e.id = s->ColumnInt64(0);
    e.ticket = TicketId(s->ColumnInt64(1));
    KEFU_ASSIGN_OR_RETURN(e.kind, ParseEventKind(s->ColumnText(2), "ticket_events.kind"));
    KEFU_ASSIGN_OR_RETURN(e.actor.kind,
                          ParseActorKind(s->ColumnText(3), "ticket_events.actor_kind"));
    e.actor.id = s->ColumnText(4);
    e.at = FromUnixMs(s->ColumnInt64(5));
    e.field = s->ColumnText(6);
    e.before = s->ColumnText(7);
    e.after = s->ColumnText(8);
    e.body = s->ColumnText(9);
    e.instance = s->ColumnInt64(10);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<MetricResult>> ReadMetrics(storage::Statement& s) {
  std::vector<MetricResult> out;
  while (true) {
    KEFU_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    MetricResult r;
    r.ticket = TicketId(s.ColumnInt64(0));
    KEFU_ASSIGN_OR_RETURN(r.metric, ParseSlaMetric(s.ColumnText(1), "metric"));
    r.instance = s.ColumnInt64(2);
    r.policy = s.ColumnText(3);
    KEFU_ASSIGN_OR_RETURN(r.priority, ParsePriority(s.ColumnText(4), "priority"));
    r.group = s.ColumnText(5);
    r.business_hours = s.ColumnInt64(6) != 0;
    r.start = FromUnixMs(s.ColumnInt64(7));
    r.due = OptTime(s.ColumnOptionalInt64(8));
    r.fulfilled_at = OptTime(s.ColumnOptionalInt64(9));
    r.target_minutes = s.ColumnInt64(10);
    r.actual_minutes = s.ColumnInt64(11);
    r.breached = s.ColumnInt64(12) != 0;
    r.late_by_minutes = s.ColumnInt64(13);
    const std::string state = s.ColumnText(14);
    for (auto st : {MetricState::kActive, MetricState::kPaused, MetricState::kFulfilled,
                    MetricState::kBreached}) {
      if (ToString(st) == state) r.state = st;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// Equal apart from the running actual/late-by of an instance that is still open: those are
// refreshed whenever anything else about the instance changes, and are final once it is fulfilled.
bool SameOutcome(const MetricResult& a, const MetricResult& b) {
  const bool open = !b.fulfilled_at.has_value();
  return a.policy == b.policy && a.priority == b.priority && a.group == b.group &&
         a.business_hours == b.business_hours && a.start == b.start && a.due == b.due &&
         a.fulfilled_at == b.fulfilled_at && a.target_minutes == b.target_minutes &&
         a.breached == b.breached && a.state == b.state &&
         (open || (a.actual_minutes == b.actual_minutes && a.late_by_minutes == b.late_by_minutes));
}

Result<std::vector<MetricResult>> GetMetricsOf(storage::Database& db, TicketId id) {
  KEFU_ASSIGN_OR_RETURN(auto* s, db.Prepare(kSelectMetricsOf));
  KEFU_RETURN_IF_ERROR(s->Bind(1, id));
  return ReadMetrics(*s);
}

}  // namespace

// One unit of work. Tickets it touches are staged here (taken out of the writer's cache or, on a
// miss, read from the write connection, which sees every earlier write of the group) and put back
// into the cache only when the work succeeds; a failed work's savepoint rollback and its staged
// state are dropped together (the next use reads the ticket again).
class SqliteTicketStore::Tx final : public TicketTx {
 public:
  Tx(SqliteTicketStore& store, storage::Database& db) : store_(store), db_(db) {}

  Result<Ticket> Get(TicketId id) override {
    KEFU_ASSIGN_OR_RETURN(CachedTicket * c, Load(id));
    return c->ticket;
  }
  Result<const std::vector<TicketEvent>*> Events(TicketId id) override {
    KEFU_ASSIGN_OR_RETURN(CachedTicket * c, Load(id));
    return &c->events;
  }

  Result<std::optional<Ticket>> LatestForConversation(ConversationId c) override {
    KEFU_ASSIGN_OR_RETURN(auto* s, db_.Prepare(kSelectLatestForConversation));
    KEFU_RETURN_IF_ERROR(s->Bind(1, c));
    KEFU_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return std::optional<Ticket>();
    const TicketId id(s->ColumnInt64(0));
    s->Reset();
    KEFU_ASSIGN_OR_RETURN(CachedTicket * cached, Load(id));
    return std::optional<Ticket>(cached->ticket);
  }

  Result<TicketId> Insert(const Ticket& t) override {
    KEFU_ASSIGN_OR_RETURN(auto* s, Hot(kHotInsertTicket));
    KEFU_RETURN_IF_ERROR(RunTicketInsert(db_, *s, t));
    const TicketId id(db_.LastInsertRowId());
    CachedTicket& c = staged_[id.value()];
    c.ticket = t;
    c.ticket.id = id;
    c.ticket.version = 1;
    return id;
  }

  Status Update(const Ticket& t) override {
    KEFU_ASSIGN_OR_RETURN(CachedTicket * c, Load(t.id));
    if (t.conversation != c->ticket.conversation) {
      return InvalidArgument("ticket " + t.id.ToString() + ": conversation cannot change");
    }
    const bool wake = t.next_wake != c->ticket.next_wake;
    KEFU_ASSIGN_OR_RETURN(auto* s, Hot(wake ? kHotUpdateTicketAndWake : kHotUpdateTicket));
    KEFU_RETURN_IF_ERROR(RunTicketUpdate(db_, *s, t, wake));
    if (db_.Changes() != 1) return NotFound("ticket " + t.id.ToString() + " not found");
    const int64_t version = c->ticket.version + 1;
    c->ticket = t;
    c->ticket.version = version;
    return Status::Ok();
  }

  Result<int64_t> Append(const TicketEvent& e) override {
    // Loaded before the insert, so that a ticket read from the connection on a cache miss does
    // not already contain this event.
    KEFU_ASSIGN_OR_RETURN(CachedTicket * c, Load(e.ticket));
    KEFU_ASSIGN_OR_RETURN(auto* s, Hot(kHotInsertEvent));
    KEFU_RETURN_IF_ERROR(RunStatic(db_, *s, 1, e.ticket, ToString(e.kind), ToString(e.actor.kind),
                                   e.actor.id, ToUnixMs(e.at), e.field, e.before, e.after, e.body,
                                   e.instance));
    const int64_t id = db_.LastInsertRowId();
    TicketEvent kept = e;
    kept.id = id;
    kept.body.clear();
    c->events.push_back(std::move(kept));
    return id;
  }

  Status PutMetrics(TicketId id, const std::vector<MetricResult>& results) override {
    KEFU_ASSIGN_OR_RETURN(CachedTicket * c, Load(id));
    std::vector<MetricResult>& stored = c->metrics;
    // Rewrite only what changed: most operations leave most metric rows as they were.
    for (const auto& old : stored) {
      const bool kept = std::any_of(results.begin(), results.end(), [&](const MetricResult& r) {
        return r.metric == old.metric && r.instance == old.instance;
      });
      if (kept) continue;
      KEFU_ASSIGN_OR_RETURN(auto* del, Hot(kHotDeleteMetric));
      KEFU_RETURN_IF_ERROR(RunStatic(db_, *del, 1, id, ToString(old.metric), old.instance));
    }
    std::vector<MetricResult> now;
    now.reserve(results.size());
    for (const auto& r : results) {
      auto same = std::find_if(stored.begin(), stored.end(), [&](const MetricResult& old) {
        return old.metric == r.metric && old.instance == r.instance;
      });
      if (same != stored.end() && SameOutcome(*same, r)) {
        now.push_back(*same);  // what the row still holds
        continue;
      }
      KEFU_ASSIGN_OR_RETURN(auto* s, Hot(kHotUpsertMetric));
      KEFU_RETURN_IF_ERROR(RunStatic(
          db_, *s, 1, id, ToString(r.metric), r.instance, r.policy, ToString(r.priority), r.group,
          r.business_hours, ToUnixMs(r.start), OptMs(r.due), OptMs(r.fulfilled_at),
          r.target_minutes, r.actual_minutes, r.breached, r.late_by_minutes, ToString(r.state)));
      now.push_back(r);
    }
    stored = std::move(now);
    return Status::Ok();
  }

  Status EnqueueReply(const OutboundReply& reply) override {
    if (store_.replies_ == nullptr) {
      return FailedPrecondition("no reply sink (outbox) is configured");
    }
    return store_.replies_->Enqueue(db_, reply);
  }

  // Moves the staged tickets into the writer's cache (the work succeeded).
  void Publish() {
    for (auto& [id, c] : staged_)
      store_.CacheStore(id, std::move(c));
    staged_.clear();
  }
  std::vector<int64_t> Touched() const {
    std::vector<int64_t> ids;
    ids.reserve(staged_.size());
    for (const auto& [id, c] : staged_)
      ids.push_back(id);
    return ids;
  }

 private:
  // Like db_.Prepare without hashing the SQL text on every use; for RunStatic (which leaves the
  // statement reset with no bindings).
  Result<storage::Statement*> Hot(HotStatement which) {
    if (store_.hot_db_ != &db_) {
      store_.hot_.fill(nullptr);
      store_.hot_db_ = &db_;
    }
    storage::Statement*& s = store_.hot_[which];
    if (s == nullptr) {
      KEFU_ASSIGN_OR_RETURN(s, db_.Prepare(kHotSql[which]));
    }
    return s;
  }

  Result<CachedTicket*> Load(TicketId id) {
    auto it = staged_.find(id.value());
    if (it != staged_.end()) return &it->second;
    if (auto hit = store_.CacheTake(id.value())) {
      return &staged_.emplace(id.value(), std::move(*hit)).first->second;
    }
    CachedTicket c;
    KEFU_ASSIGN_OR_RETURN(c.ticket, GetTicket(db_, id));
    KEFU_ASSIGN_OR_RETURN(c.events, GetEvents(db_, id));
    for (auto& e : c.events)
      e.body.clear();
    KEFU_ASSIGN_OR_RETURN(c.metrics, GetMetricsOf(db_, id));
    return &staged_.emplace(id.value(), std::move(c)).first->second;
  }

  SqliteTicketStore& store_;
  storage::Database& db_;
  std::unordered_map<int64_t, CachedTicket> staged_;
};

namespace {}  // namespace

Status SqliteTicketStore::Migrate(storage::Database& db) {
  return storage::ApplyMigrations(db, "ticketing", Migrations());
}

SqliteTicketStore::SqliteTicketStore(storage::WriterExecutor& writer, storage::ReadPool& reads,
                                     ReplySink* replies, size_t cache_capacity)
    : writer_(writer), reads_(reads), replies_(replies), cache_capacity_(cache_capacity) {}

SqliteTicketStore::~SqliteTicketStore() = default;

std::optional<SqliteTicketStore::CachedTicket> SqliteTicketStore::CacheTake(int64_t id) {
  auto node = cache_.extract(id);
  if (node.empty()) return std::nullopt;
  return std::move(node.mapped());
}

void SqliteTicketStore::CacheStore(int64_t id, CachedTicket ticket) {
  if (cache_capacity_ == 0 || ticket.ticket.status == TicketStatus::kClosed) {
    cache_.erase(id);  // closed tickets change no more SLA state
    return;
  }
  if (cache_.size() >= cache_capacity_ && !cache_.contains(id)) {
    cache_.erase(cache_.begin());  // any entry: a miss only costs reads
  }
  cache_.insert_or_assign(id, std::move(ticket));
}

void SqliteTicketStore::CacheEvict(const std::vector<int64_t>& ids) {
  for (int64_t id : ids)
    cache_.erase(id);
}

void SqliteTicketStore::Transact(Work work, std::function<void(Status)> done) {
  auto touched = std::make_shared<std::vector<int64_t>>();
  writer_.Post(
      [this, work = std::move(work), touched](storage::Database& db) {
        Tx tx(*this, db);
        Status s = work(tx);
        *touched = tx.Touched();
        if (s.ok()) tx.Publish();
        return s;
      },
      [this, touched, done = std::move(done)](Status s) {
        // The group's COMMIT (or this job's RELEASE) failed after the work had been published.
        if (!s.ok()) CacheEvict(*touched);
        if (done) done(std::move(s));
      });
}

Status SqliteTicketStore::TransactSync(Work work) {
  if (writer_.OnWriterThread()) {
    return FailedPrecondition("ticket store: TransactSync called on the writer thread");
  }
  std::promise<Status> promise;
  auto future = promise.get_future();
  Transact(std::move(work), [&promise](Status s) { promise.set_value(std::move(s)); });
  return future.get();
}

Result<Ticket> SqliteTicketStore::Get(TicketId id) {
  return reads_.Read([&](storage::Database& db) { return GetTicket(db, id); });
}

Result<std::vector<TicketEvent>> SqliteTicketStore::Events(TicketId id) {
  return reads_.Read([&](storage::Database& db) -> Result<std::vector<TicketEvent>> {
    KEFU_RETURN_IF_ERROR(GetTicket(db, id).status());
    return GetEvents(db, id);
  });
}

Result<std::vector<Ticket>> SqliteTicketStore::List(const TicketFilter& f) {
  return reads_.Read([&](storage::Database& db) -> Result<std::vector<Ticket>> {
    KEFU_ASSIGN_OR_RETURN(auto* s, db.Prepare(kListTickets));
    std::optional<std::string> status, priority;
    if (f.status) status = std::string(ToString(*f.status));
    if (f.priority) priority = std::string(ToString(*f.priority));
    KEFU_RETURN_IF_ERROR(s->BindAll(f.after_id, status, priority, f.group, f.assignee, f.sla_state,
                                    f.text, f.limit));
    std::vector<Ticket> out;
    while (true) {
      KEFU_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      KEFU_ASSIGN_OR_RETURN(Ticket t, ReadTicket(*s));
      out.push_back(std::move(t));
    }
    return out;
  });
}

Result<std::vector<std::pair<TicketId, TimePoint>>> SqliteTicketStore::LoadTimers() {
  using Timers = std::vector<std::pair<TicketId, TimePoint>>;
  auto wake = [this](const char* sql) -> Result<std::optional<int64_t>> {
    return reads_.Read([&](storage::Database& db) -> Result<std::optional<int64_t>> {
      KEFU_ASSIGN_OR_RETURN(auto* s, db.Prepare(sql));
      KEFU_ASSIGN_OR_RETURN(bool row, s->Step());
      std::optional<int64_t> out;
      if (row) out = s->ColumnInt64(0);
      s->Reset();
      return out;
    });
  };
  KEFU_ASSIGN_OR_RETURN(std::optional<int64_t> first, wake(kFirstWake));
  KEFU_ASSIGN_OR_RETURN(std::optional<int64_t> last, wake(kLastWake));
  if (!first || !last) return Timers();
  // Instants in [lo, hi), in order, straight from the covering index.
  auto range = [this](int64_t lo, int64_t hi) -> Result<Timers> {
    return reads_.Read([&](storage::Database& db) -> Result<Timers> {
      KEFU_ASSIGN_OR_RETURN(auto* s, db.Prepare(kSelectTimers));
      KEFU_RETURN_IF_ERROR(s->BindAll(lo, hi));
      sqlite3_stmt* stmt = s->handle();
      Timers out;
      int rc;
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        out.emplace_back(TicketId(sqlite3_column_int64(stmt, 0)),
                         FromUnixMs(sqlite3_column_int64(stmt, 1)));
      }
      s->Reset();
      if (rc != SQLITE_DONE) return db.ErrorStatus(rc, "load sla timers");
      return out;
    });
  };
  // Two halves of the instant range on two read connections at once (the reload is on the start
  // path); the lower half is read here while the upper one is read on another thread.
  const int64_t mid = *first + (*last - *first) / 2 + 1;
  auto upper = std::async(std::launch::async, range, mid, *last + 1);
  Result<Timers> lower = range(*first, mid);
  Result<Timers> high = upper.get();
  KEFU_RETURN_IF_ERROR(lower.status());
  KEFU_RETURN_IF_ERROR(high.status());
  Timers out = std::move(*lower);
  out.insert(out.end(), high->begin(), high->end());
  return out;
}

Result<std::vector<MetricResult>> SqliteTicketStore::Metrics(const MetricQuery& q) {
  return reads_.Read([&](storage::Database& db) -> Result<std::vector<MetricResult>> {
    KEFU_ASSIGN_OR_RETURN(auto* s, db.Prepare(kSelectMetrics));
    const int64_t to = q.to == TimePoint::max() ? INT64_MAX : ToUnixMs(q.to);
    KEFU_RETURN_IF_ERROR(s->BindAll(ToUnixMs(q.from), to, q.group));
    return ReadMetrics(*s);
  });
}

Result<std::vector<MetricResult>> SqliteTicketStore::MetricsOf(TicketId id) {
  return reads_.Read([&](storage::Database& db) -> Result<std::vector<MetricResult>> {
    KEFU_ASSIGN_OR_RETURN(auto* s, db.Prepare(kSelectMetricsOf));
    KEFU_RETURN_IF_ERROR(s->Bind(1, id));
    return ReadMetrics(*s);
  });
}

}  // namespace kefu::ticketing
