// Package dockercli runs a container engine's command-line client (docker,
// podman or another compatible binary) and builds the argv for each engine
// command that kenv uses.
//
// It never starts a host shell, never expands or splits arguments, and does
// not interpret the engine's output: turning output into types is the job of
// package parse, and deciding what a failure means is the job of package
// adapter.
package dockercli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Command is one run of the engine client.
type Command struct {
	// Args follows the binary name, for example {"container", "inspect", "x"}.
	Args []string

	// Stdin, when set, is copied to the client's standard input.
	Stdin io.Reader

	// Stdout and Stderr, when set, receive the client's output as it is
	// written, and the matching Result field stays empty. When nil, the
	// output is captured in memory and returned in Result.
	Stdout io.Writer
	Stderr io.Writer

	// Env lists extra NAME=VALUE entries added to the client's environment.
	Env []string
}

// Result is the output and exit code of a finished client process. It is returned also
// when the command failed, so callers can classify the failure.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int // -1 when the process was killed by a signal or never ran
}

// Executor runs engine client commands. A non-zero exit status is not an
// error: it is reported in Result.ExitCode. Run returns an error only when the
// process could not be started (see StartError) or when ctx ended before the
// process did, in which case the error wraps ctx.Err() and the process has
// been killed.
//
// Implementations must be safe for concurrent use.
type Executor interface {
	Run(ctx context.Context, cmd Command) (Result, error)
}

// StartError reports that the engine client could not be started at all, for
// example because the binary is missing or not executable.
type StartError struct {
	Binary string
	Err    error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("start engine client %q: %v", e.Binary, e.Err)
}

func (e *StartError) Unwrap() error { return e.Err }

// OSExecutor runs the engine client binary with os/exec.
type OSExecutor struct {
	// Binary is a path or a name looked up in PATH, such as "docker".
	Binary string

	// Env, when non-nil, replaces the process environment passed to the
	// client (Command.Env is appended to it). When nil, the client inherits
	// kenv's environment, so DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG and
	// CONTAINER_HOST reach it untouched.
	Env []string

	// WaitDelay bounds how long Run waits for the client's output pipes to
	// close after the client exits or is killed, in case a grandchild keeps
	// them open. Zero means 2 seconds.
	WaitDelay time.Duration
}

var _ Executor = (*OSExecutor)(nil)

// Run starts the client, waits for it and returns its output and exit code.
// When ctx ends first, the client and every process in its process group are
// killed with SIGKILL.
func (e *OSExecutor) Run(ctx context.Context, cmd Command) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{ExitCode: -1}, err
	}

	c := exec.CommandContext(ctx, e.Binary, cmd.Args...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error {
		// The negative pid addresses the whole process group, so helpers the
		// client started (credential or CLI plugins) die with it.
		return syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
	c.WaitDelay = e.WaitDelay
	if c.WaitDelay == 0 {
		c.WaitDelay = 2 * time.Second
	}

	if e.Env != nil || len(cmd.Env) > 0 {
		base := e.Env
		if base == nil {
			base = os.Environ()
		}
		c.Env = append(append([]string{}, base...), cmd.Env...)
	}

	c.Stdin = cmd.Stdin

	var stdout, stderr bytes.Buffer
	c.Stdout = cmd.Stdout
	if c.Stdout == nil {
		c.Stdout = &stdout
	}
	c.Stderr = cmd.Stderr
	if c.Stderr == nil {
		c.Stderr = &stderr
	}

	runErr := c.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: -1}
	if c.ProcessState != nil {
		res.ExitCode = c.ProcessState.ExitCode()
	}

	if ctxErr := ctx.Err(); ctxErr != nil && runErr != nil {
		return res, fmt.Errorf("engine client %s %s: %w", e.Binary, CommandName(cmd.Args), ctxErr)
	}

	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
		return res, nil
	case errors.As(runErr, &exitErr):
		return res, nil
	case errors.Is(runErr, exec.ErrWaitDelay):
		// The client exited, but something it started kept the output pipes
		// open past WaitDelay. The exit status is still the client's.
		return res, nil
	case c.ProcessState == nil:
		return res, &StartError{Binary: e.Binary, Err: runErr}
	default:
		// Copying stdin or output failed, for example because a caller's
		// writer returned an error.
		return res, fmt.Errorf("engine client %s %s: %w", e.Binary, CommandName(cmd.Args), runErr)
	}
}
