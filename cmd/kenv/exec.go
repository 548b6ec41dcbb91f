package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kenv/kenv/adapter"
)

// execFlags are the options of exec and sh.
func execFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{
			Name:        "timeout",
			Usage:       "maximum run `DURATION`, such as 30s or 5m; when it passes, the command and every process it started are killed and kenv exits 124",
			DefaultText: "no limit",
		},
		&cli.StringFlag{
			Name:        "workdir",
			Aliases:     []string{"w"},
			Usage:       "absolute working `DIR` inside the environment",
			DefaultText: "the image's",
		},
		&cli.StringFlag{
			Name:        "user",
			Aliases:     []string{"u"},
			Usage:       "`USER` to run as: a name, UID or UID:GID",
			DefaultText: "the image's",
		},
		&cli.StringSliceFlag{
			Name:    "env",
			Aliases: []string{"e"},
			Usage:   "environment variable `NAME=VALUE` for this command; a bare NAME copies it from kenv's environment (repeatable)",
		},
		&cli.StringFlag{
			Name:        "max-output",
			Usage:       "`BYTES` kept of each of stdout and stderr, with an optional k, m or g suffix; beyond it the middle is dropped and the output is printed when the command ends; -1 keeps everything",
			DefaultText: "1m with --json; without it, output streams in full as it arrives",
		},
		&cli.BoolFlag{
			Name:               "interactive",
			Aliases:            []string{"i"},
			Usage:              "copy kenv's stdin to the command's stdin",
			DisableDefaultText: true,
		},
		jsonFlag(),
	}
}

func (s *session) execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command in an environment and exit with its status",
		UsageText: "kenv exec [options] ENV -- COMMAND [ARG...]",
		Description: `Runs COMMAND with its arguments verbatim (no shell) in environment ENV
and waits for it. Its stdout and stderr go to kenv's stdout and stderr as
they arrive, and kenv exits with its exit status. With --max-output, kenv
keeps the head and tail of each stream and prints them once the command has
finished. Options go before ENV; everything after "--" is the command.

With --json, kenv prints one object with exit_code, stdout, stderr (as
strings: bytes that are not valid UTF-8 become U+FFFD), started_at,
finished_at and the *_truncated and *_dropped_bytes fields.

After --timeout or Ctrl-C, kenv prints the output gathered so far, then
its error; with --json the result on stdout has exit_code -1 and the
error object goes to stderr.`,
		Flags:  execFlags(),
		Action: s.exec,
	}
}

func (s *session) shCommand() *cli.Command {
	return &cli.Command{
		Name:      "sh",
		Usage:     "run a shell script in an environment and exit with its status",
		UsageText: "kenv sh [options] ENV SCRIPT [ARG...]",
		Description: `Runs SCRIPT with "sh -c" in environment ENV. Further arguments become the
script's $1, $2 and so on, unquoted and unexpanded, which is the safe way
to pass untrusted values:

   kenv sh "$id" 'grep -rn -- "$1" /src' "$pattern"

Output, exit status and options are as for exec.`,
		Flags:  execFlags(),
		Action: s.sh,
	}
}

func (s *session) exec(c *cli.Context) error {
	const op = "exec"
	args := c.Args().Slice()
	if len(args) == 0 {
		return usagef(op, "missing environment id and command; usage: kenv exec [options] ENV -- COMMAND [ARG...]")
	}
	envID, argv := args[0], args[1:]
	switch {
	case len(argv) > 0 && argv[0] == "--":
		argv = argv[1:]
	case len(argv) > 0 && strings.HasPrefix(argv[0], "-"):
		return misplacedOption(op, argv[0])
	}
	if len(argv) == 0 {
		return usagef(op, "missing command after the environment id; usage: kenv exec [options] ENV -- COMMAND [ARG...]")
	}

	req, err := s.execRequest(c, op)
	if err != nil {
		return err
	}
	req.Argv = argv
	return s.runExec(c, envID, req)
}

func (s *session) sh(c *cli.Context) error {
	const op = "exec"
	args := c.Args().Slice()
	switch {
	case len(args) > 1 && args[1] == "--":
		args = append(args[:1:1], args[2:]...)
	case len(args) > 1 && strings.HasPrefix(args[1], "-"):
		return misplacedOption("sh", args[1])
	}
	if len(args) < 2 {
		return usagef("sh", "missing environment id or script; usage: kenv sh [options] ENV SCRIPT [ARG...]")
	}
	envID, script := args[0], args[1]
	if script == "" {
		return usagef("sh", "the script is empty; usage: kenv sh [options] ENV SCRIPT [ARG...]")
	}

	req, err := s.execRequest(c, op)
	if err != nil {
		return err
	}
	if len(args) == 2 {
		req.Shell = script
	} else {
		// "sh" becomes $0, as `sh -c` expects a name before the arguments.
		req.Argv = append([]string{"sh", "-c", "--", script, "sh"}, args[2:]...)
	}
	return s.runExec(c, envID, req)
}

