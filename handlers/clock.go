package handlers

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// The clock, the zone and the quiet hours every handler shares.

// DefaultQuiet are the quiet hours when none are configured: nothing
// that can wait is sent inside them.
const DefaultQuiet = "21:00-07:30"

// ChinaTime is Asia/Shanghai, or a fixed UTC+8 where the zone database
// is missing. The zone is read once: it is on every message's path, and
// time.LoadLocation reads the zone file from disk on each call.
func ChinaTime() *time.Location { return chinaTime() }

var chinaTime = sync.OnceValue(func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
})

// nowOr is now(), or the real clock when now is nil (the handlers'
// injected clocks).
func nowOr(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// locOr is loc, or China time when loc is nil.
func locOr(loc *time.Location) *time.Location {
	if loc != nil {
		return loc
	}
	return ChinaTime()
}

// logOr is l, or slog.Default() when l is nil.
func logOr(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}

// ParseClock reads "09:00" as minutes after midnight.
func ParseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("time of day %q: want HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// ParseQuiet reads quiet hours "21:00-08:00" (may wrap midnight; "" or
// "off" means none).
func ParseQuiet(s string) (from, to int, on bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "off" {
		return 0, 0, false, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, false, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM", s)
	}
	if from, err = ParseClock(a); err != nil {
		return 0, 0, false, err
	}
	if to, err = ParseClock(b); err != nil {
		return 0, 0, false, err
	}
	return from, to, from != to, nil
}

// OutsideQuiet returns t, or the end of the quiet hours t falls in.
func OutsideQuiet(t time.Time, quiet string, loc *time.Location) time.Time {
	from, to, on, err := ParseQuiet(quiet)
	if err != nil || !on {
		return t
	}
	lt := t.In(loc)
	mins := lt.Hour()*60 + lt.Minute()
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	inside := from < to && mins >= from && mins < to || from > to && (mins >= from || mins < to)
	if !inside {
		return t
	}
	end := midnight.Add(time.Duration(to) * time.Minute)
	if !end.After(lt) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}
