package adapter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/parse"
)

// execMarker is the environment variable that tags every process of one
// Exec call. Children inherit it, so a timeout can find and kill the whole
// tree inside the container even though the engine offers no call to kill an
// exec.
const execMarker = "KENV_EXEC_ID"

// killScript runs in the container as root with the marker value as $1. It
// kills every process whose initial environment holds the marker, and
// repeats until a pass finds none, so children forked during a pass die in
// the next. It prints how many processes it killed. It needs sh, grep and
// kill, which busybox and the common distribution images have.
const killScript = `m="` + execMarker + `=$1"; n=0; i=0
while [ $i -lt 20 ]; do
  found=0
  for d in /proc/[0-9]*; do
    if grep -qxzF "$m" "$d/environ" 2>/dev/null; then
      kill -9 "${d#/proc/}" 2>/dev/null && found=$((found+1))
    fi
  done
  n=$((n+found)); i=$((i+1))
  [ $found -eq 0 ] && [ $i -ge 2 ] && break
  sleep 0.05
done
echo $n`

// Exec runs req in the environment and waits for it. A command that runs
// and exits non-zero is not an error: its status is in ExecResult.ExitCode.
//
// When req.Timeout passes or ctx ends, the client is killed and so is every
// process inside the environment that the command started, including
// children it put in the background. The exception is a child started with
// a cleared environment (`env -i`, or setsid with a new environment), which
// loses the KENV_EXEC_ID marker that the kill looks for. Exec then returns the output gathered
// so far with ErrExecTimeout, or with an error wrapping ctx.Err(). A command
// that finishes normally may leave background children running, as
// `docker exec` does.
//
// Exec returns ErrEnvNotFound when the environment does not exist and
// ErrEnvNotRunning when it is stopped or paused.
func (d *Docker) Exec(ctx context.Context, envID string, req ExecRequest) (ExecResult, error) {
	argv, err := validateExec(envID, req)
	if err != nil {
		return ExecResult{}, err
	}

	marker := d.newID()
	env := []string{execMarker + "=" + marker}
	var secrets []string
	for _, name := range sortedKeys(req.Env) {
		env = append(env, name+"="+req.Env[name])
		secrets = append(secrets, req.Env[name])
	}

	maxOut := req.MaxOutputBytes
	if maxOut == 0 {
		maxOut = DefaultMaxOutput
	}
	stdout, stderr := newHeadTail(maxOut), newHeadTail(maxOut)

	runCtx := ctx
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}

	c := call{op: "exec", envID: envID, kind: kindUnbounded, secrets: secrets}
	c.cmd = dockercli.Command{
		Args: dockercli.ExecArgs(dockercli.ExecSpec{
			Container:   containerName(envID),
			Argv:        argv,
			Interactive: req.Stdin != nil,
			User:        req.User,
			WorkDir:     req.WorkDir,
			Env:         env,
		}),
		Stdin:  req.Stdin,
		Stdout: teeTo(stdout, req.Stdout),
		Stderr: teeTo(stderr, req.Stderr),
	}

	result := ExecResult{Started: time.Now()}
	res, runErr := d.run(runCtx, c)
	result.Finished = time.Now()
	result.ExitCode = res.ExitCode
	result.Stdout, result.StdoutDropped = stdout.Bytes()
	result.Stderr, result.StderrDropped = stderr.Bytes()
	result.StdoutTruncated = result.StdoutDropped > 0
	result.StderrTruncated = result.StderrDropped > 0

	if runErr != nil {
		var e *Error
		if errors.As(runErr, &e) && e.Code == CodeDockerUnavailable {
			return result, runErr
		}
		// The client is gone, but the command may still run inside the
		// environment: kill it whatever ended the client.
		killed, killErr := d.killMarked(ctx, envID, marker)
		if killErr != nil {
			d.log.Warn("exec: killing the command's processes failed", "env_id", envID, "error", killErr)
		}
		if ctx.Err() != nil || runCtx.Err() == nil {
			return result, runErr
		}
		if errors.Is(killErr, ErrEngineTimeout) {
			// The engine did not respond to the kill either, so it may
			// never have run the command. Report that, not a long run.
			return result, killErr
		}
		te := &Error{
			Code:    CodeExecTimeout,
			Op:      "exec",
			EnvID:   envID,
			Message: fmt.Sprintf("the command ran longer than its timeout of %s and was killed", req.Timeout),
			Meta:    map[string]string{"timeout": req.Timeout.String(), "killed_processes": strconv.Itoa(killed)},
			Err:     context.DeadlineExceeded,
		}
		if killErr != nil {
			te.Message += "; killing its processes inside the environment failed, so some may still run"
			te.Meta["kill_error"] = killErr.Error()
		}
		return result, te
	}

	if res.ExitCode != 0 {
		if err := d.execFailure(ctx, c, result); err != nil {
			return result, err
		}
	}
	if res.ExitCode == sigkillExit {
		return d.explainKill(ctx, envID, result)
	}
	return result, nil
}

