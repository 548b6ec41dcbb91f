package dockercli

import (
	"sort"
	"strconv"
	"strings"
)

// Mount is one --mount entry of a container.
type Mount struct {
	Type     string // "volume" or "bind"
	Source   string // volume name or absolute host path
	Target   string // absolute path inside the container
	ReadOnly bool
}

// RunSpec describes a detached container for RunArgs. Callers validate the
// values first: the builders quote nothing, because no shell reads the argv.
type RunSpec struct {
	Name        string
	Image       string
	Labels      map[string]string
	Env         []string // NAME=VALUE entries
	CPUs        string   // docker's --cpus value, such as "0.5"; empty for no limit
	Memory      string   // docker's --memory value, such as "512m"; empty for no limit
	NetworkNone bool     // run with --network none
	Mounts      []Mount
	Init        bool     // run an init process as PID 1 (--init)
	Pull        string   // --pull policy: "missing", "always", "never"; empty omits the flag
	Command     []string // entrypoint and its arguments; empty keeps the image's own
}

// RunArgs builds `run --detach ...` for spec. Command[0] becomes --entrypoint
// and the rest follow the image, so the image's own entrypoint cannot wrap it.
func RunArgs(spec RunSpec) []string {
	args := []string{"run", "--detach", "--name", spec.Name}
	args = appendLabels(args, spec.Labels)
	for _, kv := range spec.Env {
		args = append(args, "--env", kv)
	}
	if spec.CPUs != "" {
		args = append(args, "--cpus", spec.CPUs)
	}
	if spec.Memory != "" {
		args = append(args, "--memory", spec.Memory)
	}
	if spec.NetworkNone {
		args = append(args, "--network", "none")
	}
	for _, m := range spec.Mounts {
		args = append(args, "--mount", mountValue(m))
	}
	if spec.Init {
		args = append(args, "--init")
	}
	if spec.Pull != "" {
		args = append(args, "--pull", spec.Pull)
	}
	if len(spec.Command) > 0 {
		args = append(args, "--entrypoint", spec.Command[0])
	}
	args = append(args, spec.Image)
	if len(spec.Command) > 1 {
		args = append(args, spec.Command[1:]...)
	}
	return args
}

// mountValue renders the comma-separated --mount value. Callers reject
// sources and targets that contain a comma or a double quote.
func mountValue(m Mount) string {
	v := "type=" + m.Type + ",source=" + m.Source + ",target=" + m.Target
	if m.ReadOnly {
		v += ",readonly"
	}
	return v
}

// ExecSpec describes one `exec` in a running container.
type ExecSpec struct {
	Container   string
	Argv        []string
	Interactive bool // keep stdin open (-i)
	User        string
	WorkDir     string
	Env         []string // NAME=VALUE entries
}

// ExecArgs builds `exec ...` for spec. It never allocates a TTY. The argv
// follows the container name untouched, so a "--" or a leading dash in it
// reaches the command as it is.
func ExecArgs(spec ExecSpec) []string {
	args := []string{"exec"}
	if spec.Interactive {
		args = append(args, "--interactive")
	}
	if spec.User != "" {
		args = append(args, "--user", spec.User)
	}
	if spec.WorkDir != "" {
		args = append(args, "--workdir", spec.WorkDir)
	}
	for _, kv := range spec.Env {
		args = append(args, "--env", kv)
	}
	args = append(args, spec.Container)
	return append(args, spec.Argv...)
}

// LogsSpec describes one `logs` call.
type LogsSpec struct {
	Container string
	Follow    bool
	Since     string // docker's --since value: a duration such as "10m" or a timestamp
	Until     string
	Tail      int // lines from the end; negative means all
}

// LogsArgs builds `logs --timestamps ...` for spec.
func LogsArgs(spec LogsSpec) []string {
	args := []string{"logs", "--timestamps"}
	if spec.Follow {
		args = append(args, "--follow")
	}
	if spec.Since != "" {
		args = append(args, "--since", spec.Since)
	}
	if spec.Until != "" {
		args = append(args, "--until", spec.Until)
	}
	if spec.Tail >= 0 {
		args = append(args, "--tail", strconv.Itoa(spec.Tail))
	}
	return append(args, spec.Container)
}

