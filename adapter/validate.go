package adapter

import (
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/kenv/kenv/dockercli"
)

// Image references follow the grammar of github.com/distribution/reference:
// an optional registry host with port, lowercase path components joined by
// '/', an optional tag of at most 128 characters and an optional digest.
var (
	domainComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	domainPart      = domainComponent + `(?:\.` + domainComponent + `)*(?::[0-9]+)?`
	pathComponent   = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	namePart        = `(?:` + domainPart + `/)?` + pathComponent + `(?:/` + pathComponent + `)*`
	tagPart         = `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
	digestPart      = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`

	imageRefPattern = regexp.MustCompile(`^` + namePart + `(?::` + tagPart + `)?(?:@` + digestPart + `)?$`)
	imageIDPattern  = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

var (
	envNamePattern    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	volumeNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	envIDPattern      = regexp.MustCompile(`^[a-z0-9]{4,64}$`)
	memoryPattern     = regexp.MustCompile(`(?i)^([0-9]+(?:\.[0-9]+)?) ?([kmgtp])?i?b?$`)
)

// minMemory is the smallest memory limit Docker accepts (6 MiB, checked by
// the daemon since Docker 1.x).
const minMemory = 6 << 20

// maxCPUs bounds --cpus before the value reaches the engine. The engine still rejects
// values above the host's CPU count.
const maxCPUs = 4096

// labelPrefix starts every label kenv sets itself; callers may not use it.
const labelPrefix = "kenv."

// validateImage checks an image reference or id.
func validateImage(op, image string) error {
	if image == "" {
		return invalid(op, "image", "image is empty; pass a reference such as debian:12")
	}
	if len(image) > 512 || !(imageRefPattern.MatchString(image) || imageIDPattern.MatchString(image)) {
		return invalid(op, "image", "invalid image reference %q; use a lowercase name with an optional :tag or @digest, such as debian:12", image)
	}
	nameEnd := len(image)
	if i := strings.IndexByte(image, '@'); i >= 0 {
		nameEnd = i
	}
	if nameEnd > 255 && !imageIDPattern.MatchString(image) {
		return invalid(op, "image", "invalid image reference %q: the name is longer than 255 characters", image)
	}
	return nil
}

// ParseMemory converts a memory size in docker's units ("512m", "1.5g",
// "1048576", "64MiB") to bytes. A bare number is bytes; k, m, g, t and p are
// powers of 1024.
func ParseMemory(s string) (int64, error) {
	m := memoryPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("invalid memory size %q; use a number with an optional b, k, m or g suffix, such as 512m", s)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("invalid memory size %q: %w", s, err)
	}
	mult := float64(1)
	switch strings.ToLower(m[2]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	case "t":
		mult = 1 << 40
	case "p":
		mult = 1 << 50
	}
	bytes := n * mult
	if bytes >= math.MaxInt64/2 {
		return 0, fmt.Errorf("invalid memory size %q: too large", s)
	}
	return int64(bytes), nil
}

// ParseCPUs converts a --cpus value ("0.5", "2") to a count of CPUs.
func ParseCPUs(s string) (float64, error) {
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("invalid CPU count %q; use a positive decimal number such as 0.5 or 2", s)
	}
	if n < 0.01 || n > maxCPUs {
		return 0, fmt.Errorf("invalid CPU count %q; use a number from 0.01 to %d", s, maxCPUs)
	}
	return n, nil
}

// maxArgLen is the longest single argument that Linux passes to a program
// (MAX_ARG_STRLEN, 32 pages of 4 KiB, less the terminating NUL). Every env
// entry and label reaches the engine client as one argument.
const maxArgLen = 32*4096 - 1

// validateEnv checks environment variable names and values. Error messages
// name the variable but never print its value.
func validateEnv(op string, env map[string]string) error {
	for _, name := range sortedKeys(env) {
		if !envNamePattern.MatchString(name) {
			return invalid(op, "env", "invalid environment variable name %q; use letters, digits, '_', '.' and '-', starting with a letter or '_'", name)
		}
		if strings.IndexByte(env[name], 0) >= 0 {
			return invalid(op, "env", "environment variable %s has a NUL byte in its value, which no process can receive", name)
		}
		if n := len(name) + 1 + len(env[name]); n > maxArgLen {
			return invalid(op, "env", "environment variable %s is %d bytes long with its name; the engine client takes at most %d bytes per argument, so pass large data in a file or on stdin", name, n, maxArgLen)
		}
	}
	return nil
}

