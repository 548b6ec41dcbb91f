package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kenv/kenv/adapter"
	"github.com/kenv/kenv/dockercli"
)

// childCommand is the first argument that runs the driver as a child of the
// memory test, so that the child's peak memory is its own.
const childCommand = "child"

// The child jobs.
const (
	jobIdle = "idle" // one exec of true: the floor of a process that uses the adapter
	jobExec = "exec" // an exec that prints -bytes with the output capped at execOutputCap
	jobLogs = "logs" // one pass over a finished log of -lines lines of logLine
)

// memoryLimit is the target for the peak resident memory of a child.
const memoryLimit = 64 << 20

// logLine is each line of the log job, 255 bytes plus the newline.
var logLine = strings.Repeat("0123456789abcdef", 16)[:255]

// logDoneFile is created by the log job's main process after its last line.
const logDoneFile = "/tmp/kenv-bench-done"

// logPrinterScript is the main process of the log job: $2 printed $1 times,
// then endLine, then it sleeps.
const logPrinterScript = `yes "$2" | head -n "$1"
echo ` + endLine + `
touch ` + logDoneFile + `
exec sleep infinity`

// childReport is the JSON line that a child prints on success.
type childReport struct {
	Job        string `json:"job"`
	Bytes      int64  `json:"bytes"`
	Lines      int64  `json:"lines"`
	ElapsedNS  int64  `json:"elapsed_ns"`
	MaxRSSKiB  int64  `json:"self_max_rss_kib"`
	OutputKept int64  `json:"output_kept"`
	Complete   bool   `json:"complete"` // false when the log job stopped at its time budget
}

// memoryResult is one child run.
type memoryResult struct {
	job       string
	bytes     int64         // bytes the job handled: printed by the exec, or read from the log
	lines     int64         // log lines read
	wantBytes int64         // bytes the container printed
	complete  bool          // false when the log job stopped at its time budget
	elapsed   time.Duration // the child's own timing of its job
	selfRSS   int64         // the child's peak resident memory, VmHWM
	familyRSS int64         // ru_maxrss from wait4: at least the largest peak of the child and the engine clients it ran

	// bare is the bare client reading the same log, for the log job.
	bare *logRead
}

// logRead is one read of a log by the bare client.
type logRead struct {
	lines    int64
	bytes    int64
	elapsed  time.Duration
	complete bool
}

// childTimeout bounds one child run: the log budget plus 15 minutes, or
// 2 hours without a budget, enough for a 1 GiB log read at the slowest rate
// measured (about 1,300 lines per second).
func (s *suite) childTimeout() time.Duration {
	if s.cfg.logBudget <= 0 {
		return 2 * time.Hour
	}
	return s.cfg.logBudget + 15*time.Minute
}

