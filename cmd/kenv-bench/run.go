package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/kenv/kenv/adapter"
)

// suite is one run of the driver.
type suite struct {
	cfg     config
	runID   string
	kenv    *adapter.Docker
	counter *countingExecutor
	bare    *bareClient
	res     *resources
	stderr  io.Writer
}

// results holds what a run measured. A nil or empty field was not measured.
type results struct {
	cfg        config
	runID      string
	machine    machine
	started    time.Time
	finished   time.Time
	loadAtEnd  string
	parse      *parseResult
	operations []*opResult
	fanout     *fanoutResult
	latency    *latencyResult
	memory     []memoryResult
	costs      map[string]*processCost // of the bare client's processes, by subcommand
	failure    error                   // the error that stopped the run, if any
}

// run measures everything, removes what it created, and writes the report
// to stdout and, with -o, to a file. A failed measurement stops the run,
// but the report of what was measured before it is still written.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if _, err := exec.LookPath(cfg.engine); err != nil {
		return fmt.Errorf("engine client %q not found; install docker or podman, or pass its path with -engine: %w", cfg.engine, err)
	}
	d, counter, err := newAdapter(cfg.engine)
	if err != nil {
		return err
	}
	s := &suite{
		cfg:     cfg,
		runID:   randomHex(4),
		kenv:    d,
		counter: counter,
		bare:    &bareClient{binary: cfg.engine},
		res:     newResources(),
		stderr:  stderr,
	}

	m, err := describeMachine(ctx, d)
	if err != nil {
		return fmt.Errorf("`%s version` failed, so the engine is not usable; start its daemon or pass another client with -engine: %w", cfg.engine, err)
	}
	if _, err := s.bare.run(ctx, "image", "inspect", "--format", "{{.Id}}", cfg.image); err != nil {
		return fmt.Errorf("image %s is not present in %s, and the driver never pulls; build it with `make testimage ENGINE=%s`: %w", cfg.image, cfg.engine, cfg.engine, err)
	}
	counter.take()
	s.bare.takeCosts()

	r := &results{cfg: cfg, runID: s.runID, machine: m, started: time.Now()}
	s.progress("run %s: everything created carries the label %s=%s", s.runID, runLabel, s.runID)
	r.failure = s.measure(ctx, r)
	if r.failure != nil && ctx.Err() != nil {
		r.failure = fmt.Errorf("interrupted: %w", r.failure)
	}
	r.costs = s.bare.takeCosts()
	cleanupErr := s.cleanup(ctx)
	r.finished = time.Now()
	r.loadAtEnd = loadAverage()

	report := renderReport(r)
	var writeErr error
	if _, err := io.WriteString(stdout, report); err != nil {
		writeErr = fmt.Errorf("writing the report to stdout: %w", err)
	}
	if cfg.output != "" {
		if err := os.WriteFile(cfg.output, []byte(report), 0o644); err != nil {
			writeErr = errors.Join(writeErr, fmt.Errorf("writing the report: %w", err))
		} else {
			s.progress("report written to %s", cfg.output)
		}
	}
	return errors.Join(r.failure, cleanupErr, writeErr)
}

// measure runs each part of the suite in turn and stops at the first
// failure.
func (s *suite) measure(ctx context.Context, r *results) error {
	parts := s.cfg.parts
	if parts[partParse] && s.cfg.goCommand != "" {
		p, err := s.runParseBenchmarks(ctx)
		if err != nil {
			return err
		}
		r.parse = p
	}

	if parts[partOperations] {
		ops, err := s.measureOperations(ctx, !s.cfg.smoke)
		if err != nil {
			return err
		}
		r.operations = ops
	}

	if parts[partFanout] {
		f, err := s.measureFanout(ctx)
		if err != nil {
			return err
		}
		r.fanout = f
	}

	if parts[partLatency] {
		l, err := s.measureLatency(ctx)
		if err != nil {
			return err
		}
		r.latency = l
	}

	if parts[partMemory] {
		mem, err := s.measureMemory(ctx)
		if err != nil {
			return err
		}
		r.memory = mem
	}
	return nil
}
