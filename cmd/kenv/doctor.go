package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kenv/kenv/adapter"
)

func (s *session) doctorCommand() *cli.Command {
	return &cli.Command{
		Name:      "doctor",
		Usage:     "check that kenv can reach a working engine",
		UsageText: "kenv doctor [options]",
		Description: `Checks the engine client binary, whether it is Docker or Podman, the
client and server versions, whether the daemon answers and whether kenv
can list its environments. Prints one line per check, "ok" or "FAIL" with
what to do about the problem. Exits 0 when kenv can work, 123
when the engine is missing or does not answer, and 125 for other failures.`,
		Flags:  []cli.Flag{jsonFlag()},
		Action: s.doctor,
	}
}

// Statuses of a doctor check.
const (
	checkOK   = "ok"
	checkFail = "fail"
)

// doctorCheck is the result of one check.
type doctorCheck struct {
	Name   string `json:"name"`
	Status string `json:"status"` // checkOK or checkFail
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// doctorJSON is the output of doctor --json.
type doctorJSON struct {
	OK     bool               `json:"ok"`
	Engine adapter.EngineInfo `json:"engine"`
	Checks []doctorCheck      `json:"checks"`
}

// doctorReport gathers checks and the exit status they lead to.
type doctorReport struct {
	doctorJSON
	exitCode int
}

func (r *doctorReport) add(name, status, detail, fix string) {
	r.Checks = append(r.Checks, doctorCheck{Name: name, Status: status, Detail: detail, Fix: fix})
}

// fail records a failed check. The engine's own failures decide the exit
// status over later ones.
func (r *doctorReport) fail(name, detail, fix string, exitCode int) {
	r.add(name, checkFail, detail, fix)
	if r.exitCode == 0 {
		r.exitCode = exitCode
	}
}

func (s *session) doctor(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("doctor", "unexpected argument %q; doctor takes no arguments", c.Args().First())
	}
	report := s.runDoctorChecks(c.Context)
	report.OK = report.exitCode == 0

	var err error
	if s.json {
		err = writeJSON(s.cfg.Stdout, report.doctorJSON)
	} else {
		err = s.writeDoctorChecks(report.Checks)
	}
	if err != nil {
		return err
	}
	if c.Context.Err() != nil {
		return exitStatus{code: exitInterrupted}
	}
	return exitStatus{code: report.exitCode}
}

// runDoctorChecks runs the checks in order and stops at the first failure
// that leaves later checks nothing to test.
func (s *session) runDoctorChecks(ctx context.Context) *doctorReport {
	r := &doctorReport{}
	r.Engine.Binary = s.engine
	r.Checks = []doctorCheck{}

	path, err := s.cfg.LookPath(s.engine)
	if err != nil {
		r.fail("engine binary", fmt.Sprintf("%q not found: %v", s.engine, err),
			"install Docker or Podman, or name the client binary with --engine PATH or KENV_ENGINE", exitEngine)
		return r
	}
	r.add("engine binary", checkOK, path, "")
	r.add("engine endpoint", checkOK, s.describeEndpoint(), "")

	info, err := s.adapter.Info(ctx)
	info.Path = path
	r.Engine = info
	var e *adapter.Error
	if err != nil {
		e = asKenvError(err)
	}

	if info.ClientVersion == "" {
		detail := fmt.Sprintf("`%s version` gave no client version", s.engine)
		if e != nil {
			detail = fmt.Sprintf("`%s version` failed: %s", s.engine, errorSummary(e))
		}
		r.fail("client", detail, "check that the binary is a docker or podman client and runs: "+s.engine+" version", exitEngine)
		return r
	}
	r.add("client", checkOK, describeClient(info), "")

	if info.ServerVersion == "" {
		code := exitEngine
		detail := "the daemon does not answer"
		if e != nil {
			detail += engineSaid(e)
			code = exitCodeOf(e.Code)
		}
		r.fail("daemon", detail, daemonFix(info.Kind, s.engine), code)
		return r
	}
	if err != nil {
		r.fail("daemon", errorSummary(e), "run `"+s.engine+" version` to see what the engine prints", exitCodeOf(e.Code))
		return r
	}
	r.add("daemon", checkOK, describeServer(info), "")

	envs, err := s.adapter.List(ctx)
	if err != nil {
		e = asKenvError(err)
		r.fail("environments", "listing kenv's environments failed"+engineSaid(e), "run `"+s.engine+" ps --all` to see the engine's own message", exitCodeOf(e.Code))
		return r
	}
	r.add("environments", checkOK, fmt.Sprintf("%s with kenv's labels; list them with `kenv ls`", countNoun(len(envs), "environment")), "")
	return r
}

