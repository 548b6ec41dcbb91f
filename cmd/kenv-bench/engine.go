package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/kenv/kenv/adapter"
	"github.com/kenv/kenv/dockercli"
)

// runLabel is the label key that marks everything one driver run creates;
// its value is the run id. kenv reserves the "kenv." prefix for itself, so
// the driver uses its own.
const runLabel = "kenv-bench.run"

// randomHex returns 2n random hex digits, which are valid in container,
// volume and image names.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// engineCall is one engine client process that kenv ran.
type engineCall struct {
	name       string // the subcommand, such as "image inspect"
	start, end time.Time
}

// countingExecutor runs kenv's engine calls through inner and records each
// one, so that the report can show how many processes an operation starts and
// how long each took.
type countingExecutor struct {
	inner dockercli.Executor

	mu    sync.Mutex
	calls []engineCall
	total int
}

func (c *countingExecutor) Run(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
	start := time.Now()
	res, err := c.inner.Run(ctx, cmd)
	end := time.Now()

	c.mu.Lock()
	c.calls = append(c.calls, engineCall{name: subcommand(cmd.Args), start: start, end: end})
	c.total++
	c.mu.Unlock()
	return res, err
}

// take returns the calls recorded since the last take and clears them.
func (c *countingExecutor) take() []engineCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

// count returns how many calls ran since the executor was created.
func (c *countingExecutor) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// subcommand names an engine command by its leading words: two for the
// management commands such as image and volume, one otherwise.
func subcommand(args []string) string {
	if len(args) == 0 {
		return "(none)"
	}
	switch args[0] {
	case "image", "volume", "container", "network", "system":
		if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
			return args[0] + " " + args[1]
		}
	}
	return args[0]
}

// bareClient runs the engine client directly, as a program without kenv
// would: os/exec with the output captured in memory. It records the wall
// and CPU time of each process by subcommand.
type bareClient struct {
	binary string

	mu    sync.Mutex
	costs map[string]*processCost
}

// processCost is the wall and CPU times (user plus system) of the client
// processes of one subcommand.
type processCost struct {
	wall, cpu samples
}

// run runs the client with args and returns its standard output. A non-zero
// exit status is an error that carries the client's standard error.
func (b *bareClient) run(ctx context.Context, args ...string) ([]byte, error) {
	var stdout bytes.Buffer
	err := b.runTo(ctx, &stdout, args...)
	return stdout.Bytes(), err
}

