package parse

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// digits returns the first n bytes of "12345678910111213...", the content of
// the long line that testdata/capture.sh makes the container print.
func digits(n int) string {
	var b strings.Builder
	for i := 1; b.Len() < n; i++ {
		b.WriteString(strconv.Itoa(i))
	}
	return b.String()[:n]
}

// dockerChunks cuts message the way Docker 20.10's json-file driver does and
// prints every chunk with stamp, as `docker logs --timestamps` does.
func dockerChunks(stamp, message string) string {
	var b strings.Builder
	for len(message) > dockerChunkSize {
		b.WriteString(stamp + " " + message[:dockerChunkSize])
		message = message[dockerChunkSize:]
	}
	b.WriteString(stamp + " " + message + "\n")
	return b.String()
}

func TestParseLogLine(t *testing.T) {
	t.Parallel()
	const stamp = "2026-12-04T19:52:59.054628598Z"
	stampTime := time.Date(2026, 12, 4, 19, 52, 59, 54628598, time.UTC)
	long := digits(40000)
	tests := []struct {
		name        string
		line        string
		wantTime    time.Time
		wantMessage string
	}{
		{"docker line", stamp + " hello\n", stampTime, "hello"},
		{"no trailing newline", stamp + " hello", stampTime, "hello"},
		{"empty message", stamp + " \n", stampTime, ""},
		{"crlf kept", stamp + " crlf\r\n", stampTime, "crlf\r"},
		{"spaces kept", stamp + "  two leading, two trailing  \n", stampTime, " two leading, two trailing  "},
		{"only the last newline removed", stamp + " a\n\n", stampTime, "a\n"},
		{
			"message starts with earlier timestamp",
			stamp + " 2021-05-07T17:27:52.347500403Z hello\n",
			stampTime, "2021-05-07T17:27:52.347500403Z hello",
		},
		{
			"message starts with later timestamp",
			stamp + " 2026-12-04T19:53:00.100000000Z hello\n",
			stampTime, "2026-12-04T19:53:00.100000000Z hello",
		},
		{
			"short fraction",
			"2026-12-04T20:01:59.6168Z x\n",
			time.Date(2026, 12, 4, 20, 1, 59, 616800000, time.UTC), "x",
		},
		{
			"offset",
			"2021-05-07T13:28:21.783776413-04:00 x\n",
			time.Date(2021, 5, 7, 17, 28, 21, 783776413, time.UTC), "x",
		},
		{
			"no fraction",
			"2021-05-07T17:27:52Z x\n",
			time.Date(2021, 5, 7, 17, 27, 52, 0, time.UTC), "x",
		},
		{"zero time", "0001-01-01T00:00:00Z x\n", time.Time{}, "x"},
		{"docker 40000 bytes in three chunks", dockerChunks(stamp, long), stampTime, long},
		{
			"docker exactly one chunk long",
			stamp + " " + strings.Repeat("a", 16384) + stamp + " \n",
			stampTime, strings.Repeat("a", 16384),
		},
		{"docker one byte over a chunk", dockerChunks(stamp, strings.Repeat("b", 16385)), stampTime, strings.Repeat("b", 16385)},
		{
			"docker chunks with own timestamps",
			stamp + " " + long[:16384] + "2026-12-04T19:52:59.054628599Z " + long[16384:32768] +
				"2026-12-04T19:52:59.0546286Z " + long[32768:] + "\n",
			stampTime, long,
		},
		{
			"docker chunk header without space",
			stamp + " " + long[:16384] + stamp + "x\n",
			stampTime, long[:16384] + stamp + "x",
		},
		{
			"podman chunks of any size",
			"2026-12-04T20:01:59.616867017Z written " +
				"2026-12-04T20:02:00.618868430Z in " + long[:8189] +
				"2026-12-04T20:02:00.618868431Z two parts" +
				"2026-12-04T20:02:01.100000000Z \n",
			time.Date(2026, 12, 4, 20, 1, 59, 616867017, time.UTC), "written in " + long[:8189] + "two parts",
		},
		{
			"podman chunks with offset",
			"2026-12-04T15:01:59.616867017-05:00 written " +
				"2026-12-04T15:02:00.618868430-05:00 in two parts\n",
			time.Date(2026, 12, 4, 20, 1, 59, 616867017, time.UTC), "written in two parts",
		},
		{
			"same timestamp mid message kept",
			stamp + " abc" + stamp + " def\n",
			stampTime, "abc" + stamp + " def",
		},
		{
			"earlier timestamp mid message kept",
			stamp + " started at 2026-12-04T19:52:58.100000000Z done\n",
			stampTime, "started at 2026-12-04T19:52:58.100000000Z done",
		},
		{
			"later timestamp without fraction kept",
			stamp + " retry at 2026-12-04T20:00:00Z soon\n",
			stampTime, "retry at 2026-12-04T20:00:00Z soon",
		},
		{
			"later timestamp with short fraction kept",
			stamp + " retry at 2026-12-04T20:00:00.123Z soon\n",
			stampTime, "retry at 2026-12-04T20:00:00.123Z soon",
		},
		{
			"later timestamp in other zone kept",
			stamp + " retry at 2026-12-04T21:00:00.100000000+01:00 soon\n",
			stampTime, "retry at 2026-12-04T21:00:00.100000000+01:00 soon",
		},
		{
			"later timestamp beyond a podman chunk kept",
			stamp + " " + long[:9000] + "2026-12-04T20:00:00.100000000Z " + long[:100] + "\n",
			stampTime, long[:9000] + "2026-12-04T20:00:00.100000000Z " + long[:100],
		},
		{
			// The known limitation: such a timestamp passes for a Podman chunk header.
			"later podman-like timestamp mid message cut",
			stamp + " deadline 2026-12-04T21:00:00.500000000Z passed\n",
			stampTime, "deadline passed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseLogLine([]byte(tt.line))
			if err != nil {
				t.Fatalf("ParseLogLine: %v", err)
			}
			if !got.Time.Equal(tt.wantTime) {
				t.Errorf("Time = %v, want %v", got.Time, tt.wantTime)
			}
			if diff := cmp.Diff(tt.wantMessage, string(got.Message)); diff != "" {
				t.Errorf("Message mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseLogLineErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		line     string
		wantLine string
	}{
		{"empty", "", ""},
		{"newline only", "\n", "\n"},
		{"no timestamp", "hello world\n", "hello world\n"},
		{"timestamp without message", "2026-12-04T19:52:59.054628598Z", "2026-12-04T19:52:59.054628598Z"},
		{"timestamp without space", "2026-12-04T19:52:59.054628598Zhello", "2026-12-04T19:52:59.054628598Zhello"},
		{"tab after timestamp", "2026-12-04T19:52:59.054628598Z\thello", "2026-12-04T19:52:59.054628598Z\thello"},
		{"month 13", "2026-13-04T19:52:59Z x", "2026-13-04T19:52:59Z x"},
		{"leading space", " 2026-12-04T19:52:59Z x", " 2026-12-04T19:52:59Z x"},
		{"ps time format", "2026-12-04 19:52:59 +0000 UTC x", "2026-12-04 19:52:59 +0000 UTC x"},
		{"ten fraction digits", "2026-12-04T19:52:59.0546285980Z x", "2026-12-04T19:52:59.0546285980Z x"},
		{"long line quoted to 40 bytes", strings.Repeat("x", 100), strings.Repeat("x", 40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseLogLine([]byte(tt.line))
			if err == nil {
				t.Fatalf("ParseLogLine returned %+v and no error", got)
			}
			var lineErr *LogLineError
			if !errors.As(err, &lineErr) {
				t.Fatalf("error %T is not a *LogLineError", err)
			}
			if lineErr.Line != tt.wantLine {
				t.Errorf("Line = %q, want %q", lineErr.Line, tt.wantLine)
			}
			if !errors.Is(err, errMissingLogTimestamp) {
				t.Errorf("error %v does not wrap errMissingLogTimestamp", err)
			}
			if want := strconv.Quote(tt.wantLine); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not quote the line as %s", err, want)
			}
		})
	}
}

// splitLines splits logs output after each "\n", keeping a last line without one.
func splitLines(data []byte) [][]byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func TestParseLogLineCaptured(t *testing.T) {
	t.Parallel()
	// The lines of the parsetest-logs container in testdata/capture.sh, the
	// same for both engines.
	stdout := []string{
		"first line",
		"2021-05-07T17:27:52.347500403Z this message starts with a timestamp",
		"crlf line\r",
		"",
		"tab\tand trailing spaces  ",
		strings.Repeat("a", 16384),
		strings.Repeat("b", 16385),
		digits(40000),
		"written in two parts",
		"last",
		"no newline at the end",
	}
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"docker stdout", "docker-20.10/logs.txt", stdout},
		{"docker stderr", "docker-20.10/logs-stderr.txt", []string{"to stderr"}},
		{"docker tty", "docker-20.10/logs-tty.txt", []string{"tty line\r", "second\r"}},
		{"podman stdout", "podman-4.3/logs.txt", stdout},
		{"podman stderr", "podman-4.3/logs-stderr.txt", []string{"to stderr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, line := range splitLines(readTestdata(t, tt.file)) {
				parsed, err := ParseLogLine(line)
				if err != nil {
					t.Fatalf("ParseLogLine: %v", err)
				}
				stamp, _, _ := strings.Cut(string(line), " ")
				wantTime, err := time.Parse(time.RFC3339Nano, stamp)
				if err != nil {
					t.Fatalf("time.Parse(%q): %v", stamp, err)
				}
				if !parsed.Time.Equal(wantTime) {
					t.Errorf("Time = %v, want %v", parsed.Time, wantTime)
				}
				got = append(got, string(parsed.Message))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseLogLineAliasesInput(t *testing.T) {
	t.Parallel()
	line := []byte("2026-12-04T19:52:59.054628598Z hello\n")
	got, err := ParseLogLine(line)
	if err != nil {
		t.Fatalf("ParseLogLine: %v", err)
	}
	if &got.Message[0] != &line[31] {
		t.Errorf("Message of a one-chunk line is a copy, want a slice of the input")
	}
}

// TestParseLogLineAllocations is not parallel because testing.AllocsPerRun
// counts the allocations of every goroutine.
func TestParseLogLineAllocations(t *testing.T) {
	const stamp = "2026-12-04T19:52:59.054628598Z"
	tests := []struct {
		name string
		line string
		want float64
	}{
		{"one chunk", stamp + " hello world\n", 0},
		{"long line in one chunk", stamp + " " + strings.Repeat("T", 20000) + "\n", 0},
		{"docker chunks", dockerChunks(stamp, digits(40000)), 1},
		{"podman chunks", stamp + " written " + "2026-12-04T19:53:00.100000000Z in two parts\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := []byte(tt.line)
			got := testing.AllocsPerRun(100, func() {
				if _, err := ParseLogLine(line); err != nil {
					t.Fatalf("ParseLogLine: %v", err)
				}
			})
			if got != tt.want {
				t.Errorf("ParseLogLine allocated %v times per line, want %v", got, tt.want)
			}
		})
	}
}
