package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Targets of the log-line parser.
const (
	logLineMinMBps         = 300 // per core
	logLineMaxAllocs       = 1   // per line, whatever its length
	logLineBenchmarkPrefix = "BenchmarkParseLogLine"
)

// goBenchmark is one result line of `go test -bench -benchmem`.
type goBenchmark struct {
	name        string
	iterations  int64
	nsPerOp     float64
	mbPerSec    float64 // 0 when the benchmark does not call SetBytes
	bytesPerOp  int64
	allocsPerOp int64
}

// parseResult is the output of the parse package's benchmarks.
type parseResult struct {
	command    string
	cpu        string // the "cpu:" line of go test
	benchmarks []goBenchmark
}

// runParseBenchmarks runs the benchmarks of ./parse with the go command.
func (s *suite) runParseBenchmarks(ctx context.Context) (*parseResult, error) {
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem"}
	if s.cfg.smoke {
		args = append(args, "-benchtime", "100x")
	}
	args = append(args, "./parse")
	command := s.cfg.goCommand + " " + strings.Join(quoteAll(args), " ")
	s.progress("parse benchmarks: %s", command)

	cmd := exec.CommandContext(ctx, s.cfg.goCommand, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s failed (run it from the repository root): %w\n%s%s", command, err, stdout.String(), stderr.String())
	}

	result := &parseResult{command: command}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if cpu, ok := strings.CutPrefix(line, "cpu: "); ok {
			result.cpu = strings.TrimSpace(cpu)
		}
		if b, ok := parseBenchLine(line); ok {
			result.benchmarks = append(result.benchmarks, b)
		}
	}
	if len(result.benchmarks) == 0 {
		return nil, fmt.Errorf("%s printed no benchmark results:\n%s", command, stdout.String())
	}
	return result, nil
}

// parseBenchLine reads a result line such as
//
//	BenchmarkParseLogLine/short-2  1000000  62.50 ns/op  895.95 MB/s  0 B/op  0 allocs/op
//
// It reports false for any other line.
func parseBenchLine(line string) (goBenchmark, bool) {
	fields := strings.Fields(line)
	if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
		return goBenchmark{}, false
	}
	iterations, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return goBenchmark{}, false
	}
	b := goBenchmark{name: fields[0], iterations: iterations}
	seenNs := false
	for i := 2; i+1 < len(fields); i += 2 {
		value, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return goBenchmark{}, false
		}
		switch fields[i+1] {
		case "ns/op":
			b.nsPerOp, seenNs = value, true
		case "MB/s":
			b.mbPerSec = value
		case "B/op":
			b.bytesPerOp = int64(value)
		case "allocs/op":
			b.allocsPerOp = int64(value)
		}
	}
	return b, seenNs
}

// quoteAll shell-quotes each argument for display.
func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return out
}
