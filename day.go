package billing

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Day is a billing day: a calendar day in the billing time zone, counted in
// days since 1970-01-01. Meters (rounding windows) and bills (settlement
// periods) are kept per Day. Days compare and
// sort as integers; the zero Day is 1970-01-01. The days this package works
// with run from [MinDay] (0001-01-01) to [MaxDay] (9999-12-31).
//
// A billing day is an interval of time, from its first instant, when the
// zone's clocks first show its date, to the first instant of the next day.
// Days never overlap: where clocks fall back across midnight (in
// America/St_Johns until 2011 they went from 00:01 back to 23:01), the
// repeated minutes belong to the day already begun. Where clocks skip a
// whole date (Pacific/Apia skipped 2011-12-30), that day is empty: it starts
// and ends at the same instant.
type Day int32

// The first and the last day: 0001-01-01 and 9999-12-31.
const (
	MinDay Day = -719_162
	MaxDay Day = 2_932_896
)

const secondsPerDay = 24 * 60 * 60

// DayOf returns the billing day, in loc, that instant t falls on. It returns
// an error wrapping ErrInvalidTime if that day is outside MinDay..MaxDay.
func DayOf(t time.Time, loc *time.Location) (Day, error) {
	d, err := inRange(localDay(t, loc), t)
	return d, public(err)
}

// inRange returns d as a Day, or ErrInvalidTime if it is outside
// MinDay..MaxDay (t is the instant it is the day of, for the message).
func inRange(d int64, t time.Time) (Day, error) {
	if d < int64(MinDay) || d > int64(MaxDay) {
		return 0, fmt.Errorf("%w: %s is outside the years 1 to 9999", ErrInvalidTime, t.Format(time.RFC3339))
	}
	return Day(d), nil
}

// lookBack is how far back from an instant localDay looks for dates the
// clocks showed before falling back: more than any change of offset.
const lookBack = 2 * secondsPerDay * time.Second

// localDay returns the billing day of t in loc, without a range check: the
// latest date the zone's clocks have shown by t. After clocks fell back
// across midnight, the day already begun goes on until the new date's
// midnight; the local time then lies less than the change behind the
// instants before the change, so only the zone periods that began within
// lookBack of t need a look.
func localDay(t time.Time, loc *time.Location) int64 {
	lt := t.In(loc)
	d := calendarDay(lt)
	for start, _ := lt.ZoneBounds(); !start.IsZero() && t.Sub(start) < lookBack; {
		before := start.Add(-time.Nanosecond).In(loc)
		d = max(d, calendarDay(before))
		earlier, _ := before.ZoneBounds()
		if !earlier.Before(start) {
			break
		}
		start = earlier
	}
	return d
}

// calendarDay returns the date the clocks of lt's zone show at lt, in days
// since 1970-01-01.
func calendarDay(lt time.Time) int64 {
	_, offset := lt.Zone()
	return days(lt.Unix() + int64(offset))
}

// days returns the day of a count of local seconds since 1970-01-01.
func days(s int64) int64 {
	d := s / secondsPerDay
	if s%secondsPerDay < 0 {
		d-- // floor, not truncation, for instants before 1970
	}
	return d
}

// calendar is the billing days of an Engine's zone. A zone that never
// changes its offset (the default, UTC+8) needs no lookup.
type calendar struct {
	loc   *time.Location
	fixed bool
	// If fixed: the zone's offset, and the Unix seconds of the first
	// instant of MinDay and of the day after MaxDay.
	offset, from, to int64
}

func newCalendar(loc *time.Location) calendar {
	c := calendar{loc: loc}
	at := time.Unix(0, 0).In(loc)
	if start, end := at.ZoneBounds(); start.IsZero() && end.IsZero() {
		_, offset := at.Zone()
		c.fixed, c.offset = true, int64(offset)
		c.from, c.to = int64(MinDay)*secondsPerDay-c.offset, (int64(MaxDay)+1)*secondsPerDay-c.offset
	}
	return c
}

// valid returns an error wrapping ErrInvalidTime if the billing day of t is
// outside MinDay..MaxDay.
func (c calendar) valid(t time.Time) error {
	if s := t.Unix(); c.fixed && s >= c.from && s < c.to {
		return nil
	}
	_, err := c.checked(t)
	return err
}

// days returns the billing day of t, without a range check.
func (c calendar) days(t time.Time) int64 {
	if c.fixed {
		return days(t.Unix() + c.offset)
	}
	return localDay(t, c.loc)
}

// day returns the billing day of t, an instant known to be in range.
func (c calendar) day(t time.Time) Day { return Day(c.days(t)) }

// checked returns the billing day of t, or ErrInvalidTime if it is
// outside MinDay..MaxDay.
func (c calendar) checked(t time.Time) (Day, error) { return inRange(c.days(t), t) }

