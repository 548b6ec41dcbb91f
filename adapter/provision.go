package adapter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/parse"
)

// cleanupTimeout bounds the removal of what a failed provision created. The
// cleanup runs even when the caller's context has ended.
const cleanupTimeout = time.Minute

// pullProgressKey is the context key of the writer set by WithPullProgress.
type pullProgressKey struct{}

// WithPullProgress returns a context that makes Provision write the engine's
// pull progress to w. Without it, pulls run with --quiet.
func WithPullProgress(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, pullProgressKey{}, w)
}

// Provision validates cfg, makes sure the image is present, creates the
// environment's volumes and starts its container. On any failure it removes
// the container and volumes this call created, even when ctx has ended.
func (d *Docker) Provision(ctx context.Context, cfg EnvConfig) (Environment, error) {
	plan, err := planProvision(cfg, d.clientEnv)
	if err != nil {
		return Environment{}, err
	}

	envID := d.newID()
	if err := validateEnvID("provision", envID); err != nil {
		return Environment{}, err
	}
	c := call{op: "provision", envID: envID, secrets: plan.secrets}

	if err := d.ensureImage(ctx, c, plan); err != nil {
		return Environment{}, err
	}

	var created []string
	fail := func(err error) (Environment, error) {
		d.cleanupProvision(ctx, envID, created)
		return Environment{}, err
	}

	owner := d.self
	if cfg.Owner != nil {
		owner = cfg.Owner
	}
	labels := d.labels(envID, owner)
	for _, v := range plan.volumes {
		name := volumeName(envID, v.Name)
		vl := d.labels(envID, owner)
		vl[LabelVolume] = v.Name
		vc := c
		vc.kind = kindCreate
		vc.cmd = dockercli.Command{Args: dockercli.VolumeCreateArgs(name, vl)}
		// The name is recorded before the call: a create that the daemon
		// completes after a canceled client must still be cleaned up.
		created = append(created, name)
		res, err := d.run(ctx, vc)
		if err != nil {
			return fail(err)
		}
		if res.ExitCode != 0 {
			return fail(d.engineError(vc, res, false, fmt.Sprintf("creating volume %q failed", v.Name)))
		}
	}

	for k, v := range cfg.Labels {
		labels[k] = v
	}
	labels[LabelEnvNames] = strings.Join(sortedKeys(cfg.Env), ",")
	rc := c
	rc.kind = kindCreate
	rc.cmd = dockercli.Command{Args: dockercli.RunArgs(dockercli.RunSpec{
		Name:        containerName(envID),
		Image:       plan.image,
		Labels:      labels,
		Env:         plan.env,
		CPUs:        plan.cpus,
		Memory:      plan.memory,
		NetworkNone: cfg.NoInternet,
		Mounts:      plan.mounts(envID),
		Init:        true,
		Pull:        string(PullNever),
		Command:     plan.command,
	})}
	res, err := d.run(ctx, rc)
	if err != nil {
		return fail(err)
	}
	if res.ExitCode != 0 {
		return fail(d.engineError(rc, res, false, fmt.Sprintf("starting a container from image %q failed; check the image, limits and mounts in the engine's message", plan.image)))
	}

	env, err := d.inspectEnv(ctx, call{op: "provision", envID: envID}, envID)
	if err != nil {
		return fail(err)
	}
	if env.State != StateRunning {
		return fail(d.exitedEarly(ctx, c, env, plan))
	}
	return env, nil
}

// exitedEarly builds the error for a main process that ended right after the
// start, with the last lines it printed, since an environment that does not
// run cannot execute commands.
func (d *Docker) exitedEarly(ctx context.Context, c call, env Environment, plan runPlan) *Error {
	var tail []string
	for entry, err := range d.StreamLogs(ctx, env.ID, LogOptions{Tail: 10}) {
		if err != nil {
			break
		}
		tail = append(tail, entry.Message)
	}
	output := redact(strings.Join(tail, "\n"), plan.secrets)
	return &Error{
		Code:  CodeProvisionFailed,
		Op:    c.op,
		EnvID: env.ID,
		Message: fmt.Sprintf("the main process %q ended right after the start (state %s, exit code %d); the command must keep running, check it and the image",
			strings.Join(plan.command, " "), env.State, env.ExitCode),
		Meta: map[string]string{
			"state":     string(env.State),
			"exit_code": strconv.Itoa(env.ExitCode),
			"output":    output,
		},
	}
}

// labels returns kenv's own labels for an environment. The owner labels are
// always present, empty when owner is nil, because a container inherits the
// labels of its image and a snapshot image must not pass on its source's
// owner.
func (d *Docker) labels(envID string, owner *Owner) map[string]string {
	labels := map[string]string{
		LabelManaged:    "true",
		LabelEnv:        envID,
		LabelVersion:    Version,
		LabelOwnerHost:  "",
		LabelOwnerPID:   "",
		LabelOwnerStart: "",
	}
	if owner != nil {
		for k, v := range owner.labels() {
			labels[k] = v
		}
	}
	return labels
}

