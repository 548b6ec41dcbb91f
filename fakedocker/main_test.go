package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kenv/kenv/dockercli"
)

// With runMainEnv set, the test binary acts as fakedocker itself, so tests
// can run it as a separate process without building it.
const runMainEnv = "FAKEDOCKER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// replaySetup writes cases to a recording file and returns an environment
// lookup that points fakedocker at it, and the state directory.
func replaySetup(t *testing.T, cases ...dockercli.Case) (func(string) string, dockercli.ReplayState) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "cases.json")
	rec := dockercli.Recording{Engine: "test", Scenario: t.Name(), Cases: cases}
	if err := rec.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{casesEnv: path, stateEnv: state}
	return func(name string) string { return env[name] }, dockercli.ReplayState(state)
}

// replayResult is the outcome of one in-process run.
type replayResult struct {
	code           int
	stdout, stderr string
}

func replayOnce(t *testing.T, getenv func(string) string, stdin string, args ...string) replayResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, getenv, strings.NewReader(stdin), &stdout, &stderr)
	return replayResult{code, stdout.String(), stderr.String()}
}

func stdinOf(s string) *dockercli.Bytes {
	b := dockercli.Bytes(s)
	return &b
}

func TestReplayPrintsRecordedCase(t *testing.T) {
	t.Parallel()
	getenv, state := replaySetup(t, dockercli.Case{
		Argv:     []string{"container", "inspect", "kenv-a"},
		Stdout:   dockercli.Bytes("[]\n"),
		Stderr:   dockercli.Bytes("Error: No such object: kenv-a\n"),
		ExitCode: 1,
	})
	got := replayOnce(t, getenv, "", "container", "inspect", "kenv-a")
	want := replayResult{1, "[]\n", "Error: No such object: kenv-a\n"}
	if got != want {
		t.Errorf("replay = %+v, want %+v", got, want)
	}
	if unused, err := state.Unused(1); err != nil || len(unused) != 0 {
		t.Errorf("unused cases = %v, %v; want none", unused, err)
	}
}

func TestReplayEqualArgvInOrder(t *testing.T) {
	t.Parallel()
	argv := []string{"ps", "--all", "--quiet"}
	getenv, _ := replaySetup(t,
		dockercli.Case{Argv: argv, Stdout: dockercli.Bytes("first\n")},
		dockercli.Case{Argv: []string{"version"}},
		dockercli.Case{Argv: argv, Stdout: dockercli.Bytes("second\n")},
	)
	for _, want := range []string{"first\n", "second\n"} {
		if got := replayOnce(t, getenv, "", argv...); got.code != 0 || got.stdout != want {
			t.Errorf("replay = %+v, want exit 0 and stdout %q", got, want)
		}
	}
	got := replayOnce(t, getenv, "", argv...)
	if got.code != exitUsage || !strings.Contains(got.stderr, "all 2 recorded cases") {
		t.Errorf("third replay = %+v, want exit 2 saying both cases were used", got)
	}
}

func TestReplayUnknownArgvNamesClosest(t *testing.T) {
	t.Parallel()
	getenv, state := replaySetup(t,
		dockercli.Case{Argv: []string{"version", "--format", "{{json .}}"}},
		dockercli.Case{Argv: []string{"container", "inspect", "kenv-rec000000001"}},
	)
	got := replayOnce(t, getenv, "", "container", "inspect", "kenv-rec000000002")
	want := `fakedocker: no recorded case for argv ["container" "inspect" "kenv-rec000000002"]; closest expected: ["container" "inspect" "kenv-rec000000001"]` + "\n"
	if got.code != exitUsage || got.stderr != want || got.stdout != "" {
		t.Errorf("replay = %+v, want exit 2 and stderr %q", got, want)
	}
	mismatches, err := state.Mismatches()
	if err != nil || len(mismatches) != 1 || mismatches[0] != strings.TrimSpace(want) {
		t.Errorf("noted mismatches = %q, %v; want the message", mismatches, err)
	}
}

