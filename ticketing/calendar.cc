#include "ticketing/calendar.h"

#include <unicode/basictz.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cstdio>
#include <limits>

namespace kefu::ticketing {
namespace {

constexpr int64_t kMsPerMinute = 60'000;
constexpr int64_t kMsPerDay = 86'400'000;
constexpr int kMaxYearsAhead = 200;
constexpr std::array<const char*, 7> kWeekdayNames = {"mon", "tue", "wed", "thu",
                                                      "fri", "sat", "sun"};

bool ParseDigits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// "HH:MM-HH:MM" -> minutes since midnight; end may be 24:00.
Result<std::pair<int, int>> ParseInterval(std::string_view text, const std::string& field) {
  int h1 = 0, m1 = 0, h2 = 0, m2 = 0;
  if (text.size() != 11 || text[2] != ':' || text[5] != '-' || text[8] != ':' ||
      !ParseDigits(text, 0, 2, h1) || !ParseDigits(text, 3, 2, m1) ||
      !ParseDigits(text, 6, 2, h2) || !ParseDigits(text, 9, 2, m2)) {
    return InvalidArgument(field + ": \"" + std::string(text) +
                           "\" is not an interval HH:MM-HH:MM");
  }
  if (h1 > 23 || m1 > 59 || m2 > 59 || h2 > 24 || (h2 == 24 && m2 != 0)) {
    return InvalidArgument(field + ": \"" + std::string(text) +
                           "\" has a time outside 00:00-24:00");
  }
  const int start = h1 * 60 + m1;
  const int end = h2 * 60 + m2;
  if (end <= start) {
    return InvalidArgument(field + ": \"" + std::string(text) +
                           "\" ends before it starts (intervals cannot cross midnight)");
  }
  return std::make_pair(start, end);
}

Result<std::vector<std::pair<int, int>>> ParseIntervals(const std::vector<std::string>& texts,
                                                        const std::string& field) {
  std::vector<std::pair<int, int>> out;
  for (size_t i = 0; i < texts.size(); ++i) {
    KEFU_ASSIGN_OR_RETURN(auto iv, ParseInterval(texts[i], field + "[" + std::to_string(i) + "]"));
    out.push_back(iv);
  }
  std::sort(out.begin(), out.end());
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].first < out[i - 1].second) {
      return InvalidArgument(field + ": intervals overlap");
    }
  }
  return out;
}

std::string Pad2(int v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02d", v);
  return buf;
}

}  // namespace

int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(y + (m <= 2)), m, d};
}

Result<int64_t> ParseCivilDate(std::string_view text, std::string_view field) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !ParseDigits(text, 0, 4, y) ||
      !ParseDigits(text, 5, 2, m) || !ParseDigits(text, 8, 2, d) || m < 1 || m > 12 || d < 1) {
    return InvalidArgument(std::string(field) + ": \"" + std::string(text) +
                           "\" is not a date YYYY-MM-DD");
  }
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  const CivilDate back = CivilFromDays(days);
  if (back.month != static_cast<unsigned>(m) || back.day != static_cast<unsigned>(d)) {
    return InvalidArgument(std::string(field) + ": \"" + std::string(text) +
                           "\" is not a calendar date");
  }
  return days;
}

Result<TimePoint> ParseRfc3339(std::string_view s) {
  auto bad = [&] {
    std::string msg = "\"";
    msg.append(s);
    msg.append("\" is not an RFC 3339 time like 2026-10-09T17:00:00+08:00");
    return InvalidArgument(std::move(msg));
  };
  if (s.size() < 20) return bad();
  auto days = ParseCivilDate(s.substr(0, 10), "date");
  int hh = 0, mm = 0, ss = 0;
  if (!days.ok() || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':' || !ParseDigits(s, 11, 2, hh) || !ParseDigits(s, 14, 2, mm) ||
      !ParseDigits(s, 17, 2, ss) || hh > 23 || mm > 59 || ss > 60) {
    return bad();
  }
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 3; ++i)
      frac_ms *= 10;
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (!ParseDigits(s, pos + 1, 2, oh) || !ParseDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  const int64_t local_ms = *days * kMsPerDay + ((hh * 60 + mm) * 60 + ss) * int64_t{1000} + frac_ms;
  return FromUnixMs(local_ms - offset_min * kMsPerMinute);
}

