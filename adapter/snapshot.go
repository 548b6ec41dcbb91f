package adapter

import (
	"context"
	"fmt"
	"strings"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/parse"
)

// Snapshot commits the environment's filesystem to the image SnapshotRef(envID,
// opts.Name), replacing an earlier snapshot of the same name, and returns the
// image's id and creation time. The container is paused while it is copied.
// Named volumes and bind mounts are not part of the image, and neither are
// the values of EnvConfig.Env: each such variable is reset to the source
// image's value, or to empty. The environment's labels, its own and the
// caller's, are copied into the image, so an environment provisioned from a
// snapshot inherits the caller's labels unless it sets them again.
//
// Provisioning with the returned Ref as the image restores the filesystem.
// Snapshot images carry kenv's labels and outlive Destroy.
func (d *Docker) Snapshot(ctx context.Context, envID string, opts SnapshotOptions) (Snapshot, error) {
	if err := validateEnvID("snapshot", envID); err != nil {
		return Snapshot{}, err
	}
	if err := validateSnapshotName(opts.Name); err != nil {
		return Snapshot{}, err
	}

	c := call{op: "snapshot", envID: envID}
	ctr, err := d.inspectContainer(ctx, c, envID)
	if err != nil {
		return Snapshot{}, err
	}

	name := opts.Name
	if name == "" {
		name = "latest"
	}
	ref := SnapshotRef(envID, opts.Name)
	labels := d.labels(envID, nil)
	labels[LabelSnapshot] = name

	labels[LabelEnvNames] = ""
	env, err := d.scrubbedEnv(ctx, c, ctr)
	if err != nil {
		return Snapshot{}, err
	}

	cc := c
	cc.kind = kindCommit
	cc.cmd = dockercli.Command{Args: dockercli.CommitArgs(ctr.ID, ref, labels, env)}
	res, err := d.run(ctx, cc)
	if err != nil {
		return Snapshot{}, err
	}
	if res.ExitCode != 0 {
		return Snapshot{}, d.engineError(cc, res, true, fmt.Sprintf("committing environment %s to %s failed", envID, ref))
	}

	ic := c
	ic.kind = kindInspect
	ic.cmd = dockercli.Command{Args: dockercli.ImageInspectArgs(ref)}
	res, err = d.run(ctx, ic)
	if err != nil {
		return Snapshot{}, err
	}
	if res.ExitCode != 0 {
		return Snapshot{}, d.engineError(ic, res, false, fmt.Sprintf("inspecting the new snapshot %s failed", ref))
	}
	images, err := parse.ImageInspect(res.Stdout)
	if err != nil || len(images) == 0 {
		return Snapshot{}, &Error{Code: CodeSnapshotFailed, Op: "snapshot", EnvID: envID, Message: fmt.Sprintf("the engine's inspect output for %s could not be parsed", ref), Err: err}
	}

	return Snapshot{
		EnvID:     envID,
		Name:      name,
		Ref:       ref,
		ImageID:   normalizeImageID(images[0].ID),
		CreatedAt: images[0].Created,
	}, nil
}

// scrubbedEnv returns the ENV entries that keep EnvConfig.Env values out of a
// snapshot: a commit copies the container's environment into the image, so
// each name provisioned with a value gets back the source image's value, or
// an empty value where the image had none.
func (d *Docker) scrubbedEnv(ctx context.Context, c call, ctr parse.Container) ([]string, error) {
	if ctr.Labels[LabelEnvNames] == "" {
		return nil, nil
	}
	names := strings.Split(ctr.Labels[LabelEnvNames], ",")

	ic := c
	ic.kind = kindInspect
	ic.cmd = dockercli.Command{Args: dockercli.ImageInspectArgs(ctr.ImageID)}
	res, err := d.run(ctx, ic)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, d.engineError(ic, res, false, fmt.Sprintf("inspecting the image of environment %s failed, so its env values cannot be kept out of the snapshot", c.envID))
	}
	images, err := parse.ImageInspect(res.Stdout)
	if err != nil || len(images) == 0 {
		return nil, &Error{Code: CodeSnapshotFailed, Op: c.op, EnvID: c.envID, Message: "the engine's image inspect output could not be parsed", Err: err}
	}

	imageEnv := map[string]string{}
	for _, kv := range images[0].Env {
		name, value, _ := strings.Cut(kv, "=")
		imageEnv[name] = value
	}
	out := make([]string, 0, len(names))
	for _, name := range names {
		out = append(out, name+"="+imageEnv[name])
	}
	return out, nil
}

// normalizeImageID gives image ids one form on every engine: Podman prints
// the bare hex digest where Docker prefixes "sha256:".
func normalizeImageID(id string) string {
	if len(id) == 64 && !strings.Contains(id, ":") {
		return "sha256:" + id
	}
	return id
}
