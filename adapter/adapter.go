// Package adapter provisions disposable container environments and drives
// them through a small contract: provision, exec, stream logs, snapshot and
// destroy. Its implementation, Docker, runs a docker-compatible client binary
// (docker, podman, nerdctl) through package dockercli.
//
// The package keeps no state that matters in memory: every container, volume
// and snapshot it creates carries kenv's labels, so any process can find,
// use and remove an environment that another one created. It does not talk
// to an engine API directly, does not log except through the *slog.Logger it
// is given, and does not retry failed engine calls.
package adapter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/parse"
)

// Timeouts bound each kind of engine call when the caller's context has no
// earlier deadline. When one passes, the client process is killed and the
// call returns ErrEngineTimeout. A zero field takes its default.
type Timeouts struct {
	Inspect time.Duration // inspect, ls, version: default 30s
	Create  time.Duration // run, volume create: default 2m
	Remove  time.Duration // rm, volume rm, image rm: default 1m
	Pull    time.Duration // pull: default 15m
	Commit  time.Duration // commit: default 10m
}

// DefaultTimeouts are the Timeouts used for zero fields.
var DefaultTimeouts = Timeouts{
	Inspect: 30 * time.Second,
	Create:  2 * time.Minute,
	Remove:  time.Minute,
	Pull:    15 * time.Minute,
	Commit:  10 * time.Minute,
}

// Options configures New.
type Options struct {
	// Engine is the client binary, a name looked up in PATH or a path.
	// Default "docker".
	Engine string

	// Executor runs the client. Default: a dockercli.OSExecutor for Engine.
	// Tests pass a fake.
	Executor dockercli.Executor

	// Logger receives debug records of engine calls (argv with env values
	// redacted, exit code, duration) and warnings about failed cleanups.
	// Default: discard.
	Logger *slog.Logger

	// MaxConcurrent caps the engine client processes running at once through
	// this adapter. Exec and followed log streams hold their slot until they
	// end. Default 32.
	MaxConcurrent int

	// Timeouts bound engine calls; zero fields take DefaultTimeouts.
	Timeouts Timeouts

	// NewID, when set, generates environment ids and exec markers instead of
	// the random default. Replay tests set it so that argv is reproducible;
	// every id it returns must be 4 to 64 lowercase letters and digits, and
	// unique.
	NewID func() string

	// NoOwner stops Provision from recording the calling process as the
	// owner of each environment (see EnvConfig.Owner and GCOptions.Orphans).
	NoOwner bool
}

// Docker implements InfraAdapter by running a docker-compatible client.
// It is safe for concurrent use.
type Docker struct {
	engine   string
	exec     dockercli.Executor
	log      *slog.Logger
	sem      *semaphore.Weighted
	timeouts Timeouts
	newID    func() string

	// clientEnv is the engine client's environment when the executor sets
	// one, so the socket guard also checks the daemon socket it names.
	clientEnv []string

	// self is the calling process as an Owner, or nil when owners are off
	// or cannot be read on this system.
	self *Owner
}

var _ InfraAdapter = (*Docker)(nil)

