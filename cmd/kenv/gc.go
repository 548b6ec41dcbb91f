package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kenv/kenv/adapter"
)

func (s *session) gcCommand() *cli.Command {
	return &cli.Command{
		Name:      "gc",
		Usage:     "destroy old environments and volumes left behind",
		UsageText: "kenv gc [options]",
		Description: `Destroys every environment with kenv's labels that was created more than
--older-than ago, whichever process created it, and the kenv volumes whose
environment's container is gone. Without --older-than it destroys every
environment, but leaves volumes without a container alone for 10 minutes,
because a running provision may own them. --orphans narrows the selection
to environments whose --owner process has exited. Prints one line per
environment.
Use --dry-run first: gc on a shared engine also removes environments that
other programs are still using.`,
		Flags: []cli.Flag{
			&cli.DurationFlag{
				Name:        "older-than",
				Usage:       "destroy only environments created more than `DURATION` ago, such as 30m or 24h",
				DefaultText: "any age",
			},
			&cli.BoolFlag{
				Name:               "orphans",
				Usage:              "destroy only environments whose owner process, set with provision --owner, has exited on this host",
				DisableDefaultText: true,
			},
			&cli.BoolFlag{
				Name:               "dry-run",
				Usage:              "print what would be destroyed and destroy nothing",
				DisableDefaultText: true,
			},
			jsonFlag(),
		},
		Action: s.gc,
	}
}

// gcJSON is the output of gc --json.
type gcJSON struct {
	Items []adapter.GCItem `json:"items"`
}

func (s *session) gc(c *cli.Context) error {
	const op = "gc"
	if c.Args().Present() {
		return usagef(op, "unexpected argument %q; gc takes only options, and destroy removes given environments", c.Args().First())
	}
	opts := adapter.GCOptions{OlderThan: c.Duration("older-than"), DryRun: c.Bool("dry-run"), Orphans: c.Bool("orphans")}
	if opts.OlderThan < 0 {
		return flagError(op, "older-than", "invalid --older-than %s; use a positive duration such as 30m", opts.OlderThan)
	}

	items, gcErr := s.adapter.GC(c.Context, opts)
	if items == nil {
		items = []adapter.GCItem{}
	}
	var err error
	if s.json {
		err = writeJSON(s.cfg.Stdout, gcJSON{Items: items})
	} else {
		err = s.writeGCItems(items, opts.DryRun)
	}
	if gcErr != nil {
		return gcErr
	}
	return err
}

// writeGCItems prints one line per item and a summary line.
func (s *session) writeGCItems(items []adapter.GCItem, dryRun bool) error {
	w := s.cfg.Stdout
	removed, failed := 0, 0
	for _, item := range items {
		what := describeGCItem(item)
		switch {
		case dryRun:
			fmt.Fprintf(w, "would destroy %s\n", what)
		case item.Removed:
			removed++
			fmt.Fprintf(w, "destroyed %s\n", what)
		default:
			failed++
			fmt.Fprintf(w, "failed to destroy %s: %s\n", what, item.Error)
		}
	}

	var err error
	switch {
	case len(items) == 0:
		_, err = fmt.Fprintln(w, "gc: nothing to destroy")
	case dryRun:
		_, err = fmt.Fprintf(w, "gc: dry run, %s would be destroyed\n", countNoun(len(items), "environment"))
	default:
		_, err = fmt.Fprintf(w, "gc: destroyed %s, %d failed\n", countNoun(removed, "environment"), failed)
	}
	return err
}

// describeGCItem names an environment and what it consists of, such as
// "abcd1234efgh (container kenv-abcd1234efgh, exited, volumes kenv-abcd1234efgh-data)".
func describeGCItem(item adapter.GCItem) string {
	var parts []string
	if item.Container != "" {
		parts = append(parts, "container "+item.Container)
	} else {
		parts = append(parts, "no container")
	}
	if item.State != "" {
		parts = append(parts, string(item.State))
	}
	if len(item.Volumes) > 0 {
		parts = append(parts, "volumes "+strings.Join(item.Volumes, " "))
	}
	if !item.CreatedAt.IsZero() {
		parts = append(parts, "created "+item.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return fmt.Sprintf("%s (%s)", item.EnvID, strings.Join(parts, ", "))
}
