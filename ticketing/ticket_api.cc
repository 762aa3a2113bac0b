#include "ticketing/ticket_api.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace kefu::ticketing {
namespace {

using nlohmann::json;

HttpResponse JsonOk(const json& body, int status = 200) {
  return HttpResponse::Json(status, body.dump());
}

json TimeJson(const std::optional<TimePoint>& t) {
  if (!t || *t == TimePoint::max()) return nullptr;
  return ToUnixMs(*t);
}

json TicketJson(const Ticket& t) {
  return {{"id", t.id.value()},
          {"subject", t.subject},
          {"status", ToString(t.status)},
          {"priority", ToString(t.priority)},
          {"group", t.group},
          {"assignee", t.assignee},
          {"requester", t.requester},
          {"channel", t.channel},
          {"tags", t.tags},
          {"conversation_id", t.conversation.value()},
          {"follow_up_of", t.follow_up_of.valid() ? json(t.follow_up_of.value()) : json(nullptr)},
          {"created_at_ms", ToUnixMs(t.created_at)},
          {"updated_at_ms", ToUnixMs(t.updated_at)},
          {"sla_policy", t.sla_policy},
          {"sla_state", t.sla_state},
          {"next_sla_wake_ms", TimeJson(t.next_wake)}};
}

json EventJson(const TicketEvent& e) {
  json j = {{"id", e.id},
            {"kind", ToString(e.kind)},
            {"actor", {{"kind", ToString(e.actor.kind)}, {"id", e.actor.id}}},
            {"at_ms", ToUnixMs(e.at)}};
  if (!e.field.empty()) j["field"] = e.field;
  if (!e.before.empty() || e.kind == EventKind::kFieldChanged) j["before"] = e.before;
  if (!e.after.empty() || e.kind == EventKind::kFieldChanged) j["after"] = e.after;
  if (!e.body.empty()) j["body"] = e.body;
  if (e.kind == EventKind::kSlaWarning || e.kind == EventKind::kSlaBreach) {
    j["instance"] = e.instance;
  }
  return j;
}

json MetricJson(const MetricResult& r) {
  return {{"metric", ToString(r.metric)},
          {"instance", r.instance},
          {"policy", r.policy},
          {"state", ToString(r.state)},
          {"business_hours", r.business_hours},
          {"start_ms", ToUnixMs(r.start)},
          {"due_ms", TimeJson(r.due)},
          {"fulfilled_ms", TimeJson(r.fulfilled_at)},
          {"target_minutes", r.target_minutes},
          {"actual_minutes", r.actual_minutes},
          {"breached", r.breached},
          {"late_by_minutes", r.late_by_minutes}};
}

Result<TicketId> PathId(const HttpRequest& request) {
  auto it = request.path_params.find("id");
  const std::string text = it == request.path_params.end() ? "" : it->second;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v <= 0) {
    return InvalidArgument("id: \"" + text + "\" is not a ticket id");
  }
  return TicketId(v);
}

Result<int64_t> QueryInt(const HttpRequest& request, std::string_view name, int64_t fallback,
                         int64_t min, int64_t max) {
  auto v = request.Query(name);
  if (!v) return fallback;
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size() || out < min || out > max) {
    return InvalidArgument(std::string(name) + ": must be an integer between " +
                           std::to_string(min) + " and " + std::to_string(max));
  }
  return out;
}

Result<json> Body(const HttpRequest& request) {
  json j = json::parse(request.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("request body: must be a JSON object");
  }
  return j;
}

Result<std::string> StringField(const json& j, const char* key) {
  const auto& v = j.at(key);
  if (!v.is_string()) return InvalidArgument(std::string(key) + ": must be a string");
  return v.get<std::string>();
}

Result<std::vector<std::string>> StringList(const json& j, const char* key) {
  const auto& v = j.at(key);
  std::vector<std::string> out;
  if (!v.is_array()) return InvalidArgument(std::string(key) + ": must be an array of strings");
  for (const auto& x : v) {
    if (!x.is_string()) return InvalidArgument(std::string(key) + ": must be an array of strings");
    out.push_back(x.get<std::string>());
  }
  return out;
}

Status CheckKeys(const json& j, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return InvalidArgument(key + ": unknown field");
    }
  }
  return Status::Ok();
}

