package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
				Usage: "`IMAGE` to start from, such as debian:12 or a reference printed by snapshot (required)",
			},
			&cli.StringFlag{
				Name:        "cpus",
				Usage:       "CPU limit as a `NUMBER` of CPUs, such as 0.5 or 2",
				DefaultText: "no limit",
			},
			&cli.StringFlag{
				Name:        "memory",
				Usage:       "memory limit in `BYTES`, or with a b, k, m or g suffix (powers of 1024), such as 512m; at least 6m",
				DefaultText: "no limit",
			},
			&cli.StringSliceFlag{
				Name:  "env",
				Usage: "environment variable `NAME=VALUE` for the main process and every exec; a bare NAME copies it from kenv's environment (repeatable)",
			},
			&cli.StringSliceFlag{
				Name:  "volume",
				Usage: "named volume `NAME:/path[:ro]`, created empty with the environment and removed by destroy (repeatable)",
			},
			&cli.StringSliceFlag{
				Name:  "mount",
				Usage: "host directory `/host/path:/path[:ro]` to bind-mount; destroy leaves it in place (repeatable)",
			},
			&cli.BoolFlag{
				Name:               "no-internet",
				Usage:              "give the environment no network but loopback, instead of the engine's default network",
				DisableDefaultText: true,
			},
			&cli.StringSliceFlag{
				Name:  "label",
				Usage: "container label `KEY=VALUE`; keys starting with kenv. are reserved (repeatable)",
			},
			&cli.StringFlag{
				Name:  "pull",
				Value: string(adapter.PullMissing),
				Usage: "`POLICY` for pulling the image: missing (only when absent), always or never",
			},
			&cli.StringSliceFlag{
				Name:        "command",
				Usage:       "main process, one `ARG` per --command, replacing the image's entrypoint and command",
				DefaultText: "sleep infinity",
			},
			&cli.IntFlag{
				Name:        "owner",
				Usage:       "`PID` of the environment's owner process on this host, such as $$ in a shell script; gc --orphans destroys the environment once that process has exited",
				DefaultText: "no owner",
			},
			&cli.BoolFlag{
				Name:               "allow-engine-socket",
				Usage:              "allow a --mount of the engine's own socket, which gives the environment control of the host's engine",
				DisableDefaultText: true,
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

	var owner *adapter.Owner
	if c.IsSet("owner") {
		pid := c.Int("owner")
		if pid <= 0 {
			return flagError(op, "owner", "invalid --owner %d; pass the id of a running process on this host, such as $$ in a shell script", pid)
		}
		o, err := adapter.ProcessOwner(pid)
		if err != nil {
			return flagError(op, "owner", "invalid --owner %d: %v; pass the id of a running process on this host", pid, err)
		}
		owner = &o
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
		Owner:             owner,
		AllowEngineSocket: c.Bool("allow-engine-socket"),
	}

	ctx := c.Context
	if s.cfg.StderrIsTerminal && !s.json {
		ctx = adapter.WithPullProgress(ctx, s.cfg.Stderr)
	}
	environment, err := s.adapter.Provision(ctx, cfg)
	if err != nil {
		return withFlagNames(err)
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

// withFlagNames rewords the adapter's advice that names an EnvConfig field
// to name the option instead.
func withFlagNames(err error) error {
	var e *adapter.Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "set AllowEngineSocket") {
		return err
	}
	c := *e
	c.Message = strings.ReplaceAll(c.Message, "set AllowEngineSocket", "pass --allow-engine-socket")
	return &c
}
