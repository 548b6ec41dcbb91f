package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kenv/kenv/adapter"
)

func (s *session) snapshotCommand() *cli.Command {
	return &cli.Command{
		Name:      "snapshot",
		Usage:     "commit an environment's filesystem to an image and print its reference",
		UsageText: "kenv snapshot [options] ENV",
		Description: `Commits the filesystem of environment ENV to the image kenv/ENV:NAME,
replacing an earlier snapshot of the same name, and prints the reference.
The container is paused while it is copied. Named volumes and mounts are
not part of the image, and variables set with provision --env are reset to
the image's own values, so their values stay out of it. Labels are copied.
Provision with --image REFERENCE to restore it; destroy keeps snapshot
images.`,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:        "name",
				Usage:       "snapshot `NAME`, which becomes the image tag",
				DefaultText: "latest",
			},
			jsonFlag(),
		},
		Action: s.snapshot,
	}
}

func (s *session) snapshot(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("snapshot", "snapshot takes exactly one environment id, got %d arguments; usage: kenv snapshot [--name NAME] ENV", c.NArg())
	}
	if c.IsSet("name") && c.String("name") == "" {
		return usagef("snapshot", "--name is empty; give a name, or leave the option out for \"latest\"")
	}
	snap, err := s.adapter.Snapshot(c.Context, c.Args().First(), adapter.SnapshotOptions{Name: c.String("name")})
	if err != nil {
		return err
	}
	if s.json {
		return writeJSON(s.cfg.Stdout, snap)
	}
	_, err = fmt.Fprintln(s.cfg.Stdout, snap.Ref)
	return err
}