Result<TicketUpdate> ParseUpdate(const json& j) {
  KEFU_RETURN_IF_ERROR(CheckKeys(j, {"status", "priority", "group", "assignee", "tags"}));
  TicketUpdate u;
  if (j.contains("status")) {
    KEFU_ASSIGN_OR_RETURN(std::string s, StringField(j, "status"));
    KEFU_ASSIGN_OR_RETURN(u.status, ParseTicketStatus(s, "status"));
  }
  if (j.contains("priority")) {
    KEFU_ASSIGN_OR_RETURN(std::string s, StringField(j, "priority"));
    KEFU_ASSIGN_OR_RETURN(u.priority, ParsePriority(s, "priority"));
  }
  if (j.contains("group")) {
    KEFU_ASSIGN_OR_RETURN(u.group, StringField(j, "group"));
  }
  if (j.contains("assignee")) {
    KEFU_ASSIGN_OR_RETURN(u.assignee, StringField(j, "assignee"));
  }
  if (j.contains("tags")) {
    KEFU_ASSIGN_OR_RETURN(u.tags, StringList(j, "tags"));
  }
  return u;
}

double Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least p of the values at or below it.
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return static_cast<double>(v[std::clamp<size_t>(rank, 1, v.size()) - 1]);
}

json PolicyJson(const SlaPolicy& p) {
  json targets = json::object();
  for (size_t pr = 0; pr < 4; ++pr) {
    json per = json::object();
    for (size_t m = 0; m < kSlaMetricCount; ++m) {
      const auto& t = p.targets[pr][m];
      if (!t) continue;
      per[std::string(ToString(SlaMetric(m)))] = {{"minutes", t->target.count()},
                                                  {"business_hours", t->business_hours},
                                                  {"warning_minutes", t->WarningOffset().count()}};
    }
    if (!per.empty()) targets[std::string(ToString(Priority(pr)))] = per;
  }
  json pause = json::object();
  for (size_t m = 0; m < kSlaMetricCount; ++m) {
    json states = json::array();
    for (auto s : p.pause_states[m])
      states.push_back(ToString(s));
    pause[std::string(ToString(SlaMetric(m)))] = states;
  }
  json priorities = json::array();
  for (auto pr : p.priorities)
    priorities.push_back(ToString(pr));
  json escalations = json::array();
  for (const auto& a : p.escalations) {
    json e = {{"on", a.on == EscalationAction::On::kWarning ? "warning" : "breach"},
              {"metric", a.metric ? json(ToString(*a.metric)) : json(nullptr)}};
    switch (a.kind) {
      case EscalationAction::Kind::kRaisePriority:
        e["action"] = "raise_priority";
        e["priority"] = a.priority ? json(ToString(*a.priority)) : json(nullptr);
        break;
      case EscalationAction::Kind::kReassignGroup:
        e["action"] = "reassign_group";
        e["group"] = a.group;
        break;
      case EscalationAction::Kind::kNotify:
        e["action"] = "notify";
        e["notify"] = a.notify;
        break;
    }
    escalations.push_back(e);
  }
  return {{"name", p.name},
          {"calendar", p.calendar},
          {"conditions",
           {{"channels", p.channels},
            {"groups", p.groups},
            {"priorities", priorities},
            {"customer_tags", p.customer_tags}}},
          {"targets", targets},
          {"pause_states", pause},
          {"escalations", escalations}};
}

}  // namespace

HttpResponse TicketApi::ListTickets(const HttpRequest& request) {
  TicketFilter f;
  if (auto v = request.Query("status")) {
    auto s = ParseTicketStatus(*v, "status");
    if (!s.ok()) return HttpResponse::Error(s.status());
    f.status = *s;
  }
  if (auto v = request.Query("priority")) {
    auto p = ParsePriority(*v, "priority");
    if (!p.ok()) return HttpResponse::Error(p.status());
    f.priority = *p;
  }
  if (auto v = request.Query("group")) f.group = std::string(*v);
  if (auto v = request.Query("assignee")) f.assignee = std::string(*v);
  if (auto v = request.Query("sla")) {
    if (*v != "ok" && *v != "warning" && *v != "breached") {
      return HttpResponse::Error(
          InvalidArgument("sla: must be ok, warning or breached, got \"" + std::string(*v) + "\""));
    }
    f.sla_state = std::string(*v);
  }
  if (auto v = request.Query("q"); v && !v->empty()) f.text = std::string(*v);
  auto after = QueryInt(request, "after", 0, 0, INT64_MAX);
  if (!after.ok()) return HttpResponse::Error(after.status());
  auto limit = QueryInt(request, "limit", 50, 1, 500);
  if (!limit.ok()) return HttpResponse::Error(limit.status());
  f.after_id = *after;
  f.limit = static_cast<int>(*limit);
  auto tickets = service_.store().List(f);
  if (!tickets.ok()) return HttpResponse::Error(tickets.status());
  json list = json::array();
  for (const auto& t : *tickets)
    list.push_back(TicketJson(t));
  json body = {{"tickets", list}};
  body["next_after"] = static_cast<int>(tickets->size()) == f.limit
                           ? json(tickets->back().id.value())
                           : json(nullptr);
  return JsonOk(body);
}