// validateArgs rejects arguments that no process can receive: with a NUL
// byte, or longer than maxArgLen.
func validateArgs(op, field string, args []string) error {
	for i, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			return invalid(op, field, "argument %d, %q, contains a NUL byte, which no process can receive", i, shorten(a, 64))
		}
		if len(a) > maxArgLen {
			return invalid(op, field, "argument %d is %d bytes long; a process takes at most %d bytes per argument, so pass large data in a file or on stdin", i, len(a), maxArgLen)
		}
	}
	return nil
}

// validateTarget checks a mount target inside the container.
func validateTarget(op, target string) error {
	switch {
	case target == "":
		return invalid(op, "mount", "mount target is empty; use an absolute path such as /data")
	case !path.IsAbs(target):
		return invalid(op, "mount", "mount target %q is not absolute; use a path starting with /", target)
	case path.Clean(target) == "/":
		return invalid(op, "mount", "mount target %q would cover the whole filesystem; use a directory below /", target)
	case strings.ContainsAny(target, ",\"\n\x00"):
		return invalid(op, "mount", "mount target %q contains a comma, quote, newline or NUL, which docker's --mount cannot carry", target)
	}
	return nil
}

// engineSocketPaths are the usual places of Docker's and Podman's API
// sockets, plus the unix sockets that DOCKER_HOST and CONTAINER_HOST name in
// kenv's environment or in clientEnv, the environment the engine client runs
// with. A bind mount of one of them, or of a folder holding one, gives the
// environment control of the host's engine.
func engineSocketPaths(clientEnv []string) []string {
	paths := []string{
		"/var/run/docker.sock", "/run/docker.sock",
		"/run/podman/podman.sock", "/var/run/podman/podman.sock",
		"/run/containerd/containerd.sock",
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		paths = append(paths, path.Join(dir, "docker.sock"), path.Join(dir, "podman", "podman.sock"))
	}
	hosts := []string{os.Getenv("DOCKER_HOST"), os.Getenv("CONTAINER_HOST")}
	for _, kv := range clientEnv {
		if name, value, ok := strings.Cut(kv, "="); ok && (name == "DOCKER_HOST" || name == "CONTAINER_HOST") {
			hosts = append(hosts, value)
		}
	}
	for _, host := range hosts {
		if sock, ok := strings.CutPrefix(host, "unix://"); ok && sock != "" {
			paths = append(paths, path.Clean(sock))
		}
	}
	return paths
}

// exposesEngineSocket reports whether a bind of source reaches an engine
// socket: the socket itself or any folder above it. Symbolic links in source
// are resolved first, when source exists on this host.
//
// NOTE: with a remote daemon, bind sources name paths on the daemon's host,
// which kenv cannot resolve; there only the path as written is checked.
func exposesEngineSocket(source string, clientEnv []string) bool {
	candidates := []string{path.Clean(source)}
	if resolved, err := filepath.EvalSymlinks(source); err == nil {
		candidates = append(candidates, resolved)
	}
	sockets := engineSocketPaths(clientEnv)
	for _, sock := range sockets {
		if resolved, err := filepath.EvalSymlinks(sock); err == nil {
			sockets = append(sockets, resolved)
		}
	}
	for _, src := range candidates {
		for _, sock := range sockets {
			if src == sock || src == "/" || strings.HasPrefix(sock, src+"/") {
				return true
			}
		}
	}
	return false
}

// validateLabels checks caller labels and rejects kenv's reserved prefix.
func validateLabels(op string, labels map[string]string) error {
	for _, k := range sortedKeys(labels) {
		switch {
		case k == "":
			return invalid(op, "label", "label key is empty; use a key such as team=search")
		case strings.HasPrefix(k, labelPrefix):
			return invalid(op, "label", "label key %q uses the prefix %q, which kenv reserves for its own labels; choose another key", k, labelPrefix)
		case strings.ContainsAny(k, "=\n\x00") || strings.TrimSpace(k) != k:
			return invalid(op, "label", "invalid label key %q; keys cannot contain '=', newlines, NUL or surrounding spaces", k)
		case strings.ContainsAny(labels[k], "\n\x00"):
			return invalid(op, "label", "label %q has a newline or NUL in its value", k)
		case len(k)+1+len(labels[k]) > maxArgLen:
			return invalid(op, "label", "label %q is %d bytes long; the engine client takes at most %d bytes per argument", k, len(k)+1+len(labels[k]), maxArgLen)
		}
	}
	return nil
}

