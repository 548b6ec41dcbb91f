package dockercli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRecordingExecutorCapturedCommands(t *testing.T) {
	t.Parallel()
	rec := &RecordingExecutor{Executor: testExecutor(t)}
	ctx := context.Background()

	res, err := rec.Run(ctx, Command{Args: []string{"fail", "3", "Error: boom"}})
	if err != nil || res.ExitCode != 3 || string(res.Stderr) != "Error: boom" {
		t.Fatalf("Run = exit %d stderr %q, %v; want the client's own result", res.ExitCode, res.Stderr, err)
	}
	res, err = rec.Run(ctx, Command{Args: []string{"cat"}, Stdin: strings.NewReader("line1\nline2")})
	if err != nil || string(res.Stdout) != "line1\nline2" {
		t.Fatalf("Run of cat = stdout %q, %v; want stdin copied", res.Stdout, err)
	}

	cases := rec.Cases()
	if len(cases) != 2 {
		t.Fatalf("recorded %d cases, want 2", len(cases))
	}
	failed := cases[0]
	if !slices.Equal(failed.Argv, []string{"fail", "3", "Error: boom"}) || failed.ExitCode != 3 ||
		string(failed.Stderr) != "Error: boom" || len(failed.Stdout) != 0 || failed.Stdin != nil || failed.Chunks != nil {
		t.Errorf("failed command recorded as %+v", failed)
	}
	cat := cases[1]
	if cat.Stdin == nil || string(*cat.Stdin) != "line1\nline2" || string(cat.Stdout) != "line1\nline2" {
		t.Errorf("cat recorded as %+v, want its stdin and stdout", cat)
	}
}

// pacedExecutor writes its script to the command's writers with pauses, as a
// client streaming logs would.
type pacedExecutor struct {
	steps []pacedStep
}

type pacedStep struct {
	pause  time.Duration
	stderr bool
	data   string
}

func (e *pacedExecutor) Run(ctx context.Context, cmd Command) (Result, error) {
	for _, s := range e.steps {
		time.Sleep(s.pause)
		w := cmd.Stdout
		if s.stderr {
			w = cmd.Stderr
		}
		if _, err := w.Write([]byte(s.data)); err != nil {
			return Result{ExitCode: -1}, err
		}
	}
	return Result{}, nil
}