// runTo is run with the standard output going to w.
func (b *bareClient) runTo(ctx context.Context, w io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, b.binary, args...)
	var stderr bytes.Buffer
	cmd.Stdout = w
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	if cmd.ProcessState != nil {
		b.record(subcommand(args), time.Since(start), cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	if err != nil {
		return fmt.Errorf("%s %s failed: %w: %s", b.binary, subcommand(args), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func (b *bareClient) record(name string, wall, cpu time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.costs == nil {
		b.costs = map[string]*processCost{}
	}
	c := b.costs[name]
	if c == nil {
		c = &processCost{}
		b.costs[name] = c
	}
	c.wall = append(c.wall, wall)
	c.cpu = append(c.cpu, cpu)
}

// takeCosts returns the costs recorded so far and clears them.
func (b *bareClient) takeCosts() map[string]*processCost {
	b.mu.Lock()
	defer b.mu.Unlock()
	costs := b.costs
	b.costs = nil
	return costs
}

// timed runs f and returns how long it took.
func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

// resources keeps what one run created, so that cleanup can remove it.
// Bare containers, bare volumes and every image carry runLabel, but kenv's
// volumes carry only kenv's labels, so kenv environments are tracked by id.
type resources struct {
	mu     sync.Mutex
	envIDs map[string]bool // kenv environments not yet destroyed
	images map[string]bool // image references committed by either side
}

func newResources() *resources {
	return &resources{envIDs: map[string]bool{}, images: map[string]bool{}}
}

func (r *resources) addEnv(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.envIDs[id] = true
}

func (r *resources) removeEnv(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.envIDs, id)
}

func (r *resources) addImage(ref string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.images[ref] = true
}

// cleanupTimeout bounds the removal of everything a run created.
const cleanupTimeout = 5 * time.Minute

// cleanup destroys the kenv environments still tracked, then removes every
// container, volume and image that carries the run's label, and the tracked
// image references. It runs under its own deadline, so it also works after
// ctx has ended. It logs each failure to stderr and returns them all in one
// error.
func (s *suite) cleanup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()

	var failures []string
	fail := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		failures = append(failures, msg)
		fmt.Fprintf(s.stderr, "kenv-bench: cleanup: %s\n", msg)
	}

	s.res.mu.Lock()
	envIDs := sortedKeys(s.res.envIDs)
	images := sortedKeys(s.res.images)
	s.res.mu.Unlock()

	for _, id := range envIDs {
		if err := s.kenv.Destroy(ctx, id); err != nil {
			fail("destroying kenv environment %s failed: %v", id, err)
			continue
		}
		s.res.removeEnv(id)
	}

	filter := "label=" + runLabel + "=" + s.runID
	if out, err := s.bare.run(ctx, "ps", "--all", "--quiet", "--filter", filter); err != nil {
		fail("listing containers failed: %v", err)
	} else if ids := strings.Fields(string(out)); len(ids) > 0 {
		if _, err := s.bare.run(ctx, append([]string{"rm", "--force", "--volumes"}, ids...)...); err != nil {
			fail("removing containers %s failed: %v", strings.Join(ids, " "), err)
		}
	}

	if out, err := s.bare.run(ctx, "volume", "ls", "--quiet", "--filter", filter); err != nil {
		fail("listing volumes failed: %v", err)
	} else if names := strings.Fields(string(out)); len(names) > 0 {
		if _, err := s.bare.run(ctx, append([]string{"volume", "rm"}, names...)...); err != nil {
			fail("removing volumes %s failed: %v", strings.Join(names, " "), err)
		}
	}

	// A commit copies the container's labels into the image, so every
	// snapshot carries the run label. The tracked references also catch an
	// engine that does not copy them.
	out, err := s.bare.run(ctx, "image", "ls", "--quiet", "--no-trunc", "--filter", filter)
	if err != nil {
		fail("listing images failed: %v", err)
	}
	targets := append(images, strings.Fields(string(out))...)
	ids := map[string]bool{}
	for _, ref := range targets {
		// A reference that is gone already needs no removal.
		if id, err := s.bare.run(ctx, "image", "inspect", "--format", "{{.Id}}", ref); err == nil {
			ids[strings.TrimSpace(string(id))] = true
		}
	}
	if len(ids) > 0 {
		// Removing by id removes every tag of the image.
		present := sortedKeys(ids)
		if _, err := s.bare.run(ctx, append([]string{"image", "rm", "--force"}, present...)...); err != nil {
			fail("removing images %s failed: %v", strings.Join(present, " "), err)
		}
	}

	if len(failures) > 0 {
		return fmt.Errorf("cleanup left resources behind; remove them with `kenv gc` and by the label %s=%s: %s", runLabel, s.runID, strings.Join(failures, "; "))
	}
	return nil
}

// newAdapter returns an adapter for engine that records its engine calls.
func newAdapter(engine string) (*adapter.Docker, *countingExecutor, error) {
	counter := &countingExecutor{inner: &dockercli.OSExecutor{Binary: engine}}
	d, err := adapter.New(adapter.Options{Engine: engine, Executor: counter})
	if err != nil {
		return nil, nil, err
	}
	return d, counter, nil
}

// progress prints one line of progress to stderr.
func (s *suite) progress(format string, args ...any) {
	fmt.Fprintf(s.stderr, "kenv-bench: "+format+"\n", args...)
}

// executable returns the path of the running driver, for the child runs.
func executable() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the driver's own binary for the child runs failed: %w", err)
	}
	return path, nil
}
