package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kenv/kenv/adapter"
	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/parse"
)

// Lines of the ticker container in the latency test.
const (
	readyLine  = "kenv-bench-ready"
	tickPrefix = "kenv-bench-tick "
	endLine    = "kenv-bench-end"
	goFile     = "/tmp/kenv-bench-go"
)

// tickerScript is the main process of the latency test's container. It
// prints readyLine, waits up to 60 s for goFile, then prints $1 tick lines,
// one each 20 ms or so, and endLine. Each tick carries the time at which it
// was written, in seconds with microseconds, read with busybox adjtimex
// because busybox date has no sub-second format. The clock is read about a
// millisecond before the write (adjtimex and awk exit in between), so the
// measured latency includes that millisecond.
const tickerScript = `echo ` + readyLine + `
j=0
while [ ! -e ` + goFile + ` ] && [ "$j" -lt 1200 ]; do sleep 0.05; j=$((j + 1)); done
i=0
while [ "$i" -lt "$1" ]; do
	adjtimex | awk -v i="$i" '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "` + tickPrefix + `%d %s.%06d\n", i, s, u }'
	i=$((i + 1))
	sleep 0.02
done
echo ` + endLine + `
exec sleep infinity`

// latencyResult is the follow latency test: per tick line, the time from
// its write in the container to its arrival at each consumer.
type latencyResult struct {
	lines      int
	kenv       samples // write to arrival of the LogEntry
	bare       samples // write to arrival of the line from `logs --follow`
	kenvEngine samples // engine timestamp to arrival of the LogEntry
	bareEngine samples // engine timestamp to arrival of the line
	toEngine   samples // write to engine timestamp
}

// latencyReadyTimeout bounds the wait for both consumers to attach.
const latencyReadyTimeout = time.Minute

// measureLatency starts a ticker environment, follows its logs through kenv
// and through the bare client at once, and lets the ticks flow once both
// consumers have seen readyLine. Both consumers time the same lines.
func (s *suite) measureLatency(ctx context.Context) (*latencyResult, error) {
	lines := s.cfg.latencyLines
	s.progress("follow latency: %d lines", lines)

	cfg := s.envConfig(false)
	cfg.Command = []string{"sh", "-c", tickerScript, "kenv-bench-ticker", strconv.Itoa(lines)}
	env, err := s.kenv.Provision(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("provisioning the ticker environment: %w", err)
	}
	s.res.addEnv(env.ID)
	defer func() {
		if err := s.kenv.Destroy(context.WithoutCancel(ctx), env.ID); err == nil {
			s.res.removeEnv(env.ID)
		}
	}()

	// Each tick takes 20 ms of sleep plus two process starts.
	runTimeout := latencyReadyTimeout + time.Duration(lines)*100*time.Millisecond
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()

	// A consumer marks itself ready at readyLine, or when it ends early, so
	// that the wait below never outlasts a failed consumer.
	result := &latencyResult{lines: lines}
	kenvReady, bareReady := make(chan struct{}), make(chan struct{})
	markKenvReady := sync.OnceFunc(func() { close(kenvReady) })
	markBareReady := sync.OnceFunc(func() { close(bareReady) })
	var wg sync.WaitGroup
	var kenvErr, bareErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer markKenvReady()
		kenvErr = s.followKenv(ctx, env.ID, markKenvReady, result)
	}()
	go func() {
		defer wg.Done()
		defer markBareReady()
		bareErr = s.followBare(ctx, env.Name, markBareReady, result)
	}()

	readyTimeout := time.After(latencyReadyTimeout)
	timedOut := false
	for _, ch := range []chan struct{}{kenvReady, bareReady} {
		select {
		case <-ch:
		case <-readyTimeout:
			timedOut = true
			cancel()
			<-ch
		}
	}
	if timedOut {
		wg.Wait()
		return nil, fmt.Errorf("the log consumers did not see %q within %s", readyLine, latencyReadyTimeout)
	}
	if _, err := s.bare.run(ctx, "exec", env.Name, "touch", goFile); err != nil {
		cancel()
		wg.Wait()
		return nil, fmt.Errorf("starting the ticks: %w", err)
	}
	wg.Wait()

	if err := errors.Join(kenvErr, bareErr); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		name string
		got  int
	}{{"kenv", len(result.kenv)}, {"bare", len(result.bare)}} {
		if c.got != lines {
			return nil, fmt.Errorf("the %s consumer received %d tick lines, want %d", c.name, c.got, lines)
		}
	}
	return result, nil
}

