package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kenv/kenv/adapter"
)

// kenv's own exit statuses. They sit above the range that commands commonly
// use and below 126 to 128, which shells reserve, so that a script can tell
// most of kenv's failures from a command's own status. EXITCODES.md and
// rootDescription document the same table.
const (
	exitInvalid     = 121 // INVALID_CONFIG, UNSUPPORTED_M1_NETWORK_POLICY, usage errors
	exitNotFound    = 122 // ENV_NOT_FOUND, ENV_NOT_RUNNING
	exitEngine      = 123 // DOCKER_UNAVAILABLE, ENGINE_TIMEOUT
	exitTimeout     = 124 // EXEC_TIMEOUT, as timeout(1) exits
	exitFailed      = 125 // any other failure
	exitInterrupted = 130 // SIGINT or SIGTERM, as a shell reports SIGINT
)

// codeInterrupted is the error code kenv prints when a signal stopped it.
// The adapter has no such code: it reports the canceled context with the
// operation's failure code, which kenv replaces.
const codeInterrupted adapter.Code = "INTERRUPTED"

// codeInternal is the error code of a failure that is not an adapter error,
// such as a failed write to stdout.
const codeInternal adapter.Code = "KENV_FAILED"

// exitStatus is returned by a command that finished and wants kenv to exit
// with its status and print nothing more: exec and sh pass the command's
// exit status this way.
type exitStatus struct {
	code int
}

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCodeOf maps an error code to kenv's exit status.
func exitCodeOf(code adapter.Code) int {
	switch code {
	case adapter.CodeInvalidConfig, adapter.CodeUnsupportedNetworkPolicy:
		return exitInvalid
	case adapter.CodeEnvNotFound, adapter.CodeEnvNotRunning:
		return exitNotFound
	case adapter.CodeDockerUnavailable, adapter.CodeEngineTimeout:
		return exitEngine
	case adapter.CodeExecTimeout:
		return exitTimeout
	case codeInterrupted:
		return exitInterrupted
	}
	return exitFailed
}

// reportError prints the error of a failed run on stderr and returns the
// exit status.
func (s *session) reportError(ctx context.Context, err error, args []string) int {
	var status exitStatus
	if errors.As(err, &status) {
		return status.code
	}

	e := asKenvError(err)
	if ctx.Err() != nil && e.Code != adapter.CodeInvalidConfig {
		e = interruptedError(ctx, e)
	}

	asJSON := s.json
	if !s.optionsParsed {
		asJSON = jsonRequested(args)
	}
	if asJSON {
		writeErrorJSON(s.cfg.Stderr, e)
	} else {
		fmt.Fprintln(s.cfg.Stderr, errorLine(e))
	}
	return exitCodeOf(e.Code)
}

// asKenvError returns err as an *adapter.Error. When gc or destroy joined
// one error per environment, the first one decides the code and the message
// states how many failed.
func asKenvError(err error) *adapter.Error {
	var e *adapter.Error
	if errors.As(err, &e) {
		if joined, ok := err.(interface{ Unwrap() []error }); ok && len(joined.Unwrap()) > 1 {
			c := *e
			c.Message = fmt.Sprintf("%d operations failed; the first: %s", len(joined.Unwrap()), e.Message)
			return &c
		}
		return e
	}
	return &adapter.Error{Code: codeInternal, Message: err.Error()}
}

// interruptedError replaces the error of an operation that a signal stopped.
func interruptedError(ctx context.Context, e *adapter.Error) *adapter.Error {
	cause := "canceled"
	if c := context.Cause(ctx); c != nil {
		cause = c.Error()
	}
	var msg string
	switch e.Op {
	case "exec":
		msg = fmt.Sprintf("interrupted (%s); kenv stopped the command and killed its processes inside the environment, unless a warning above says that failed", cause)
	case "provision":
		msg = fmt.Sprintf("interrupted (%s); kenv stopped the provision and removed what it had created, unless a warning above says that failed", cause)
	default:
		msg = fmt.Sprintf("interrupted (%s); kenv stopped the engine client", cause)
	}
	return &adapter.Error{
		Code:    codeInterrupted,
		Op:      e.Op,
		EnvID:   e.EnvID,
		Message: msg,
		Meta:    map[string]string{"cause": cause},
	}
}

// errorLine formats e as kenv's one-line error message:
// "kenv: OP ENV: MESSAGE [CODE]".
func errorLine(e *adapter.Error) string {
	if e.Op == "" {
		// adapter.Error.Error starts with the op followed by ": ".
		return "kenv: " + strings.TrimPrefix(e.Error(), ": ")
	}
	return "kenv: " + e.Error()
}

// errorJSON is the "error" object that --json prints on stderr. Every field
// is always present.
type errorJSON struct {
	Code    adapter.Code      `json:"code"`
	Op      string            `json:"op"`
	EnvID   string            `json:"env_id"`
	Message string            `json:"message"`
	Meta    map[string]string `json:"meta"`
}

// newErrorJSON converts e. The cause, when e has one and Meta does not carry
// the engine's stderr, goes to meta.cause.
func newErrorJSON(e *adapter.Error) errorJSON {
	meta := map[string]string{}
	for k, v := range e.Meta {
		meta[k] = v
	}
	if e.Err != nil && meta["stderr"] == "" && meta["cause"] == "" {
		meta["cause"] = e.Err.Error()
	}
	return errorJSON{Code: e.Code, Op: e.Op, EnvID: e.EnvID, Message: e.Message, Meta: meta}
}

// writeErrorJSON prints {"error":{...}} on one line.
func writeErrorJSON(w io.Writer, e *adapter.Error) {
	writeJSON(w, struct {
		Error errorJSON `json:"error"`
	}{newErrorJSON(e)})
}

// jsonRequested reports whether --json appears among the arguments, for
// errors raised before urfave/cli parsed the command's options. It stops at "--", after which
// arguments belong to the command that exec runs.
func jsonRequested(args []string) bool {
	end := slices.Index(args, "--")
	if end < 0 {
		end = len(args)
	}
	return slices.Contains(args[:end], "--json") || slices.Contains(args[:end], "-json")
}
