// Business-hours calendars: pure arithmetic over instants, no I/O.
//
// A calendar is an IANA time zone, weekly opening intervals (several per weekday; "00:00-24:00"
// is the whole day), holiday date ranges (closed) and extra working days (调休, e.g. a Saturday
// that is worked, with their own hours). AddBusiness and BusinessBetween are inverse:
//   BusinessBetween(t, AddBusiness(t, d)) == d for every t and d >= 0.
//
// Wall times are mapped to instants with the ICU zone rules: a wall time skipped by a DST
// transition (02:30 on a spring-forward day) means the same elapsed time after the previous
// wall time (03:30); a repeated wall time (01:30 on a fall-back day) means its later occurrence.
// Business time is elapsed time, so "00:00-24:00" on a fall-back day is 25 hours.
//
// Thread-safe: a BusinessCalendar is immutable except for an internal per-year table cache
// guarded by a mutex; share it freely (std::shared_ptr<const BusinessCalendar>).
#pragma once

#include <unicode/uversion.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

U_NAMESPACE_BEGIN
class TimeZone;
U_NAMESPACE_END

namespace kefu::ticketing {

// A calendar as written in configuration (TOML [[sla.calendars]] or the REST API).
struct CalendarSpec {
  struct WorkingDay {
    std::string date;                // "2026-10-10"
    std::vector<std::string> hours;  // ["09:00-12:00", "13:30-18:00"]
  };
  std::string name;                         // unique calendar name, e.g. "cn-office"
  std::string time_zone = "Asia/Shanghai";  // IANA zone id
  // Index 0 = Monday ... 6 = Sunday; each entry "HH:MM-HH:MM"; empty = closed.
  std::array<std::vector<std::string>, 7> weekly;
  // "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD" (inclusive); ranges must not overlap.
  std::vector<std::string> holidays;
  std::vector<WorkingDay> working_days;  // 调休: dates worked with their own hours
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int year, unsigned month, unsigned day);
struct CivilDate {
  int year;
  unsigned month;
  unsigned day;
};
CivilDate CivilFromDays(int64_t days);
// Parses "YYYY-MM-DD"; InvalidArgument naming `field` on failure.
Result<int64_t> ParseCivilDate(std::string_view text, std::string_view field);

// Parses RFC 3339 ("2026-10-09T17:00:00+08:00", "...Z", optional fractional seconds).
Result<TimePoint> ParseRfc3339(std::string_view text);

class BusinessCalendar {
 public:
  // Validates and builds a calendar. InvalidArgument naming the field on: unknown time zone,
  // malformed or reversed interval ("18:00-09:00", "25:00-26:00"), overlapping intervals of a day,
  // malformed or overlapping holiday ranges, a working day inside a holiday, a week without any
  // business hours.
  static Result<std::shared_ptr<const BusinessCalendar>> Create(const CalendarSpec& spec);

  ~BusinessCalendar();
  BusinessCalendar(const BusinessCalendar&) = delete;
  BusinessCalendar& operator=(const BusinessCalendar&) = delete;

  const std::string& name() const { return spec_.name; }
  const CalendarSpec& spec() const { return spec_; }

  // The instant at which `business` of business time has elapsed after `from`. A zero duration
  // returns `from`. Landing exactly on the end of an interval returns that end (not the next
  // opening). Returns TimePoint::max() if the calendar has no business time in the next 200 years.
  TimePoint AddBusiness(TimePoint from, std::chrono::milliseconds business) const;
  TimePoint AddBusinessMinutes(TimePoint from, int64_t minutes) const {
    return AddBusiness(from, std::chrono::minutes(minutes));
  }
  // Business time in [a, b); zero if b <= a.
  std::chrono::milliseconds BusinessBetween(TimePoint a, TimePoint b) const;
  // Whole business minutes in [a, b) (rounded down).
  int64_t BusinessMinutesBetween(TimePoint a, TimePoint b) const {
    return BusinessBetween(a, b).count() / 60000;
  }
  // True if `t` lies inside an opening interval.
  bool IsOpen(TimePoint t) const;
  // The first instant >= t that is inside an opening interval (t itself if open).
  TimePoint NextOpening(TimePoint t) const;

  // RFC 3339 text of `t` in this calendar's zone, e.g. "2026-10-09T17:00:00+08:00".
  std::string FormatRfc3339(TimePoint t) const;

 private:
  // One local calendar year, flattened to UTC intervals with prefix sums of business time.
  struct YearTable {
    int64_t begin_ms = 0;          // UTC instant of local Jan 1 00:00
    int64_t end_ms = 0;            // UTC instant of next local Jan 1 00:00
    std::vector<int64_t> start;    // interval starts (UTC ms), ascending
    std::vector<int64_t> end;      // interval ends
    std::vector<int64_t> cum_end;  // business ms from begin_ms to end[i]
    int64_t total() const { return cum_end.empty() ? 0 : cum_end.back(); }
    // Business ms in [begin_ms, t), t within [begin_ms, end_ms].
    int64_t Before(int64_t t) const;
  };
  using Interval = std::pair<int, int>;  // minutes since local midnight, [first, second)

  BusinessCalendar() = default;
  // Built on first use and kept for the calendar's lifetime (the pointer stays valid).
  const YearTable* Year(int year) const;
  std::shared_ptr<const YearTable> BuildYear(int year) const;
  int YearOf(int64_t utc_ms) const;
  int64_t LocalToUtc(int64_t local_ms) const;
  int64_t OffsetAtUtc(int64_t utc_ms) const;
  const std::vector<Interval>& IntervalsOn(int64_t days) const;

  CalendarSpec spec_;
  std::unique_ptr<icu::TimeZone> zone_;
  std::array<std::vector<Interval>, 7> weekly_;        // Monday = 0
  std::vector<std::pair<int64_t, int64_t>> holidays_;  // [first_day, last_day], sorted
  std::map<int64_t, std::vector<Interval>> working_days_;
  std::vector<Interval> closed_;

  mutable std::mutex mu_;  // guards years_
  mutable std::map<int, std::shared_ptr<const YearTable>> years_;
  // The tables of years [kFastFirstYear, kFastFirstYear + kFastYears) once built, read without the
  // lock: every SLA evaluation looks years up several times.
  static constexpr int kFastFirstYear = 1970;
  static constexpr int kFastYears = 200;
  mutable std::array<std::atomic<const YearTable*>, kFastYears> fast_years_{};
};

}  // namespace kefu::ticketing