// ValidateEnvID checks that id has the form of an environment id: 4 to 64
// lowercase letters and digits. Every operation checks its id this way
// before anything reaches the engine, so a value such as "--rm" is never
// read as a flag; callers that take several ids can check them all first.
func ValidateEnvID(id string) error {
	return validateEnvID("validate", id)
}

// validateEnvID is ValidateEnvID for the operation op.
func validateEnvID(op, id string) error {
	if !envIDPattern.MatchString(id) {
		return &Error{
			Code:    CodeInvalidConfig,
			Op:      op,
			EnvID:   "",
			Message: fmt.Sprintf("invalid environment id %q; ids are 4 to 64 lowercase letters and digits, as printed by provision", id),
			Meta:    map[string]string{"field": "env_id"},
		}
	}
	return nil
}

// runPlan is a validated EnvConfig ready for the engine.
type runPlan struct {
	image   string
	pull    PullPolicy
	cpus    string
	memory  string
	env     []string
	secrets []string
	volumes []VolumeMount
	binds   []BindMount
	command []string
}

// defaultCommand keeps an environment's main process alive without doing
// anything. Busybox, coreutils and most base images have sleep.
var defaultCommand = []string{"sleep", "infinity"}

// planProvision validates cfg completely before anything reaches the engine.
// clientEnv is the environment the engine client runs with, nil for kenv's
// own.
func planProvision(cfg EnvConfig, clientEnv []string) (runPlan, error) {
	const op = "provision"

	if len(cfg.AllowedHosts) > 0 || len(cfg.AllowedPorts) > 0 {
		return runPlan{}, &Error{
			Code:    CodeUnsupportedNetworkPolicy,
			Op:      op,
			Message: "egress allow-lists (AllowedHosts, AllowedPorts) are not supported yet; use NoInternet to cut the network, or leave both lists empty",
		}
	}

	if err := validateImage(op, cfg.Image); err != nil {
		return runPlan{}, err
	}
	plan := runPlan{image: cfg.Image, pull: cfg.PullPolicy}

	switch cfg.PullPolicy {
	case "":
		plan.pull = PullMissing
	case PullMissing, PullAlways, PullNever:
	default:
		return runPlan{}, invalid(op, "pull_policy", "invalid pull policy %q; use missing, always or never", cfg.PullPolicy)
	}

	if cfg.CPUs != "" {
		n, err := ParseCPUs(cfg.CPUs)
		if err != nil {
			return runPlan{}, invalid(op, "cpus", "%v", err)
		}
		plan.cpus = strconv.FormatFloat(n, 'f', -1, 64)
	}

	if cfg.Memory != "" {
		n, err := ParseMemory(cfg.Memory)
		if err != nil {
			return runPlan{}, invalid(op, "memory", "%v", err)
		}
		if n < minMemory {
			return runPlan{}, invalid(op, "memory", "memory limit %q is below the engine's minimum of 6m; use 6m or more", cfg.Memory)
		}
		plan.memory = strconv.FormatInt(n, 10)
	}

	if err := validateEnv(op, cfg.Env); err != nil {
		return runPlan{}, err
	}
	for _, name := range sortedKeys(cfg.Env) {
		plan.env = append(plan.env, name+"="+cfg.Env[name])
		plan.secrets = append(plan.secrets, cfg.Env[name])
	}

	if err := validateLabels(op, cfg.Labels); err != nil {
		return runPlan{}, err
	}

	targets := map[string]bool{}
	claim := func(target string) error {
		if err := validateTarget(op, target); err != nil {
			return err
		}
		clean := path.Clean(target)
		if targets[clean] {
			return invalid(op, "mount", "mount target %q is used twice; give each mount its own target", target)
		}
		targets[clean] = true
		return nil
	}

	names := map[string]bool{}
	for _, v := range cfg.Volumes {
		if !volumeNamePattern.MatchString(v.Name) {
			return runPlan{}, invalid(op, "volume", "invalid volume name %q; use 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit", v.Name)
		}
		if names[v.Name] {
			return runPlan{}, invalid(op, "volume", "volume name %q is used twice; give each volume its own name", v.Name)
		}
		names[v.Name] = true
		if err := claim(v.Target); err != nil {
			return runPlan{}, err
		}
		plan.volumes = append(plan.volumes, VolumeMount{Name: v.Name, Target: path.Clean(v.Target), ReadOnly: v.ReadOnly})
	}

	for _, b := range cfg.Binds {
		switch {
		case b.Source == "":
			return runPlan{}, invalid(op, "bind", "bind source is empty; use an absolute host path")
		case !path.IsAbs(b.Source):
			return runPlan{}, invalid(op, "bind", "bind source %q is not absolute; use a path starting with /", b.Source)
		case strings.ContainsAny(b.Source, ",\"\n\x00"):
			return runPlan{}, invalid(op, "bind", "bind source %q contains a comma, quote, newline or NUL, which docker's --mount cannot carry", b.Source)
		case !cfg.AllowEngineSocket && exposesEngineSocket(b.Source, clientEnv):
			return runPlan{}, invalid(op, "bind", "bind source %q exposes the container engine's socket, which gives the environment control of the host; set AllowEngineSocket to allow it", b.Source)
		}
		if err := claim(b.Target); err != nil {
			return runPlan{}, err
		}
		plan.binds = append(plan.binds, BindMount{Source: path.Clean(b.Source), Target: path.Clean(b.Target), ReadOnly: b.ReadOnly})
	}

	if o := cfg.Owner; o != nil {
		if o.PID <= 0 || o.Host == "" || o.Start == "" || strings.ContainsAny(o.Host+o.Start, "\n\x00") {
			return runPlan{}, invalid(op, "owner", "invalid owner %+v; build it with ProcessOwner", *o)
		}
	}

	plan.command = defaultCommand
	if len(cfg.Command) > 0 {
		if cfg.Command[0] == "" {
			return runPlan{}, invalid(op, "command", "command is set but its first element is empty; give the program to run")
		}
		if err := validateArgs(op, "command", cfg.Command); err != nil {
			return runPlan{}, err
		}
		plan.command = cfg.Command
	}
	return plan, nil
}

