// Package dockerclitest provides an in-process fake dockercli.Executor for
// tests of the packages above dockercli. It runs no process and never
// panics: argv that no rule matches gets an error naming it.
package dockerclitest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kenv/kenv/dockercli"
)

// Call is one recorded Run.
type Call struct {
	Args  []string
	Stdin string
	Env   []string
}

// Rule scripts the result of the commands whose argv starts with its prefix.
type Rule struct {
	prefix   []string
	contains []string
	stdout   string
	stderr   string
	exitCode int
	err      error
	delay    time.Duration
	fn       func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error)
	times    int // 0 means unlimited
	used     int
}

// Returns sets the output and exit code the rule returns.
func (r *Rule) Returns(stdout, stderr string, exitCode int) *Rule {
	r.stdout, r.stderr, r.exitCode = stdout, stderr, exitCode
	return r
}

// Fails makes the rule return err from Run, as a failed start would.
func (r *Rule) Fails(err error) *Rule {
	r.err = err
	return r
}

// Delays makes the rule wait d before it returns, or until ctx ends, in which
// case Run returns ctx's error as the real executor does.
func (r *Rule) Delays(d time.Duration) *Rule {
	r.delay = d
	return r
}

// Does makes the rule answer by calling fn, which sees the whole command.
func (r *Rule) Does(fn func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error)) *Rule {
	r.fn = fn
	return r
}

// Times limits how often the rule matches; later calls fall through to the
// next matching rule.
func (r *Rule) Times(n int) *Rule {
	r.times = n
	return r
}

// Containing restricts the rule to argv that also holds every given word.
func (r *Rule) Containing(words ...string) *Rule {
	r.contains = append(r.contains, words...)
	return r
}

// Executor is a fake dockercli.Executor scripted with rules. It is safe for
// concurrent use.
type Executor struct {
	mu    sync.Mutex
	rules []*Rule
	calls []Call
}

var _ dockercli.Executor = (*Executor)(nil)

// New returns an Executor with no rules.
func New() *Executor { return &Executor{} }

// On adds a rule for argv starting with prefix. Rules match in the order
// they were added.
func (e *Executor) On(prefix ...string) *Rule {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &Rule{prefix: prefix}
	e.rules = append(e.rules, r)
	return r
}

// Calls returns the argv of every Run so far, in order.
func (e *Executor) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.calls)
}

// Commands returns each call's argv joined by spaces, for compact asserts.
func (e *Executor) Commands() []string {
	var out []string
	for _, c := range e.Calls() {
		out = append(out, strings.Join(c.Args, " "))
	}
	return out
}

// Run answers cmd from the first matching rule.
func (e *Executor) Run(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
	call := Call{Args: slices.Clone(cmd.Args), Env: slices.Clone(cmd.Env)}
	if cmd.Stdin != nil {
		b, err := io.ReadAll(cmd.Stdin)
		if err != nil {
			return dockercli.Result{ExitCode: -1}, fmt.Errorf("fake executor: reading stdin: %w", err)
		}
		call.Stdin = string(b)
	}

	e.mu.Lock()
	e.calls = append(e.calls, call)
	var rule *Rule
	for _, r := range e.rules {
		if r.matches(cmd.Args) {
			r.used++
			rule = r
			break
		}
	}
	e.mu.Unlock()

	if err := ctx.Err(); err != nil {
		return dockercli.Result{ExitCode: -1}, err
	}
	if rule == nil {
		return dockercli.Result{ExitCode: -1}, fmt.Errorf("fake executor: no rule matches argv %q", cmd.Args)
	}

	if rule.delay > 0 {
		t := time.NewTimer(rule.delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return dockercli.Result{ExitCode: -1}, ctx.Err()
		case <-t.C:
		}
	}
	if rule.fn != nil {
		return rule.fn(ctx, cmd)
	}
	if rule.err != nil {
		return dockercli.Result{ExitCode: -1}, rule.err
	}

	res := dockercli.Result{ExitCode: rule.exitCode}
	if cmd.Stdout != nil {
		if _, err := io.WriteString(cmd.Stdout, rule.stdout); err != nil {
			return res, err
		}
	} else {
		res.Stdout = []byte(rule.stdout)
	}
	if cmd.Stderr != nil {
		if _, err := io.WriteString(cmd.Stderr, rule.stderr); err != nil {
			return res, err
		}
	} else {
		res.Stderr = []byte(rule.stderr)
	}
	return res, nil
}

// matches reports whether args fit the rule. Callers hold e.mu.
func (r *Rule) matches(args []string) bool {
	if r.times > 0 && r.used >= r.times {
		return false
	}
	if len(args) < len(r.prefix) || !slices.Equal(args[:len(r.prefix)], r.prefix) {
		return false
	}
	for _, w := range r.contains {
		if !slices.Contains(args, w) {
			return false
		}
	}
	return true
}
