package main

import (
	"fmt"
	"regexp"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kenv/kenv/adapter"
)

func (s *session) logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "print the output of an environment's main process",
		UsageText: "kenv logs [options] ENV",
		Description: `Prints one line per log entry, "TIMESTAMP SOURCE MESSAGE", with the time in
RFC 3339 in UTC and SOURCE stdout or stderr, in timestamp order. With
--json, each entry is one JSON object per line with time, source and
message. Output of exec commands is not part of the logs.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{
				Name:               "follow",
				Aliases:            []string{"f"},
				Usage:              "keep printing new entries until the main process exits or kenv is interrupted",
				DisableDefaultText: true,
			},
			&cli.StringFlag{
				Name:        "since",
				Usage:       "show entries newer than `DURATION|TIME`: a duration ago, such as 10m or 1h30m, or a time, such as 2024-05-01T12:00:00Z or Unix seconds",
				DefaultText: "from the start",
			},
			&cli.StringFlag{
				Name:        "until",
				Usage:       "show entries older than `DURATION|TIME`, in the forms of --since",
				DefaultText: "to the end",
			},
			&cli.IntFlag{
				Name:        "tail",
				Usage:       "show only the last `N` entries; 0 shows none of the old ones, so with --follow only new entries",
				DefaultText: "all",
			},
			jsonFlag(),
		},
		Action: s.logs,
	}
}

func (s *session) logs(c *cli.Context) error {
	const op = "logs"
	if c.NArg() != 1 {
		return usagef(op, "logs takes exactly one environment id, got %d arguments; usage: kenv logs [options] ENV", c.NArg())
	}
	envID := c.Args().First()

	opts := adapter.LogOptions{Follow: c.Bool("follow"), Since: c.String("since"), Until: c.String("until")}
	for _, f := range []struct{ name, value string }{{"since", opts.Since}, {"until", opts.Until}} {
		if f.value != "" && !validLogTime(f.value) {
			return flagError(op, f.name, "invalid --%s %q; use a duration such as 10m or 1h30m, an RFC 3339 time such as 2024-05-01T12:00:00Z, or Unix seconds", f.name, f.value)
		}
	}
	if c.IsSet("tail") {
		opts.Tail = c.Int("tail")
		if opts.Tail < 0 {
			return flagError(op, "tail", "invalid --tail %d; use a count of at least 0, or leave --tail out to show all entries", opts.Tail)
		}
		opts.NewOnly = opts.Tail == 0
	}

	for entry, err := range s.adapter.StreamLogs(c.Context, envID, opts) {
		if err != nil {
			return err
		}
		var werr error
		if s.json {
			werr = writeJSON(s.cfg.Stdout, entry)
		} else {
			_, werr = fmt.Fprintln(s.cfg.Stdout, formatLogEntry(entry))
		}
		if werr != nil {
			return werr
		}
	}

	// StreamLogs ends without an error when its context ends. Ctrl-C is the
	// normal way to stop --follow, so kenv exits 130 without a message.
	if c.Context.Err() != nil {
		return exitStatus{code: exitInterrupted}
	}
	return nil
}

// unixTimePattern matches Unix seconds with optional fractions, a form that
// docker's --since and --until accept.
var unixTimePattern = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,9})?$`)

// logTimeLayouts are the time forms that kenv passes to the engine's
// --since and --until besides durations and Unix seconds. The docker 20.10
// and 28 clients accept each of them.
var logTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02T15",
	"2006-01-02",
}

// validLogTime reports whether s is a --since or --until value that the
// engine accepts: a positive Go duration, Unix seconds or a time.
func validLogTime(s string) bool {
	if d, err := time.ParseDuration(s); err == nil {
		return d > 0
	}
	if unixTimePattern.MatchString(s) {
		return true
	}
	for _, layout := range logTimeLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
