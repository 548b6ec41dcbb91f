package parse

import (
	"bytes"
	"fmt"
	"strings"
)

// Failure classifies a failed engine command.
type Failure int

// Failure classes. The wordings quoted are those of Docker 20.10 (20.10 and
// 28.2 clients) and Podman 4.3 unless marked otherwise.
const (
	// FailureOther is any failure not listed below, including a failure of
	// the user's own command inside the container.
	FailureOther Failure = iota

	// FailureNotFound: the container, volume or network does not exist.
	// "No such container", "No such object", Podman "no container with name
	// or ID ... found: no such container".
	FailureNotFound

	// FailureDaemonUnavailable: the client cannot reach the engine.
	// "Cannot connect to the Docker daemon at ... Is the docker daemon
	// running?", Podman "Cannot connect to Podman" and "... connect: no such
	// file or directory" or "connect: connection refused" on the socket.
	FailureDaemonUnavailable

	// FailureNotRunning: exec into a container that is not running. Docker
	// "Container ... is not running", Podman "can only create exec sessions on
	// running containers: container state improper". Podman 4.3 prints the
	// same for a paused container, so a Podman exec into a paused container
	// is FailureNotRunning, not FailurePaused.
	FailureNotRunning

	// FailurePaused: exec into a paused container. Docker "Container ... is
	// paused, unpause the container before exec".
	FailurePaused

	// FailureExecNotFound: the engine could not start the process because
	// the executable does not exist. "executable file not found in $PATH",
	// an OCI runtime "no such file or directory", Podman "OCI runtime
	// attempted to invoke a command that was not found".
	FailureExecNotFound

	// FailureExecPermission: the OCI runtime got "permission denied" when
	// starting the process, as for a file without the execute bit.
	FailureExecPermission

	// FailureImageNotFound: the image is not present and cannot be pulled.
	// "No such image", "Unable to find image", "pull access denied",
	// "manifest unknown", Podman "image not known". Both engines print the
	// same wording when `image inspect` or `rmi` names a missing image, so
	// those failures are FailureImageNotFound too.
	FailureImageNotFound

	// FailureNameConflict: the container name is taken. Docker "Conflict. The
	// container name ... is already in use", Podman "the container name ...
	// is already in use".
	FailureNameConflict

	// FailureExecUser: the exec's user does not exist in the container.
	// Both engines print "unable to find user NAME: no matching entries in
	// passwd file" (Docker on the exec's stdout, exit status 126; Podman after
	// "Error:", exit status 255).
	FailureExecUser

	// FailureExecWorkDir: the exec's working directory is missing or not a
	// directory: `chdir to cwd ("/nope") set in config.json failed`. Podman
	// adds "OCI runtime attempted to invoke a command that was not found" to
	// it, so this class is tried before FailureExecNotFound.
	FailureExecWorkDir

	// FailureRemovalInProgress: another removal of the same container is
	// under way. Docker "removal of container ... is already in progress".
	FailureRemovalInProgress
)

var failureNames = [...]string{
	FailureOther:             "other",
	FailureNotFound:          "not-found",
	FailureDaemonUnavailable: "daemon-unavailable",
	FailureNotRunning:        "not-running",
	FailurePaused:            "paused",
	FailureExecNotFound:      "exec-not-found",
	FailureExecPermission:    "exec-permission",
	FailureImageNotFound:     "image-not-found",
	FailureNameConflict:      "name-conflict",
	FailureExecUser:          "exec-user",
	FailureExecWorkDir:       "exec-workdir",
	FailureRemovalInProgress: "removal-in-progress",
}

func (f Failure) String() string {
	if f >= 0 && int(f) < len(failureNames) {
		return failureNames[f]
	}
	return fmt.Sprintf("Failure(%d)", int(f))
}

// failureRule assigns a class to an engine line that contains every fragment
// of one of its alternatives.
type failureRule struct {
	failure      Failure
	alternatives [][]string // lowercase fragments
}

