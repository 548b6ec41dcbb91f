package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kenv/kenv/adapter"
	"github.com/kenv/kenv/dockercli"
)

// fanoutResult is the fan-out test: many environments provisioned, exec'd
// once and destroyed at once, through one adapter and through xargs -P.
type fanoutResult struct {
	fanout    int
	kenv      samples // wall time of each round
	bare      samples
	kenvProcs []int // engine processes of each kenv round
	bareCmd   string
	target    float64

	// proposed holds the rounds of the bare client running, per
	// environment, the engine calls that kenv would run after the changes
	// recommended for provision and destroy. A smoke run leaves it empty.
	proposed samples
}

// fanoutTimeout bounds one fan-out round.
const fanoutTimeout = 10 * time.Minute

// measureFanout runs the fan-out rounds: kenv, then bare, then, outside a
// smoke run, the bare client with the proposed engine calls.
func (s *suite) measureFanout(ctx context.Context) (*fanoutResult, error) {
	if _, err := exec.LookPath("xargs"); err != nil {
		return nil, fmt.Errorf("xargs not found, and the bare side of the fan-out test runs it; install findutils: %w", err)
	}
	engine, err := exec.LookPath(s.cfg.engine)
	if err != nil {
		return nil, fmt.Errorf("engine client %q not found: %w", s.cfg.engine, err)
	}

	script := s.fanoutScript(false)
	proposedScript := s.fanoutScript(true)
	result := &fanoutResult{
		fanout:  s.cfg.fanout,
		bareCmd: fmt.Sprintf("xargs -P %d -n 1 sh -c '%[2]s run ... \"$1\" && %[2]s exec \"$1\" true && %[2]s rm --force --volumes \"$1\"'", s.cfg.fanout, filepath.Base(s.cfg.engine)),
		target:  1.10,
	}
	for round := range s.cfg.fanoutRounds {
		s.progress("fan-out of %d, round %d/%d", s.cfg.fanout, round+1, s.cfg.fanoutRounds)
		elapsed, procs, err := s.kenvFanout(ctx)
		if err != nil {
			return nil, fmt.Errorf("kenv fan-out: %w", err)
		}
		result.kenv = append(result.kenv, elapsed)
		result.kenvProcs = append(result.kenvProcs, procs)

		elapsed, err = s.bareFanout(ctx, engine, script, round, "f")
		if err != nil {
			return nil, fmt.Errorf("bare fan-out: %w", err)
		}
		result.bare = append(result.bare, elapsed)

		if !s.cfg.smoke {
			elapsed, err = s.bareFanout(ctx, engine, proposedScript, round, "g")
			if err != nil {
				return nil, fmt.Errorf("proposed fan-out: %w", err)
			}
			result.proposed = append(result.proposed, elapsed)
		}
	}
	return result, nil
}

// kenvFanout provisions, execs `true` in and destroys s.cfg.fanout
// environments at once through the suite's one adapter. It returns the wall
// time and the engine processes that the round started.
func (s *suite) kenvFanout(ctx context.Context) (time.Duration, int, error) {
	ctx, cancel := context.WithTimeout(ctx, fanoutTimeout)
	defer cancel()

	s.counter.take()
	before := s.counter.count()
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for range s.cfg.fanout {
		g.Go(func() error {
			env, err := s.kenv.Provision(gctx, s.envConfig(false))
			if err != nil {
				return err
			}
			s.res.addEnv(env.ID)
			res, err := s.kenv.Exec(gctx, env.ID, adapter.ExecRequest{Argv: []string{"true"}})
			if err != nil {
				return err
			}
			if res.ExitCode != 0 {
				return fmt.Errorf("true exited %d in environment %s", res.ExitCode, env.ID)
			}
			if err := s.kenv.Destroy(gctx, env.ID); err != nil {
				return err
			}
			s.res.removeEnv(env.ID)
			return nil
		})
	}
	err := g.Wait()
	elapsed := time.Since(start)
	procs := s.counter.count() - before
	s.counter.take()
	return elapsed, procs, err
}

// fanoutScript returns the sh -c script of one bare item: run, exec and rm.
// With proposed set, it also runs a container inspect after the run and
// before the rm, as kenv would after the recommended changes. The engine
// path comes in as $0 and the container name as $1, so that only the fixed
// argv needs quoting.
func (s *suite) fanoutScript(proposed bool) string {
	const namePlaceholder = "\x00name"
	run := s.bareRunArgs(namePlaceholder, nil)
	execArgs := dockercli.ExecArgs(dockercli.ExecSpec{
		Container: namePlaceholder,
		Argv:      []string{"true"},
		Env:       []string{"KENV_EXEC_ID=" + randomHex(6)},
	})
	rm := dockercli.RemoveContainersArgs(namePlaceholder)

	// The placeholder may also sit inside an argument, such as a label
	// value. shellQuote puts any argument with a NUL byte in single quotes,
	// so closing them around "$1" splices the name in.
	quote := func(args []string) string {
		words := []string{`"$0"`}
		for _, a := range args {
			words = append(words, strings.ReplaceAll(shellQuote(a), namePlaceholder, `'"$1"'`))
		}
		return strings.Join(words, " ")
	}
	if !proposed {
		return quote(run) + " >/dev/null && " + quote(execArgs) + " && " + quote(rm) + " >/dev/null"
	}
	inspect := quote(dockercli.ContainerInspectArgs(namePlaceholder)) + " >/dev/null"
	return quote(run) + " >/dev/null && " + inspect + " && " + quote(execArgs) + " && " + inspect + " && " + quote(rm) + " >/dev/null"
}

// bareFanout runs the fan-out with xargs -P, one sh -c per container.
func (s *suite) bareFanout(ctx context.Context, engine, script string, round int, kind string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, fanoutTimeout)
	defer cancel()

	var names []string
	for i := range s.cfg.fanout {
		names = append(names, s.bareName(kind+strconv.Itoa(round)+"-", i))
	}
	cmd := exec.CommandContext(ctx, "xargs", "-P", strconv.Itoa(s.cfg.fanout), "-n", "1", "sh", "-c", script, engine)
	cmd.Stdin = strings.NewReader(strings.Join(names, "\n") + "\n")
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output

	elapsed, err := timed(cmd.Run)
	if err != nil {
		return 0, fmt.Errorf("xargs -P %d failed: %w: %s", s.cfg.fanout, err, strings.TrimSpace(output.String()))
	}
	return elapsed, nil
}

// shellQuote quotes s for sh. Unless s contains only safe characters, it
// puts s in single quotes and writes each single quote inside as a closing
// quote, a backslash-escaped quote and an opening quote.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