HttpResponse TicketApi::CreateTicket(const HttpRequest& request, const Actor& actor) {
  auto body = Body(request);
  if (!body.ok()) return HttpResponse::Error(body.status());
  const json& j = *body;
  Status keys = CheckKeys(j, {"requester", "channel", "subject", "group", "assignee", "priority",
                              "tags", "customer_tags", "message", "conversation_id"});
  if (!keys.ok()) return HttpResponse::Error(keys);
  NewTicket n;
  auto take = [&](const char* key, std::string& out) -> Status {
    if (!j.contains(key)) return Status::Ok();
    KEFU_ASSIGN_OR_RETURN(out, StringField(j, key));
    return Status::Ok();
  };
  for (auto [key, out] : {std::pair<const char*, std::string*>{"requester", &n.requester},
                          {"channel", &n.channel},
                          {"subject", &n.subject},
                          {"group", &n.group},
                          {"assignee", &n.assignee},
                          {"message", &n.first_message}}) {
    Status s = take(key, *out);
    if (!s.ok()) return HttpResponse::Error(s);
  }
  if (j.contains("priority")) {
    auto s = StringField(j, "priority");
    if (!s.ok()) return HttpResponse::Error(s.status());
    auto p = ParsePriority(*s, "priority");
    if (!p.ok()) return HttpResponse::Error(p.status());
    n.priority = *p;
  }
  for (auto [key, out] : {std::pair<const char*, std::vector<std::string>*>{"tags", &n.tags},
                          {"customer_tags", &n.customer_tags}}) {
    if (!j.contains(key)) continue;
    auto list = StringList(j, key);
    if (!list.ok()) return HttpResponse::Error(list.status());
    *out = *list;
  }
  if (j.contains("conversation_id")) {
    if (!j["conversation_id"].is_number_integer()) {
      return HttpResponse::Error(InvalidArgument("conversation_id: must be an integer"));
    }
    n.conversation = ConversationId(j["conversation_id"].get<int64_t>());
  }
  auto t = service_.Create(n, actor);
  if (!t.ok()) return HttpResponse::Error(t.status());
  return JsonOk(TicketJson(*t), 201);
}

HttpResponse TicketApi::GetTicket(const HttpRequest& request) {
  auto id = PathId(request);
  if (!id.ok()) return HttpResponse::Error(id.status());
  auto t = service_.store().Get(*id);
  if (!t.ok()) return HttpResponse::Error(t.status());
  auto events = service_.store().Events(*id);
  if (!events.ok()) return HttpResponse::Error(events.status());
  auto metrics = service_.store().MetricsOf(*id);
  if (!metrics.ok()) return HttpResponse::Error(metrics.status());
  json body = TicketJson(*t);
  json timeline = json::array();
  for (const auto& e : *events)
    timeline.push_back(EventJson(e));
  json sla = json::array();
  for (const auto& m : *metrics)
    sla.push_back(MetricJson(m));
  body["timeline"] = timeline;
  body["sla"] = sla;
  return JsonOk(body);
}

HttpResponse TicketApi::UpdateTicket(const HttpRequest& request, const Actor& actor) {
  auto id = PathId(request);
  if (!id.ok()) return HttpResponse::Error(id.status());
  auto body = Body(request);
  if (!body.ok()) return HttpResponse::Error(body.status());
  auto update = ParseUpdate(*body);
  if (!update.ok()) return HttpResponse::Error(update.status());
  auto t = service_.Update(*id, *update, actor);
  if (!t.ok()) return HttpResponse::Error(t.status());
  return JsonOk(TicketJson(*t));
}

HttpResponse TicketApi::AddComment(const HttpRequest& request, const Actor& actor) {
  auto id = PathId(request);
  if (!id.ok()) return HttpResponse::Error(id.status());
  auto body = Body(request);
  if (!body.ok()) return HttpResponse::Error(body.status());
  Status keys = CheckKeys(*body, {"body", "public"});
  if (!keys.ok()) return HttpResponse::Error(keys);
  if (!body->contains("body")) return HttpResponse::Error(InvalidArgument("body: required"));
  auto text = StringField(*body, "body");
  if (!text.ok()) return HttpResponse::Error(text.status());
  bool is_public = true;
  if (body->contains("public")) {
    if (!(*body)["public"].is_boolean()) {
      return HttpResponse::Error(InvalidArgument("public: must be true or false"));
    }
    is_public = (*body)["public"].get<bool>();
  }
  auto t = service_.Comment(*id, is_public ? CommentKind::kPublicReply : CommentKind::kInternalNote,
                            *text, actor);
  if (!t.ok()) return HttpResponse::Error(t.status());
  return JsonOk(TicketJson(*t), 201);
}

