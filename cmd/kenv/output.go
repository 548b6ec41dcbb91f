package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kenv/kenv/adapter"
)

// writeJSON prints v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// newTable returns a tabwriter for aligned columns separated by two spaces.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// formatAge renders how long ago t was, in the largest whole unit: "45s",
// "12m", "5h", "3d". A time in the future, from clock skew, shows as "0s".
func formatAge(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// formatUserLabels renders the labels that do not start with "kenv." as
// sorted KEY=VALUE pairs joined by commas, or "-" when there are none.
func formatUserLabels(labels map[string]string) string {
	var pairs []string
	for k, v := range labels {
		if !strings.HasPrefix(k, "kenv.") {
			pairs = append(pairs, k+"="+v)
		}
	}
	if len(pairs) == 0 {
		return "-"
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

// formatLogEntry renders one log entry as "TIMESTAMP SOURCE MESSAGE", with
// the time in RFC 3339 in UTC. An entry without a time, which only the
// engine's own untimed messages give, shows "-" in its place.
func formatLogEntry(e adapter.LogEntry) string {
	ts := "-"
	if !e.Time.IsZero() {
		ts = e.Time.UTC().Format(time.RFC3339Nano)
	}
	return ts + " " + string(e.Source) + " " + e.Message
}
