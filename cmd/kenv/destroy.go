package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kenv/kenv/adapter"
)

func (s *session) destroyCommand() *cli.Command {
	return &cli.Command{
		Name:      "destroy",
		Usage:     "remove environments with their volumes",
		UsageText: "kenv destroy [options] ENV...",
		Description: `Stops and removes the container of each environment and every named volume
created for it, and prints each id it destroyed. An environment that is
already gone counts as destroyed, so destroy is safe to repeat. Host
directories given with --mount and snapshot images are kept. Every id is
checked before anything is removed, so one malformed id destroys nothing.
After an engine failure, destroy goes on with the other ids and exits with
the status of the first failure.`,
		Flags:  []cli.Flag{jsonFlag()},
		Action: s.destroy,
	}
}

// destroyJSON is the output of destroy --json: the ids that are gone now.
type destroyJSON struct {
	Destroyed []string `json:"destroyed"`
}

func (s *session) destroy(c *cli.Context) error {
	ids := c.Args().Slice()
	if len(ids) == 0 {
		return usagef("destroy", "missing environment id; usage: kenv destroy ENV...")
	}

	for _, id := range ids {
		if err := adapter.ValidateEnvID(id); err != nil {
			var e *adapter.Error
			if errors.As(err, &e) {
				e.Op = "destroy"
			}
			return err
		}
	}

	out := destroyJSON{Destroyed: []string{}}
	var errs []error
	for _, id := range ids {
		if err := s.adapter.Destroy(c.Context, id); err != nil {
			errs = append(errs, err)
			if c.Context.Err() != nil {
				break
			}
			continue
		}
		out.Destroyed = append(out.Destroyed, id)
		if !s.json {
			if _, err := fmt.Fprintln(s.cfg.Stdout, id); err != nil {
				return err
			}
		}
	}

	if s.json {
		if err := writeJSON(s.cfg.Stdout, out); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}