Result<std::shared_ptr<const BusinessCalendar>> BusinessCalendar::Create(const CalendarSpec& spec) {
  const std::string prefix = "calendar " + (spec.name.empty() ? std::string("?") : spec.name);
  if (spec.name.empty()) return InvalidArgument("calendar.name: must not be empty");
  std::unique_ptr<BusinessCalendar> cal(new BusinessCalendar());
  cal->spec_ = spec;

  icu::UnicodeString id = icu::UnicodeString::fromUTF8(spec.time_zone);
  cal->zone_.reset(icu::TimeZone::createTimeZone(id));
  if (!cal->zone_ || *cal->zone_ == icu::TimeZone::getUnknown()) {
    return InvalidArgument(prefix + ": time_zone: unknown time zone \"" + spec.time_zone + "\"");
  }

  bool any_hours = false;
  for (size_t d = 0; d < 7; ++d) {
    KEFU_ASSIGN_OR_RETURN(cal->weekly_[d],
                          ParseIntervals(spec.weekly[d], prefix + ": " + kWeekdayNames[d]));
    any_hours = any_hours || !cal->weekly_[d].empty();
  }
  if (!any_hours) {
    return InvalidArgument(prefix + ": mon..sun: the week has no business hours");
  }

  for (size_t i = 0; i < spec.holidays.size(); ++i) {
    const std::string field = prefix + ": holidays[" + std::to_string(i) + "]";
    std::string_view text = spec.holidays[i];
    const size_t dots = text.find("..");
    KEFU_ASSIGN_OR_RETURN(int64_t first, ParseCivilDate(text.substr(0, dots), field));
    int64_t last = first;
    if (dots != std::string_view::npos) {
      KEFU_ASSIGN_OR_RETURN(last, ParseCivilDate(text.substr(dots + 2), field));
    }
    if (last < first) {
      return InvalidArgument(field + ": \"" + spec.holidays[i] + "\" ends before it starts");
    }
    for (size_t j = 0; j < cal->holidays_.size(); ++j) {
      if (first <= cal->holidays_[j].second && cal->holidays_[j].first <= last) {
        return InvalidArgument(field + ": \"" + spec.holidays[i] + "\" overlaps holidays[" +
                               std::to_string(j) + "] \"" + spec.holidays[j] + "\"");
      }
    }
    cal->holidays_.emplace_back(first, last);
  }

  for (size_t i = 0; i < spec.working_days.size(); ++i) {
    const std::string field = prefix + ": working_days[" + std::to_string(i) + "]";
    KEFU_ASSIGN_OR_RETURN(int64_t day, ParseCivilDate(spec.working_days[i].date, field + ".date"));
    KEFU_ASSIGN_OR_RETURN(auto hours, ParseIntervals(spec.working_days[i].hours, field + ".hours"));
    if (hours.empty()) return InvalidArgument(field + ".hours: must not be empty");
    for (const auto& [first, last] : cal->holidays_) {
      if (day >= first && day <= last) {
        return InvalidArgument(field + ".date: " + spec.working_days[i].date +
                               " is inside a holiday");
      }
    }
    if (!cal->working_days_.emplace(day, std::move(hours)).second) {
      return InvalidArgument(field + ".date: " + spec.working_days[i].date + " is listed twice");
    }
  }
  std::sort(cal->holidays_.begin(), cal->holidays_.end());
  return std::shared_ptr<const BusinessCalendar>(std::move(cal));
}

BusinessCalendar::~BusinessCalendar() = default;