func TestRecordingExecutorStreamedChunks(t *testing.T) {
	t.Parallel()
	rec := &RecordingExecutor{Executor: &pacedExecutor{steps: []pacedStep{
		{data: "one\n"},
		{stderr: true, data: "two\n"},
		{pause: 150 * time.Millisecond, data: "three\n"},
	}}}
	var out bytes.Buffer
	res, err := rec.Run(context.Background(), Command{Args: []string{"logs", "--follow", "x"}, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "one\nthree\n" || string(res.Stderr) != "two\n" {
		t.Errorf("caller got stdout %q and Result.Stderr %q, want %q and %q", out.String(), res.Stderr, "one\nthree\n", "two\n")
	}

	c := rec.Cases()[0]
	if string(c.Stdout) != "one\nthree\n" || string(c.Stderr) != "two\n" {
		t.Errorf("recorded stdout %q stderr %q", c.Stdout, c.Stderr)
	}
	if len(c.Chunks) != 3 {
		t.Fatalf("chunks = %+v, want 3", c.Chunks)
	}
	streams := []string{c.Chunks[0].Stream, c.Chunks[1].Stream, c.Chunks[2].Stream}
	if !slices.Equal(streams, []string{StreamStdout, StreamStderr, StreamStdout}) {
		t.Errorf("chunk streams = %q, want the order of the writes", streams)
	}
	if d := c.Chunks[2].DelayMS; d < 140 || d > 1500 {
		t.Errorf("delay before the third chunk = %d ms, want about 150", d)
	}
	if d := c.Chunks[1].DelayMS; d > 50 {
		t.Errorf("delay before the second chunk = %d ms, want about 0", d)
	}
}

func TestRecordingExecutorKilledAndFailedStart(t *testing.T) {
	t.Parallel()
	rec := &RecordingExecutor{Executor: testExecutor(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := rec.Run(ctx, Command{Args: []string{"sleep", "30"}, Stdout: &bytes.Buffer{}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v, want context.DeadlineExceeded", err)
	}

	missing := &RecordingExecutor{Executor: &OSExecutor{Binary: "/nonexistent/kenv-no-such-engine"}}
	if _, err := missing.Run(context.Background(), Command{Args: []string{"version"}}); err == nil {
		t.Fatal("Run of a missing binary succeeded")
	}

	killed := rec.Cases()[0]
	if !killed.Killed || killed.ExitCode != -1 || killed.Error != "" {
		t.Errorf("killed command recorded as %+v, want Killed and exit code -1", killed)
	}
	failed := missing.Cases()[0]
	if failed.Killed || !strings.Contains(failed.Error, "kenv-no-such-engine") {
		t.Errorf("failed start recorded as %+v, want its error", failed)
	}
}

func TestRecordingExecutorWait(t *testing.T) {
	t.Parallel()
	rec := &RecordingExecutor{Executor: &pacedExecutor{steps: []pacedStep{{pause: 100 * time.Millisecond, data: "late\n"}}}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rec.Run(context.Background(), Command{Args: []string{"logs"}, Stdout: &bytes.Buffer{}})
	}()
	for len(rec.Cases()) == 0 {
		time.Sleep(time.Millisecond)
	}
	rec.Wait()
	if c := rec.Cases()[0]; string(c.Stdout) != "late\n" {
		t.Errorf("after Wait the case has stdout %q, want %q", c.Stdout, "late\n")
	}
	<-done
}

func TestRecordingFileRoundTrip(t *testing.T) {
	t.Parallel()
	stdin := Bytes("a\x00b")
	rec := Recording{
		Engine:     "docker-20.10",
		Binary:     "/usr/bin/docker",
		Scenario:   "test",
		RecordedAt: time.Date(2026, 12, 4, 20, 17, 14, 497268558, time.UTC),
		Cases: []Case{
			{Argv: []string{"version", "--format", "{{json .}}"}, Stdout: Bytes(`{"a":"<b>&"}`)},
			{Argv: []string{"exec", "--interactive", "x", "cat"}, Stdin: &stdin, Stdout: Bytes("\xff\xfe binary"), ExitCode: 1},
			{Argv: []string{"logs", "--follow", "x"}, Stdout: Bytes("1\n"), ExitCode: -1, Killed: true,
				Chunks: []Chunk{{Stream: StreamStdout, DelayMS: 12, Data: Bytes("1\n")}}},
		},
	}
	path := filepath.Join(t.TempDir(), "sub", "test.json")
	if err := rec.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), `{{json .}}`) || !strings.Contains(string(text), `<b>&`) {
		t.Errorf("recording escapes <, > or &:\n%s", text)
	}
	if !strings.Contains(string(text), `"base64": "//4gYmluYXJ5"`) {
		t.Errorf("invalid UTF-8 is not stored as base64:\n%s", text)
	}

	got, err := ReadRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Engine != rec.Engine || !got.RecordedAt.Equal(rec.RecordedAt) || len(got.Cases) != len(rec.Cases) {
		t.Fatalf("read back %+v, want %+v", got, rec)
	}
	for i := range rec.Cases {
		want, have := rec.Cases[i], got.Cases[i]
		if !slices.Equal(want.Argv, have.Argv) || !bytes.Equal(want.Stdout, have.Stdout) || want.Killed != have.Killed || want.ExitCode != have.ExitCode {
			t.Errorf("case %d read back as %+v, want %+v", i, have, want)
		}
	}
	if got.Cases[1].Stdin == nil || string(*got.Cases[1].Stdin) != "a\x00b" {
		t.Errorf("stdin read back as %v, want %q", got.Cases[1].Stdin, "a\x00b")
	}
	chunks := got.Cases[2].Chunks
	if len(chunks) != 1 || chunks[0].Stream != StreamStdout || chunks[0].DelayMS != 12 || string(chunks[0].Data) != "1\n" {
		t.Errorf("chunks read back as %+v, want %+v", chunks, rec.Cases[2].Chunks)
	}
}

func TestReadRecordingRejectsInvalidCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		json    string
		wantErr string
	}{
		{"empty argv", `{"cases": [{"argv": [], "stdout": "", "stderr": "", "exit_code": 0}]}`, "case 0: empty argv"},
		{"unknown stream", `{"cases": [{"argv": ["logs"], "stdout": "x", "stderr": "", "exit_code": 0,
			"chunks": [{"stream": "stdin", "delay_ms": 0, "data": "x"}]}]}`, `invalid stream "stdin"`},
		{"chunks differ", `{"cases": [{"argv": ["logs"], "stdout": "x", "stderr": "", "exit_code": 0,
			"chunks": [{"stream": "stdout", "delay_ms": 0, "data": "y"}]}]}`, "chunks differ"},
		{"bad bytes", `{"cases": [{"argv": ["logs"], "stdout": 5, "stderr": "", "exit_code": 0}]}`, "invalid recorded bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadRecording(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ReadRecording: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestReplayState(t *testing.T) {
	t.Parallel()
	state := ReplayState(t.TempDir())
	if ok, err := state.Claim(1); !ok || err != nil {
		t.Fatalf("first Claim(1) = %t, %v; want true", ok, err)
	}
	if ok, err := state.Claim(1); ok || err != nil {
		t.Errorf("second Claim(1) = %t, %v; want false", ok, err)
	}
	if unused, err := state.Unused(3); err != nil || !slices.Equal(unused, []int{0, 2}) {
		t.Errorf("Unused(3) = %v, %v; want [0 2]", unused, err)
	}

	if err := state.AddMismatch("fakedocker: no recorded case\n"); err != nil {
		t.Fatal(err)
	}
	if got, err := state.Mismatches(); err != nil || !slices.Equal(got, []string{"fakedocker: no recorded case"}) {
		t.Errorf("Mismatches = %q, %v", got, err)
	}
}
