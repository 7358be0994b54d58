package billing

import "time"

// Day is a calendar day in the billing time zone, counted in days since
// 1970-01-01. Meters, uncovered minutes and (later) daily bills are kept per Day.
// Days compare and sort as integers; the zero Day is 1970-01-01.
type Day int32

const secondsPerDay = 24 * 60 * 60

// DayOf returns the calendar day that instant t falls on in loc.
func DayOf(t time.Time, loc *time.Location) Day {
	_, offset := t.In(loc).Zone()
	s := t.Unix() + int64(offset)
	d := s / secondsPerDay
	if s%secondsPerDay < 0 {
		d-- // floor, not truncation, for instants before 1970
	}
	return Day(d)
}

// DateDay returns the Day of the given date. Out-of-range months and days are
// normalized the way [time.Date] normalizes them: DateDay(2021, 2, 29) is
// 2021-03-01.
func DateDay(year int, month time.Month, day int) Day {
	return Day(time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay)
}

// Date returns the year, month and day of d.
func (d Day) Date() (year int, month time.Month, day int) {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Date()
}

// Start returns the first instant of d in loc (its midnight, or the first
// instant after a daylight-saving gap at midnight).
func (d Day) Start(loc *time.Location) time.Time {
	y, m, dd := d.Date()
	return dayStart(y, m, dd, loc)
}

// dayStart returns the first instant of the date in loc. Where midnight
// falls in a daylight-saving gap, time.Date gives an instant of the day
// before; the day then starts where that zone period ends.
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if ty, tm, td := t.Date(); ty != y || tm != m || td != d {
		_, end := t.ZoneBounds()
		if !end.IsZero() {
			return end
		}
	}
	return t
}

// String formats d as 2006-01-02.
func (d Day) String() string {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Format(time.DateOnly)
}
