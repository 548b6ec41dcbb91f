package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"slices"
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
				Name:        "engine",
				Usage:       "engine client `BINARY` to run, a name looked up in PATH or a path",
				DefaultText: "$KENV_ENGINE, else docker",
			},
			&cli.BoolFlag{
				Name:               "debug",
				Usage:              "print a debug record for every engine call on stderr",
				DisableDefaultText: true,
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
		switch cmd.Name {
		case "exec", "sh", "logs", "snapshot", "destroy":
			cmd.BashComplete = s.completeEnvIDs
		}
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
		Name:               "json",
		Usage:              "print results and errors as JSON objects on stdout and stderr",
		DisableDefaultText: true,
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

	// kenv exits right after provision, so recording its own process as
	// the owner would make every environment an orphan at once. provision
	// --owner records a longer-lived process instead.
	d, err := s.cfg.NewAdapter(adapter.Options{Engine: s.engine, Logger: logger, NoOwner: true})
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

// completionTimeout bounds the engine call that lists environment ids for
// shell completion, so that a dead daemon cannot hang the shell.
const completionTimeout = 5 * time.Second

// completeEnvIDs prints shell completions for a command that takes an
// environment id: its options after a "-", else the ids of the managed
// environments. urfave/cli skips Before during completion, so it sets up
// the adapter itself.
func (s *session) completeEnvIDs(c *cli.Context) {
	if n := len(os.Args); n > 2 && strings.HasPrefix(os.Args[n-2], "-") {
		cli.DefaultCompleteWithFlags(c.Command)(c)
		return
	}
	if c.NArg() > 0 && c.Command.Name != "destroy" {
		return
	}
	if s.adapter == nil {
		if err := s.setup(c); err != nil {
			return
		}
	}
	ctx, cancel := context.WithTimeout(c.Context, completionTimeout)
	defer cancel()
	envs, err := s.adapter.List(ctx)
	if err != nil {
		return
	}
	for _, e := range envs {
		fmt.Fprintln(s.cfg.Stdout, e.ID)
	}
}

// rootAction runs when no command is given, or an unknown one.
func (s *session) rootAction(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("", "unknown command %q; run `kenv --help` for the list of commands", c.Args().First())
	}
	return cli.ShowAppHelp(c)
}

// usageError turns a flag parsing error of urfave/cli into kenv's
// INVALID_CONFIG error, with the command whose help lists the options.
func (s *session) usageError(c *cli.Context, err error) error {
	name := "kenv"
	op := ""
	var flags []cli.Flag
	if c.Command != nil && c.Command.Name != "" {
		op = c.Command.Name
		name = "kenv " + op
		flags = c.Command.Flags
	} else if c.App != nil {
		flags = c.App.Flags
	}
	return usagef(op, "%s; run `%s --help` for the options", describeFlagError(err.Error(), op, flags), name)
}

// Errors of the standard library's flag package, which urfave/cli returns
// as they are.
var (
	undefinedFlagPattern = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	invalidValuePattern  = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for flag -+([^:]*): (.*)$`)
	missingValuePattern  = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
)

// describeFlagError rewords a flag package error with kenv's option names
// and, for an invalid value, the form the option takes.
func describeFlagError(msg, op string, flags []cli.Flag) string {
	if m := undefinedFlagPattern.FindStringSubmatch(msg); m != nil {
		out := fmt.Sprintf("unknown option %s", dashed(m[1]))
		if op != "" && isGlobalFlag(m[1]) {
			out += fmt.Sprintf("; %s is a global option, so put it before the command: kenv %s ... %s", dashed(m[1]), dashed(m[1]), op)
		}
		return out
	}
	if m := missingValuePattern.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("option %s needs a value", dashed(m[1]))
	}
	if m := invalidValuePattern.FindStringSubmatch(msg); m != nil {
		out := fmt.Sprintf("invalid %s %q", dashed(m[2]), m[1])
		for _, f := range flags {
			if !slices.Contains(f.Names(), m[2]) {
				continue
			}
			switch f.(type) {
			case *cli.DurationFlag:
				out += "; use a duration such as 30s, 5m or 1h30m"
			case *cli.IntFlag:
				out += "; use a whole number"
			}
		}
		return out
	}
	return msg
}

// dashed writes an option name as typed: -i or --timeout.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
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
