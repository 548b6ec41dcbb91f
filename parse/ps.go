package parse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// PSEntry is one container of a ps listing.
type PSEntry struct {
	ID        string
	Name      string   // the first of Names without a "/"
	Names     []string // never nil, and from Docker it includes legacy link aliases such as "linker/alias"
	Image     string
	State     string // canonical, see CanonicalState
	RawState  string // as the engine printed it
	CreatedAt time.Time
}

type rawPSEntry struct {
	ID        string          // Docker "ID", Podman "Id"
	Names     json.RawMessage // a comma-separated string from Docker, a list from Podman
	Image     string
	State     string
	Status    string          // such as "Up 2 seconds" from Docker, read when State is missing
	CreatedAt string          // "2026-12-04 19:59:02 +0000 UTC" from Docker, "2 seconds ago" from Podman
	Created   json.RawMessage // a Unix time in seconds, from Podman only
}

// dockerPSTimeLayout is the layout of Docker's CreatedAt, such as "2026-12-04
// 19:59:02 +0000 UTC". When parsing, Go also accepts a fraction after the seconds.
const dockerPSTimeLayout = "2006-01-02 15:04:05 -0700 MST"

// PS parses `docker ps --format '{{json .}}'`, one JSON object per line:
//
//	{"Command":"\"sleep 600\"","CreatedAt":"2026-12-04 19:59:00 +0000 UTC","ID":"4bbb5c9c6311...",
//	"Image":"kenv-test/busybox:latest","Labels":"kenv.role=sample","Names":"parsetest-linker/db,parsetest-running",
//	"State":"running","Status":"Up 2 seconds",...}
//
// and `podman ps --format json`, one JSON array:
//
//	[{"Id":"ac35194abb76...","Image":"localhost/kenv-test/busybox:latest","Names":["parsetest-running"],
//	"State":"running","Created":1796414347,"CreatedAt":"2 seconds ago",...}]
//
// Both give the same list, and empty output gives an empty list. Labels are
// deliberately not parsed: Docker joins them with commas, and label values can
// contain commas too ("kenv.env=A=1,B=2"), so callers read labels from inspect.
func PS(data []byte) ([]PSEntry, error) {
	entries := []PSEntry{}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return entries, nil
	}

	var raws []rawPSEntry
	if trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, newOutputError("ps", data, err)
		}
	} else {
		decoder := json.NewDecoder(bytes.NewReader(trimmed))
		for {
			var raw rawPSEntry
			err := decoder.Decode(&raw)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, newOutputError("ps", data, err)
			}
			raws = append(raws, raw)
		}
	}

	for i, raw := range raws {
		entry, err := newPSEntry(raw)
		if err != nil {
			return nil, newOutputError("ps", data, fmt.Errorf("entry %d: %w", i, err))
		}
		entries = append(entries, entry)
	}
	return entries, nil
}

func newPSEntry(raw rawPSEntry) (PSEntry, error) {
	if raw.ID == "" {
		return PSEntry{}, errors.New("missing ID")
	}
	entry := PSEntry{
		ID:       raw.ID,
		Image:    raw.Image,
		RawState: raw.State,
		State:    CanonicalState(raw.State),
	}
	if raw.State == "" {
		entry.State = stateFromStatus(raw.Status)
	}

	names, err := psNames(raw.Names)
	if err != nil {
		return PSEntry{}, err
	}
	entry.Names = names
	for _, name := range names {
		if !strings.Contains(name, "/") {
			entry.Name = name
			break
		}
	}

	entry.CreatedAt, err = psCreated(raw.Created, raw.CreatedAt)
	if err != nil {
		return PSEntry{}, err
	}
	return entry, nil
}

// psNames reads Docker's comma-separated string or Podman's list.
func psNames(raw json.RawMessage) ([]string, error) {
	names := []string{}
	if len(raw) == 0 || string(raw) == "null" {
		return names, nil
	}
	if raw[0] == '[' {
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("invalid Names %s: %w", head(raw, maxQuotedOutput), err)
		}
		for _, name := range list {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
		return names, nil
	}
	var joined string
	if err := json.Unmarshal(raw, &joined); err != nil {
		return nil, fmt.Errorf("invalid Names %s: %w", head(raw, maxQuotedOutput), err)
	}
	for _, name := range strings.Split(joined, ",") {
		if name = strings.TrimSpace(name); name != "" {
			names = append(names, name)
		}
	}
	return names, nil
}

// psCreated reads Podman's Unix time in Created, else Docker's CreatedAt.
func psCreated(created json.RawMessage, createdAt string) (time.Time, error) {
	if len(created) > 0 && string(created) != "null" {
		var seconds int64
		if err := json.Unmarshal(created, &seconds); err == nil {
			return time.Unix(seconds, 0).UTC(), nil
		}
		// Podman 4.3 prints a Unix time, but an RFC 3339 string is accepted too.
		var text string
		if err := json.Unmarshal(created, &text); err == nil {
			return fieldTime("Created", text)
		}
		return time.Time{}, fmt.Errorf("invalid Created %s: not a Unix time or RFC 3339 string", head(created, maxQuotedOutput))
	}
	if createdAt == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(dockerPSTimeLayout, createdAt)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid CreatedAt %q: %w", createdAt, err)
	}
	return t.UTC(), nil
}

// stateFromStatus reads the canonical state from Docker's Status column, for ps
// output without a State field.
func stateFromStatus(status string) string {
	lower := strings.ToLower(strings.TrimSpace(status))
	switch {
	case strings.HasPrefix(lower, "up") && strings.Contains(lower, "(paused)"):
		return StatePaused
	case strings.HasPrefix(lower, "up"), strings.HasPrefix(lower, "restarting"):
		return StateRunning
	case strings.HasPrefix(lower, "exited"):
		return StateExited
	case strings.HasPrefix(lower, "created"):
		return StateCreated
	case strings.HasPrefix(lower, "dead"), strings.HasPrefix(lower, "removal in progress"):
		return StateDead
	default:
		return StateUnknown
	}
}

// Lines splits the output of a -q or --quiet listing, one ID or name per
// line, into its non-empty lines with surrounding white space removed:
//
//	4bbb5c9c6311
//	ac35194abb76
func Lines(data []byte) []string {
	lines := []string{}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}