// measureMemory runs the idle job, then the exec and log jobs at 16 MiB and
// at -memory-bytes, each in a child process.
func (s *suite) measureMemory(ctx context.Context) ([]memoryResult, error) {
	self, err := executable()
	if err != nil {
		return nil, err
	}
	sizes := []int64{16 << 20}
	if s.cfg.memoryBytes != sizes[0] {
		sizes = append(sizes, s.cfg.memoryBytes)
	}

	env, err := s.kenv.Provision(ctx, s.envConfig(false))
	if err != nil {
		return nil, fmt.Errorf("provisioning the exec environment: %w", err)
	}
	s.res.addEnv(env.ID)
	defer s.destroyQuietly(ctx, env.ID)

	var results []memoryResult
	s.progress("memory: idle child")
	r, err := s.runChild(ctx, self, jobIdle, env.ID, 0, 0)
	if err != nil {
		return nil, err
	}
	r.complete = true
	results = append(results, r)

	for _, size := range sizes {
		s.progress("memory: exec of %s with a %s cap", formatBytes(size), formatBytes(execOutputCap))
		r, err := s.runChild(ctx, self, jobExec, env.ID, size, 0)
		if err != nil {
			return nil, err
		}
		r.wantBytes = size
		r.complete = true
		results = append(results, r)
	}

	for _, size := range sizes {
		r, err := s.measureLogMemory(ctx, self, size)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return results, nil
}

// measureLogMemory starts an environment whose main process prints size
// bytes of lines, waits until it has printed them, runs the log job, then
// reads the same log with the bare client for comparison. Both reads stop
// at -log-budget.
func (s *suite) measureLogMemory(ctx context.Context, self string, size int64) (memoryResult, error) {
	lines := size / int64(len(logLine)+1)
	s.progress("memory: log stream of %s (%d lines), waiting for the container to print it", formatBytes(size), lines)

	cfg := s.envConfig(false)
	cfg.Command = []string{"sh", "-c", logPrinterScript, "kenv-bench-printer", strconv.FormatInt(lines, 10), logLine}
	env, err := s.kenv.Provision(ctx, cfg)
	if err != nil {
		return memoryResult{}, fmt.Errorf("provisioning the log environment: %w", err)
	}
	s.res.addEnv(env.ID)
	defer s.destroyQuietly(ctx, env.ID)

	printed, err := s.waitForFile(ctx, env.Name, logDoneFile, time.Minute+time.Duration(size>>20)*time.Second)
	if err != nil {
		return memoryResult{}, err
	}
	s.progress("memory: the container finished printing %s %s after Provision returned; streaming it through kenv", formatBytes(size), formatDuration(printed))
	r, err := s.runChild(ctx, self, jobLogs, env.ID, size, lines)
	if err != nil {
		return memoryResult{}, err
	}
	r.wantBytes = lines * int64(len(logLine)+1)

	s.progress("memory: reading the same log with the bare client")
	bare, err := s.bareLogRead(ctx, env.Name)
	if err != nil {
		return memoryResult{}, err
	}
	r.bare = &bare
	return r, nil
}

// bareLogRead reads a container's whole log with `logs --timestamps`, the
// argv kenv uses, counting lines and bytes of the messages. It stops at
// -log-budget.
func (s *suite) bareLogRead(ctx context.Context, container string) (logRead, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	cmd := exec.CommandContext(ctx, s.bare.binary, dockercli.LogsArgs(dockercli.LogsSpec{Container: container, Tail: -1})...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return logRead{}, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return logRead{}, fmt.Errorf("starting %s logs: %w", s.bare.binary, err)
	}

	var read logRead
	reader := bufio.NewReaderSize(stdout, 64<<10)
	for {
		line, err := reader.ReadSlice('\n')
		read.bytes += int64(len(line))
		if len(line) > 0 && line[len(line)-1] == '\n' {
			read.lines++
		}
		if err == io.EOF {
			read.complete = true
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return logRead{}, fmt.Errorf("reading %s logs: %w", s.bare.binary, err)
		}
		if s.cfg.logBudget > 0 && read.lines%1024 == 0 && time.Since(start) > s.cfg.logBudget {
			break
		}
	}
	read.elapsed = time.Since(start)
	if !read.complete {
		cancel() // stopped at the budget: the client is killed on purpose
	}
	waitErr := cmd.Wait()
	if read.complete && waitErr != nil {
		return logRead{}, fmt.Errorf("%s logs failed: %w", s.bare.binary, waitErr)
	}
	// The end line and the timestamps are not part of the log job's count.
	if read.complete {
		read.lines--
	}
	return read, nil
}

// waitForFile polls with exec until path exists in the container, at most
// for timeout, and returns how long it waited.
func (s *suite) waitForFile(ctx context.Context, container, path string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := s.bare.run(ctx, "exec", container, "test", "-e", path); err == nil {
			return time.Since(start), nil
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		time.Sleep(500 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s did not appear in container %s within %s", path, container, timeout)
}

// destroyQuietly destroys envID and stops tracking it. On a failure it
// keeps tracking it, so that the final cleanup retries and reports it.
func (s *suite) destroyQuietly(ctx context.Context, envID string) {
	if err := s.kenv.Destroy(context.WithoutCancel(ctx), envID); err == nil {
		s.res.removeEnv(envID)
	}
}

// runChild runs the driver as a child for job and reads its peak memory.
func (s *suite) runChild(ctx context.Context, self, job, envID string, size, lines int64) (memoryResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.childTimeout())
	defer cancel()

	cmd := exec.CommandContext(ctx, self, childCommand, job,
		"-engine", s.cfg.engine, "-env", envID,
		"-bytes", strconv.FormatInt(size, 10), "-lines", strconv.FormatInt(lines, 10),
		"-budget", s.cfg.logBudget.String())
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return memoryResult{}, fmt.Errorf("child %s of %s failed: %w: %s", job, formatBytes(size), err, strings.TrimSpace(stderr.String()))
	}

	var report childReport
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		return memoryResult{}, fmt.Errorf("child %s printed %q, want one JSON object: %w", job, stdout.String(), err)
	}
	usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return memoryResult{}, errors.New("the child's resource usage is not available on this system")
	}
	// Linux reports ru_maxrss in KiB. It includes the peaks of the
	// processes the child waited for, and, as execve copies the replaced
	// address space's peak into it, the driver's own peak when the child
	// started.
	return memoryResult{
		job:       job,
		bytes:     report.Bytes,
		lines:     report.Lines,
		complete:  report.Complete,
		elapsed:   time.Duration(report.ElapsedNS),
		selfRSS:   report.MaxRSSKiB << 10,
		familyRSS: usage.Maxrss << 10,
	}, nil
}

