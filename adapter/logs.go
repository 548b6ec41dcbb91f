package adapter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/parse"
)

// MergeWindow is the longest time StreamLogs holds an entry back while it
// waits for the other stream, so that entries of stdout and stderr come out
// in timestamp order. The engine client writes the container's two streams
// to two pipes, and their relative order is lost in between. An entry that
// arrives more than MergeWindow after a later-stamped entry of the other
// stream was yielded comes out after that entry.
const MergeWindow = 50 * time.Millisecond

// logItem is one parsed line, or the end of a stream.
type logItem struct {
	entry   LogEntry
	arrived time.Time
}

// StreamLogs yields the environment's log entries, from `logs --timestamps`,
// merged from stdout and stderr in timestamp order (see MergeWindow). Lines
// of any length come out whole. When the consumer stops or ctx ends, the
// engine client is killed. An engine failure is yielded last, as the error
// of a zero LogEntry.
func (d *Docker) StreamLogs(ctx context.Context, envID string, opts LogOptions) iter.Seq2[LogEntry, error] {
	return func(yield func(LogEntry, error) bool) {
		if err := validateEnvID("logs", envID); err != nil {
			yield(LogEntry{}, err)
			return
		}

		ctx, cancel := context.WithCancel(ctx)
		defer cancel()

		outR, outW := io.Pipe()
		errR, errW := io.Pipe()
		defer outR.Close()
		defer errR.Close()

		tail := -1
		switch {
		case opts.NewOnly:
			tail = 0
		case opts.Tail > 0:
			tail = opts.Tail
		}
		// A followed stream lasts as long as the caller wants. A plain read
		// gets the pull deadline, the longest default, since a large log
		// takes a while to copy.
		c := call{op: "logs", envID: envID, kind: kindUnbounded}
		if !opts.Follow {
			c.kind = kindPull
		}
		c.cmd = dockercli.Command{
			Args: dockercli.LogsArgs(dockercli.LogsSpec{
				Container: containerName(envID),
				Follow:    opts.Follow,
				Since:     opts.Since,
				Until:     opts.Until,
				Tail:      tail,
			}),
			Stdout: outW,
			Stderr: errW,
		}

		type runResult struct {
			res dockercli.Result
			err error
		}
		done := make(chan runResult, 1)
		go func() {
			res, err := d.run(ctx, c)
			outW.Close()
			errW.Close()
			done <- runResult{res, err}
		}()

		outCh := make(chan logItem, 64)
		errCh := make(chan logItem, 64)
		engineText := &lineBuffer{max: maxStderr}
		go readLogLines(ctx, outR, SourceStdout, outCh, nil)
		go readLogLines(ctx, errR, SourceStderr, errCh, engineText)

		if !mergeLogs(ctx, outCh, errCh, yield) {
			// Kill the client and wait for it, so that it no longer holds a
			// MaxConcurrent slot when StreamLogs returns.
			cancel()
			outR.Close()
			errR.Close()
			<-done
			return
		}

		r := <-done
		if r.err != nil {
			yield(LogEntry{}, r.err)
			return
		}
		if r.res.ExitCode != 0 {
			r.res.Stderr = []byte(engineText.String())
			yield(LogEntry{}, d.engineError(c, r.res, true, fmt.Sprintf("reading the logs of environment %s failed", envID)))
			return
		}
		// A zero exit with text that had no timestamp: keep it rather than
		// lose it.
		if s := engineText.String(); s != "" {
			for _, line := range strings.Split(s, "\n") {
				if !yield(LogEntry{Source: SourceStderr, Message: line}, nil) {
					return
				}
			}
		}
	}
}

// maxMergeQueue bounds the entries StreamLogs holds per stream while they
// wait for the other stream. A full queue releases its oldest entry, so a
// busy stream never stalls the engine client.
const maxMergeQueue = 4096

