package parse

import (
	"errors"
	"fmt"
	"time"
)

// timestamp is an RFC 3339 timestamp read from the start of a byte string.
type timestamp struct {
	time          time.Time // the instant, in UTC
	length        int       // bytes read
	offset        int       // UTC offset in seconds, 0 for "Z"
	fractionWidth int       // digits after the decimal point, 0 when there is no fraction
}

// scanTimestamp reads an RFC 3339 timestamp at the start of text, such as
// 2026-12-04T19:52:59.054628598Z or 2021-05-07T13:28:21.783776413-04:00.
// The fraction is optional and has 1 to 9 digits. The zone is "Z" or an offset
// of the form +hh:mm. Bytes after the timestamp are not read. It reports false
// when text does not start with a valid timestamp, including out-of-range
// fields such as February 30. Unlike time.Parse it never allocates.
func scanTimestamp[T string | []byte](text T) (timestamp, bool) {
	var ts timestamp

	// The shortest form, 2006-01-02T15:04:05Z, has 20 bytes.
	if len(text) < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' {
		return ts, false
	}
	year, ok1 := scanDigits(text[0:4])
	month, ok2 := scanDigits(text[5:7])
	day, ok3 := scanDigits(text[8:10])
	hour, ok4 := scanDigits(text[11:13])
	minute, ok5 := scanDigits(text[14:16])
	second, ok6 := scanDigits(text[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return ts, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
		hour > 23 || minute > 59 || second > 59 {
		return ts, false
	}

	i := 19
	nanosecond := 0
	if text[i] == '.' {
		i++
		start := i
		for i < len(text) && isDigit(text[i]) {
			if i-start == 9 {
				return ts, false
			}
			nanosecond = nanosecond*10 + int(text[i]-'0')
			i++
		}
		ts.fractionWidth = i - start
		if ts.fractionWidth == 0 {
			return ts, false
		}
		for range 9 - ts.fractionWidth {
			nanosecond *= 10
		}
	}

	if i >= len(text) {
		return ts, false
	}
	switch text[i] {
	case 'Z':
		i++
	case '+', '-':
		if len(text)-i < 6 || text[i+3] != ':' {
			return ts, false
		}
		offsetHours, okHours := scanDigits(text[i+1 : i+3])
		offsetMinutes, okMinutes := scanDigits(text[i+4 : i+6])
		if !okHours || !okMinutes || offsetHours > 23 || offsetMinutes > 59 {
			return ts, false
		}
		ts.offset = offsetHours*3600 + offsetMinutes*60
		if text[i] == '-' {
			ts.offset = -ts.offset
		}
		i += 6
	default:
		return ts, false
	}

	local := time.Date(year, time.Month(month), day, hour, minute, second, nanosecond, time.UTC)
	ts.time = local.Add(-time.Duration(ts.offset) * time.Second)
	ts.length = i
	return ts, true
}

func scanDigits[T string | []byte](text T) (int, bool) {
	n := 0
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) {
			return 0, false
		}
		n = n*10 + int(text[i]-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func daysInMonth(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}

var errInvalidTimestamp = errors.New("not an RFC 3339 timestamp")

// parseTime parses a whole RFC 3339 string from inspect output. An empty string
// and Go's zero time 0001-01-01T00:00:00Z, which the engines print for "never",
// both give the zero time.Time.
func parseTime(text string) (time.Time, error) {
	if text == "" {
		return time.Time{}, nil
	}
	ts, ok := scanTimestamp(text)
	if !ok || ts.length != len(text) {
		return time.Time{}, errInvalidTimestamp
	}
	if ts.time.IsZero() {
		return time.Time{}, nil
	}
	return ts.time, nil
}

// fieldTime parses a timestamp field and names the field and value on error.
func fieldTime(path, text string) (time.Time, error) {
	t, err := parseTime(text)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid %s %q: %w", path, text, err)
	}
	return t, nil
}
