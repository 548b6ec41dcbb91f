package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kenv/kenv/adapter"
)

func (s *session) lsCommand() *cli.Command {
	return &cli.Command{
		Name:      "ls",
		Usage:     "list the environments that kenv manages",
		UsageText: "kenv ls [options]",
		Description: `Lists every environment with kenv's labels on the engine, whichever
process created it, oldest first: id, image, state, age and the labels
given with provision --label. With --json, prints {"environments":[...]}
with every field and label of each environment.`,
		Flags:  []cli.Flag{jsonFlag()},
		Action: s.ls,
	}
}

// lsJSON is the output of ls --json.
type lsJSON struct {
	Environments []adapter.Environment `json:"environments"`
}

func (s *session) ls(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("ls", "unexpected argument %q; ls takes no arguments", c.Args().First())
	}
	envs, err := s.adapter.List(c.Context)
	if err != nil {
		return err
	}
	if s.json {
		if envs == nil {
			envs = []adapter.Environment{}
		}
		return writeJSON(s.cfg.Stdout, lsJSON{Environments: envs})
	}

	now := s.cfg.Now()
	tw := newTable(s.cfg.Stdout)
	fmt.Fprintln(tw, "ID\tIMAGE\tSTATE\tAGE\tLABELS")
	for _, e := range envs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ID, e.Image, formatState(e), formatAge(now, e.CreatedAt), formatUserLabels(e.Labels))
	}
	return tw.Flush()
}

// formatState renders an environment's state, with the exit status of a
// stopped main process and whether the kernel killed it for lack of memory.
func formatState(e adapter.Environment) string {
	if e.State != adapter.StateExited && e.State != adapter.StateDead {
		return string(e.State)
	}
	if e.OOMKilled {
		return fmt.Sprintf("%s(%d,oom)", e.State, e.ExitCode)
	}
	return fmt.Sprintf("%s(%d)", e.State, e.ExitCode)
}
