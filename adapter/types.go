package adapter

import (
	"context"
	"io"
	"iter"
	"time"
)

// InfraAdapter is the contract kenv offers to orchestrators: a disposable,
// isolated environment per task, driven through five operations. Every
// operation honours ctx: when it ends, the engine processes started for the
// call are killed and the call returns an error wrapping ctx.Err().
type InfraAdapter interface {
	// Provision creates and starts an environment. On failure it removes
	// whatever it created, so a failed call leaves nothing behind.
	Provision(ctx context.Context, cfg EnvConfig) (Environment, error)

	// Exec runs one command in a running environment and waits for it.
	Exec(ctx context.Context, envID string, req ExecRequest) (ExecResult, error)

	// StreamLogs yields the environment's main-process log entries in
	// timestamp order. Stopping the iteration ends the engine client.
	StreamLogs(ctx context.Context, envID string, opts LogOptions) iter.Seq2[LogEntry, error]

	// Snapshot commits the environment's filesystem to an image.
	Snapshot(ctx context.Context, envID string, opts SnapshotOptions) (Snapshot, error)

	// Destroy removes the environment's container and volumes. It succeeds
	// when the environment is already gone.
	Destroy(ctx context.Context, envID string) error
}

// State is an environment's canonical lifecycle state, the same words for
// every engine.
type State string

// The canonical states. Engine-specific words (Podman's "stopped",
// "configured" and others) are mapped onto these.
const (
	StateCreated State = "created"
	StateRunning State = "running"
	StatePaused  State = "paused"
	StateExited  State = "exited"
	StateDead    State = "dead"
	StateUnknown State = "unknown"
)

// PullPolicy selects when Provision pulls the image.
type PullPolicy string

// The pull policies, with the meaning of docker's --pull flag.
const (
	PullMissing PullPolicy = "missing" // pull only when the image is not present; the default
	PullAlways  PullPolicy = "always"
	PullNever   PullPolicy = "never"
)

// EnvConfig is the configuration Provision creates an environment from.
type EnvConfig struct {
	// Image is the image reference, such as "debian:12" or a snapshot
	// reference returned by Snapshot.
	Image string `json:"image"`

	// PullPolicy defaults to PullMissing.
	PullPolicy PullPolicy `json:"pull_policy,omitempty"`

	// CPUs is the number of CPUs, as docker's --cpus takes it ("0.5", "2").
	// Empty means no limit.
	CPUs string `json:"cpus,omitempty"`

	// Memory is the memory limit in docker's units: a number with an
	// optional b, k, m or g suffix ("512m", "1g"). Empty means no limit.
	Memory string `json:"memory,omitempty"`

	// Env is set in the environment's main process and in every Exec.
	// Values never appear in kenv's errors or logs.
	Env map[string]string `json:"-"`

	// Volumes are named volumes created for this environment and removed by
	// Destroy.
	Volumes []VolumeMount `json:"volumes,omitempty"`

	// Binds mount host paths into the environment. They are never removed.
	Binds []BindMount `json:"binds,omitempty"`

	// NoInternet runs the environment with no network interface but
	// loopback (--network none). The default is the engine's default
	// network, which reaches the internet where the host does.
	NoInternet bool `json:"no_internet,omitempty"`

	// AllowedHosts and AllowedPorts would restrict egress to a list. Neither
	// is supported yet: any value gives ErrUnsupportedNetworkPolicy.
	AllowedHosts []string `json:"allowed_hosts,omitempty"`
	AllowedPorts []int    `json:"allowed_ports,omitempty"`

	// Labels are added to the container. Keys starting with "kenv." are
	// reserved for kenv's own labels.
	Labels map[string]string `json:"labels,omitempty"`

	// Command is the environment's main process, given as argv. It replaces
	// the image's entrypoint and command. The default, ["sleep", "infinity"],
	// needs a sleep binary in the image.
	Command []string `json:"command,omitempty"`

	// Owner, when set, is recorded in the environment's labels as its owner.
	// When nil, the adapter records the calling process unless
	// Options.NoOwner is set. GC with Orphans removes environments whose
	// owner has exited.
	Owner *Owner `json:"owner,omitempty"`

	// AllowEngineSocket permits a bind mount of the engine's own socket,
	// which hands the environment control of the host's engine.
	AllowEngineSocket bool `json:"allow_engine_socket,omitempty"`
}

// VolumeMount mounts a named volume created for the environment.
type VolumeMount struct {
	// Name is the volume's short name, unique within the environment:
	// letters, digits, '_', '.' and '-', starting with a letter or digit.
	Name     string `json:"name"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only,omitempty"`
}