HttpResponse TicketApi::MergeTicket(const HttpRequest& request, const Actor& actor) {
  auto id = PathId(request);
  if (!id.ok()) return HttpResponse::Error(id.status());
  auto body = Body(request);
  if (!body.ok()) return HttpResponse::Error(body.status());
  Status keys = CheckKeys(*body, {"target"});
  if (!keys.ok()) return HttpResponse::Error(keys);
  if (!body->contains("target") || !(*body)["target"].is_number_integer() ||
      (*body)["target"].get<int64_t>() <= 0) {
    return HttpResponse::Error(InvalidArgument("target: required, a ticket id"));
  }
  auto t = service_.Merge(*id, TicketId((*body)["target"].get<int64_t>()), actor);
  if (!t.ok()) return HttpResponse::Error(t.status());
  return JsonOk(TicketJson(*t));
}

HttpResponse TicketApi::ListPolicies(const HttpRequest&) {
  json list = json::array();
  for (const auto& p : service_.policies().policies())
    list.push_back(PolicyJson(p));
  return JsonOk({{"policies", list}});
}

HttpResponse TicketApi::ListCalendars(const HttpRequest&) {
  static constexpr std::array<const char*, 7> kDays = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};
  json list = json::array();
  for (const auto& c : service_.policies().calendars()) {
    const CalendarSpec& s = c->spec();
    json weekly = json::object();
    for (size_t d = 0; d < 7; ++d)
      weekly[kDays[d]] = s.weekly[d];
    json working = json::array();
    for (const auto& w : s.working_days)
      working.push_back({{"date", w.date}, {"hours", w.hours}});
    list.push_back({{"name", s.name},
                    {"time_zone", s.time_zone},
                    {"weekly", weekly},
                    {"holidays", s.holidays},
                    {"working_days", working}});
  }
  return JsonOk({{"calendars", list}});
}

HttpResponse TicketApi::SlaReport(const HttpRequest& request) {
  MetricQuery q;
  for (auto [name, out] : {std::pair<const char*, TimePoint*>{"from", &q.from}, {"to", &q.to}}) {
    auto v = request.Query(name);
    if (!v) continue;
    auto t = ParseRfc3339(*v);
    if (!t.ok()) {
      return HttpResponse::Error(InvalidArgument(std::string(name) + ": " + t.status().message()));
    }
    *out = *t;
  }
  if (auto g = request.Query("group"); g && !g->empty()) q.group = std::string(*g);
  auto results = service_.store().Metrics(q);
  if (!results.ok()) return HttpResponse::Error(results.status());
  struct Tally {
    int64_t total = 0;  // instances with an outcome (fulfilled or breached)
    int64_t met = 0;
    int64_t open = 0;             // active or paused, not yet breached
    std::vector<int64_t> actual;  // business minutes of fulfilled instances
  };
  std::map<std::pair<std::string, std::string>, Tally> by_metric;
  std::map<std::string, std::vector<int64_t>> actual_by_metric;
  for (const auto& r : *results) {
    auto& t = by_metric[{std::string(ToString(r.metric)), std::string(ToString(r.priority))}];
    if (r.state == MetricState::kActive || r.state == MetricState::kPaused) {
      ++t.open;
      continue;
    }
    ++t.total;
    if (!r.breached) ++t.met;
    if (r.fulfilled_at)
      actual_by_metric[std::string(ToString(r.metric))].push_back(r.actual_minutes);
  }
  json rows = json::array();
  for (const auto& [key, t] : by_metric) {
    rows.push_back({{"metric", key.first},
                    {"priority", key.second},
                    {"measured", t.total},
                    {"met", t.met},
                    {"open", t.open},
                    {"hit_rate", t.total == 0 ? json(nullptr)
                                              : json(static_cast<double>(t.met) /
                                                     static_cast<double>(t.total))}});
  }
  json percentiles = json::object();
  for (const char* m : {"first_response", "resolution"}) {
    const auto& v = actual_by_metric[m];
    percentiles[m] = {{"count", v.size()},
                      {"p50_minutes", v.empty() ? json(nullptr) : json(Percentile(v, 0.5))},
                      {"p90_minutes", v.empty() ? json(nullptr) : json(Percentile(v, 0.9))}};
  }
  return JsonOk({{"hit_rates", rows}, {"percentiles", percentiles}});
}

}  // namespace kefu::ticketing