// New returns a Docker adapter. It runs nothing: the engine is first used by
// the first operation.
func New(opts Options) (*Docker, error) {
	d := &Docker{engine: opts.Engine, exec: opts.Executor, log: opts.Logger, timeouts: opts.Timeouts, newID: opts.NewID}
	if d.newID == nil {
		d.newID = newID
	}
	if !opts.NoOwner {
		if o, err := ProcessOwner(os.Getpid()); err == nil {
			d.self = &o
		}
	}
	if d.engine == "" {
		d.engine = "docker"
	}
	if strings.ContainsAny(d.engine, "\n\x00") {
		return nil, &Error{Code: CodeInvalidConfig, Op: "new", Message: fmt.Sprintf("invalid engine binary %q", d.engine)}
	}
	if d.exec == nil {
		d.exec = &dockercli.OSExecutor{Binary: d.engine}
	}
	if osExec, ok := d.exec.(*dockercli.OSExecutor); ok {
		d.clientEnv = osExec.Env
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	maxProcs := opts.MaxConcurrent
	if maxProcs <= 0 {
		maxProcs = 32
	}
	d.sem = semaphore.NewWeighted(int64(maxProcs))

	def := DefaultTimeouts
	for _, f := range []struct {
		dst *time.Duration
		def time.Duration
	}{
		{&d.timeouts.Inspect, def.Inspect},
		{&d.timeouts.Create, def.Create},
		{&d.timeouts.Remove, def.Remove},
		{&d.timeouts.Pull, def.Pull},
		{&d.timeouts.Commit, def.Commit},
	} {
		if *f.dst <= 0 {
			*f.dst = f.def
		}
	}
	return d, nil
}

// Engine returns the client binary the adapter runs.
func (d *Docker) Engine() string { return d.engine }

// callKind selects the default deadline of an engine call.
type callKind int

const (
	kindInspect callKind = iota
	kindCreate
	kindRemove
	kindPull
	kindCommit
	kindUnbounded // exec and logs: bounded only by the caller
)

func (d *Docker) timeout(kind callKind) time.Duration {
	switch kind {
	case kindInspect:
		return d.timeouts.Inspect
	case kindCreate:
		return d.timeouts.Create
	case kindRemove:
		return d.timeouts.Remove
	case kindPull:
		return d.timeouts.Pull
	case kindCommit:
		return d.timeouts.Commit
	}
	return 0
}

// call describes one engine call for run.
type call struct {
	op      string
	envID   string
	kind    callKind
	cmd     dockercli.Command
	secrets []string // values to redact from errors and logs
}

// run runs one engine client process under the concurrency cap and the
// call's deadline. It returns the result for any exit status. Its error is
// always an *Error: DOCKER_UNAVAILABLE when the binary cannot start,
// ENGINE_TIMEOUT when the kind's deadline passed, and the op's code wrapping
// ctx.Err() when the caller's context ended.
func (d *Docker) run(ctx context.Context, c call) (dockercli.Result, error) {
	if err := d.sem.Acquire(ctx, 1); err != nil {
		return dockercli.Result{ExitCode: -1}, d.canceled(c, err)
	}
	defer d.sem.Release(1)

	runCtx := ctx
	limit := d.timeout(c.kind)
	if limit > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}

	start := time.Now()
	res, err := d.exec.Run(runCtx, c.cmd)
	elapsed := time.Since(start)
	d.log.LogAttrs(ctx, slog.LevelDebug, "engine call",
		slog.String("op", c.op),
		slog.String("env_id", c.envID),
		slog.String("argv", strings.Join(redactArgv(c.cmd.Args), " ")),
		slog.Int("exit_code", res.ExitCode),
		slog.Duration("elapsed", elapsed))

	if err == nil {
		return res, nil
	}

	var startErr *dockercli.StartError
	switch {
	case errors.Is(err, syscall.E2BIG):
		return res, &Error{
			Code:    CodeInvalidConfig,
			Op:      c.op,
			EnvID:   c.envID,
			Message: "the engine command line is longer than the system allows (E2BIG); pass large values in a file or on stdin instead of in env vars, labels or arguments",
			Err:     err,
		}
	case errors.As(err, &startErr):
		return res, &Error{
			Code:    CodeDockerUnavailable,
			Op:      c.op,
			EnvID:   c.envID,
			Message: fmt.Sprintf("cannot run the engine client %q; install docker (or podman), or name the binary with --engine or KENV_ENGINE (Options.Engine in the library)", d.engine),
			Err:     err,
		}
	case ctx.Err() != nil:
		return res, d.canceled(c, ctx.Err())
	case runCtx.Err() != nil:
		return res, &Error{
			Code:    CodeEngineTimeout,
			Op:      c.op,
			EnvID:   c.envID,
			Message: fmt.Sprintf("the engine did not respond to %q within %s; check that the daemon is healthy, or raise the timeout", dockercli.CommandName(c.cmd.Args), limit),
			Meta:    map[string]string{"timeout": limit.String()},
			Err:     err,
		}
	default:
		return res, &Error{
			Code:    opCode(c.op),
			Op:      c.op,
			EnvID:   c.envID,
			Message: "running the engine client failed",
			Err:     err,
		}
	}
}

// canceled wraps the caller's context error so errors.Is(err,
// context.Canceled) and errors.Is(err, context.DeadlineExceeded) work.
func (d *Docker) canceled(c call, err error) *Error {
	return &Error{Code: opCode(c.op), Op: c.op, EnvID: c.envID, Message: "stopped before the engine finished", Err: err}
}

// opCode is the failure code of an operation.
func opCode(op string) Code {
	switch op {
	case "provision":
		return CodeProvisionFailed
	case "exec":
		return CodeExecFailed
	case "logs":
		return CodeLogsFailed
	case "snapshot":
		return CodeSnapshotFailed
	case "destroy":
		return CodeDestroyFailed
	}
	return CodeEngineFailed
}

// engineError turns a failed engine command into an *Error, classified from
// its exit code and stderr. An unreachable daemon gives DOCKER_UNAVAILABLE,
// and a missing object gives ENV_NOT_FOUND when notFound is true. Any other
// failure gets the op's code, with message as its message.
func (d *Docker) engineError(c call, res dockercli.Result, notFound bool, message string) *Error {
	stderr := redact(trimStderr(res.Stderr), c.secrets)
	e := &Error{
		Code:    opCode(c.op),
		Op:      c.op,
		EnvID:   c.envID,
		Message: message,
		Meta: map[string]string{
			"exit_code": strconv.Itoa(res.ExitCode),
			"stderr":    stderr,
		},
	}
	switch parse.ClassifyFailure(res.ExitCode, res.Stderr) {
	case parse.FailureDaemonUnavailable:
		e.Code = CodeDockerUnavailable
		e.Message = fmt.Sprintf("the engine client %q runs, but its daemon does not respond; start the daemon (for example `sudo systemctl start docker`) or check DOCKER_HOST and the active context", d.engine)
	case parse.FailureNotFound:
		if notFound {
			e.Code = CodeEnvNotFound
			e.Message = fmt.Sprintf("environment %s not found; list environments with `kenv ls`", c.envID)
		}
	}
	return e
}

// redactArgv hides the values of --env arguments in a copy of args.
func redactArgv(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i := 1; i < len(out); i++ {
		if out[i-1] == "--env" || out[i-1] == "-e" {
			if name, _, ok := strings.Cut(out[i], "="); ok {
				out[i] = name + "=[redacted]"
			}
		}
	}
	return out
}

// minSecretLen is the shortest env value that redact hides. Shorter values
// ("1", "on") would mangle every message they happen to occur in.
const minSecretLen = 4

// redact replaces each secret of at least minSecretLen bytes in s.
func redact(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= minSecretLen {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}
