package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kenv/kenv/adapter"
)

func (s *session) provisionCommand() *cli.Command {
	return &cli.Command{
		Name:      "provision",
		Usage:     "create and start an environment, and print its id",
		UsageText: "kenv provision --image IMAGE [options]",
		Description: `Creates the environment's named volumes and starts its container from
IMAGE, then prints the environment id alone on stdout, so that
id=$(kenv provision --image IMAGE) works. On failure it removes whatever it
created. The main process defaults to "sleep infinity", so the image needs
a sleep binary unless --command is given.`,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:  "image",
				Usage: "image to start from, such as debian:12 or a reference printed by snapshot (required)",
			},
			&cli.StringFlag{
				Name:  "cpus",
				Usage: "CPU limit as a number of CPUs, such as 0.5 or 2 (default: no limit)",
			},
			&cli.StringFlag{
				Name:  "memory",
				Usage: "memory limit in bytes, or with a k, m or g suffix (powers of 1024), such as 512m; at least 6m (default: no limit)",
			},
			&cli.StringSliceFlag{
				Name:  "env",
				Usage: "environment variable NAME=VALUE for the main process and every exec; a bare NAME copies it from kenv's environment (repeatable)",
			},
			&cli.StringSliceFlag{
				Name:  "volume",
				Usage: "named volume NAME:/path or NAME:/path:ro, created empty with the environment and removed by destroy (repeatable)",
			},
			&cli.StringSliceFlag{
				Name:  "mount",
				Usage: "host directory /host/path:/path or /host/path:/path:ro to bind-mount; destroy leaves it in place (repeatable)",
			},
			&cli.BoolFlag{
				Name:  "no-internet",
				Usage: "give the environment no network but loopback (default: the engine's default network)",
			},
			&cli.StringSliceFlag{
				Name:  "label",
				Usage: "container label KEY=VALUE; keys starting with kenv. are reserved (repeatable)",
			},
			&cli.StringFlag{
				Name:  "pull",
				Value: string(adapter.PullMissing),
				Usage: "when to pull the image: missing, always or never",
			},
			&cli.StringSliceFlag{
				Name:  "command",
				Usage: "main process, one --command per argument, replacing the image's entrypoint and command (default: sleep infinity)",
			},
			&cli.BoolFlag{
				Name:  "allow-engine-socket",
				Usage: "allow a --mount of the engine's own socket, which gives the environment control of the host's engine",
			},
			jsonFlag(),
		},
		Action: s.provision,
	}
}

func (s *session) provision(c *cli.Context) error {
	const op = "provision"
	if c.Args().Present() {
		return usagef(op, "unexpected argument %q; provision takes only options, such as --image IMAGE", c.Args().First())
	}
	if c.String("image") == "" {
		return flagError(op, "image", "missing --image; pass the image to start from, such as --image debian:12")
	}

	env, err := parseEnvFlags(op, c.StringSlice("env"), s.cfg.Getenv)
	if err != nil {
		return err
	}
	labels, err := parseLabelFlags(op, c.StringSlice("label"))
	if err != nil {
		return err
	}
	volumes, err := parseVolumeFlags(op, c.StringSlice("volume"))
	if err != nil {
		return err
	}
	binds, err := parseMountFlags(op, c.StringSlice("mount"))
	if err != nil {
		return err
	}

	cfg := adapter.EnvConfig{
		Image:             c.String("image"),
		PullPolicy:        adapter.PullPolicy(c.String("pull")),
		CPUs:              c.String("cpus"),
		Memory:            c.String("memory"),
		Env:               env,
		Volumes:           volumes,
		Binds:             binds,
		NoInternet:        c.Bool("no-internet"),
		Labels:            labels,
		Command:           c.StringSlice("command"),
		AllowEngineSocket: c.Bool("allow-engine-socket"),
	}

	ctx := c.Context
	if s.cfg.StderrIsTerminal && !s.json {
		ctx = adapter.WithPullProgress(ctx, s.cfg.Stderr)
	}
	environment, err := s.adapter.Provision(ctx, cfg)
	if err != nil {
		return err
	}

	if s.json {
		err = writeJSON(s.cfg.Stdout, environment)
	} else {
		_, err = fmt.Fprintln(s.cfg.Stdout, environment.ID)
	}
	if err != nil {
		// The caller never learns an id it cannot read, so nothing else
		// would ever destroy this environment.
		e := &adapter.Error{
			Code:    codeInternal,
			Op:      op,
			EnvID:   environment.ID,
			Message: "printing the environment id failed, so kenv destroyed the environment",
			Err:     err,
		}
		if derr := s.adapter.Destroy(context.WithoutCancel(ctx), environment.ID); derr != nil {
			e.Message = fmt.Sprintf("printing the environment id failed, and destroying the environment failed too (%v); remove it with `kenv destroy %s`", derr, environment.ID)
		}
		return e
	}
	return nil
}