const std::vector<BusinessCalendar::Interval>& BusinessCalendar::IntervalsOn(int64_t days) const {
  if (auto it = working_days_.find(days); it != working_days_.end()) return it->second;
  auto h = std::upper_bound(holidays_.begin(), holidays_.end(),
                            std::make_pair(days, std::numeric_limits<int64_t>::max()));
  if (h != holidays_.begin() && std::prev(h)->second >= days) return closed_;
  // 1970-01-01 was a Thursday (index 3 with Monday = 0).
  const int64_t weekday = ((days % 7) + 7 + 3) % 7;
  return weekly_[static_cast<size_t>(weekday)];
}

int64_t BusinessCalendar::LocalToUtc(int64_t local_ms) const {
  int32_t raw = 0, dst = 0;
  UErrorCode ec = U_ZERO_ERROR;
  if (auto* basic = dynamic_cast<const icu::BasicTimeZone*>(zone_.get())) {
    basic->getOffsetFromLocal(static_cast<UDate>(local_ms), UCAL_TZ_LOCAL_FORMER,
                              UCAL_TZ_LOCAL_LATTER, raw, dst, ec);
  } else {
    zone_->getOffset(static_cast<UDate>(local_ms), true, raw, dst, ec);
  }
  return local_ms - raw - dst;
}

int64_t BusinessCalendar::OffsetAtUtc(int64_t utc_ms) const {
  int32_t raw = 0, dst = 0;
  UErrorCode ec = U_ZERO_ERROR;
  zone_->getOffset(static_cast<UDate>(utc_ms), false, raw, dst, ec);
  return U_SUCCESS(ec) ? raw + dst : 0;
}

std::shared_ptr<const BusinessCalendar::YearTable> BusinessCalendar::BuildYear(int year) const {
  auto t = std::make_shared<YearTable>();
  const int64_t first_day = DaysFromCivil(year, 1, 1);
  const int64_t end_day = DaysFromCivil(year + 1, 1, 1);
  t->begin_ms = LocalToUtc(first_day * kMsPerDay);
  t->end_ms = LocalToUtc(end_day * kMsPerDay);
  int64_t cum = 0;
  for (int64_t day = first_day; day < end_day; ++day) {
    for (const auto& [from, to] : IntervalsOn(day)) {
      int64_t s = LocalToUtc(day * kMsPerDay + from * kMsPerMinute);
      const int64_t e = LocalToUtc(day * kMsPerDay + to * kMsPerMinute);
      if (!t->end.empty()) s = std::max(s, t->end.back());  // never overlap after odd transitions
      if (e <= s) continue;                                 // wholly skipped by a transition
      if (!t->end.empty() && t->end.back() == s) {
        // Adjacent intervals (e.g. 24:00 then 00:00) merge, so a deadline never lands on a seam.
        cum += e - s;
        t->end.back() = e;
        t->cum_end.back() = cum;
        continue;
      }
      cum += e - s;
      t->start.push_back(s);
      t->end.push_back(e);
      t->cum_end.push_back(cum);
    }
  }
  return t;
}

const BusinessCalendar::YearTable* BusinessCalendar::Year(int year) const {
  const bool fast = year >= kFastFirstYear && year < kFastFirstYear + kFastYears;
  if (fast) {
    const YearTable* t =
        fast_years_[static_cast<size_t>(year - kFastFirstYear)].load(std::memory_order_acquire);
    if (t != nullptr) return t;
  }
  std::lock_guard lock(mu_);
  auto& slot = years_[year];
  if (!slot) slot = BuildYear(year);
  if (fast) {
    fast_years_[static_cast<size_t>(year - kFastFirstYear)].store(slot.get(),
                                                                  std::memory_order_release);
  }
  return slot.get();
}

int BusinessCalendar::YearOf(int64_t utc_ms) const {
  // A UTC offset is less than a day, so the local year is the UTC date's year or one next to it;
  // the tables' own UTC bounds decide (no time-zone lookup).
  const int64_t days = utc_ms >= 0 ? utc_ms / kMsPerDay : -((-utc_ms + kMsPerDay - 1) / kMsPerDay);
  int year = CivilFromDays(days).year;
  if (utc_ms < Year(year)->begin_ms) {
    --year;
  } else if (utc_ms >= Year(year)->end_ms) {
    ++year;
  }
  return year;
}

