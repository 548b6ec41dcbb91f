package main

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kenv/kenv/dockercli"
)

// onProvision scripts the fake engine for a provision that succeeds: the
// image is present, and the new container inspects as the recorded
// container with limits, a volume and a bind mount.
func (tc *testCLI) onProvision(t *testing.T) {
	t.Helper()
	tc.fake.On("image", "inspect").Returns(recorded(t, "docker-20.10/image-inspect.json"), "", 0)
	tc.fake.On("volume", "create").Does(func(_ context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		return dockercli.Result{Stdout: []byte(cmd.Args[len(cmd.Args)-1] + "\n")}, nil
	})
	tc.fake.On("run").Returns("c0ffee15ee0b5c0ffee15ee0b5c0ffee15ee0b5c0ffee15ee0b5c0ffee15ee0b\n", "", 0)
	tc.fake.On("container", "inspect").Does(func(_ context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		envID := strings.TrimPrefix(cmd.Args[len(cmd.Args)-1], "kenv-")
		c := kenvContainer(t, "docker-20.10/container-inspect-limits.json", envID, map[string]string{"team": "search"})
		return dockercli.Result{Stdout: []byte(inspectOutput(t, c))}, nil
	})
}

var provisionArgs = []string{
	"provision", "--image", "kenv-test/busybox:latest",
	"--cpus", "1.5", "--memory", "64m",
	"--env", "GREETING=hello, world", "--env", "TOKEN",
	"--volume", "data:/data", "--mount", "/srv/src:/bind:ro",
	"--no-internet", "--label", "team=search", "--pull", "never",
	"--command", "sleep", "--command", "600",
}

func TestProvisionPrintsID(t *testing.T) {
	tc := newTestCLI()
	tc.env = []string{"TOKEN=s3cr3t-from-env"}
	tc.onProvision(t)

	r := tc.run(t, provisionArgs...)

	envID := tc.generatedEnvID()
	if envID == "" {
		t.Fatalf("no run call among %q", tc.fake.Commands())
	}
	if r.Stdout != envID+"\n" {
		t.Errorf("stdout = %q, want the id alone: %q", r.Stdout, envID+"\n")
	}
	checkGolden(t, "provision", r, envID)
	tc.assertCommands(t,
		"image inspect kenv-test/busybox:latest",
		"volume create --label kenv.env="+envID+" --label kenv.managed=true --label kenv.version=0.1.0 --label kenv.volume=data kenv-"+envID+"-data",
		"run --detach --name kenv-"+envID+
			" --label kenv.env="+envID+" --label kenv.env-names=GREETING,TOKEN --label kenv.managed=true --label kenv.version=0.1.0 --label team=search"+
			" --env GREETING=hello, world --env TOKEN=s3cr3t-from-env --cpus 1.5 --memory 67108864 --network none"+
			" --mount type=volume,source=kenv-"+envID+"-data,target=/data"+
			" --mount type=bind,source=/srv/src,target=/bind,readonly"+
			" --init --pull never --entrypoint sleep kenv-test/busybox:latest 600",
		"container inspect kenv-"+envID,
	)
}

func TestProvisionJSON(t *testing.T) {
	tc := newTestCLI()
	tc.env = []string{"TOKEN=s3cr3t-from-env"}
	tc.onProvision(t)

	r := tc.run(t, append([]string{"--json"}, provisionArgs...)...)

	checkGolden(t, "provision-json", r, tc.generatedEnvID())
	if strings.Contains(r.Stdout, "s3cr3t") || strings.Contains(r.Stdout, "hello, world") {
		t.Errorf("stdout shows an --env value: %s", r.Stdout)
	}
}

func TestProvisionImageMissing(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("image", "inspect").Returns("[]\n", recorded(t, "docker-20.10/failures/image-inspect-missing.stderr"),
		recordedExit(t, "docker-20.10/failures/image-inspect-missing.exit"))

	r := tc.run(t, "provision", "--image", "kenv-test/missing:latest", "--pull", "never")

	checkGolden(t, "provision-image-missing", r, "")
	tc.assertCommands(t, "image inspect kenv-test/missing:latest")
}