// describeEndpoint names the variables that point the client at a daemon.
func (s *session) describeEndpoint() string {
	var set []string
	for _, name := range []string{"DOCKER_HOST", "DOCKER_CONTEXT", "CONTAINER_HOST", "CONTAINER_CONNECTION"} {
		if v, ok := s.cfg.Getenv(name); ok && v != "" {
			set = append(set, name+"="+v)
		}
	}
	if len(set) == 0 {
		return "the client's default (DOCKER_HOST, DOCKER_CONTEXT, CONTAINER_HOST and CONTAINER_CONNECTION are unset)"
	}
	return strings.Join(set, " ")
}

func describeClient(info adapter.EngineInfo) string {
	out := fmt.Sprintf("%s client %s", info.Kind, info.ClientVersion)
	if info.ClientAPI != "" {
		out += " (API " + info.ClientAPI + ")"
	}
	return out
}

func describeServer(info adapter.EngineInfo) string {
	if info.Kind == "podman" && info.ServerVersion == info.ClientVersion && info.KernelVersion == "" {
		return fmt.Sprintf("podman %s runs containers itself, with no daemon", info.ServerVersion)
	}
	out := fmt.Sprintf("%s server %s answers", info.Kind, info.ServerVersion)
	var details []string
	if info.ServerAPI != "" {
		details = append(details, "API "+info.ServerAPI)
	}
	if info.KernelVersion != "" {
		details = append(details, "kernel "+info.KernelVersion)
	}
	if len(details) > 0 {
		out += " (" + strings.Join(details, ", ") + ")"
	}
	return out
}

func daemonFix(kind, engine string) string {
	if kind == "podman" {
		return "start the Podman service (for example `sudo systemctl start podman.socket`), or check CONTAINER_HOST and `" + engine + " system connection list`"
	}
	return "start the daemon (for example `sudo systemctl start docker`), or check DOCKER_HOST and `" + engine + " context ls`"
}

// errorSummary is an adapter error's message with the engine's stderr and
// code, without the operation prefix.
func errorSummary(e *adapter.Error) string {
	msg := e.Message
	if s := e.Meta["stderr"]; s != "" {
		msg += ": engine said: " + s
	} else if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg + " [" + string(e.Code) + "]"
}

// engineSaid returns ": engine said: STDERR" for an error with the engine's
// stderr, else ": CAUSE" or, with neither, the error's message.
func engineSaid(e *adapter.Error) string {
	switch {
	case e.Meta["stderr"] != "":
		return ": engine said: " + e.Meta["stderr"]
	case e.Err != nil:
		return ": " + e.Err.Error()
	}
	return ": " + e.Message
}

// writeDoctorChecks prints "STATUS  NAME: DETAIL; fix: FIX" per check.
func (s *session) writeDoctorChecks(checks []doctorCheck) error {
	for _, c := range checks {
		status := c.Status
		if status == checkFail {
			status = "FAIL"
		}
		line := fmt.Sprintf("%-4s  %s: %s", status, c.Name, c.Detail)
		if c.Fix != "" {
			line += "; fix: " + c.Fix
		}
		if _, err := fmt.Fprintln(s.cfg.Stdout, line); err != nil {
			return err
		}
	}
	return nil
}

// countNoun renders n with a noun in the singular or plural: "1 environment",
// "3 environments".
func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