int64_t BusinessCalendar::YearTable::Before(int64_t t) const {
  // First interval ending after t.
  auto it = std::upper_bound(end.begin(), end.end(), t);
  const size_t i = static_cast<size_t>(it - end.begin());
  if (i == end.size()) return total();
  const int64_t before_i = cum_end[i] - (end[i] - start[i]);
  return before_i + std::max<int64_t>(0, t - start[i]);
}

TimePoint BusinessCalendar::AddBusiness(TimePoint from, std::chrono::milliseconds business) const {
  int64_t remaining = business.count();
  const int64_t t = ToUnixMs(from);
  if (remaining <= 0) return from;
  int year = YearOf(t);
  auto table = Year(year);
  int64_t pos = table->Before(t);
  for (int n = 0; n <= kMaxYearsAhead; ++n) {
    const int64_t target = pos + remaining;
    if (target <= table->total()) {
      auto it = std::lower_bound(table->cum_end.begin(), table->cum_end.end(), target);
      const size_t i = static_cast<size_t>(it - table->cum_end.begin());
      return FromUnixMs(table->end[i] - (table->cum_end[i] - target));
    }
    remaining = target - table->total();
    table = Year(++year);
    pos = 0;
  }
  return TimePoint::max();
}

std::chrono::milliseconds BusinessCalendar::BusinessBetween(TimePoint a, TimePoint b) const {
  if (b <= a) return std::chrono::milliseconds(0);
  const int64_t ta = ToUnixMs(a);
  const int64_t tb = ToUnixMs(b);
  const int ya = YearOf(ta);
  const int yb = YearOf(tb);
  auto first = Year(ya);
  if (ya == yb) return std::chrono::milliseconds(first->Before(tb) - first->Before(ta));
  int64_t sum = first->total() - first->Before(ta);
  for (int y = ya + 1; y < yb; ++y)
    sum += Year(y)->total();
  sum += Year(yb)->Before(tb);
  return std::chrono::milliseconds(sum);
}

bool BusinessCalendar::IsOpen(TimePoint t) const {
  const int64_t ms = ToUnixMs(t);
  auto table = Year(YearOf(ms));
  auto it = std::upper_bound(table->end.begin(), table->end.end(), ms);
  if (it == table->end.end()) return false;
  return table->start[static_cast<size_t>(it - table->end.begin())] <= ms;
}

TimePoint BusinessCalendar::NextOpening(TimePoint t) const {
  if (IsOpen(t)) return t;
  // The first business millisecond after t starts exactly one millisecond before it ends.
  const TimePoint after = AddBusiness(t, std::chrono::milliseconds(1));
  if (after == TimePoint::max()) return after;
  return after - std::chrono::milliseconds(1);
}

std::string BusinessCalendar::FormatRfc3339(TimePoint t) const {
  const int64_t ms = ToUnixMs(t);
  const int64_t offset = OffsetAtUtc(ms);
  const int64_t local = ms + offset;
  const int64_t days = local >= 0 ? local / kMsPerDay : -((-local + kMsPerDay - 1) / kMsPerDay);
  const int64_t in_day = (local - days * kMsPerDay) / 1000;
  const CivilDate d = CivilFromDays(days);
  const int64_t off_min = offset / kMsPerMinute;
  const int64_t abs_off = off_min < 0 ? -off_min : off_min;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d%c%s:%s", d.year, d.month, d.day,
                static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                static_cast<int>(in_day % 60), off_min < 0 ? '-' : '+',
                Pad2(static_cast<int>(abs_off / 60)).c_str(),
                Pad2(static_cast<int>(abs_off % 60)).c_str());
  return buf;
}

}  // namespace kefu::ticketing