// teeTo returns capture alone, or a writer copying to both capture and
// extra when extra is set.
func teeTo(capture *headTail, extra io.Writer) io.Writer {
	if extra == nil {
		return capture
	}
	return io.MultiWriter(capture, extra)
}

// stoppedDuringExec is the error for an environment that stopped while a
// command ran in it.
func (d *Docker) stoppedDuringExec(envID string, ctr parse.Container, result ExecResult) *Error {
	return &Error{
		Code:    CodeEnvNotRunning,
		Op:      "exec",
		EnvID:   envID,
		Message: fmt.Sprintf("environment %s stopped while the command ran (state %s, out of memory: %t); provision a new one", envID, ctr.State, ctr.OOMKilled),
		Meta: map[string]string{
			"state":      ctr.State,
			"oom_killed": strconv.FormatBool(ctr.OOMKilled),
			"exit_code":  strconv.Itoa(result.ExitCode),
		},
	}
}

// sigkillExit is the exit code of a process killed by SIGKILL (128 + 9).
const sigkillExit = 137

// oomCountScript prints the memory cgroup's counters on cgroup v2 and v1.
const oomCountScript = `cat /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null; true`

// explainKill distinguishes the causes of a SIGKILL. When the environment
// itself stopped (killed, or out of memory in its main process), Exec returns
// ErrEnvNotRunning naming the state. When it still runs and its memory cgroup
// counts an OOM kill, the result is marked OOMKilled.
func (d *Docker) explainKill(ctx context.Context, envID string, result ExecResult) (ExecResult, error) {
	c := call{op: "exec", envID: envID}
	ctr, err := d.inspectContainer(ctx, c, envID)
	if err != nil {
		if errors.Is(err, ErrEnvNotFound) {
			return result, &Error{Code: CodeEnvNotFound, Op: "exec", EnvID: envID,
				Message: fmt.Sprintf("environment %s was removed while the command ran", envID)}
		}
		return result, nil
	}
	if ctr.State != parse.StateRunning {
		return result, d.stoppedDuringExec(envID, ctr, result)
	}

	kc := call{op: "exec", envID: envID, kind: kindInspect}
	kc.cmd = dockercli.Command{Args: dockercli.ExecArgs(dockercli.ExecSpec{
		Container: containerName(envID),
		User:      "0",
		Argv:      []string{"sh", "-c", oomCountScript},
	})}
	res, err := d.run(ctx, kc)
	if err == nil && res.ExitCode == 0 {
		if n, ok := parse.OOMKillCount(res.Stdout); ok && n > 0 {
			result.OOMKilled = true
		}
		return result, nil
	}

	// The probe failed, so the environment may have been stopping or being
	// removed when it was inspected: look once more.
	again, err := d.inspectContainer(ctx, c, envID)
	switch {
	case errors.Is(err, ErrEnvNotFound):
		return result, &Error{Code: CodeEnvNotFound, Op: "exec", EnvID: envID,
			Message: fmt.Sprintf("environment %s was removed while the command ran", envID)}
	case err == nil && again.State != parse.StateRunning:
		return result, d.stoppedDuringExec(envID, again, result)
	}
	return result, nil
}