// childMain runs one child job and prints its childReport. It returns the
// exit status.
func childMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "kenv-bench child: missing job; want %s, %s or %s\n", jobIdle, jobExec, jobLogs)
		return exitUsage
	}
	job := args[0]
	fs := flag.NewFlagSet("kenv-bench child "+job, flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := fs.String("engine", "docker", "engine client `binary`")
	envID := fs.String("env", "", "kenv environment `id` to use")
	size := fs.Int64("bytes", 0, "`bytes` the command or the log prints")
	lines := fs.Int64("lines", 0, "log `lines` to expect")
	budget := fs.Duration("budget", 0, "time after which the log job stops reading; 0 means none")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}

	d, err := adapter.New(adapter.Options{Engine: *engine})
	if err != nil {
		fmt.Fprintf(stderr, "kenv-bench child: %v\n", err)
		return exitError
	}

	start := time.Now()
	report := childReport{Job: job}
	switch job {
	case jobIdle:
		err = childExec(ctx, d, *envID, []string{"true"}, 0, &report)
	case jobExec:
		err = childExec(ctx, d, *envID, []string{"head", "-c", strconv.FormatInt(*size, 10), "/dev/zero"}, *size, &report)
	case jobLogs:
		err = childLogs(ctx, d, *envID, *lines, *budget, &report)
	default:
		err = fmt.Errorf("unknown job %q; want %s, %s or %s", job, jobIdle, jobExec, jobLogs)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kenv-bench child %s: %v\n", job, err)
		return exitError
	}
	report.ElapsedNS = int64(time.Since(start))

	// getrusage's ru_maxrss is no use here: Linux copies the peak of the
	// address space that execve replaces into it (exec_mmap in fs/exec.c),
	// and os/exec starts the child from the driver's address space, so it
	// would report at least the driver's peak. VmHWM covers the child's own
	// address space only.
	hwm, err := peakRSSKiB()
	if err != nil {
		fmt.Fprintf(stderr, "kenv-bench child %s: %v\n", job, err)
		return exitError
	}
	report.MaxRSSKiB = hwm
	if err := json.NewEncoder(stdout).Encode(report); err != nil {
		fmt.Fprintf(stderr, "kenv-bench child %s: %v\n", job, err)
		return exitError
	}
	return exitOK
}

// childExec runs argv with the output capped at execOutputCap and checks
// that the cap kept what it should and counted the rest.
func childExec(ctx context.Context, d *adapter.Docker, envID string, argv []string, size int64, report *childReport) error {
	res, err := d.Exec(ctx, envID, adapter.ExecRequest{Argv: argv, MaxOutputBytes: execOutputCap})
	if err != nil {
		return err
	}
	keptBytes := int64(len(res.Stdout))
	switch {
	case res.ExitCode != 0:
		return fmt.Errorf("%s exited %d: %s", argv[0], res.ExitCode, res.Stderr)
	case keptBytes != min(size, execOutputCap):
		return fmt.Errorf("the capped exec kept %d bytes, want %d", keptBytes, min(size, execOutputCap))
	case keptBytes+res.StdoutDropped != size:
		return fmt.Errorf("the capped exec kept %d and dropped %d bytes, want %d in all", keptBytes, res.StdoutDropped, size)
	}
	report.Bytes = size
	report.OutputKept = keptBytes
	return nil
}

// peakRSSKiB returns the process's peak resident memory in KiB, the VmHWM
// line of /proc/self/status.
func peakRSSKiB() (int64, error) {
	value := procField("/proc/self/status", "VmHWM")
	kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(value, "kB")), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading VmHWM from /proc/self/status failed (got %q): %w", value, err)
	}
	return kib, nil
}

// childLogs reads the environment's whole log once, keeping no entry, and
// checks that it holds lines copies of logLine and then endLine. With a
// positive budget it stops reading when the budget has passed and reports
// the read as incomplete.
func childLogs(ctx context.Context, d *adapter.Docker, envID string, lines int64, budget time.Duration, report *childReport) error {
	start := time.Now()
	var count, size int64
	ended := false
	for entry, err := range d.StreamLogs(ctx, envID, adapter.LogOptions{}) {
		if err != nil {
			return err
		}
		switch {
		case ended:
			return fmt.Errorf("unexpected line after %q: %.80q", endLine, entry.Message)
		case entry.Message == endLine:
			ended = true
		case entry.Message == logLine:
			count++
			size += int64(len(entry.Message)) + 1
		default:
			return fmt.Errorf("unexpected line %d: %.80q", count+1, entry.Message)
		}
		if budget > 0 && count%1024 == 0 && time.Since(start) > budget {
			break
		}
	}
	report.Bytes = size
	report.Lines = count
	report.Complete = ended
	if ended && count != lines {
		return fmt.Errorf("read %d lines before the end line, want %d", count, lines)
	}
	if !ended && (budget <= 0 || time.Since(start) <= budget) {
		return fmt.Errorf("the log ended after %d lines without the end line, want %d lines and the end line", count, lines)
	}
	return nil
}
