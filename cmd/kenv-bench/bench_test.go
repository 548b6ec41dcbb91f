package main

import (
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestSamplesMedian(t *testing.T) {
	cases := []struct {
		name string
		s    samples
		want time.Duration
	}{
		{"empty", nil, 0},
		{"one", samples{ms(5)}, ms(5)},
		{"odd unsorted", samples{ms(9), ms(1), ms(5)}, ms(5)},
		{"even takes the mean", samples{ms(4), ms(1), ms(2), ms(10)}, ms(3)},
	}
	for _, c := range cases {
		if got := c.s.median(); got != c.want {
			t.Errorf("%s: median = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSamplesPercentile(t *testing.T) {
	var s samples
	for i := 100; i >= 1; i-- {
		s = append(s, ms(float64(i)))
	}
	if got := s.percentile(99); got != ms(99) {
		t.Errorf("p99 of 1..100 ms = %v, want 99ms", got)
	}
	if got := s.percentile(100); got != ms(100) {
		t.Errorf("p100 of 1..100 ms = %v, want 100ms", got)
	}
	if got := (samples{ms(7)}).percentile(99); got != ms(7) {
		t.Errorf("p99 of one sample = %v, want 7ms", got)
	}
}

func TestRatios(t *testing.T) {
	kenv := samples{ms(110), ms(220), ms(330)}
	bare := samples{ms(100), ms(200), ms(300)}
	if got := ratio(kenv, bare); math.Abs(got-1.1) > 1e-9 {
		t.Errorf("ratio = %v, want 1.1", got)
	}
	if got := pairedRatio(kenv, bare); math.Abs(got-1.1) > 1e-9 {
		t.Errorf("pairedRatio = %v, want 1.1", got)
	}
	if got := pairedRatio(kenv, bare[:2]); !math.IsNaN(got) {
		t.Errorf("pairedRatio of unequal lengths = %v, want NaN", got)
	}
	if got := ratio(kenv, nil); !math.IsNaN(got) {
		t.Errorf("ratio without bare samples = %v, want NaN", got)
	}
}

func TestBusyTimeMergesOverlaps(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(n float64) time.Time { return base.Add(ms(n)) }
	calls := []engineCall{
		{name: "volume ls", start: at(0), end: at(10)},
		{name: "ps", start: at(2), end: at(12)}, // overlaps the first
		{name: "rm", start: at(20), end: at(50)},
		{name: "volume rm", start: at(50), end: at(60)}, // touches the third
	}
	if got, want := busyTime(calls), ms(52); got != want {
		t.Errorf("busyTime = %v, want %v", got, want)
	}
	if got := busyTime(nil); got != 0 {
		t.Errorf("busyTime(nil) = %v, want 0", got)
	}
}

func TestSubcommand(t *testing.T) {
	cases := map[string]string{
		"image inspect kenv-test/busybox:latest": "image inspect",
		"volume create --label a=b v":            "volume create",
		"run --detach --name x img":              "run",
		"rm --force --volumes x":                 "rm",
		"container --help":                       "container",
	}
	for args, want := range cases {
		if got := subcommand(strings.Fields(args)); got != want {
			t.Errorf("subcommand(%q) = %q, want %q", args, got, want)
		}
	}
	if got := subcommand(nil); got != "(none)" {
		t.Errorf("subcommand(nil) = %q, want (none)", got)
	}
}

func TestParseBenchLine(t *testing.T) {
	line := "BenchmarkParseLogLine/short-2 \t 19766214\t        62.50 ns/op\t 895.95 MB/s\t       0 B/op\t       0 allocs/op"
	got, ok := parseBenchLine(line)
	if !ok {
		t.Fatalf("parseBenchLine(%q) reported no result", line)
	}
	want := goBenchmark{name: "BenchmarkParseLogLine/short-2", iterations: 19766214, nsPerOp: 62.5, mbPerSec: 895.95}
	if got != want {
		t.Errorf("parseBenchLine = %+v, want %+v", got, want)
	}

	line = "BenchmarkContainerInspect-2   9865   120555 ns/op   173.61 MB/s   5538 B/op   53 allocs/op"
	got, ok = parseBenchLine(line)
	if !ok || got.bytesPerOp != 5538 || got.allocsPerOp != 53 {
		t.Errorf("parseBenchLine(%q) = %+v, %t; want 5538 B/op and 53 allocs/op", line, got, ok)
	}

	for _, other := range []string{"goos: linux", "PASS", "ok  \tgithub.com/kenv/kenv/parse\t8.811s", "BenchmarkX-2 --- FAIL", ""} {
		if _, ok := parseBenchLine(other); ok {
			t.Errorf("parseBenchLine(%q) reported a result", other)
		}
	}
}

func TestParseTick(t *testing.T) {
	got, err := parseTick("kenv-bench-tick 17 1796415089.109195")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1796415089, 109195000); !got.Equal(want) {
		t.Errorf("parseTick = %v, want %v", got, want)
	}
	for _, bad := range []string{"kenv-bench-tick 1", "kenv-bench-tick 1 1796415089", "kenv-bench-tick 1 17964.15", "kenv-bench-tick 1 x.109195"} {
		if _, err := parseTick(bad); err == nil {
			t.Errorf("parseTick(%q) returned no error", bad)
		}
	}
}

func TestShellQuoteRoundTrip(t *testing.T) {
	words := []string{"plain", "with space", "it's", `"double"`, "$HOME", "a\nb", "LABEL \"kenv.env\"=\"x\"", ""}
	var quoted []string
	for _, w := range words {
		quoted = append(quoted, shellQuote(w))
	}
	out, err := exec.Command("sh", "-c", "for a in "+strings.Join(quoted, " ")+`; do printf '%s\0' "$a"; done`).Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Equal(got, words) {
		t.Errorf("words through sh = %q, want %q", got, words)
	}
}

// TestFanoutScriptArgv runs the fan-out script with a fake engine that
// records its argv, and checks that the name reaches every command,
// including the label that embeds it.
func TestFanoutScriptArgv(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "argv")
	fake := filepath.Join(dir, "engine")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >>" + shellQuote(logFile) + "\necho >>" + shellQuote(logFile) + "\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	s := &suite{cfg: config{image: "kenv-test/busybox:latest"}, runID: "0123abcd"}
	for _, proposed := range []bool{false, true} {
		if err := os.WriteFile(logFile, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-c", s.fanoutScript(proposed), fake, "kenv-bench-0123abcd-f0-7")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("proposed=%t: script failed: %v\n%s", proposed, err, out)
		}
		data, err := os.ReadFile(logFile)
		if err != nil {
			t.Fatal(err)
		}
		calls := strings.Split(strings.TrimSpace(string(data)), "\n\n")
		var names []string
		for _, c := range calls {
			args := strings.Split(c, "\n")
			names = append(names, subcommand(args))
			if !slices.Contains(args, "kenv-bench-0123abcd-f0-7") {
				t.Errorf("proposed=%t: %s argv %q lacks the container name", proposed, subcommand(args), args)
			}
		}
		want := []string{"run", "exec", "rm"}
		if proposed {
			want = []string{"run", "container inspect", "exec", "container inspect", "rm"}
		}
		if !slices.Equal(names, want) {
			t.Errorf("proposed=%t: commands = %q, want %q", proposed, names, want)
		}
		if !strings.Contains(calls[0], "kenv-bench.name=kenv-bench-0123abcd-f0-7") {
			t.Errorf("proposed=%t: run argv lacks the name label:\n%s", proposed, calls[0])
		}
	}
}

func TestParseFlagsSmokeDefaults(t *testing.T) {
	cfg, err := parseFlags("kenv-bench", []string{"-smoke", "-n", "5"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.iterations != 5 {
		t.Errorf("-smoke -n 5: iterations = %d, want 5 (an explicit flag wins)", cfg.iterations)
	}
	if cfg.fanout != 4 || cfg.fanoutRounds != 1 || cfg.memoryBytes != 16<<20 || cfg.logBudget != 10*time.Second {
		t.Errorf("-smoke: fanout %d rounds %d memory %d budget %s, want 4, 1, 16 MiB, 10s", cfg.fanout, cfg.fanoutRounds, cfg.memoryBytes, cfg.logBudget)
	}
	for _, part := range allParts {
		if !cfg.parts[part] {
			t.Errorf("default -only lacks %s", part)
		}
	}
}

func TestParseFlagsRejects(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "0"},
		{"-fanout", "0"},
		{"-memory-bytes", "1024"},
		{"-only", "operations,nonsense"},
		{"-log-budget", "-1s"},
		{"-o", "/nonexistent-kenv-bench-dir/report.md"},
		{"extra"},
	} {
		if _, err := parseFlags("kenv-bench", args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) returned no error", args)
		}
	}
}