// ensureImage inspects the image and pulls it when the pull policy requires.
func (d *Docker) ensureImage(ctx context.Context, c call, plan runPlan) error {
	present := false
	if plan.pull != PullAlways {
		ic := c
		ic.kind = kindInspect
		ic.cmd = dockercli.Command{Args: dockercli.ImageInspectArgs(plan.image)}
		res, err := d.run(ctx, ic)
		if err != nil {
			return err
		}
		failure := parse.ClassifyFailure(res.ExitCode, res.Stderr)
		switch {
		case res.ExitCode == 0:
			present = true
		case failure != parse.FailureNotFound && failure != parse.FailureImageNotFound:
			return d.engineError(ic, res, false, fmt.Sprintf("inspecting image %q failed", plan.image))
		}
	}
	if present {
		return nil
	}

	if plan.pull == PullNever {
		e := &Error{
			Code:    CodeProvisionFailed,
			Op:      c.op,
			Message: fmt.Sprintf("image %q is not present and the pull policy is never; build or load it first, or use the missing policy", plan.image),
			Meta:    map[string]string{"image": plan.image},
		}
		return e
	}

	pc := c
	pc.kind = kindPull
	progress, _ := ctx.Value(pullProgressKey{}).(io.Writer)
	pc.cmd = dockercli.Command{Args: dockercli.PullArgs(plan.image, progress == nil)}
	if progress != nil {
		pc.cmd.Stdout = progress
	}
	res, err := d.run(ctx, pc)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		e := d.engineError(pc, res, false, fmt.Sprintf("pulling image %q failed; check the name, the registry's reachability and your login", plan.image))
		e.Meta["image"] = plan.image
		return e
	}
	return nil
}

// cleanupProvision removes the container and volumes of a failed provision.
// It runs under its own deadline so that a canceled ctx still cleans up. A
// canceled `run` or `volume create` may still complete in the daemon after
// the client was killed. Also, `run --mount` recreates a removed volume,
// without labels, while it starts. So the removal repeats, for at most
// cleanupRounds rounds, until neither the container nor any volume exists.
func (d *Docker) cleanupProvision(ctx context.Context, envID string, volumes []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	c := call{op: "provision", envID: envID, kind: kindRemove}

	for round := 0; round < cleanupRounds; round++ {
		if round > 0 && sleepCtx(ctx, cleanupDelay) != nil {
			break
		}

		containers := []string{containerName(envID)}
		ids, err := d.listNames(ctx, c, dockercli.ContainerListArgs(envFilter(envID)), "listing containers failed")
		if engineGone(err) {
			d.log.Warn("cleanup of failed provision stopped: the engine does not respond; remove the leftovers with kenv gc", "env_id", envID, "error", err)
			return
		}
		containers = append(containers, ids...)
		c.cmd = dockercli.Command{Args: dockercli.RemoveContainersArgs(containers...)}
		if _, err := d.run(ctx, c); engineGone(err) {
			d.log.Warn("cleanup of failed provision stopped: the engine does not respond; remove the leftovers with kenv gc", "env_id", envID, "error", err)
			return
		}

		if len(volumes) > 0 {
			c.cmd = dockercli.Command{Args: dockercli.VolumeRemoveArgs(volumes...)}
			d.run(ctx, c)
		}

		left, err := d.provisionLeftovers(ctx, envID, volumes)
		if err == nil && len(left) == 0 {
			return
		}
		if round == cleanupRounds-1 || engineGone(err) {
			d.log.Warn("cleanup of failed provision left resources behind; remove them with kenv gc", "env_id", envID, "left", strings.Join(left, ","), "error", err)
			return
		}
	}
}

// engineGone reports whether err means the engine is down or does not
// respond, in which case repeating a cleanup step only adds delay.
func engineGone(err error) bool {
	return errors.Is(err, ErrEngineTimeout) || errors.Is(err, ErrDockerUnavailable)
}

// cleanupRounds and cleanupDelay bound the repeated cleanup of a failed
// provision: 5 rounds, 300 ms apart.
const (
	cleanupRounds = 5
	cleanupDelay  = 300 * time.Millisecond
)

// provisionLeftovers returns the container and volumes of envID that still
// exist, looking them up by name so that unlabelled volumes count too.
func (d *Docker) provisionLeftovers(ctx context.Context, envID string, volumes []string) ([]string, error) {
	c := call{op: "provision", envID: envID, kind: kindInspect}
	var left []string

	ids, err := d.listNames(ctx, c, dockercli.ContainerListArgs(envFilter(envID)), "listing containers failed")
	if err != nil {
		return nil, err
	}
	left = append(left, ids...)

	c.cmd = dockercli.Command{Args: dockercli.ContainerInspectArgs(containerName(envID))}
	res, err := d.run(ctx, c)
	if err != nil {
		return nil, err
	}
	if res.ExitCode == 0 && len(ids) == 0 {
		left = append(left, containerName(envID))
	}

	if len(volumes) > 0 {
		c.cmd = dockercli.Command{Args: dockercli.VolumeInspectArgs(volumes...)}
		res, err := d.run(ctx, c)
		if err != nil {
			return nil, err
		}
		vols, _ := parse.VolumeInspect(res.Stdout)
		for _, v := range vols {
			left = append(left, v.Name)
		}
	}
	return left, nil
}
