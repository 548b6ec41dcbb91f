package parse

import (
	"testing"
	"time"
)

func TestScanTimestamp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		text       string
		wantTime   time.Time
		wantLength int
	}{
		{"docker", "2021-05-07T17:27:52.347500403Z", time.Date(2021, 5, 7, 17, 27, 52, 347500403, time.UTC), 30},
		{"negative offset", "2021-05-07T13:28:21.783776413-04:00", time.Date(2021, 5, 7, 17, 28, 21, 783776413, time.UTC), 35},
		{"positive offset", "2021-05-07T23:28:21.5+05:30", time.Date(2021, 5, 7, 17, 58, 21, 500000000, time.UTC), 27},
		{"zero offset", "2021-05-07T17:27:52+00:00", time.Date(2021, 5, 7, 17, 27, 52, 0, time.UTC), 25},
		{"offset crosses midnight", "2021-01-01T01:00:00+02:00", time.Date(2020, 12, 31, 23, 0, 0, 0, time.UTC), 25},
		{"zero time", "0001-01-01T00:00:00Z", time.Time{}, 20},
		{"one fraction digit", "2021-05-07T17:27:52.3Z", time.Date(2021, 5, 7, 17, 27, 52, 300000000, time.UTC), 22},
		{"leap day", "2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), 20},
		{"leap day of 2000", "2000-02-29T00:00:00Z", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), 20},
		{"trailing text not read", "2021-05-07T17:27:52Z hello", time.Date(2021, 5, 7, 17, 27, 52, 0, time.UTC), 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := scanTimestamp(tt.text)
			if !ok {
				t.Fatalf("scanTimestamp(%q) rejected a valid timestamp", tt.text)
			}
			if !got.time.Equal(tt.wantTime) {
				t.Errorf("time = %v, want %v", got.time, tt.wantTime)
			}
			if got.time.Location() != time.UTC {
				t.Errorf("location = %v, want UTC", got.time.Location())
			}
			if got.length != tt.wantLength {
				t.Errorf("length = %d, want %d", got.length, tt.wantLength)
			}
			// The same instant as the standard library's parser.
			stdTime, err := time.Parse(time.RFC3339Nano, tt.text[:tt.wantLength])
			if err != nil {
				t.Fatalf("time.Parse: %v", err)
			}
			if !got.time.Equal(stdTime) {
				t.Errorf("time = %v, time.Parse gives %v", got.time, stdTime)
			}
		})
	}
}

func TestScanTimestampInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
	}{
		{"empty", ""},
		{"too short", "2021-05-07T17:27:5Z"},
		{"date only", "2021-05-07"},
		{"space separator", "2021-05-07 17:27:52Z"},
		{"lower case t", "2021-05-07t17:27:52Z"},
		{"no zone", "2021-05-07T17:27:52.347500403"},
		{"lower case z", "2021-05-07T17:27:52z"},
		{"month 0", "2021-00-07T17:27:52Z"},
		{"month 13", "2021-13-07T17:27:52Z"},
		{"day 0", "2021-05-00T17:27:52Z"},
		{"April 31", "2021-04-31T17:27:52Z"},
		{"February 29 in 2023", "2023-02-29T00:00:00Z"},
		{"February 29 in 1900", "1900-02-29T00:00:00Z"},
		{"hour 24", "2021-05-07T24:00:00Z"},
		{"minute 60", "2021-05-07T17:60:52Z"},
		{"leap second", "2016-12-31T23:59:60Z"},
		{"sign in year", "+021-05-07T17:27:52Z"},
		{"letter in day", "2021-05-0xT17:27:52Z"},
		{"empty fraction", "2021-05-07T17:27:52.Z"},
		{"ten fraction digits", "2021-05-07T17:27:52.3475004031Z"},
		{"offset without colon", "2021-05-07T17:27:52+0000"},
		{"offset hour 24", "2021-05-07T17:27:52+24:00"},
		{"offset minute 60", "2021-05-07T17:27:52+01:60"},
		{"short offset", "2021-05-07T17:27:52+01:0"},
		{"comma fraction", "2021-05-07T17:27:52,5Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, ok := scanTimestamp(tt.text); ok {
				t.Errorf("scanTimestamp(%q) = %v, want rejection", tt.text, got.time)
			}
		})
	}
}
