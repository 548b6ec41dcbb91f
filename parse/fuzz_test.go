package parse

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// addFiles adds the contents of the testdata files that match each pattern to
// the seed corpus. JSON is compacted, because the fuzzer spends up to a minute
// minimizing each new input, and a longer input takes longer.
func addFiles(f *testing.F, patterns ...string) {
	f.Helper()
	for _, pattern := range patterns {
		for _, path := range testdataFiles(f, pattern) {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatalf("read seed: %v", err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, data); err == nil {
				data = compact.Bytes()
			}
			f.Add(data)
		}
	}
}

var canonicalStates = map[string]bool{
	StateCreated: true, StateRunning: true, StatePaused: true,
	StateExited: true, StateDead: true, StateUnknown: true,
}

// checkOutputError fails unless err is an *OutputError quoting at most
// maxQuotedOutput bytes.
func checkOutputError(t *testing.T, err error) {
	t.Helper()
	var outputErr *OutputError
	if !errors.As(err, &outputErr) {
		t.Fatalf("error %T is not an *OutputError: %v", err, err)
	}
	if len(outputErr.Output) > maxQuotedOutput {
		t.Errorf("Output has %d bytes, want at most %d", len(outputErr.Output), maxQuotedOutput)
	}
}

func FuzzContainerInspect(f *testing.F) {
	addFiles(f, "*/container-inspect-*.json")
	f.Add([]byte(`[{"Id":"a","HostConfig":{"CpuQuota":9223372036854775807,"CpuPeriod":1000}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		containers, err := ContainerInspect(data)
		if err != nil {
			checkOutputError(t, err)
			if containers != nil {
				t.Errorf("ContainerInspect returned %d containers with an error", len(containers))
			}
			return
		}
		if containers == nil {
			t.Fatal("ContainerInspect returned a nil slice without an error")
		}
		for _, c := range containers {
			if c.ID == "" {
				t.Error("container without ID")
			}
			if !canonicalStates[c.State] {
				t.Errorf("State %q is not canonical", c.State)
			}
			if c.Labels == nil || c.Mounts == nil {
				t.Error("nil Labels or Mounts")
			}
		}
	})
}

func FuzzImageInspect(f *testing.F) {
	addFiles(f, "*/image-inspect*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		images, err := ImageInspect(data)
		if err != nil {
			checkOutputError(t, err)
			return
		}
		if images == nil {
			t.Fatal("ImageInspect returned a nil slice without an error")
		}
		for _, image := range images {
			if image.ID == "" {
				t.Error("image without ID")
			}
			if image.Labels == nil || image.RepoTags == nil {
				t.Error("nil Labels or RepoTags")
			}
		}
	})
}

func FuzzVersion(f *testing.F) {
	addFiles(f, "*/version*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseVersion(data)
		if err != nil {
			checkOutputError(t, err)
			return
		}
		if v.Engine != EngineDocker && v.Engine != EnginePodman {
			t.Errorf("Engine = %q", v.Engine)
		}
	})
}

// maxFuzzSeedLine is the maximum length of a log line used as a fuzz seed.
const maxFuzzSeedLine = 1024

func FuzzParseLogLine(f *testing.F) {
	for _, path := range testdataFiles(f, "*/logs*.txt") {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		for _, line := range splitLines(data) {
			// Long lines make minimization slow, so the chunked lines
			// are left to the table tests.
			if len(line) <= maxFuzzSeedLine {
				f.Add(line)
			}
		}
	}
	f.Add([]byte("2021-05-07T13:28:21.783776413-04:00 x2021-05-07T13:28:21.783776414-04:00 y\n"))
	f.Fuzz(func(t *testing.T, line []byte) {
		original := bytes.Clone(line)
		got, err := ParseLogLine(line)
		if !bytes.Equal(line, original) {
			t.Fatal("ParseLogLine changed its input")
		}
		if err != nil {
			var lineErr *LogLineError
			if !errors.As(err, &lineErr) {
				t.Fatalf("error %T is not a *LogLineError", err)
			}
			if len(lineErr.Line) > maxQuotedOutput || !strings.HasPrefix(string(line), lineErr.Line) {
				t.Errorf("Line %q is not a prefix of at most %d bytes of the input", lineErr.Line, maxQuotedOutput)
			}
			return
		}
		if len(got.Message) > len(line) {
			t.Errorf("Message has %d bytes, more than the line's %d", len(got.Message), len(line))
		}

		// The leading timestamp is one that time.Parse reads as the same instant.
		stamp, _, _ := strings.Cut(string(line), " ")
		stdTime, stdErr := time.Parse(time.RFC3339Nano, stamp)
		if stdErr != nil {
			t.Fatalf("ParseLogLine accepted timestamp %q that time.Parse rejects: %v", stamp, stdErr)
		}
		if !got.Time.Equal(stdTime) {
			t.Errorf("Time = %v, time.Parse gives %v", got.Time, stdTime)
		}

		// Appending the optional trailing newline leaves the message unchanged.
		if !bytes.HasSuffix(line, []byte("\n")) {
			withNewline, err := ParseLogLine(append(bytes.Clone(line), '\n'))
			if err != nil {
				t.Fatalf("ParseLogLine with newline: %v", err)
			}
			if !bytes.Equal(withNewline.Message, got.Message) {
				t.Errorf("Message with newline = %q, without = %q", withNewline.Message, got.Message)
			}
		}
	})
}

func FuzzClassifyFailure(f *testing.F) {
	for _, path := range testdataFiles(f, "*/failures/*.stderr") {
		stderr, err := os.ReadFile(path)
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		exit, err := os.ReadFile(strings.TrimSuffix(path, ".stderr") + ".exit")
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		exitCode, err := strconv.Atoi(strings.TrimSpace(string(exit)))
		if err != nil {
			f.Fatalf("read seed exit status: %v", err)
		}
		f.Add(exitCode, stderr)
	}
	f.Fuzz(func(t *testing.T, exitCode int, stderr []byte) {
		got := ClassifyFailure(exitCode, stderr)
		if strings.HasPrefix(got.String(), "Failure(") {
			t.Errorf("ClassifyFailure returned undefined class %d", int(got))
		}
		if exitCode == 0 && got != FailureOther {
			t.Errorf("ClassifyFailure(0, %q) = %v, want %v", stderr, got, FailureOther)
		}
		// Lines that do not start like an engine error are never classified.
		if got != FailureOther {
			prefixed := bytes.ReplaceAll(stderr, []byte("\n"), []byte("\nuser: "))
			if again := ClassifyFailure(exitCode, append([]byte("user: "), prefixed...)); again != FailureOther {
				t.Errorf("ClassifyFailure of user lines = %v, want %v", again, FailureOther)
			}
		}
	})
}

func FuzzPS(f *testing.F) {
	// Seeds of one or two entries each, because whole listings of 5 KiB and
	// more make minimization slow.
	for _, path := range testdataFiles(f, "*/ps.ndjson") {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		lines := splitLines(data)
		for _, line := range lines {
			f.Add(line)
		}
		f.Add(bytes.Join(lines[:2], nil))
	}
	for _, path := range testdataFiles(f, "*/ps*.json") {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		var entries []json.RawMessage
		if err := json.Unmarshal(data, &entries); err != nil {
			f.Fatalf("read seed %s: %v", path, err)
		}
		for _, entry := range entries {
			var compact bytes.Buffer
			if err := json.Compact(&compact, entry); err != nil {
				f.Fatalf("compact seed: %v", err)
			}
			f.Add([]byte("[" + compact.String() + "]"))
		}
		if len(entries) == 0 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := PS(data)
		if err != nil {
			checkOutputError(t, err)
			return
		}
		if entries == nil {
			t.Fatal("PS returned a nil slice without an error")
		}
		for _, entry := range entries {
			if entry.ID == "" {
				t.Error("entry without ID")
			}
			if entry.Names == nil {
				t.Error("nil Names")
			}
			if !canonicalStates[entry.State] {
				t.Errorf("State %q is not canonical", entry.State)
			}
		}
	})
}