// BindMount mounts a host path into the environment.
type BindMount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only,omitempty"`
}

// Environment describes a provisioned environment.
type Environment struct {
	ID          string            `json:"id"`
	ContainerID string            `json:"container_id"`
	Name        string            `json:"name"`
	Image       string            `json:"image"`
	State       State             `json:"state"`
	CreatedAt   time.Time         `json:"created_at"`
	Labels      map[string]string `json:"labels,omitempty"`
	Volumes     []string          `json:"volumes,omitempty"`
	ExitCode    int               `json:"exit_code"`
	OOMKilled   bool              `json:"oom_killed,omitempty"`
}

// ExecRequest is one command to run in an environment.
type ExecRequest struct {
	// Argv is the command and its arguments, passed verbatim: nothing is
	// split, quoted or expanded.
	Argv []string

	// Shell, when set, runs this string with `sh -c -- SCRIPT` instead of
	// Argv.
	Shell string

	// Stdin, when set, is copied to the command's standard input.
	Stdin io.Reader

	WorkDir string
	User    string

	// Env is added to the command's environment. Values never appear in
	// kenv's errors or logs.
	Env map[string]string

	// Timeout, when positive, bounds the command's run time. When it passes,
	// the command and every process it started are killed inside the
	// environment and Exec returns ErrExecTimeout.
	Timeout time.Duration

	// Stdout and Stderr, when set, receive the command's output as it
	// arrives, all of it, while ExecResult keeps the capped copy. A writer
	// that blocks holds up the command; one that fails ends the exec with
	// an EXEC_FAILED error.
	Stdout io.Writer
	Stderr io.Writer

	// MaxOutputBytes caps how much of each stream is kept. The head and the
	// tail are kept and the middle is dropped. Zero means DefaultMaxOutput;
	// a negative value keeps everything.
	MaxOutputBytes int
}

// DefaultMaxOutput is the per-stream cap when ExecRequest.MaxOutputBytes is
// zero: 1 MiB.
const DefaultMaxOutput = 1 << 20

// ExecResult is the outcome of a finished command.
type ExecResult struct {
	ExitCode int       `json:"exit_code"`
	Stdout   []byte    `json:"stdout"`
	Stderr   []byte    `json:"stderr"`
	Started  time.Time `json:"started_at"`
	Finished time.Time `json:"finished_at"`

	StdoutTruncated bool  `json:"stdout_truncated"`
	StdoutDropped   int64 `json:"stdout_dropped_bytes"`
	StderrTruncated bool  `json:"stderr_truncated"`
	StderrDropped   int64 `json:"stderr_dropped_bytes"`

	// OOMKilled is set when the command died of SIGKILL (exit code 137) and
	// the environment's memory cgroup counts an out-of-memory kill, so the
	// memory limit is the likely cause. The counter covers the environment's
	// whole life, not this command alone.
	OOMKilled bool `json:"oom_killed,omitempty"`
}

// LogSource names the stream a log entry came from.
type LogSource string

// The two log sources.
const (
	SourceStdout LogSource = "stdout"
	SourceStderr LogSource = "stderr"
)

// LogEntry is one line of an environment's main-process output.
type LogEntry struct {
	Time    time.Time `json:"time"`
	Source  LogSource `json:"source"`
	Message string    `json:"message"`
}

// LogOptions selects which log entries StreamLogs yields.
type LogOptions struct {
	// Follow keeps the stream open for new entries until ctx ends, the
	// consumer stops, or the environment's main process exits.
	Follow bool

	// Since and Until take docker's forms: a duration relative to now
	// ("10m") or a timestamp. Empty means unbounded.
	Since string
	Until string

	// Tail, when positive, starts from the last Tail entries. Zero or
	// negative means all entries.
	Tail int

	// NewOnly skips every entry written before the call, as docker's
	// --tail 0 does; with Follow it yields only new entries. It overrides
	// Tail.
	NewOnly bool
}

// SnapshotOptions names a snapshot.
type SnapshotOptions struct {
	// Name distinguishes the snapshots of one environment. Empty means "latest".
	// The same environment and name always give the same reference; see
	// SnapshotRef for the rule.
	Name string
}

// Snapshot is an image committed from an environment.
type Snapshot struct {
	EnvID     string    `json:"env_id"`
	Name      string    `json:"name"`
	Ref       string    `json:"ref"`
	ImageID   string    `json:"image_id"`
	CreatedAt time.Time `json:"created_at"`
}