func TestReplayMatchesStdin(t *testing.T) {
	t.Parallel()
	argv := []string{"exec", "--interactive", "kenv-a", "cat"}
	getenv, _ := replaySetup(t,
		dockercli.Case{Argv: argv, Stdin: stdinOf("one"), Stdout: dockercli.Bytes("from one")},
		dockercli.Case{Argv: argv, Stdin: stdinOf("two"), Stdout: dockercli.Bytes("from two")},
	)
	if got := replayOnce(t, getenv, "two", argv...); got.stdout != "from two" {
		t.Errorf("replay with stdin two = %+v, want the second case", got)
	}
	got := replayOnce(t, getenv, "three", argv...)
	if got.code != exitUsage || !strings.Contains(got.stderr, "with this stdin (5 bytes") {
		t.Errorf("replay with unrecorded stdin = %+v, want exit 2 naming the stdin", got)
	}
}

func TestReplayMatchesRecordedEnv(t *testing.T) {
	t.Parallel()
	getenv, _ := replaySetup(t, dockercli.Case{Argv: []string{"version"}, Env: []string{"DOCKER_CONTEXT=other"}, Stdout: dockercli.Bytes("ok")})
	if got := replayOnce(t, getenv, "", "version"); got.code != exitUsage {
		t.Errorf("replay without DOCKER_CONTEXT = %+v, want exit 2", got)
	}
	withEnv := func(name string) string {
		if name == "DOCKER_CONTEXT" {
			return "other"
		}
		return getenv(name)
	}
	if got := replayOnce(t, withEnv, "", "version"); got.code != 0 || got.stdout != "ok" {
		t.Errorf("replay with DOCKER_CONTEXT=other = %+v, want the case", got)
	}
}

// timedWriter records when each write arrived.
type timedWriter struct {
	mu     sync.Mutex
	start  time.Time
	writes []string
	times  []time.Duration
}

func (w *timedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	w.times = append(w.times, time.Since(w.start))
	return len(p), nil
}

func TestReplayStreamPacing(t *testing.T) {
	t.Parallel()
	chunks := []dockercli.Chunk{
		{Stream: dockercli.StreamStdout, DelayMS: 0, Data: dockercli.Bytes("one\n")},
		{Stream: dockercli.StreamStderr, DelayMS: 0, Data: dockercli.Bytes("two\n")},
		{Stream: dockercli.StreamStdout, DelayMS: 1500, Data: dockercli.Bytes("three\n")},
		{Stream: dockercli.StreamStdout, DelayMS: 60_000, Data: dockercli.Bytes("four\n")},
	}
	getenv, _ := replaySetup(t, dockercli.Case{
		Argv:   []string{"logs", "--timestamps", "kenv-a"},
		Stdout: dockercli.Bytes("one\nthree\nfour\n"),
		Stderr: dockercli.Bytes("two\n"),
		Chunks: chunks,
	})

	// One writer for both streams keeps the order of stdout and stderr.
	w := &timedWriter{start: time.Now()}
	code := run(context.Background(), []string{"logs", "--timestamps", "kenv-a"}, getenv, strings.NewReader(""), w, w)
	if code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	if want := []string{"one\n", "two\n", "three\n", "four\n"}; strings.Join(w.writes, "") != strings.Join(want, "") || len(w.writes) != 4 {
		t.Fatalf("writes = %q, want %q", w.writes, want)
	}
	// 1500 ms becomes 150 ms, and 60 s is capped at maxChunkDelay.
	if gap := w.times[2] - w.times[1]; gap < 140*time.Millisecond || gap > 1400*time.Millisecond {
		t.Errorf("pause before three = %s, want about 150ms", gap)
	}
	if gap := w.times[3] - w.times[2]; gap < maxChunkDelay-10*time.Millisecond || gap > 2*time.Second {
		t.Errorf("pause before four = %s, want about %s", gap, maxChunkDelay)
	}
	if w.times[1] > 100*time.Millisecond {
		t.Errorf("first chunks took %s, want them at once", w.times[1])
	}
}