// misplacedOption is the error of an option written after ENV, where
// urfave/cli no longer parses options.
func misplacedOption(op, arg string) error {
	return usagef(op, "option %s comes after the environment id, where kenv does not read options; put options before ENV, and separate the command with -- if it starts with '-'", arg)
}

// execRequest builds the request from the options shared by exec and sh.
func (s *session) execRequest(c *cli.Context, op string) (adapter.ExecRequest, error) {
	env, err := parseEnvFlags(op, c.StringSlice("env"), s.cfg.Getenv)
	if err != nil {
		return adapter.ExecRequest{}, err
	}
	maxOutput, err := parseByteCount(op, "max-output", c.String("max-output"))
	if err != nil {
		return adapter.ExecRequest{}, err
	}
	req := adapter.ExecRequest{
		WorkDir:        c.String("workdir"),
		User:           c.String("user"),
		Env:            env,
		Timeout:        c.Duration("timeout"),
		MaxOutputBytes: maxOutput,
	}
	if c.Bool("interactive") {
		req.Stdin = s.cfg.Stdin
	}
	if !s.json && !c.IsSet("max-output") {
		req.Stdout = newHeldWriter(s.cfg.Stdout)
		req.Stderr = newHeldWriter(s.cfg.Stderr)
	}
	return req, nil
}

// runExec runs req and prints its result. It returns exitStatus with the
// command's status when the command ran to its end.
func (s *session) runExec(c *cli.Context, envID string, req adapter.ExecRequest) error {
	result, err := s.adapter.Exec(c.Context, envID, req)
	if req.Stdout != nil {
		// An engine failure's one line of output is replaced by kenv's
		// error; anything else was the command's and is printed.
		ran := err == nil || errors.Is(err, adapter.ErrExecTimeout) || c.Context.Err() != nil
		for _, w := range []io.Writer{req.Stdout, req.Stderr} {
			h := w.(*heldWriter)
			if ran {
				h.Flush()
			} else {
				h.Discard()
			}
		}
	}

	// Output gathered before a timeout or an interrupt is printed too: it
	// often shows where the command was stuck.
	ran := err == nil || errors.Is(err, adapter.ErrExecTimeout) || c.Context.Err() != nil
	if !ran || result.Started.IsZero() {
		return err
	}

	if s.json {
		if werr := writeJSON(s.cfg.Stdout, newExecJSON(result)); werr != nil && err == nil {
			return werr
		}
	} else {
		if werr := s.writeExecOutput(result, req.Stdout != nil); werr != nil && err == nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	if result.ExitCode < 0 || result.ExitCode > 255 {
		return &adapter.Error{
			Code:    adapter.CodeExecFailed,
			Op:      "exec",
			EnvID:   envID,
			Message: fmt.Sprintf("the engine reported exit status %d, which no process can have", result.ExitCode),
		}
	}
	return exitStatus{code: result.ExitCode}
}

// writeExecOutput copies the command's output to kenv's stdout and stderr,
// unless it was streamed there already, and warns when the output was cut to
// --max-output.
func (s *session) writeExecOutput(result adapter.ExecResult, streamed bool) error {
	if streamed {
		return s.warnOOM(result)
	}
	if _, err := s.cfg.Stdout.Write(result.Stdout); err != nil {
		return err
	}
	if _, err := s.cfg.Stderr.Write(result.Stderr); err != nil {
		return err
	}

	var dropped []string
	if result.StdoutTruncated {
		dropped = append(dropped, fmt.Sprintf("%d bytes of stdout", result.StdoutDropped))
	}
	if result.StderrTruncated {
		dropped = append(dropped, fmt.Sprintf("%d bytes of stderr", result.StderrDropped))
	}
	if len(dropped) > 0 {
		if n := len(result.Stderr); n > 0 && result.Stderr[n-1] != '\n' {
			// The warning starts a line of its own.
			fmt.Fprintln(s.cfg.Stderr)
		}
		fmt.Fprintf(s.cfg.Stderr, "kenv: warning: output exceeded --max-output, so kenv dropped the middle %s; raise --max-output, or pass -1 to keep everything\n", strings.Join(dropped, " and "))
	}
	return s.warnOOM(result)
}

// warnOOM warns when the command was likely killed for lack of memory.
func (s *session) warnOOM(result adapter.ExecResult) error {
	if result.OOMKilled {
		fmt.Fprintf(s.cfg.Stderr, "kenv: warning: the command was killed (exit status %d) and the environment has had an out-of-memory kill, so its memory limit is the likely cause; provision with a larger --memory\n", result.ExitCode)
	}
	return nil
}

// execJSON is the ExecResult as --json prints it: every field of the
// library's type, with stdout and stderr as strings instead of base64. The
// outer Stdout and Stderr hide the embedded ones, because encoding/json
// prefers the less nested field of the same name.
type execJSON struct {
	adapter.ExecResult
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

func newExecJSON(r adapter.ExecResult) execJSON {
	return execJSON{ExecResult: r, Stdout: string(r.Stdout), Stderr: string(r.Stderr)}
}
