package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kenv/kenv/adapter"
)

// appConfig holds everything the CLI reads from or writes to, so that tests
// can run it in-process against a fake engine.
type appConfig struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// Getenv reads kenv's own environment: KENV_ENGINE, and the variables
	// that `--env NAME` copies.
	Getenv func(name string) (string, bool)

	// NewAdapter builds the adapter from the global options. Tests wrap
	// adapter.New to set Options.Executor to a fake.
	NewAdapter func(adapter.Options) (*adapter.Docker, error)

	// LookPath resolves the engine binary for doctor.
	LookPath func(file string) (string, error)

	// Now is the clock that ls measures ages with.
	Now func() time.Time

	// StderrIsTerminal makes provision show the engine's pull progress.
	StderrIsTerminal bool
}

// run runs kenv with args (args[0] is the program name) and returns the exit
// status. env is kenv's environment in os.Environ form.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	cfg := appConfig{
		Stdin:            stdin,
		Stdout:           stdout,
		Stderr:           stderr,
		Getenv:           lookupIn(env),
		NewAdapter:       adapter.New,
		LookPath:         exec.LookPath,
		Now:              time.Now,
		StderrIsTerminal: isTerminal(stderr),
	}
	return runApp(ctx, args, cfg)
}

// runApp runs the CLI with cfg, prints the error of a failed command and
// returns the exit status.
func runApp(ctx context.Context, args []string, cfg appConfig) int {
	s := &session{cfg: cfg}
	err := s.newApp().RunContext(ctx, args)
	if err == nil {
		return 0
	}
	return s.reportError(ctx, err, args)
}

// lookupIn returns a lookup function over an os.Environ-style list. A later
// entry for the same name wins, as in the process environment.
func lookupIn(env []string) func(string) (string, bool) {
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		if name, value, ok := strings.Cut(kv, "="); ok {
			vars[name] = value
		}
	}
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// session is the state of one kenv run: the configuration, the global
// options once parsed and the adapter built from them.
type session struct {
	cfg appConfig

	engine string
	debug  bool
	json   bool

	// optionsParsed is set once the command's own options are parsed, so
	// that s.json is final.
	optionsParsed bool

	adapter *adapter.Docker
}

// defaultEngine is the engine client binary used when neither --engine nor
// KENV_ENGINE is set.
const defaultEngine = "docker"

// rootDescription is the DESCRIPTION section of `kenv --help`. Keep the exit
// status table in step with exitCodeOf and EXITCODES.md.
const rootDescription = `kenv gives each task a disposable, isolated container environment and
runs commands in it, by running a docker-compatible engine client (docker
or podman). Environments carry kenv's labels, so any kenv process can find,
use and destroy them.

   id=$(kenv provision --image debian:12 --memory 512m --cpus 1)
   kenv exec "$id" -- uname -a
   kenv destroy "$id"

Global options go before the command: kenv --engine podman ls.
The engine client inherits kenv's environment, so DOCKER_HOST,
DOCKER_CONTEXT and CONTAINER_HOST select the daemon as usual.

EXIT STATUS
   0    success
   N    exec and sh: the command's own exit status
   121  invalid options, arguments or configuration
        (INVALID_CONFIG, UNSUPPORTED_M1_NETWORK_POLICY)
   122  environment not found or not running (ENV_NOT_FOUND, ENV_NOT_RUNNING)
   123  engine unavailable or timed out (DOCKER_UNAVAILABLE, ENGINE_TIMEOUT)
   124  exec or sh: the command outlived --timeout and was killed (EXEC_TIMEOUT)
   125  any other kenv or engine failure
   130  interrupted by SIGINT (Ctrl-C) or SIGTERM

A command run by exec or sh can exit with these numbers too. Scripts that
must tell the two apart read the error code at the end of kenv's error
line on stderr, "kenv: ... [CODE]", or use --json, which prints errors as
{"error":{"code":...}}.`