// execFailure decides whether a non-zero exit came from the engine rather
// than the command, and returns the typed error if so. The engine failed only
// when exactly one stream holds output and that output is one line of the
// engine's wording: a command that ran and printed the same words, or more,
// keeps its exit status. The stream varies: Docker's client prints a missing
// container on stderr, but the daemon's "OCI runtime exec failed" arrives on
// the exec's stdout.
func (d *Docker) execFailure(ctx context.Context, c call, result ExecResult) error {
	text := result.Stderr
	switch {
	case result.StdoutTruncated || result.StderrTruncated:
		return nil
	case len(result.Stdout) > 0 && len(result.Stderr) > 0:
		return nil
	case len(result.Stdout) > 0:
		text = result.Stdout
	}
	trimmed := bytes.TrimSpace(text)
	if len(trimmed) == 0 || bytes.IndexByte(trimmed, '\n') >= 0 {
		return nil
	}

	envID := c.envID
	res := dockercli.Result{ExitCode: result.ExitCode, Stderr: text}
	switch parse.ClassifyFailure(result.ExitCode, text) {
	case parse.FailureNotFound:
		return notFound("exec", envID)
	case parse.FailureDaemonUnavailable:
		return d.engineError(c, res, false, "")
	case parse.FailureNotRunning, parse.FailurePaused:
		state := "stopped"
		if env, err := d.inspectEnv(ctx, call{op: "exec", envID: envID}, envID); err == nil {
			state = string(env.State)
		} else if errors.Is(err, ErrEnvNotFound) {
			return err
		}
		if state == string(StateRunning) {
			// The environment runs, so the line came from the command
			// itself, worded like an engine error.
			return nil
		}
		e := d.engineError(c, res, false, fmt.Sprintf("environment %s is %s, so it cannot run commands; provision a new one", envID, state))
		e.Code = CodeEnvNotRunning
		e.Meta["state"] = state
		return e
	case parse.FailureExecNotFound:
		return d.engineError(c, res, false, fmt.Sprintf("the program %q was not found in the environment; check the name and the image's PATH", firstOf(c.cmd.Args, containerName(envID))))
	case parse.FailureExecPermission:
		return d.engineError(c, res, false, "the engine could not start the program: permission denied; check its mode and the user")
	case parse.FailureExecUser:
		return d.engineError(c, res, false, fmt.Sprintf("user %q not found in the environment's /etc/passwd; use a user that exists or a numeric uid", execUser(c.cmd.Args)))
	case parse.FailureExecWorkDir:
		return d.engineError(c, res, false, fmt.Sprintf("working directory %q is missing or not a directory in the environment; create it first or choose another", execWorkDir(c.cmd.Args)))
	case parse.FailureOther:
		if result.ExitCode == 125 || result.ExitCode == 126 || result.ExitCode == 127 {
			// Docker reserves these for its own failures, but only stderr
			// wording distinguishes them from a command's own exit status, and
			// ClassifyFailure found none.
			return nil
		}
	}
	return nil
}

// execUser returns the --user value of exec args.
func execUser(args []string) string { return flagValue(args, "--user") }

// execWorkDir returns the --workdir value of exec args.
func execWorkDir(args []string) string { return flagValue(args, "--workdir") }

// flagValue returns the value after the first occurrence of flag in args.
func flagValue(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// firstOf returns the argument after the container name in exec args.
func firstOf(args []string, container string) string {
	for i, a := range args {
		if a == container && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// killMarked kills every process in the environment that carries marker, as
// root. It runs under the inspect deadline (Timeouts.Inspect) rather than
// ctx, so it also runs after ctx has ended. It returns how many processes it
// killed.
func (d *Docker) killMarked(ctx context.Context, envID, marker string) (int, error) {
	ctx = context.WithoutCancel(ctx)

	c := call{op: "exec", envID: envID, kind: kindInspect}
	c.cmd = dockercli.Command{Args: dockercli.ExecArgs(dockercli.ExecSpec{
		Container: containerName(envID),
		User:      "0",
		Argv:      []string{"sh", "-c", killScript, "kenv-kill", marker},
	})}
	res, err := d.run(ctx, c)
	if err != nil {
		return 0, err
	}
	if res.ExitCode != 0 {
		return 0, fmt.Errorf("kill script exited %d: %s", res.ExitCode, trimStderr(res.Stderr))
	}
	n, _ := strconv.Atoi(string(bytes.TrimSpace(res.Stdout)))
	return n, nil
}