func TestReplayKilledCaseWaitsForKill(t *testing.T) {
	t.Parallel()
	getenv, _ := replaySetup(t, dockercli.Case{
		Argv:     []string{"logs", "--timestamps", "--follow", "kenv-a"},
		Stdout:   dockercli.Bytes("line\n"),
		ExitCode: -1,
		Killed:   true,
		Chunks:   []dockercli.Chunk{{Stream: dockercli.StreamStdout, Data: dockercli.Bytes("line\n")}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"logs", "--timestamps", "--follow", "kenv-a"}, getenv, strings.NewReader(""), &stdout, &stderr)
	if elapsed := time.Since(start); elapsed < 250*time.Millisecond {
		t.Errorf("replay of a killed case returned after %s, want it to wait for the kill", elapsed)
	}
	if code != 137 || stdout.String() != "line\n" {
		t.Errorf("exit %d stdout %q, want 137 after %q", code, stdout.String(), "line\n")
	}
}

func TestReplayRejectsBadSetup(t *testing.T) {
	t.Parallel()
	got := replayOnce(t, func(string) string { return "" }, "", "version")
	if got.code != exitUsage || !strings.Contains(got.stderr, casesEnv) || !strings.Contains(got.stderr, stateEnv) {
		t.Errorf("replay without configuration = %+v, want exit 2 naming both variables", got)
	}

	getenv, _ := replaySetup(t, dockercli.Case{
		Argv:   []string{"logs", "kenv-a"},
		Stdout: dockercli.Bytes("differs"),
		Chunks: []dockercli.Chunk{{Stream: dockercli.StreamStdout, Data: dockercli.Bytes("line\n")}},
	})
	got = replayOnce(t, getenv, "", "logs", "kenv-a")
	if got.code != exitUsage || !strings.Contains(got.stderr, "chunks differ") {
		t.Errorf("replay of an inconsistent recording = %+v, want exit 2 naming the chunks", got)
	}
}

func TestReplayProcessesClaimEachCaseOnce(t *testing.T) {
	t.Parallel()
	argv := []string{"volume", "ls", "--quiet"}
	var cases []dockercli.Case
	for range 3 {
		cases = append(cases, dockercli.Case{Argv: argv, Stdout: dockercli.Bytes("v\n")})
	}
	getenv, state := replaySetup(t, cases...)

	const processes = 8
	codes := make([]int, processes)
	var wg sync.WaitGroup
	for i := range processes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], argv...)
			cmd.Env = append(os.Environ(), runMainEnv+"=1", casesEnv+"="+getenv(casesEnv), stateEnv+"="+getenv(stateEnv))
			err := cmd.Run()
			codes[i] = cmd.ProcessState.ExitCode()
			if err != nil && codes[i] < 0 {
				t.Errorf("process %d: %v", i, err)
			}
		}()
	}
	wg.Wait()

	counts := map[int]int{}
	for _, c := range codes {
		counts[c]++
	}
	if counts[0] != 3 || counts[exitUsage] != processes-3 {
		t.Errorf("exit statuses = %v, want 3 of 0 and %d of 2", counts, processes-3)
	}
	if unused, err := state.Unused(3); err != nil || len(unused) != 0 {
		t.Errorf("unused cases = %v, %v; want none", unused, err)
	}
}

func TestWordDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b []string
		want int
	}{
		{nil, nil, 0},
		{[]string{"ps"}, nil, 1},
		{[]string{"ps", "--all"}, []string{"ps", "--all"}, 0},
		{[]string{"ps", "--all", "--quiet"}, []string{"ps", "--quiet"}, 1},
		{[]string{"rm", "a", "b"}, []string{"rm", "b", "a"}, 2},
		{[]string{"exec", "kenv-a", "true"}, []string{"exec", "--user", "0", "kenv-a", "sh"}, 3},
	}
	for _, tt := range tests {
		if got := wordDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("wordDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestPaced(t *testing.T) {
	t.Parallel()
	tests := []struct {
		delayMS int64
		want    time.Duration
	}{
		{0, 0},
		{30, 3 * time.Millisecond},
		{1500, 150 * time.Millisecond},
		{2000, maxChunkDelay},
		{600_000, maxChunkDelay},
	}
	for _, tt := range tests {
		if got := paced(tt.delayMS); got != tt.want {
			t.Errorf("paced(%d) = %s, want %s", tt.delayMS, got, tt.want)
		}
	}
}