// mergeLogs yields items from both channels in timestamp order until both
// are closed. It keeps reading both streams into a queue each: the earlier
// of the two oldest entries is yielded, and an entry alone is yielded once it
// has waited MergeWindow, its stream's queue is full, or the other stream has
// ended. It returns false when the consumer stopped or ctx ended.
func mergeLogs(ctx context.Context, outCh, errCh <-chan logItem, yield func(LogEntry, error) bool) bool {
	chans := [2]<-chan logItem{outCh, errCh}
	var queues [2][]logItem

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	// next picks the queue whose oldest entry may be yielded now, or -1.
	next := func() int {
		has0, has1 := len(queues[0]) > 0, len(queues[1]) > 0
		switch {
		case has0 && has1:
			if queues[1][0].entry.Time.Before(queues[0][0].entry.Time) {
				return 1
			}
			return 0
		case has0 || has1:
			i := 0
			if has1 {
				i = 1
			}
			if chans[1-i] == nil || len(queues[i]) >= maxMergeQueue || time.Since(queues[i][0].arrived) >= MergeWindow {
				return i
			}
		}
		return -1
	}

	for {
		for i := next(); i >= 0; i = next() {
			if !yield(queues[i][0].entry, nil) {
				return false
			}
			queues[i] = queues[i][1:]
		}
		if chans[0] == nil && chans[1] == nil && len(queues[0]) == 0 && len(queues[1]) == 0 {
			return true
		}

		// At most one queue holds entries here: give its oldest entry the
		// rest of its window.
		var timeout <-chan time.Time
		for i := range queues {
			if len(queues[i]) > 0 {
				timer.Reset(max(0, MergeWindow-time.Since(queues[i][0].arrived)))
				timeout = timer.C
			}
		}

		var recv [2]<-chan logItem
		for i := range chans {
			if len(queues[i]) < maxMergeQueue {
				recv[i] = chans[i]
			}
		}

		select {
		case <-ctx.Done():
			return false
		case item, ok := <-recv[0]:
			if ok {
				queues[0] = append(queues[0], item)
			} else {
				chans[0] = nil
			}
		case item, ok := <-recv[1]:
			if ok {
				queues[1] = append(queues[1], item)
			} else {
				chans[1] = nil
			}
		case <-timeout:
		}
		timer.Stop()
	}
}

// readLogLines reads whole lines of any length from r, parses them and sends
// them to ch, which it closes at the end. Lines without a timestamp go to
// engineText when it is set (the client's own messages on stderr), and are
// sent with a zero time otherwise.
func readLogLines(ctx context.Context, r io.Reader, source LogSource, ch chan<- logItem, engineText *lineBuffer) {
	defer close(ch)
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if long != nil {
			long = append(long, chunk...)
			line = long
		}
		if len(line) > 0 {
			item, ok := parseLogItem(line, source)
			switch {
			case ok:
				select {
				case ch <- item:
				case <-ctx.Done():
					return
				}
			case engineText != nil:
				engineText.Write(line)
			default:
				select {
				case ch <- item:
				case <-ctx.Done():
					return
				}
			}
		}
		long = nil
		if err != nil {
			return
		}
	}
}

// parseLogItem parses one line. When it has no timestamp, ok is false and the
// item carries the whole line as its message with a zero time.
func parseLogItem(line []byte, source LogSource) (logItem, bool) {
	now := time.Now()
	parsed, err := parse.ParseLogLine(line)
	if err != nil {
		msg := strings.TrimSuffix(string(line), "\n")
		return logItem{entry: LogEntry{Source: source, Message: msg}, arrived: now}, false
	}
	return logItem{
		entry:   LogEntry{Time: parsed.Time, Source: source, Message: string(parsed.Message)},
		arrived: now,
	}, true
}

// lineBuffer keeps the last max bytes written to it.
type lineBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *lineBuffer) Write(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append([]byte(nil), b.buf[len(b.buf)-b.max:]...)
	}
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(string(b.buf))
}