// TestProvisionInvalidFlagsRunNothing covers each invalid option value:
// kenv must reject it with exit status 121 before any engine call.
func TestProvisionInvalidFlagsRunNothing(t *testing.T) {
	image := []string{"provision", "--image", "kenv-test/busybox:latest"}
	cases := []struct {
		name string
		args []string
	}{
		{"memory-lots", append(image, "--memory", "lots")},
		{"memory-too-small", append(image, "--memory", "1k")},
		{"cpus-negative", append(image, "--cpus", "-1")},
		{"env-empty-name", append(image, "--env", "=x")},
		{"env-unset", append(image, "--env", "KENV_TEST_UNSET")},
		{"env-twice", append(image, "--env", "A=1", "--env", "A=2")},
		{"env-bad-name", append(image, "--env", "1A=1")},
		{"volume-nocolon", append(image, "--volume", "nocolon")},
		{"volume-bad-mode", append(image, "--volume", "data:/data:rx")},
		{"volume-relative", append(image, "--volume", "data:data")},
		{"volume-bad-name", append(image, "--volume", "-x:/data")},
		{"mount-relative", append(image, "--mount", "src:/src")},
		{"mount-too-many-colons", append(image, "--mount", "/a:/b:ro:x")},
		{"mount-engine-socket", append(image, "--mount", "/var/run/docker.sock:/sock")},
		{"label-reserved", append(image, "--label", "kenv.x=1")},
		{"label-no-equals", append(image, "--label", "team")},
		{"pull-unknown", append(image, "--pull", "sometimes")},
		{"owner-zero", append(image, "--owner", "0")},
		{"owner-word", append(image, "--owner", "me")},
		{"owner-gone", append(image, "--owner", "2147483647")},
		{"image-missing", []string{"provision", "--memory", "512m"}},
		{"image-invalid", []string{"provision", "--image", "Not An Image"}},
		{"argument", append(image, "extra")},
		{"unknown-flag", append(image, "--gpus", "all")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := newTestCLI()

			r := tc.run(t, c.args...)

			if r.Exit != exitInvalid {
				t.Errorf("exit = %d, want %d", r.Exit, exitInvalid)
			}
			if r.Stdout != "" {
				t.Errorf("stdout = %q, want empty", r.Stdout)
			}
			if !strings.HasSuffix(r.Stderr, " [INVALID_CONFIG]\n") || strings.Count(r.Stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line ending in [INVALID_CONFIG]", r.Stderr)
			}
			checkGolden(t, "provision-invalid/"+c.name, r, "")
			tc.assertNoEngineCalls(t)
		})
	}
}

func TestProvisionRecordsOwner(t *testing.T) {
	tc := newTestCLI()
	tc.onProvision(t)
	pid := strconv.Itoa(os.Getpid())

	r := tc.run(t, "provision", "--image", "kenv-test/busybox:latest", "--owner", pid)

	if r.Exit != 0 {
		t.Fatalf("exit = %d, stderr %q, want 0", r.Exit, r.Stderr)
	}
	var run []string
	for _, c := range tc.fake.Calls() {
		if c.Args[0] == "run" {
			run = c.Args
		}
	}
	if !slices.Contains(run, "kenv.owner.pid="+pid) {
		t.Errorf("run args = %q, want the label kenv.owner.pid=%s", run, pid)
	}
}

func TestProvisionInvalidFlagJSON(t *testing.T) {
	tc := newTestCLI()

	r := tc.run(t, "provision", "--json", "--image", "kenv-test/busybox:latest", "--memory", "lots")

	checkGolden(t, "provision-invalid-json", r, "")
	tc.assertNoEngineCalls(t)
}
