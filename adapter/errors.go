package adapter

import (
	"fmt"
	"sort"
	"strings"
)

// Code is a stable error code. Consumers match on these strings, so they
// never change once released.
type Code string

// The error codes.
const (
	// CodeDockerUnavailable: the engine binary is missing or its daemon does
	// not respond.
	CodeDockerUnavailable Code = "DOCKER_UNAVAILABLE"
	// CodeEngineTimeout: the engine accepted the call but did not finish it
	// within the deadline.
	CodeEngineTimeout Code = "ENGINE_TIMEOUT"
	// CodeEnvNotFound: no environment with that id exists.
	CodeEnvNotFound Code = "ENV_NOT_FOUND"
	// CodeEnvNotRunning: the environment exists but is stopped, paused or
	// dead, so it cannot run commands.
	CodeEnvNotRunning Code = "ENV_NOT_RUNNING"
	// CodeUnsupportedNetworkPolicy: AllowedHosts or AllowedPorts were set.
	CodeUnsupportedNetworkPolicy Code = "UNSUPPORTED_M1_NETWORK_POLICY"
	// CodeInvalidConfig: a config or request value failed validation before
	// anything reached the engine.
	CodeInvalidConfig Code = "INVALID_CONFIG"
	// CodeProvisionFailed: the engine failed to create the environment.
	CodeProvisionFailed Code = "PROVISION_FAILED"
	// CodeExecFailed: the engine failed to run the command. A command that
	// ran and exited non-zero is not an error.
	CodeExecFailed Code = "EXEC_FAILED"
	// CodeExecTimeout: the command outlived ExecRequest.Timeout and was
	// killed.
	CodeExecTimeout Code = "EXEC_TIMEOUT"
	// CodeLogsFailed: the engine failed to read the environment's logs.
	CodeLogsFailed Code = "LOGS_FAILED"
	// CodeSnapshotFailed: the engine failed to commit the environment.
	CodeSnapshotFailed Code = "SNAPSHOT_FAILED"
	// CodeDestroyFailed: the engine failed to remove the environment.
	CodeDestroyFailed Code = "DESTROY_FAILED"
	// CodeEngineFailed: any other engine failure, such as listing.
	CodeEngineFailed Code = "ENGINE_FAILED"
)

// Error is the error type of every adapter operation. Check it with
// errors.Is against the Err* sentinels, or errors.As to read its fields.
type Error struct {
	Code  Code
	Op    string // the operation: "provision", "exec", "logs", "snapshot", "destroy", "list", "version"
	EnvID string // empty when the error is not about one environment

	// Message states what failed and what to do next, in lowercase.
	Message string

	// Meta carries details: "exit_code" and "stderr" (trimmed) of the
	// engine command, and others such as "image", "state" or "field".
	Meta map[string]string

	// Err is the cause, when there is one.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.EnvID != "" {
		b.WriteString(" ")
		b.WriteString(e.EnvID)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	if s := e.Meta["stderr"]; s != "" {
		b.WriteString(": engine said: ")
		b.WriteString(s)
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	b.WriteString(" [")
	b.WriteString(string(e.Code))
	b.WriteString("]")
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code and no other
// fields set, which is how the Err* sentinels match.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && t.Op == "" && t.EnvID == "" && t.Message == "" && t.Err == nil
}

// MetaKeys returns e.Meta's keys in sorted order.
func (e *Error) MetaKeys() []string {
	keys := make([]string, 0, len(e.Meta))
	for k := range e.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Sentinels for errors.Is, one per code.
var (
	ErrDockerUnavailable        = &Error{Code: CodeDockerUnavailable}
	ErrEngineTimeout            = &Error{Code: CodeEngineTimeout}
	ErrEnvNotFound              = &Error{Code: CodeEnvNotFound}
	ErrEnvNotRunning            = &Error{Code: CodeEnvNotRunning}
	ErrUnsupportedNetworkPolicy = &Error{Code: CodeUnsupportedNetworkPolicy}
	ErrInvalidConfig            = &Error{Code: CodeInvalidConfig}
	ErrProvisionFailed          = &Error{Code: CodeProvisionFailed}
	ErrExecFailed               = &Error{Code: CodeExecFailed}
	ErrExecTimeout              = &Error{Code: CodeExecTimeout}
	ErrLogsFailed               = &Error{Code: CodeLogsFailed}
	ErrSnapshotFailed           = &Error{Code: CodeSnapshotFailed}
	ErrDestroyFailed            = &Error{Code: CodeDestroyFailed}
	ErrEngineFailed             = &Error{Code: CodeEngineFailed}
)

// invalid builds an INVALID_CONFIG error about one field.
func invalid(op, field, format string, args ...any) *Error {
	return &Error{
		Code:    CodeInvalidConfig,
		Op:      op,
		Message: fmt.Sprintf(format, args...),
		Meta:    map[string]string{"field": field},
	}
}

// maxStderr bounds the engine stderr kept in an error, in bytes.
const maxStderr = 2048

// trimStderr shortens engine stderr for an error: surrounding space goes,
// so do the client's hints that name its own commands ("See 'docker run
// --help'."), which mislead a kenv user, and only the last maxStderr bytes
// stay, because the engine prints its reason last.
func trimStderr(b []byte) string {
	var kept []string
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "See '") && strings.HasSuffix(trimmed, "--help'.") {
			continue
		}
		if strings.HasPrefix(trimmed, "Run '") && strings.HasSuffix(trimmed, "--help' for more information") {
			continue
		}
		kept = append(kept, line)
	}
	s := strings.TrimSpace(strings.Join(kept, "\n"))
	if len(s) > maxStderr {
		s = "..." + s[len(s)-maxStderr:]
	}
	return s
}
