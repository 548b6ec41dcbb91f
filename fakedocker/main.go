// Command fakedocker replaces the docker or podman client in tests. It
// replays a recording made by dockercli.RecordingExecutor: it takes the first
// unused recorded case whose argv (and stdin, when one was recorded) equals
// its own, prints that case's stdout and stderr and exits with its exit
// status. Streamed output is written chunk by chunk with the recorded pauses,
// shortened. A case whose client was killed by its caller is replayed up to
// the end of its output, and fakedocker then waits to be killed too.
//
// Two environment variables configure it:
//
//	KENV_FAKEDOCKER_CASES  the recording file, such as testdata/golden/podman-4.3/lifecycle.json
//	KENV_FAKEDOCKER_STATE  an existing directory where replays mark the cases they used
//
// An argv that matches no unused case gets exit status 2 and a message naming
// the closest recorded argv, also noted in the state directory.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kenv/kenv/dockercli"
)

// The environment variables that configure a replay.
const (
	casesEnv = "KENV_FAKEDOCKER_CASES"
	stateEnv = "KENV_FAKEDOCKER_STATE"
)

// exitUsage is the exit status for an argv without a case and for a broken
// setup. The engines never use it for their own failures, which keeps the
// two apart in test output.
const exitUsage = 2

// Recorded pauses between chunks are divided by paceDivisor and capped at
// maxChunkDelay, so that follow-mode tests still see the order and spacing of
// the output without waiting as long as the engine did.
const (
	paceDivisor   = 10
	maxChunkDelay = 200 * time.Millisecond
)

// maxKilledWait bounds how long a replay of a killed case waits to be killed.
// Its caller killed the engine client within the test's own timeouts, so a
// replay still alive after this has lost its caller.
const maxKilledWait = 2 * time.Minute

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// run replays the case matching args and returns the exit status. When ctx
// ends during a pause or while a killed case waits, run returns status 137,
// as after SIGKILL, so that tests can stand in a canceled ctx for a kill.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	casesPath, stateDir := getenv(casesEnv), getenv(stateEnv)
	if casesPath == "" || stateDir == "" {
		fmt.Fprintf(stderr, "fakedocker: set %s to a recording file and %s to a state directory\n", casesEnv, stateEnv)
		return exitUsage
	}
	rec, err := dockercli.ReadRecording(casesPath)
	if err != nil {
		fmt.Fprintf(stderr, "fakedocker: %v\n", err)
		return exitUsage
	}
	state := dockercli.ReplayState(stateDir)
	if info, err := os.Stat(stateDir); err != nil || !info.IsDir() {
		fmt.Fprintf(stderr, "fakedocker: state directory %s is missing; create it before the replay\n", stateDir)
		return exitUsage
	}

	index, err := claimCase(rec, state, args, getenv, stdin)
	if err != nil {
		message := "fakedocker: " + err.Error()
		if noteErr := state.AddMismatch(message); noteErr != nil {
			fmt.Fprintf(stderr, "fakedocker: noting the mismatch in %s failed: %v\n", stateDir, noteErr)
		}
		fmt.Fprintln(stderr, message)
		return exitUsage
	}
	return replay(ctx, rec.Cases[index], stdout, stderr)
}

// claimCase returns the index of the first unused case that matches the
// call, after marking it used.
func claimCase(rec *dockercli.Recording, state dockercli.ReplayState, args []string, getenv func(string) string, stdin io.Reader) (int, error) {
	var candidates []int
	needStdin := false
	for i, c := range rec.Cases {
		if slices.Equal(c.Argv, args) && hasEnv(c.Env, getenv) {
			candidates = append(candidates, i)
			needStdin = needStdin || c.Stdin != nil
		}
	}
	if len(candidates) == 0 {
		return -1, fmt.Errorf("no recorded case for argv %q; closest expected: %q", args, closestArgv(rec.Cases, args))
	}

	// Stdin is read only when a candidate recorded one: a client started
	// without stdin may have a terminal there.
	var input []byte
	if needStdin {
		var err error
		if input, err = io.ReadAll(stdin); err != nil {
			return -1, fmt.Errorf("reading stdin for argv %q: %w", args, err)
		}
	}

	stdinDiffers := false
	for _, i := range candidates {
		c := rec.Cases[i]
		if c.Stdin != nil && !bytes.Equal(*c.Stdin, input) {
			stdinDiffers = true
			continue
		}
		claimed, err := state.Claim(i)
		if err != nil {
			return -1, fmt.Errorf("marking case %d used: %w", i, err)
		}
		if claimed {
			return i, nil
		}
	}
	if stdinDiffers {
		return -1, fmt.Errorf("no unused recorded case for argv %q with this stdin (%d bytes: %.60q)", args, len(input), input)
	}
	return -1, fmt.Errorf("all %d recorded cases for argv %q were used already", len(candidates), args)
}

// hasEnv reports whether every recorded Command.Env entry is set.
func hasEnv(env []string, getenv func(string) string) bool {
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if getenv(name) != value {
			return false
		}
	}
	return true
}

// replay writes the case's output and returns its exit status.
func replay(ctx context.Context, c dockercli.Case, stdout, stderr io.Writer) int {
	if len(c.Chunks) == 0 {
		stdout.Write(c.Stdout)
		stderr.Write(c.Stderr)
	}
	for _, ch := range c.Chunks {
		if !sleep(ctx, paced(ch.DelayMS)) {
			return 137
		}
		// Write errors are ignored. When the caller has stopped reading,
		// as the adapter does when a log consumer stops, a write to the
		// closed pipe kills fakedocker with SIGPIPE, as it kills a client.
		if ch.Stream == dockercli.StreamStderr {
			stderr.Write(ch.Data)
		} else {
			stdout.Write(ch.Data)
		}
	}

	switch {
	case c.Killed:
		if !sleep(ctx, maxKilledWait) {
			return 137
		}
		fmt.Fprintf(stderr, "fakedocker: the recorded client %q was killed by its caller, but nothing killed this replay within %s\n", c.Argv, maxKilledWait)
		return exitUsage
	case c.Error != "":
		fmt.Fprintf(stderr, "fakedocker: the recorded call %q ended in an executor error that a replay cannot reproduce: %s\n", c.Argv, c.Error)
		return exitUsage
	case c.ExitCode < 0 || c.ExitCode > 255:
		fmt.Fprintf(stderr, "fakedocker: the recorded call %q has exit status %d, which a process cannot return\n", c.Argv, c.ExitCode)
		return exitUsage
	}
	return c.ExitCode
}

// paced shortens a recorded pause.
func paced(delayMS int64) time.Duration {
	return min(time.Duration(delayMS)*time.Millisecond/paceDivisor, maxChunkDelay)
}

// sleep waits d and reports false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// closestArgv returns the recorded argv with the smallest edit distance to
// args, counted in whole words. Ties go to the earlier case.
func closestArgv(cases []dockercli.Case, args []string) []string {
	var best []string
	bestDistance := -1
	for _, c := range cases {
		d := wordDistance(c.Argv, args)
		if bestDistance < 0 || d < bestDistance {
			best, bestDistance = c.Argv, d
		}
	}
	return best
}

// wordDistance is the Levenshtein distance between two word lists: the
// fewest word insertions, deletions and substitutions that turn a into b.
func wordDistance(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
