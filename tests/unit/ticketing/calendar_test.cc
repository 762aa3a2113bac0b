#include "ticketing/calendar.h"

#include <gtest/gtest.h>

#include <random>

namespace kefu::ticketing {
namespace {

TimePoint At(std::string_view rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.value_or(TimePoint{});
}

CalendarSpec CnOffice() {
  CalendarSpec spec;
  spec.name = "cn-office";
  spec.time_zone = "Asia/Shanghai";
  for (size_t d = 0; d < 5; ++d)
    spec.weekly[d] = {"09:00-12:00", "13:30-18:00"};
  spec.holidays = {"2026-10-01..2026-10-07", "2026-01-01"};
  spec.working_days = {{"2026-10-10", {"09:00-12:00", "13:30-18:00"}},
                       {"2026-09-20", {"09:00-12:00", "13:30-18:00"}}};
  return spec;
}

std::shared_ptr<const BusinessCalendar> Make(const CalendarSpec& spec) {
  auto cal = BusinessCalendar::Create(spec);
  EXPECT_TRUE(cal.ok()) << cal.status().ToString();
  return cal.ok() ? *cal : nullptr;
}

std::string ErrorOf(const CalendarSpec& spec) {
  auto cal = BusinessCalendar::Create(spec);
  EXPECT_FALSE(cal.ok());
  EXPECT_EQ(cal.status().code(), StatusCode::kInvalidArgument);
  return cal.status().message();
}

TEST(SlaCalendar, DeadlineSkipsLunchBreak) {
  auto cal = Make(CnOffice());
  // Tue 2026-03-03 11:30 + 60 business minutes: 30 before lunch, 30 after 13:30.
  const TimePoint due = cal->AddBusinessMinutes(At("2026-03-03T11:30:00+08:00"), 60);
  EXPECT_EQ(cal->FormatRfc3339(due), "2026-03-03T14:00:00+08:00");
  EXPECT_EQ(cal->BusinessMinutesBetween(At("2026-03-03T11:30:00+08:00"), due), 60);
  EXPECT_FALSE(cal->IsOpen(At("2026-03-03T12:45:00+08:00")));
  EXPECT_TRUE(cal->IsOpen(At("2026-03-03T13:30:00+08:00")));
}

TEST(SlaCalendar, DeadlineSkipsWeekend) {
  auto cal = Make(CnOffice());
  // Fri 2026-03-06 17:00 + 120 min: 60 on Friday, 60 on Monday morning.
  const TimePoint due = cal->AddBusinessMinutes(At("2026-03-06T17:00:00+08:00"), 120);
  EXPECT_EQ(cal->FormatRfc3339(due), "2026-03-09T10:00:00+08:00");
  // Created on Saturday: the clock starts Monday 09:00.
  EXPECT_EQ(cal->FormatRfc3339(cal->AddBusinessMinutes(At("2026-03-07T10:00:00+08:00"), 30)),
            "2026-03-09T09:30:00+08:00");
  EXPECT_EQ(
      cal->BusinessMinutesBetween(At("2026-03-07T00:00:00+08:00"), At("2026-03-09T00:00:00+08:00")),
      0);
}

TEST(SlaCalendar, DeadlineSkipsNationalDayHolidayAndUsesTiaoxiuSaturday) {
  auto cal = Make(CnOffice());
  // Wed 2026-09-30 17:00 + 120 min: 60 on Sep 30, the holiday Oct 1-7 is closed, Thu Oct 8.
  EXPECT_EQ(cal->FormatRfc3339(cal->AddBusinessMinutes(At("2026-09-30T17:00:00+08:00"), 120)),
            "2026-10-08T10:00:00+08:00");
  // Fri Oct 9 17:00 + 120 min: 60 on Friday, then Saturday Oct 10 is a 调休 working day.
  EXPECT_EQ(cal->FormatRfc3339(cal->AddBusinessMinutes(At("2026-10-09T17:00:00+08:00"), 120)),
            "2026-10-10T10:00:00+08:00");
  // Sunday Sep 20 is worked too; the Saturday before it is not.
  EXPECT_TRUE(cal->IsOpen(At("2026-09-20T10:00:00+08:00")));
  EXPECT_FALSE(cal->IsOpen(At("2026-09-19T10:00:00+08:00")));
  // Whole holiday week: zero business minutes.
  EXPECT_EQ(
      cal->BusinessMinutesBetween(At("2026-10-01T00:00:00+08:00"), At("2026-10-08T00:00:00+08:00")),
      0);
  // A normal Saturday stays closed.
  EXPECT_FALSE(cal->IsOpen(At("2026-10-17T10:00:00+08:00")));
}

TEST(SlaCalendar, IntervalEndingAtMidnightCoversTheWholeEvening) {
  CalendarSpec spec;
  spec.name = "evening";
  for (size_t d = 0; d < 7; ++d)
    spec.weekly[d] = {"20:00-24:00"};
  auto cal = Make(spec);
  // 23:30 + 60 minutes: 30 until midnight, 30 from 20:00 next day.
  EXPECT_EQ(cal->FormatRfc3339(cal->AddBusinessMinutes(At("2026-05-05T23:30:00+08:00"), 60)),
            "2026-05-06T20:30:00+08:00");
  // Exactly the remaining 30 minutes lands on midnight itself.
  EXPECT_EQ(cal->FormatRfc3339(cal->AddBusinessMinutes(At("2026-05-05T23:30:00+08:00"), 30)),
            "2026-05-06T00:00:00+08:00");
  EXPECT_TRUE(cal->IsOpen(At("2026-05-05T23:59:59+08:00")));
}

TEST(SlaCalendar, AllDayCalendarIsContinuousAcrossDays) {
  CalendarSpec spec;
  spec.name = "24x7";
  for (size_t d = 0; d < 7; ++d)
    spec.weekly[d] = {"00:00-24:00"};
  auto cal = Make(spec);
  const TimePoint from = At("2026-05-05T23:00:00+08:00");
  EXPECT_EQ(cal->AddBusinessMinutes(from, 3 * 24 * 60), from + std::chrono::hours(72));
  EXPECT_EQ(cal->BusinessMinutesBetween(from, from + std::chrono::hours(50)), 50 * 60);
}

TEST(SlaCalendar, DeadlineCrossesNewYear) {
  auto cal = Make(CnOffice());
  // Thu 2025-12-31 17:00 + 120 min: Jan 1 2026 (Thu) is a holiday, Fri Jan 2 10:00.
  EXPECT_EQ(cal->FormatRfc3339(cal->AddBusinessMinutes(At("2025-12-31T17:00:00+08:00"), 120)),
            "2026-01-02T10:00:00+08:00");
  EXPECT_EQ(
      cal->BusinessMinutesBetween(At("2025-12-31T17:00:00+08:00"), At("2026-01-02T10:00:00+08:00")),
      120);
  // Spanning several years is still the sum of the years.
  const TimePoint a = At("2024-06-01T00:00:00+08:00");
  const TimePoint b = At("2027-06-01T00:00:00+08:00");
  const int64_t minutes = cal->BusinessMinutesBetween(a, b);
  EXPECT_GT(minutes, 3 * 240 * 450);
  EXPECT_EQ(cal->BusinessMinutesBetween(a, cal->AddBusinessMinutes(a, minutes)), minutes);
}

TEST(SlaCalendar, DstSpringForwardInNewYork) {
  CalendarSpec spec;
  spec.name = "ny";
  spec.time_zone = "America/New_York";
  for (size_t d = 0; d < 7; ++d)
    spec.weekly[d] = {"00:00-24:00"};
  auto cal = Make(spec);
  // 2026-03-08: 02:00 EST jumps to 03:00 EDT; the local day has 23 hours.
  const TimePoint midnight = At("2026-03-08T00:00:00-05:00");
  EXPECT_EQ(cal->BusinessMinutesBetween(midnight, At("2026-03-09T00:00:00-04:00")), 23 * 60);
  EXPECT_EQ(cal->FormatRfc3339(cal->AddBusinessMinutes(At("2026-03-08T01:30:00-05:00"), 60)),
            "2026-03-08T03:30:00-04:00");

  spec.weekly = {};
  for (size_t d = 0; d < 7; ++d)
    spec.weekly[d] = {"01:00-04:00"};
  auto night = Make(spec);
  // 01:00-04:00 on the spring-forward night is only 2 elapsed hours.
  EXPECT_EQ(night->BusinessMinutesBetween(midnight, At("2026-03-08T12:00:00-04:00")), 120);
}

TEST(SlaCalendar, DstFallBackInNewYork) {
  CalendarSpec spec;
  spec.name = "ny";
  spec.time_zone = "America/New_York";
  for (size_t d = 0; d < 5; ++d)
    spec.weekly[d] = {"09:00-17:00"};
  spec.weekly[6] = {"00:00-24:00"};  // Sunday all day
  auto cal = Make(spec);
  // 2026-11-01 (Sunday): 02:00 EDT falls back to 01:00 EST; the day has 25 hours.
  EXPECT_EQ(
      cal->BusinessMinutesBetween(At("2026-11-01T00:00:00-04:00"), At("2026-11-02T00:00:00-05:00")),
      25 * 60);
  // Friday 16:00 EDT + 120 business minutes: 60 on Friday, then Sunday 00:00-01:00 EDT.
  EXPECT_EQ(cal->FormatRfc3339(cal->AddBusinessMinutes(At("2026-10-30T16:00:00-04:00"), 120)),
            "2026-11-01T01:00:00-04:00");
  // Monday 09:00 is now EST (UTC-5).
  EXPECT_EQ(cal->FormatRfc3339(cal->AddBusinessMinutes(At("2026-11-01T23:30:00-05:00"), 60)),
            "2026-11-02T09:30:00-05:00");
}

TEST(SlaCalendar, AddAndBetweenAreInverseOverRandomInstants) {
  std::vector<CalendarSpec> specs = {CnOffice()};
  CalendarSpec ny;
  ny.name = "ny";
  ny.time_zone = "America/New_York";
  for (size_t d = 0; d < 6; ++d)
    ny.weekly[d] = {"00:30-02:30", "08:00-12:00", "13:00-24:00"};
  ny.holidays = {"2026-12-24..2026-12-26"};
  specs.push_back(ny);
  std::mt19937_64 rng(20261001);
  const int64_t lo = ToUnixMs(At("2025-06-01T00:00:00Z"));
  const int64_t hi = ToUnixMs(At("2027-06-01T00:00:00Z"));
  std::uniform_int_distribution<int64_t> instant(lo, hi);
  std::uniform_int_distribution<int64_t> minutes(0, 60 * 24 * 40);
  for (const auto& spec : specs) {
    auto cal = Make(spec);
    for (int i = 0; i < 20000; ++i) {
      const TimePoint t = FromUnixMs(instant(rng));
      const auto d = std::chrono::milliseconds(minutes(rng) * 60000 + static_cast<int64_t>(i));
      const TimePoint due = cal->AddBusiness(t, d);
      ASSERT_GE(due, t);
      ASSERT_EQ(cal->BusinessBetween(t, due), d) << spec.name << " from " << ToUnixMs(t);
      // The other direction: adding the business time between t and u reaches u, or the last
      // business instant before u when u is outside business hours.
      const TimePoint u = FromUnixMs(instant(rng));
      if (u < t) continue;
      const TimePoint back = cal->AddBusiness(t, cal->BusinessBetween(t, u));
      ASSERT_LE(back, u);
      ASSERT_EQ(cal->BusinessBetween(back, u).count(), 0);
    }
  }
}

TEST(SlaCalendar, ZeroMinutesReturnsTheStartEvenWhenClosed) {
  auto cal = Make(CnOffice());
  const TimePoint sat = At("2026-03-07T10:00:00+08:00");
  EXPECT_EQ(cal->AddBusinessMinutes(sat, 0), sat);
  EXPECT_EQ(cal->FormatRfc3339(cal->NextOpening(sat)), "2026-03-09T09:00:00+08:00");
}

TEST(SlaCalendar, RejectsReversedInterval) {
  auto spec = CnOffice();
  spec.weekly[2] = {"18:00-09:00"};
  const std::string msg = ErrorOf(spec);
  EXPECT_NE(msg.find("wed[0]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("18:00-09:00"), std::string::npos) << msg;
}

TEST(SlaCalendar, RejectsHoursOutsideTheDay) {
  auto spec = CnOffice();
  spec.weekly[0] = {"25:00-26:00"};
  EXPECT_NE(ErrorOf(spec).find("mon[0]"), std::string::npos);
  spec.weekly[0] = {"09:00-24:30"};
  EXPECT_NE(ErrorOf(spec).find("mon[0]"), std::string::npos);
  spec.weekly[0] = {"9:00-12:00"};
  EXPECT_NE(ErrorOf(spec).find("mon[0]"), std::string::npos);
  spec.weekly[0] = {"09:00-12:00", "11:00-13:00"};
  EXPECT_NE(ErrorOf(spec).find("overlap"), std::string::npos);
}

TEST(SlaCalendar, RejectsUnknownTimeZone) {
  auto spec = CnOffice();
  spec.time_zone = "Asia/Beijing";
  const std::string msg = ErrorOf(spec);
  EXPECT_NE(msg.find("time_zone"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Asia/Beijing"), std::string::npos) << msg;
}

TEST(SlaCalendar, RejectsOverlappingHolidays) {
  auto spec = CnOffice();
  spec.holidays = {"2026-10-01..2026-10-07", "2026-10-05..2026-10-09"};
  const std::string msg = ErrorOf(spec);
  EXPECT_NE(msg.find("holidays[1]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("overlaps holidays[0]"), std::string::npos) << msg;
}

TEST(SlaCalendar, RejectsBadDatesAndEmptyWeeks) {
  auto spec = CnOffice();
  spec.holidays = {"2026-02-30"};
  EXPECT_NE(ErrorOf(spec).find("holidays[0]"), std::string::npos);
  spec = CnOffice();
  spec.holidays = {"2026-10-07..2026-10-01"};
  EXPECT_NE(ErrorOf(spec).find("ends before it starts"), std::string::npos);
  spec = CnOffice();
  spec.working_days = {{"2026-10-03", {"09:00-12:00"}}};
  EXPECT_NE(ErrorOf(spec).find("working_days[0].date"), std::string::npos);
  spec = CnOffice();
  spec.weekly = {};
  EXPECT_NE(ErrorOf(spec).find("no business hours"), std::string::npos);
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  EXPECT_EQ(ToUnixMs(At("1970-01-01T08:00:00+08:00")), 0);
  EXPECT_EQ(ToUnixMs(At("1970-01-01T00:00:01.5Z")), 1500);
  EXPECT_FALSE(ParseRfc3339("2026-10-09 17:00").ok());
  EXPECT_FALSE(ParseRfc3339("2026-10-09T17:00:00+0800").ok());
}

}  // namespace
}  // namespace kefu::ticketing