// start returns the first instant of day d.
func (c calendar) start(d Day) time.Time { return d.Start(c.loc) }

// DateDay returns the Day of the given date. Out-of-range months and days are
// normalized the way [time.Date] normalizes them: DateDay(2021, 2, 29) is
// 2021-03-01. It returns an error wrapping ErrInvalidTime if the date is
// outside MinDay..MaxDay, or if a part is beyond ±10,000,000.
func DateDay(year int, month time.Month, day int) (Day, error) {
	const limit = 10_000_000 // far beyond any valid date, far from overflowing time.Date
	if year < -limit || year > limit || month < -limit || month > limit || day < -limit || day > limit {
		return 0, public(fmt.Errorf("%w: date %d-%d-%d has a part beyond ±10,000,000", ErrInvalidTime, year, month, day))
	}
	d := dateDays(year, month, day)
	if d < int64(MinDay) || d > int64(MaxDay) {
		return 0, public(fmt.Errorf("%w: date %d-%d-%d is outside the years 1 to 9999", ErrInvalidTime, year, month, day))
	}
	return Day(d), nil
}

// date returns the Day of a date derived from a valid day (a package's end,
// the next month), which stays far inside the range of a Day.
func date(year int, month time.Month, day int) Day { return Day(dateDays(year, month, day)) }

func dateDays(year int, month time.Month, day int) int64 {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay
}

// Date returns the year, month and day of d.
func (d Day) Date() (year int, month time.Month, day int) {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Date()
}

// Start returns the first instant of d in loc: the first instant whose
// billing day is d or later. That is d's midnight; or, where clocks skip
// midnight, the first instant after the gap; or, where midnight comes twice,
// the first of the two. For an empty day it is the next day's start.
func (d Day) Start(loc *time.Location) time.Time {
	y, m, dd := d.Date()
	t := time.Date(y, m, dd, 0, 0, 0, 0, loc)
	if localDay(t, loc) >= int64(d) && localDay(t.Add(-time.Nanosecond), loc) < int64(d) {
		return t
	}
	// Midnight is skipped or repeated: bisect whole seconds (zones change
	// offsets on whole seconds) between an instant of an earlier day and
	// one of d or later.
	lo, hi := t.Unix()-2*secondsPerDay, t.Unix()+2*secondsPerDay
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if localDay(time.Unix(mid, 0), loc) >= int64(d) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return time.Unix(hi, 0).In(loc)
}

// String formats d as 2006-01-02.
func (d Day) String() string {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Format(time.DateOnly)
}

// ParseDay returns the Day of s, a date formatted as [Day.String] formats
// it: 2006-01-02, four digits of year, two of month and two of day. It
// returns an error wrapping ErrInvalidTime for any other text, and for a
// date that does not exist (2021-02-29) or is outside MinDay..MaxDay.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 1 {
		return 0, public(fmt.Errorf("%w: day %q is not a date 0001-01-01 to 9999-12-31", ErrInvalidTime, s))
	}
	return Day(days(t.Unix())), nil
}

// MarshalText implements [encoding.TextMarshaler]: it formats d as
// [Day.String] does. It returns an error wrapping ErrInvalidTime if d is
// outside MinDay..MaxDay, which ParseDay would refuse.
func (d Day) MarshalText() ([]byte, error) {
	if d < MinDay || d > MaxDay {
		return nil, public(fmt.Errorf("%w: day %d (in days since 1970-01-01) is outside the years 1 to 9999", ErrInvalidTime, int32(d)))
	}
	return []byte(d.String()), nil
}

// UnmarshalJSON implements [json.Unmarshaler]: a day is read from a JSON
// string as UnmarshalText reads it, or from a JSON number of days since
// 1970-01-01, as this package wrote days before they had a text form (a
// Store or cache that kept records as JSON still reads them); null leaves d
// unchanged. Marshaled, a day is always a string ("2021-03-15").
func (d *Day) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return public(fmt.Errorf("%w: day %s: %v", ErrInvalidTime, b, err))
		}
		return d.UnmarshalText([]byte(s))
	}
	n, err := strconv.ParseInt(string(b), 10, 32)
	if err != nil || Day(n) < MinDay || Day(n) > MaxDay {
		return public(fmt.Errorf("%w: day %s is neither a date nor a number of days from 0001-01-01 to 9999-12-31", ErrInvalidTime, b))
	}
	*d = Day(n)
	return nil
}

// UnmarshalText implements [encoding.TextUnmarshaler]: it parses text as
// ParseDay does, and returns its errors.
func (d *Day) UnmarshalText(text []byte) error {
	day, err := ParseDay(string(text))
	if err != nil {
		return err
	}
	*d = day
	return nil
}
