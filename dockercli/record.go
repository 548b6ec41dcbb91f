package dockercli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// A recording lists the engine client calls of one run, so that a test can
// replay them later without an engine: the fakedocker command matches each
// argv against the recorded cases and prints the recorded output.

// Recording is the file format of a recording: one JSON object per scenario
// and engine, such as testdata/golden/docker-20.10/lifecycle.json.
type Recording struct {
	// Engine names the engine and client that were recorded, such as
	// "docker-20.10" or "podman-4.3".
	Engine string `json:"engine"`
	// Binary is the client binary that ran, as configured.
	Binary string `json:"binary"`
	// Scenario names the recorded scenario.
	Scenario string `json:"scenario"`
	// RecordedAt is when the scenario started. Replays compare the engine's
	// timestamps with it instead of the current time.
	RecordedAt time.Time `json:"recorded_at"`
	// Cases are the calls in the order they started.
	Cases []Case `json:"cases"`
}

// Case is one recorded run of the engine client.
type Case struct {
	Argv []string `json:"argv"`
	// Env lists Command.Env, the entries added to the client's environment.
	Env []string `json:"env,omitempty"`
	// Stdin contains the bytes that the client read from standard input. It
	// is nil when the command had no stdin, and a replay then ignores stdin.
	Stdin *Bytes `json:"stdin,omitempty"`
	// Stdout and Stderr are everything the client printed, also for streamed
	// commands, whose Chunks carry the same bytes with their timing.
	Stdout Bytes `json:"stdout"`
	Stderr Bytes `json:"stderr"`
	// ExitCode is -1 when the client was killed or did not run.
	ExitCode int `json:"exit_code"`
	// Killed is true when the caller's context ended first and the client
	// was killed, as for `logs --follow` or an exec past its timeout. A
	// replay of such a case prints its output and then waits to be killed.
	Killed bool `json:"killed,omitempty"`
	// Error is the executor's error other than a kill, such as a failed
	// start. A replay cannot reproduce it.
	Error string `json:"error,omitempty"`
	// Chunks are the writes of a streamed command (one whose Command.Stdout
	// or Command.Stderr was set), in order.
	Chunks []Chunk `json:"chunks,omitempty"`
}

// Chunk is one write of a streamed command's output.
type Chunk struct {
	Stream  string `json:"stream"`   // "stdout" or "stderr"
	DelayMS int64  `json:"delay_ms"` // milliseconds since the previous chunk, or since the start for the first
	Data    Bytes  `json:"data"`
}

// The two stream names of a Chunk.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
)

// Bytes is output or input of the client. In JSON it is a string when it is
// valid UTF-8, so recordings stay readable, and {"base64": "..."} otherwise.
type Bytes []byte