// mounts renders the plan's volumes and binds for dockercli.
func (p runPlan) mounts(envID string) []dockercli.Mount {
	var out []dockercli.Mount
	for _, v := range p.volumes {
		out = append(out, dockercli.Mount{Type: "volume", Source: volumeName(envID, v.Name), Target: v.Target, ReadOnly: v.ReadOnly})
	}
	for _, b := range p.binds {
		out = append(out, dockercli.Mount{Type: "bind", Source: b.Source, Target: b.Target, ReadOnly: b.ReadOnly})
	}
	return out
}

// validateExec checks an ExecRequest and returns the argv to run.
func validateExec(envID string, req ExecRequest) ([]string, error) {
	const op = "exec"
	if err := validateEnvID(op, envID); err != nil {
		return nil, err
	}

	argv := req.Argv
	switch {
	case req.Shell != "" && len(req.Argv) > 0:
		return nil, invalid(op, "argv", "both Argv and Shell are set; set one of them")
	case req.Shell != "":
		// The "--" keeps a script that starts with '-' from being read as
		// options of sh.
		argv = []string{"sh", "-c", "--", req.Shell}
	case len(argv) == 0:
		return nil, invalid(op, "argv", "the command is empty; set Argv or Shell")
	case argv[0] == "":
		return nil, invalid(op, "argv", "the program name (Argv[0]) is empty")
	}
	if err := validateArgs(op, "argv", argv); err != nil {
		return nil, err
	}

	if req.WorkDir != "" && !path.IsAbs(req.WorkDir) {
		return nil, invalid(op, "workdir", "working directory %q is not absolute; use a path starting with /", req.WorkDir)
	}
	if strings.ContainsAny(req.User, "\n\x00") {
		return nil, invalid(op, "user", "invalid user %q", req.User)
	}
	if err := validateEnv(op, req.Env); err != nil {
		return nil, err
	}
	if req.Timeout < 0 {
		return nil, invalid(op, "timeout", "timeout %s is negative; use a positive duration or zero for none", req.Timeout)
	}
	return argv, nil
}

// snapshotNamePattern accepts snapshot names used as tags unchanged.
var snapshotNamePattern = regexp.MustCompile(`^[a-z0-9_][a-z0-9_.-]{0,127}$`)

// validateSnapshotName rejects snapshot names longer than 1024 bytes or with
// control characters. Any other name maps to a valid tag by SnapshotRef.
func validateSnapshotName(name string) error {
	if len(name) > 1024 {
		return invalid("snapshot", "name", "snapshot name is %d bytes long; use at most 1024", len(name))
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return invalid("snapshot", "name", "snapshot name %q contains a control character", name)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// shorten cuts s to at most n bytes for an error message.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
