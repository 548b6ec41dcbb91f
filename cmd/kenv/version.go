package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kenv/kenv/adapter"
)

func (s *session) versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print kenv's version",
		UsageText: "kenv version [options]",
		Description: `Prints kenv's version, which kenv also records in the kenv.version label of
everything it creates. kenv doctor prints the engine's versions.`,
		Flags:  []cli.Flag{jsonFlag()},
		Action: s.version,
	}
}

func init() {
	// `kenv --version` prints the same line as `kenv version`.
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintf(c.App.Writer, "kenv %s\n", c.App.Version)
	}
}

// versionJSON is the output of version --json.
type versionJSON struct {
	Version string `json:"version"`
}

func (s *session) version(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("version", "unexpected argument %q; version takes no arguments", c.Args().First())
	}
	if s.json {
		return writeJSON(s.cfg.Stdout, versionJSON{Version: adapter.Version})
	}
	_, err := fmt.Fprintf(s.cfg.Stdout, "kenv %s\n", adapter.Version)
	return err
}