// CommitArgs builds `commit` of container into ref, setting each label with
// a LABEL instruction and each NAME=VALUE entry of env with an ENV
// instruction. The container is paused while its filesystem is copied.
// Values are written as Go quoted strings, which the Dockerfile parser reads
// back for printable ASCII.
func CommitArgs(container, ref string, labels map[string]string, env []string) []string {
	args := []string{"commit", "--pause=true"}
	for _, k := range sortedKeys(labels) {
		args = append(args, "--change", "LABEL "+strconv.Quote(k)+"="+strconv.Quote(labels[k]))
	}
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		args = append(args, "--change", "ENV "+name+"="+strconv.Quote(value))
	}
	return append(args, container, ref)
}

// RemoveContainersArgs builds `rm --force --volumes` for the containers. The
// --volumes flag removes anonymous volumes only: named volumes stay.
func RemoveContainersArgs(containers ...string) []string {
	return append([]string{"rm", "--force", "--volumes"}, containers...)
}

// ContainerInspectArgs builds `container inspect` for one or more containers.
func ContainerInspectArgs(containers ...string) []string {
	return append([]string{"container", "inspect"}, containers...)
}

// ImageInspectArgs builds `image inspect` for one or more images.
func ImageInspectArgs(images ...string) []string {
	return append([]string{"image", "inspect"}, images...)
}

// RemoveImagesArgs builds `image rm` for one or more images.
func RemoveImagesArgs(images ...string) []string {
	return append([]string{"image", "rm"}, images...)
}

// PullArgs builds `pull`. Quiet drops the progress bars, for output that is
// not a terminal.
func PullArgs(image string, quiet bool) []string {
	if quiet {
		return []string{"pull", "--quiet", image}
	}
	return []string{"pull", image}
}

// VolumeCreateArgs builds `volume create` of a named volume with labels.
func VolumeCreateArgs(name string, labels map[string]string) []string {
	args := appendLabels([]string{"volume", "create"}, labels)
	return append(args, name)
}

// VolumeListArgs builds `volume ls --quiet` filtered by label selectors, each
// either "key" or "key=value".
func VolumeListArgs(labelFilters ...string) []string {
	args := []string{"volume", "ls", "--quiet"}
	return appendFilters(args, labelFilters)
}

// VolumeInspectArgs builds `volume inspect` for the volumes.
func VolumeInspectArgs(volumes ...string) []string {
	return append([]string{"volume", "inspect"}, volumes...)
}

// VolumeRemoveArgs builds `volume rm` for the volumes. It leaves out
// --force on purpose: Podman's --force also removes the containers that use
// a volume.
func VolumeRemoveArgs(volumes ...string) []string {
	return append([]string{"volume", "rm"}, volumes...)
}

// ContainerListArgs builds `ps --all --quiet --no-trunc` filtered by label
// selectors, each either "key" or "key=value".
func ContainerListArgs(labelFilters ...string) []string {
	args := []string{"ps", "--all", "--quiet", "--no-trunc"}
	return appendFilters(args, labelFilters)
}

// ImageListArgs builds `image ls --quiet --no-trunc` filtered by label
// selectors.
func ImageListArgs(labelFilters ...string) []string {
	args := []string{"image", "ls", "--quiet", "--no-trunc"}
	return appendFilters(args, labelFilters)
}

// VersionArgs builds `version` with JSON output. Docker and Podman both
// accept the Go template form.
func VersionArgs() []string {
	return []string{"version", "--format", "{{json .}}"}
}

func appendLabels(args []string, labels map[string]string) []string {
	for _, k := range sortedKeys(labels) {
		args = append(args, "--label", k+"="+labels[k])
	}
	return args
}

func appendFilters(args []string, labelFilters []string) []string {
	for _, f := range labelFilters {
		args = append(args, "--filter", "label="+f)
	}
	return args
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CommandName names an engine command by its leading subcommand words, at
// most two ("container inspect"), for messages. It stops at the first flag,
// so it never includes environment values or user data.
func CommandName(args []string) string {
	var words []string
	for _, a := range args {
		if a == "" || strings.HasPrefix(a, "-") || len(words) == 2 {
			break
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}