// MarshalJSON implements json.Marshaler.
func (b Bytes) MarshalJSON() ([]byte, error) {
	if utf8.Valid(b) {
		return marshalNoEscape(string(b))
	}
	return marshalNoEscape(map[string]string{"base64": base64.StdEncoding.EncodeToString(b)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var text string
	if err := json.Unmarshal(data, &text); err == nil {
		*b = Bytes(text)
		return nil
	}
	var encoded struct {
		Base64 *string `json:"base64"`
	}
	if err := json.Unmarshal(data, &encoded); err != nil || encoded.Base64 == nil {
		return fmt.Errorf("invalid recorded bytes %.40s: want a string or {\"base64\": ...}", data)
	}
	decoded, err := base64.StdEncoding.DecodeString(*encoded.Base64)
	if err != nil {
		return fmt.Errorf("invalid recorded bytes: %w", err)
	}
	*b = decoded
	return nil
}

// marshalNoEscape encodes v without escaping <, > and &, which engine
// output contains often.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ReadRecording reads and checks a recording file.
func ReadRecording(path string) (*Recording, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rec Recording
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("invalid recording %s: %w", path, err)
	}
	if err := rec.check(); err != nil {
		return nil, fmt.Errorf("invalid recording %s: %w", path, err)
	}
	return &rec, nil
}

// check rejects cases that no replay could serve: an empty argv, an unknown
// stream, or chunks whose bytes differ from Stdout and Stderr.
func (r *Recording) check() error {
	for i, c := range r.Cases {
		if len(c.Argv) == 0 {
			return fmt.Errorf("case %d: empty argv", i)
		}
		if len(c.Chunks) == 0 {
			continue
		}
		var stdout, stderr []byte
		for j, ch := range c.Chunks {
			switch ch.Stream {
			case StreamStdout:
				stdout = append(stdout, ch.Data...)
			case StreamStderr:
				stderr = append(stderr, ch.Data...)
			default:
				return fmt.Errorf("case %d chunk %d: invalid stream %q; use stdout or stderr", i, j, ch.Stream)
			}
			if ch.DelayMS < 0 {
				return fmt.Errorf("case %d chunk %d: negative delay_ms %d", i, j, ch.DelayMS)
			}
		}
		if !bytes.Equal(stdout, c.Stdout) || !bytes.Equal(stderr, c.Stderr) {
			return fmt.Errorf("case %d (%q): its chunks differ from its stdout and stderr", i, c.Argv)
		}
	}
	return nil
}

// WriteFile writes the recording as indented JSON, creating the directory.
func (r *Recording) WriteFile(path string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// RecordingExecutor runs commands through Executor and records each one as a
// Case: argv, stdin, stdout, stderr, exit code and, for streamed output, the
// timing of each write. It is safe for concurrent use.
type RecordingExecutor struct {
	// Executor runs the commands, usually an *OSExecutor.
	Executor Executor

	mu      sync.Mutex
	cases   []*Case
	running sync.WaitGroup
}

var _ Executor = (*RecordingExecutor)(nil)

// Run runs cmd through r.Executor and records it. The result and error are
// those of r.Executor.
func (r *RecordingExecutor) Run(ctx context.Context, cmd Command) (Result, error) {
	rec := &Case{Argv: slices.Clone(cmd.Args), Env: slices.Clone(cmd.Env)}
	r.running.Add(1)
	defer r.running.Done()
	r.mu.Lock()
	r.cases = append(r.cases, rec)
	r.mu.Unlock()

	var stdin *bytes.Buffer
	if cmd.Stdin != nil {
		stdin = new(bytes.Buffer)
		cmd.Stdin = io.TeeReader(cmd.Stdin, stdin)
	}

	// A streamed command gets both streams wrapped, so the order of its
	// stdout and stderr writes is kept. A stream the caller did not set is
	// captured here and returned in Result, as Executor promises.
	streamed := cmd.Stdout != nil || cmd.Stderr != nil
	var log *chunkLog
	var ownStdout, ownStderr *bytes.Buffer
	if streamed {
		log = &chunkLog{start: time.Now()}
		if cmd.Stdout == nil {
			ownStdout = new(bytes.Buffer)
			cmd.Stdout = ownStdout
		}
		if cmd.Stderr == nil {
			ownStderr = new(bytes.Buffer)
			cmd.Stderr = ownStderr
		}
		cmd.Stdout = &chunkWriter{log: log, stream: StreamStdout, next: cmd.Stdout}
		cmd.Stderr = &chunkWriter{log: log, stream: StreamStderr, next: cmd.Stderr}
	}

	res, err := r.Executor.Run(ctx, cmd)
	if ownStdout != nil {
		res.Stdout = ownStdout.Bytes()
	}
	if ownStderr != nil {
		res.Stderr = ownStderr.Bytes()
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if stdin != nil {
		b := Bytes(stdin.Bytes())
		rec.Stdin = &b
	}
	rec.ExitCode = res.ExitCode
	if log != nil {
		rec.Chunks = log.done()
		for _, ch := range rec.Chunks {
			if ch.Stream == StreamStdout {
				rec.Stdout = append(rec.Stdout, ch.Data...)
			} else {
				rec.Stderr = append(rec.Stderr, ch.Data...)
			}
		}
	} else {
		rec.Stdout = slices.Clone(res.Stdout)
		rec.Stderr = slices.Clone(res.Stderr)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		rec.Killed = true
	case err != nil:
		rec.Error = err.Error()
	}
	return res, err
}

// Wait waits for the commands that are still running, such as a followed
// log stream whose consumer stopped, which the caller does not wait for.
func (r *RecordingExecutor) Wait() {
	r.running.Wait()
}

// Cases returns a copy of the recorded cases, in the order they started. A
// command still running has no output or exit code yet, so call Wait first.
func (r *RecordingExecutor) Cases() []Case {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Case, len(r.cases))
	for i, c := range r.cases {
		out[i] = *c
		out[i].Chunks = slices.Clone(c.Chunks)
	}
	return out
}

// chunkLog collects the writes of both streams of one command.
type chunkLog struct {
	mu     sync.Mutex
	start  time.Time
	lastMS int64 // offset of the previous chunk from start
	chunks []Chunk
}

// add records one write. Delays are differences of millisecond offsets from
// the start, so rounding does not add up over many chunks.
func (l *chunkLog) add(stream string, p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	offset := time.Since(l.start).Milliseconds()
	l.chunks = append(l.chunks, Chunk{Stream: stream, DelayMS: offset - l.lastMS, Data: slices.Clone(p)})
	l.lastMS = offset
}

func (l *chunkLog) done() []Chunk {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.chunks)
}

// chunkWriter records each write before passing it on. The chunk is the
// engine's output whether or not the caller's writer takes all of it.
type chunkWriter struct {
	log    *chunkLog
	stream string
	next   io.Writer
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.log.add(w.stream, p)
	return w.next.Write(p)
}

// ReplayState is the directory in which the replays of one recording mark
// the cases they used, one file per case, and note the argv they could not
// match. Each test gets its own directory, so that unused cases can be
// listed at its end.
type ReplayState string

// casePath is the marker file of case index.
func (s ReplayState) casePath(index int) string {
	return filepath.Join(string(s), "case-"+strconv.Itoa(index))
}

// Claim marks case index as used. It returns false when another replay
// claimed it first. Creating the marker with O_EXCL makes the claim atomic
// across processes.
func (s ReplayState) Claim(index int) (bool, error) {
	f, err := os.OpenFile(s.casePath(index), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, f.Close()
}

// Unused returns the indices below n that no replay claimed.
func (s ReplayState) Unused(n int) ([]int, error) {
	var unused []int
	for i := range n {
		_, err := os.Stat(s.casePath(i))
		switch {
		case errors.Is(err, os.ErrNotExist):
			unused = append(unused, i)
		case err != nil:
			return nil, err
		}
	}
	return unused, nil
}

// AddMismatch notes a call that matched no case, so the test fails even when
// the caller ignored the replay's exit status.
func (s ReplayState) AddMismatch(message string) error {
	f, err := os.CreateTemp(string(s), "mismatch-*")
	if err != nil {
		return err
	}
	if _, err := f.WriteString(message); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Mismatches returns the messages of every call that matched no case.
func (s ReplayState) Mismatches() ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(string(s), "mismatch-*"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, strings.TrimSpace(string(data)))
	}
	return out, nil
}
