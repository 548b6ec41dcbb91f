package parse

import "strings"

// Canonical container states. CanonicalState maps the state words of Docker
// and Podman to these.
const (
	StateCreated = "created"
	StateRunning = "running"
	StatePaused  = "paused"
	StateExited  = "exited"
	StateDead    = "dead"
	StateUnknown = "unknown"
)

// CanonicalState maps an engine's state word, in any case and with
// surrounding spaces ignored, to one of the six canonical states:
//
//	Docker      Podman                          canonical
//	created     configured, created, initialized created
//	running     running                         running
//	restarting  stopping                        running
//	paused      paused                          paused
//	exited      exited, stopped                 exited
//	dead        -                               dead
//	removing    removing                        dead
//	-           unknown, anything else          unknown
//
// Docker's restarting is running because Docker itself reports State.Running
// true while it waits to restart the process. Podman's stopping is running
// because the process is still alive, as it is in Docker during a stop.
// Removing is dead because the container can no longer be started or entered
// and is about to disappear.
func CanonicalState(raw string) string {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "created", "configured", "initialized":
		return StateCreated
	case "running", "restarting", "stopping":
		return StateRunning
	case "paused":
		return StatePaused
	case "exited", "stopped":
		return StateExited
	case "dead", "removing":
		return StateDead
	default:
		return StateUnknown
	}
}
