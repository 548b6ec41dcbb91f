package adapter

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Owner labels record the process that an environment belongs to, so that
// GC with Orphans can remove environments whose owner has exited.
const (
	LabelOwnerHost  = "kenv.owner.host"  // os.Hostname of the owner's machine
	LabelOwnerPID   = "kenv.owner.pid"   // the owner's process id
	LabelOwnerStart = "kenv.owner.start" // the owner's start time in clock ticks after boot, from /proc/PID/stat
)

// Owner identifies a process on a host. The start time distinguishes a live
// owner from a later process that reuses its pid.
type Owner struct {
	Host  string `json:"host"`
	PID   int    `json:"pid"`
	Start string `json:"start"`
}

// ProcessOwner returns the Owner for process pid on this host, reading its
// start time from /proc. It fails when the process does not exist or /proc is
// not available (kenv records owners on Linux only).
func ProcessOwner(pid int) (Owner, error) {
	if pid <= 0 {
		return Owner{}, fmt.Errorf("invalid owner process id %d; use a positive pid such as $$", pid)
	}
	host, err := os.Hostname()
	if err != nil {
		return Owner{}, fmt.Errorf("reading the host name for the owner label: %w", err)
	}
	start, err := processStart(pid)
	if err != nil {
		return Owner{}, err
	}
	return Owner{Host: host, PID: pid, Start: start}, nil
}

// errNoProcess reports that a process does not exist.
var errNoProcess = errors.New("no such process")

// processStart reads field 22 (starttime) of /proc/PID/stat. The command
// name in field 2 may hold spaces and parentheses, so fields are counted
// after its last ')'.
func processStart(pid int) (string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("process %d: %w", pid, errNoProcess)
	}
	if err != nil {
		return "", fmt.Errorf("reading the start time of process %d: %w", pid, err)
	}
	end := strings.LastIndexByte(string(data), ')')
	if end < 0 {
		return "", fmt.Errorf("unexpected /proc/%d/stat format", pid)
	}
	fields := strings.Fields(string(data[end+1:]))
	// After the command name, field 3 (state) is fields[0], so field 22 is
	// fields[19].
	if len(fields) < 20 {
		return "", fmt.Errorf("unexpected /proc/%d/stat format: %d fields", pid, len(fields))
	}
	return fields[19], nil
}

// labels returns the owner labels.
func (o Owner) labels() map[string]string {
	return map[string]string{
		LabelOwnerHost:  o.Host,
		LabelOwnerPID:   strconv.Itoa(o.PID),
		LabelOwnerStart: o.Start,
	}
}

// ownerFromLabels reads the owner labels; ok is false when they are absent
// or malformed.
func ownerFromLabels(labels map[string]string) (Owner, bool) {
	pid, err := strconv.Atoi(labels[LabelOwnerPID])
	if err != nil || pid <= 0 || labels[LabelOwnerHost] == "" || labels[LabelOwnerStart] == "" {
		return Owner{}, false
	}
	return Owner{Host: labels[LabelOwnerHost], PID: pid, Start: labels[LabelOwnerStart]}, true
}

// ownerGone reports whether o is known to have exited: it ran on this host
// and its pid now names no process, or a process with another start time.
// An owner on another host is never known to be gone.
func ownerGone(o Owner) bool {
	host, err := os.Hostname()
	if err != nil || host != o.Host {
		return false
	}
	start, err := processStart(o.PID)
	if errors.Is(err, errNoProcess) {
		return true
	}
	return err == nil && start != o.Start
}