// followKenv follows envID's logs through kenv until endLine, calling
// markReady at readyLine and recording each tick's latencies.
func (s *suite) followKenv(ctx context.Context, envID string, markReady func(), result *latencyResult) error {
	for entry, err := range s.kenv.StreamLogs(ctx, envID, adapter.LogOptions{Follow: true}) {
		arrival := time.Now()
		if err != nil {
			return fmt.Errorf("kenv log stream: %w", err)
		}
		switch {
		case entry.Message == readyLine:
			markReady()
		case entry.Message == endLine:
			return nil
		case strings.HasPrefix(entry.Message, tickPrefix):
			written, err := parseTick(entry.Message)
			if err != nil {
				return err
			}
			result.kenv = append(result.kenv, arrival.Sub(written))
			result.kenvEngine = append(result.kenvEngine, arrival.Sub(entry.Time))
			result.toEngine = append(result.toEngine, entry.Time.Sub(written))
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("kenv log stream: timed out before %q, after %d tick lines: %w", endLine, len(result.kenv), ctx.Err())
	}
	return fmt.Errorf("kenv log stream ended without an error before %q, after %d tick lines", endLine, len(result.kenv))
}

// followBare follows the container's logs with the client, with the argv
// that kenv uses, until endLine.
func (s *suite) followBare(ctx context.Context, container string, markReady func(), result *latencyResult) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	args := dockercli.LogsArgs(dockercli.LogsSpec{Container: container, Follow: true, Tail: -1})
	cmd := exec.CommandContext(ctx, s.bare.binary, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s logs: %w", s.bare.binary, err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait() // killed on purpose, so its exit status means nothing
	}()

	reader := bufio.NewReaderSize(stdout, 64<<10)
	for {
		line, readErr := reader.ReadBytes('\n')
		arrival := time.Now()
		if len(line) > 0 {
			parsed, err := parse.ParseLogLine(line)
			if err != nil {
				return fmt.Errorf("bare log stream: %w", err)
			}
			message := string(parsed.Message)
			switch {
			case message == readyLine:
				markReady()
			case message == endLine:
				return nil
			case strings.HasPrefix(message, tickPrefix):
				written, err := parseTick(message)
				if err != nil {
					return err
				}
				result.bare = append(result.bare, arrival.Sub(written))
				result.bareEngine = append(result.bareEngine, arrival.Sub(parsed.Time))
			}
		}
		if readErr != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("bare log stream: timed out before %q, after %d tick lines: %w", endLine, len(result.bare), ctx.Err())
			}
			return fmt.Errorf("bare log stream ended before %q, after %d tick lines: %w", endLine, len(result.bare), readErr)
		}
	}
}

// parseTick reads the write time from a tick line:
// "kenv-bench-tick <i> <seconds>.<microseconds>".
func parseTick(message string) (time.Time, error) {
	fields := strings.Fields(message)
	if len(fields) != 3 {
		return time.Time{}, fmt.Errorf("invalid tick line %q: want 3 fields", message)
	}
	secText, usecText, ok := strings.Cut(fields[2], ".")
	sec, err1 := strconv.ParseInt(secText, 10, 64)
	usec, err2 := strconv.ParseInt(usecText, 10, 64)
	if !ok || err1 != nil || err2 != nil || len(usecText) != 6 {
		return time.Time{}, fmt.Errorf("invalid tick line %q: want seconds.microseconds in the third field", message)
	}
	return time.Unix(sec, usec*1000), nil
}
