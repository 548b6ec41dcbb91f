// Command kenv-bench measures kenv against the bare engine client doing the
// same work, and prints the results as a markdown table. It exists to keep
// kenv's overhead measured and is not part of the product: nothing in kenv
// imports it and it is not installed with kenv.
//
// Each operation (provision, exec, snapshot, destroy) runs through kenv's
// adapter and through the client binary directly, interleaved (kenv, bare,
// kenv, bare ...) in one run, so that both see the same machine load. The
// report gives medians and their ratio rather than absolute times, which
// depend on the machine. It also measures a concurrent fan-out, the latency
// of followed logs, the peak memory of a capped exec and of a 1 GiB log
// stream, and, with -go, runs the Go benchmarks of package parse.
//
// Everything the driver creates carries the label kenv-bench.run=<run id>,
// and the driver removes it before it exits, also after an error or an
// interrupt. `make bench` runs the full suite and `make bench-smoke` a short
// one for CI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // a measurement or the cleanup failed
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if len(os.Args) > 1 && os.Args[1] == childCommand {
		os.Exit(childMain(ctx, os.Args[2:], os.Stdout, os.Stderr))
	}

	cfg, err := parseFlags(os.Args[0], os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(exitOK)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kenv-bench: %v\n", err)
		os.Exit(exitUsage)
	}
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "kenv-bench: %v\n", err)
		os.Exit(exitError)
	}
}

// config holds the driver's flags.
type config struct {
	engine       string
	image        string
	iterations   int
	fanout       int
	fanoutRounds int
	memoryBytes  int64
	latencyLines int
	logBudget    time.Duration
	parts        map[string]bool // the parts of the suite to run
	output       string
	smoke        bool
	goCommand    string
	args         []string // the command line, for the report
}

// smokeDefaults replace the full suite's defaults under -smoke for every flag
// that the command line does not set.
var smokeDefaults = map[string]string{
	"n":             "3",
	"fanout":        "4",
	"rounds":        "1",
	"memory-bytes":  "16777216",
	"latency-lines": "20",
	"log-budget":    "10s",
}

// The parts of the suite, in the order they run.
const (
	partParse      = "parse"
	partOperations = "operations"
	partFanout     = "fanout"
	partLatency    = "latency"
	partMemory     = "memory"
)

var allParts = []string{partParse, partOperations, partFanout, partLatency, partMemory}

func parseFlags(name string, args []string, stderr io.Writer) (config, error) {
	cfg := config{args: append([]string{name}, args...)}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s [flags]\n\n", name)
		fmt.Fprintf(stderr, "Measures kenv's adapter against the bare engine client and prints a markdown report.\n")
		fmt.Fprintf(stderr, "It creates containers, volumes and images labeled kenv-bench.run=<run id> and removes them before it exits.\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.engine, "engine", "docker", "engine client `binary` to measure: docker, podman or a path")
	fs.StringVar(&cfg.image, "image", "kenv-test/busybox:latest", "local `image` to run; it must contain busybox (sh, sleep, head, yes, awk, adjtimex) and is never pulled")
	fs.IntVar(&cfg.iterations, "n", 20, "runs of each operation per side, interleaved kenv then bare")
	fs.IntVar(&cfg.fanout, "fanout", 32, "environments provisioned, exec'd and destroyed at once in the fan-out test")
	fs.IntVar(&cfg.fanoutRounds, "rounds", 3, "fan-out rounds per side, interleaved kenv then bare")
	fs.Int64Var(&cfg.memoryBytes, "memory-bytes", 1<<30, "`bytes` printed by the command of the capped exec and by the main process of the log stream in the memory test")
	fs.IntVar(&cfg.latencyLines, "latency-lines", 300, "log lines timed in the follow latency test")
	fs.DurationVar(&cfg.logBudget, "log-budget", time.Minute, "time after which each read of the memory test's log stops, reporting how far it got; 0 reads the whole log")
	only := fs.String("only", strings.Join(allParts, ","), "comma-separated `parts` of the suite to run: "+strings.Join(allParts, ", "))
	fs.StringVar(&cfg.output, "o", "", "also write the report to this `file`")
	fs.BoolVar(&cfg.smoke, "smoke", false, "run a short suite: -n 3 -fanout 4 -rounds 1 -memory-bytes 16777216 -latency-lines 20 -log-budget 10s unless set, and judge no targets")
	fs.StringVar(&cfg.goCommand, "go", "", "go `command` that runs the benchmarks of ./parse (go test -run '^$' -bench . -benchmem ./parse) from the current directory; empty skips them")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q; all settings are flags, see -help", fs.Arg(0))
	}

	if cfg.smoke {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, value := range smokeDefaults {
			if !set[name] {
				if err := fs.Set(name, value); err != nil {
					return config{}, err
				}
			}
		}
	}

	cfg.parts = map[string]bool{}
	for _, part := range strings.Split(*only, ",") {
		part = strings.TrimSpace(part)
		if !slices.Contains(allParts, part) {
			return config{}, fmt.Errorf("invalid -only part %q; use a comma-separated list of %s", part, strings.Join(allParts, ", "))
		}
		cfg.parts[part] = true
	}

	switch {
	case cfg.engine == "":
		return config{}, errors.New("-engine is empty; pass docker, podman or the path of a client binary")
	case cfg.image == "":
		return config{}, errors.New("-image is empty; pass a local image such as kenv-test/busybox:latest")
	case cfg.iterations < 1:
		return config{}, fmt.Errorf("invalid -n %d; use 1 or more (20 or more for a median worth quoting)", cfg.iterations)
	case cfg.fanout < 1:
		return config{}, fmt.Errorf("invalid -fanout %d; use 1 or more", cfg.fanout)
	case cfg.fanoutRounds < 1:
		return config{}, fmt.Errorf("invalid -rounds %d; use 1 or more", cfg.fanoutRounds)
	case cfg.memoryBytes < 2*execOutputCap:
		return config{}, fmt.Errorf("invalid -memory-bytes %d; use at least %d, twice the exec output cap, so that the cap drops output", cfg.memoryBytes, 2*execOutputCap)
	case cfg.latencyLines < 1:
		return config{}, fmt.Errorf("invalid -latency-lines %d; use 1 or more", cfg.latencyLines)
	case cfg.logBudget < 0:
		return config{}, fmt.Errorf("invalid -log-budget %s; use 0 for none or a positive duration such as 90s", cfg.logBudget)
	}

	// A missing directory fails now rather than after minutes of measuring.
	if cfg.output != "" {
		dir := filepath.Dir(cfg.output)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return config{}, fmt.Errorf("invalid -o %s: directory %s not found; create it or pass another file", cfg.output, dir)
		}
	}
	return cfg, nil
}