// newApp builds the command-line application for this session.
func (s *session) newApp() *cli.App {
	app := &cli.App{
		Name:                      "kenv",
		Usage:                     "disposable, isolated container environments for untrusted code",
		UsageText:                 "kenv [global options] command [command options] [arguments...]",
		Version:                   adapter.Version,
		Description:               rootDescription,
		Reader:                    s.cfg.Stdin,
		Writer:                    s.cfg.Stdout,
		ErrWriter:                 s.cfg.Stderr,
		EnableBashCompletion:      true,
		DisableSliceFlagSeparator: true,
		// kenv turns every error into its exit status in runApp, so urfave/cli
		// must neither print errors nor call os.Exit.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return s.usageError(c, err)
		},
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:  "engine",
				Usage: "engine client binary, a name looked up in PATH or a path (default: $KENV_ENGINE, else docker)",
			},
			&cli.BoolFlag{
				Name:  "debug",
				Usage: "print a debug record for every engine call on stderr",
			},
			jsonFlag(),
		},
		Before: s.setup,
		Action: s.rootAction,
		Commands: []*cli.Command{
			s.provisionCommand(),
			s.execCommand(),
			s.shCommand(),
			s.logsCommand(),
			s.snapshotCommand(),
			s.destroyCommand(),
			s.lsCommand(),
			s.gcCommand(),
			s.doctorCommand(),
			s.versionCommand(),
		},
	}
	for _, cmd := range app.Commands {
		cmd.Before = s.commandBefore
		cmd.OnUsageError = func(c *cli.Context, err error, _ bool) error {
			return s.usageError(c, err)
		}
	}
	return app
}

// jsonFlag is --json, accepted both before and after the command name.
func jsonFlag() cli.Flag {
	return &cli.BoolFlag{
		Name:  "json",
		Usage: "print results and errors as JSON objects on stdout and stderr",
	}
}

// setup reads the global options and builds the adapter. adapter.New runs
// nothing, so this costs no engine call.
func (s *session) setup(c *cli.Context) error {
	s.debug = c.Bool("debug")
	s.json = c.Bool("json")
	s.engine = c.String("engine")
	if !c.IsSet("engine") {
		s.engine = defaultEngine
		if v, ok := s.cfg.Getenv("KENV_ENGINE"); ok && v != "" {
			s.engine = v
		}
	}

	// Warnings, such as a failed cleanup that leaves a container behind,
	// always reach stderr. --debug adds a record for every engine call.
	level := slog.LevelWarn
	if s.debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(s.cfg.Stderr, &slog.HandlerOptions{Level: level}))

	d, err := s.cfg.NewAdapter(adapter.Options{Engine: s.engine, Logger: logger})
	if err != nil {
		return err
	}
	s.adapter = d
	return nil
}

// commandBefore applies a --json given after the command name.
func (s *session) commandBefore(c *cli.Context) error {
	s.optionsParsed = true
	if c.Bool("json") {
		s.json = true
	}
	return nil
}

// rootAction runs when no command is given, or an unknown one.
func (s *session) rootAction(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("", "unknown command %q; run `kenv --help` for the list of commands", c.Args().First())
	}
	return cli.ShowAppHelp(c)
}

// usageError turns a flag parsing error of urfave/cli into kenv's
// INVALID_CONFIG error, with the command whose help lists the flags.
func (s *session) usageError(c *cli.Context, err error) error {
	name := "kenv"
	op := ""
	if c.Command != nil && c.Command.Name != "" {
		op = c.Command.Name
		name = "kenv " + op
	}
	msg := err.Error()
	if flag, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = fmt.Sprintf("unknown option --%s", flag)
		if op != "" && isGlobalFlag(flag) {
			msg += fmt.Sprintf("; --%s is a global option, so put it before the command: kenv --%s ... %s", flag, flag, op)
		}
	}
	return usagef(op, "%s; run `%s --help` for the options", msg, name)
}

// isGlobalFlag reports whether name is a root option that a command does not
// also accept.
func isGlobalFlag(name string) bool {
	return name == "engine" || name == "debug"
}

// usagef returns the INVALID_CONFIG error of a command-line mistake, which
// exits 121.
func usagef(op, format string, args ...any) *adapter.Error {
	return &adapter.Error{
		Code:    adapter.CodeInvalidConfig,
		Op:      op,
		Message: fmt.Sprintf(format, args...),
		Meta:    map[string]string{"field": "arguments"},
	}
}

// flagError returns the INVALID_CONFIG error of an invalid option value.
func flagError(op, flag, format string, args ...any) *adapter.Error {
	return &adapter.Error{
		Code:    adapter.CodeInvalidConfig,
		Op:      op,
		Message: fmt.Sprintf(format, args...),
		Meta:    map[string]string{"field": flag},
	}
}