// failureRules are tried in order, so a more specific wording comes before a
// more general one that it also contains.
var failureRules = []failureRule{
	{FailureDaemonUnavailable, [][]string{
		{"cannot connect to the docker daemon"},
		{"is the docker daemon running"},
		{"error during connect"},
		{"permission denied while trying to connect to the docker daemon"},
		{"cannot connect to podman"},
		{"unable to connect to podman"},
		{"connect: no such file or directory"},
		{"connect: connection refused"},
	}},
	{FailureNameConflict, [][]string{
		{"container name", "already in use"},
	}},
	{FailureRemovalInProgress, [][]string{
		{"removal of container", "already in progress"},
	}},
	{FailureImageNotFound, [][]string{
		{"no such image"},
		{"unable to find image"},
		{"image not known"},
		{"pull access denied"},
		{"manifest unknown"},
	}},
	{FailureNotFound, [][]string{
		{"no such container"},
		{"no such object"},
		{"no container with name or id"},
		{"no container with id or name"},
		{"no such volume"},
		{"no volume with name"},
		{"no such network"},
		{"network not found"},
		{"container has already been removed"},
	}},
	{FailurePaused, [][]string{
		{"is paused", "unpause"},
	}},
	{FailureNotRunning, [][]string{
		{"is not running"},
		{"is restarting, wait until the container is running"},
		{"can only create exec sessions on running containers"},
		{"can only exec into running containers"},
		{"container state improper"},
	}},
	{FailureExecUser, [][]string{
		{"unable to find user", "no matching entries"},
	}},
	{FailureExecWorkDir, [][]string{
		{"chdir to cwd"},
	}},
	{FailureExecNotFound, [][]string{
		{"executable file", "not found"},
		{"oci runtime attempted to invoke a command that was not found"},
		{"no such file or directory", "oci runtime"},
		{"no such file or directory", "exec failed"},
		{"no such file or directory", "unable to start container process"},
	}},
	{FailureExecPermission, [][]string{
		{"oci permission denied"},
		{"permission denied", "oci runtime"},
		{"permission denied", "exec failed"},
		{"permission denied", "unable to start container process"},
	}},
}

// engineLinePrefixes start the lines that the engines print for their own
// failures, after lowercasing and trimming. A line without one of them is
// taken for output of the user's command and never classified.
var engineLinePrefixes = []string{
	"error response from daemon:",
	"error during connect:",
	"error:", // the Docker client's own errors, and every Podman error
	"docker:",
	"oci runtime ",
	"cannot connect to the docker daemon",
	"got permission denied while trying to connect to the docker daemon",
	"cannot connect to podman",
	"unable to find image",
	"unable to find user ",
}

// ClassifyFailure classifies a failed engine command from its exit code and
// stderr. Docker 20.10 prints, for example:
//
//	Error response from daemon: Container parsetest-paused is paused, unpause the container before exec
//
// and Podman 4.3:
//
//	Error: no container with name or ID "parsetest-missing" found: no such container
//
// Only lines in the engine's own wording are read: lines that start with
// "Error response from daemon:", "Error:", "docker:", "OCI runtime", "Cannot
// connect to" and the like. Matching is case-insensitive, on fragments that the
// engines have kept stable. Exit status 0 gives FailureOther.
//
// Exit statuses 125, 126 and 127 come from the engine when it fails to run a
// command, but also from the user's command: busybox sh prints "sh: foo: not
// found" and exits 127 for a missing command in a script. Such stderr has no
// engine line and gives FailureOther.
//
// `docker exec` prints the OCI runtime error on stdout, not stderr (Docker
// 20.10 and 28.2 clients, exit status 126):
//
//	OCI runtime exec failed: exec failed: unable to start container process: exec: "no-such-command": executable file not found in $PATH: unknown
//
// so for exec with an empty stderr, pass stdout to tell FailureExecNotFound
// and FailureExecPermission from FailureOther.
func ClassifyFailure(exitCode int, stderr []byte) Failure {
	if exitCode == 0 {
		return FailureOther
	}
	var engineLines []string
	for _, line := range strings.Split(string(bytes.ToLower(stderr)), "\n") {
		line = strings.TrimSpace(line)
		if isEngineLine(line) {
			engineLines = append(engineLines, line)
		}
	}
	for _, rule := range failureRules {
		for _, line := range engineLines {
			if rule.matches(line) {
				return rule.failure
			}
		}
	}
	return FailureOther
}

func isEngineLine(line string) bool {
	for _, prefix := range engineLinePrefixes {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

func (r failureRule) matches(line string) bool {
	for _, fragments := range r.alternatives {
		if containsAll(line, fragments) {
			return true
		}
	}
	return false
}

func containsAll(line string, fragments []string) bool {
	for _, fragment := range fragments {
		if !strings.Contains(line, fragment) {
			return false
		}
	}
	return true
}
