package adapter

import (
	"context"
	"fmt"
	"sort"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/parse"
)

// Get returns the environment with id envID, read from the engine. A
// container that exists under the environment's name but lacks kenv's labels
// is not an environment: Get returns ErrEnvNotFound for it.
func (d *Docker) Get(ctx context.Context, envID string) (Environment, error) {
	if err := validateEnvID("get", envID); err != nil {
		return Environment{}, err
	}
	return d.inspectEnv(ctx, call{op: "get", envID: envID}, envID)
}

// inspectEnv inspects the container of envID and checks its labels.
func (d *Docker) inspectEnv(ctx context.Context, c call, envID string) (Environment, error) {
	ctr, err := d.inspectContainer(ctx, c, envID)
	if err != nil {
		return Environment{}, err
	}
	return environmentOf(ctr), nil
}

// inspectContainer inspects the container of envID. It returns
// ErrEnvNotFound when the container is missing or is not kenv's.
func (d *Docker) inspectContainer(ctx context.Context, c call, envID string) (parse.Container, error) {
	c.kind = kindInspect
	c.cmd = dockercli.Command{Args: dockercli.ContainerInspectArgs(containerName(envID))}
	res, err := d.run(ctx, c)
	if err != nil {
		return parse.Container{}, err
	}
	if res.ExitCode != 0 {
		return parse.Container{}, d.engineError(c, res, true, fmt.Sprintf("inspecting environment %s failed", envID))
	}

	ctrs, err := parse.ContainerInspect(res.Stdout)
	if err != nil {
		return parse.Container{}, &Error{Code: opCode(c.op), Op: c.op, EnvID: envID, Message: "the engine's inspect output could not be parsed", Err: err}
	}
	for _, ctr := range ctrs {
		if ctr.Labels[LabelManaged] == "true" && ctr.Labels[LabelEnv] == envID {
			return ctr, nil
		}
	}
	return parse.Container{}, notFound(c.op, envID)
}

// notFound is the ENV_NOT_FOUND error for envID.
func notFound(op, envID string) *Error {
	return &Error{
		Code:    CodeEnvNotFound,
		Op:      op,
		EnvID:   envID,
		Message: fmt.Sprintf("environment %s not found; list environments with `kenv ls`", envID),
	}
}

// environmentOf converts an inspected container to an Environment.
func environmentOf(ctr parse.Container) Environment {
	env := Environment{
		ID:          ctr.Labels[LabelEnv],
		ContainerID: ctr.ID,
		Name:        ctr.Name,
		Image:       ctr.Image,
		State:       State(ctr.State),
		CreatedAt:   ctr.Created,
		Labels:      ctr.Labels,
		ExitCode:    ctr.ExitCode,
		OOMKilled:   ctr.OOMKilled,
	}
	for _, m := range ctr.Mounts {
		if m.Type == "volume" && m.Name != "" {
			env.Volumes = append(env.Volumes, m.Name)
		}
	}
	sort.Strings(env.Volumes)
	return env
}

// List returns every environment that carries kenv's labels, whichever
// process created it, oldest first.
func (d *Docker) List(ctx context.Context) ([]Environment, error) {
	ctrs, err := d.listContainers(ctx, "list", managedFilter)
	if err != nil {
		return nil, err
	}
	envs := make([]Environment, 0, len(ctrs))
	for _, ctr := range ctrs {
		envs = append(envs, environmentOf(ctr))
	}
	sort.Slice(envs, func(i, j int) bool {
		if !envs[i].CreatedAt.Equal(envs[j].CreatedAt) {
			return envs[i].CreatedAt.Before(envs[j].CreatedAt)
		}
		return envs[i].ID < envs[j].ID
	})
	return envs, nil
}

// listContainers lists the containers matching every label filter and
// inspects them. A container removed between the two calls is skipped, and
// so is one whose labels do not say it is kenv's.
func (d *Docker) listContainers(ctx context.Context, op string, filters ...string) ([]parse.Container, error) {
	c := call{op: op, kind: kindInspect}
	c.cmd = dockercli.Command{Args: dockercli.ContainerListArgs(filters...)}
	res, err := d.run(ctx, c)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, d.engineError(c, res, false, "listing containers failed")
	}
	ids := parse.Lines(res.Stdout)
	if len(ids) == 0 {
		return nil, nil
	}

	c.cmd = dockercli.Command{Args: dockercli.ContainerInspectArgs(ids...)}
	res, err = d.run(ctx, c)
	if err != nil {
		return nil, err
	}
	ctrs, perr := parse.ContainerInspect(res.Stdout)
	if res.ExitCode != 0 && (perr != nil || len(ctrs) == 0) {
		// Only a failure that left no output matters: exit status 1 with
		// output means some listed container is gone already.
		if parse.ClassifyFailure(res.ExitCode, res.Stderr) != parse.FailureNotFound {
			return nil, d.engineError(c, res, false, "inspecting containers failed")
		}
	}
	if perr != nil && res.ExitCode == 0 {
		return nil, &Error{Code: CodeEngineFailed, Op: op, Message: "the engine's inspect output could not be parsed", Err: perr}
	}

	var out []parse.Container
	for _, ctr := range ctrs {
		if ctr.Labels[LabelManaged] == "true" && envIDPattern.MatchString(ctr.Labels[LabelEnv]) {
			out = append(out, ctr)
		}
	}
	return out, nil
}
