package dockercli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArgvBuilders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{
			name: "run minimal keeps image command",
			got:  RunArgs(RunSpec{Name: "kenv-abc", Image: "busybox"}),
			want: []string{"run", "--detach", "--name", "kenv-abc", "busybox"},
		},
		{
			name: "run with every option",
			got: RunArgs(RunSpec{
				Name:        "kenv-abc",
				Image:       "kenv-test/busybox:latest",
				Labels:      map[string]string{"kenv.managed": "true", "a": "x,y=z"},
				Env:         []string{"A=1", "B=two words"},
				CPUs:        "0.5",
				Memory:      "536870912",
				NetworkNone: true,
				Mounts: []Mount{
					{Type: "volume", Source: "kenv-abc-data", Target: "/data"},
					{Type: "bind", Source: "/srv/in", Target: "/in", ReadOnly: true},
				},
				Init:    true,
				Pull:    "never",
				Command: []string{"sleep", "infinity"},
			}),
			want: []string{
				"run", "--detach", "--name", "kenv-abc",
				"--label", "a=x,y=z", "--label", "kenv.managed=true",
				"--env", "A=1", "--env", "B=two words",
				"--cpus", "0.5", "--memory", "536870912", "--network", "none",
				"--mount", "type=volume,source=kenv-abc-data,target=/data",
				"--mount", "type=bind,source=/srv/in,target=/in,readonly",
				"--init", "--pull", "never",
				"--entrypoint", "sleep", "kenv-test/busybox:latest", "infinity",
			},
		},
		{
			name: "run with one-word command has no arguments after image",
			got:  RunArgs(RunSpec{Name: "n", Image: "i", Command: []string{"/init"}}),
			want: []string{"run", "--detach", "--name", "n", "--entrypoint", "/init", "i"},
		},
		{
			name: "exec argv passes verbatim after container",
			got: ExecArgs(ExecSpec{
				Container: "kenv-abc",
				Argv:      []string{"printf", "%s|", " a b", "it's", "$HOME", "x\ny", "--"},
			}),
			want: []string{"exec", "kenv-abc", "printf", "%s|", " a b", "it's", "$HOME", "x\ny", "--"},
		},
		{
			name: "exec with stdin user workdir env",
			got: ExecArgs(ExecSpec{
				Container: "kenv-abc", Argv: []string{"cat"}, Interactive: true,
				User: "1000:1000", WorkDir: "/work", Env: []string{"K=V"},
			}),
			want: []string{"exec", "--interactive", "--user", "1000:1000", "--workdir", "/work", "--env", "K=V", "kenv-abc", "cat"},
		},
		{
			name: "logs all",
			got:  LogsArgs(LogsSpec{Container: "kenv-abc", Tail: -1}),
			want: []string{"logs", "--timestamps", "kenv-abc"},
		},
		{
			name: "logs follow since until tail",
			got:  LogsArgs(LogsSpec{Container: "kenv-abc", Follow: true, Since: "10m", Until: "2026-01-01T00:00:00Z", Tail: 5}),
			want: []string{"logs", "--timestamps", "--follow", "--since", "10m", "--until", "2026-01-01T00:00:00Z", "--tail", "5", "kenv-abc"},
		},
		{
			name: "logs tail zero is passed",
			got:  LogsArgs(LogsSpec{Container: "c", Tail: 0}),
			want: []string{"logs", "--timestamps", "--tail", "0", "c"},
		},
		{
			name: "commit with labels quoted",
			got:  CommitArgs("abc123", "kenv/abc:latest", map[string]string{"kenv.env": "abc", "kenv.snapshot": "run 1"}, nil),
			want: []string{"commit", "--pause=true", "--change", `LABEL "kenv.env"="abc"`, "--change", `LABEL "kenv.snapshot"="run 1"`, "abc123", "kenv/abc:latest"},
		},
		{
			name: "commit resetting env",
			got:  CommitArgs("abc123", "kenv/abc:x", nil, []string{"TOKEN=", "PATH=/usr/bin:/bin", "Q=a \"b\""}),
			want: []string{
				"commit", "--pause=true",
				"--change", `ENV TOKEN=""`, "--change", `ENV PATH="/usr/bin:/bin"`, "--change", `ENV Q="a \"b\""`,
				"abc123", "kenv/abc:x",
			},
		},
		{
			name: "rm",
			got:  RemoveContainersArgs("a", "b"),
			want: []string{"rm", "--force", "--volumes", "a", "b"},
		},
		{
			name: "container inspect",
			got:  ContainerInspectArgs("kenv-abc"),
			want: []string{"container", "inspect", "kenv-abc"},
		},
		{
			name: "image inspect",
			got:  ImageInspectArgs("busybox:latest"),
			want: []string{"image", "inspect", "busybox:latest"},
		},
		{
			name: "image rm",
			got:  RemoveImagesArgs("kenv/abc:latest"),
			want: []string{"image", "rm", "kenv/abc:latest"},
		},
		{
			name: "pull quiet",
			got:  PullArgs("debian:12", true),
			want: []string{"pull", "--quiet", "debian:12"},
		},
		{
			name: "pull with progress",
			got:  PullArgs("debian:12", false),
			want: []string{"pull", "debian:12"},
		},
		{
			name: "volume create",
			got:  VolumeCreateArgs("kenv-abc-data", map[string]string{"kenv.env": "abc", "kenv.managed": "true"}),
			want: []string{"volume", "create", "--label", "kenv.env=abc", "--label", "kenv.managed=true", "kenv-abc-data"},
		},
		{
			name: "volume ls",
			got:  VolumeListArgs("kenv.managed=true", "kenv.env=abc"),
			want: []string{"volume", "ls", "--quiet", "--filter", "label=kenv.managed=true", "--filter", "label=kenv.env=abc"},
		},
		{
			name: "volume inspect",
			got:  VolumeInspectArgs("a", "b"),
			want: []string{"volume", "inspect", "a", "b"},
		},
		{
			name: "volume rm",
			got:  VolumeRemoveArgs("kenv-abc-data"),
			want: []string{"volume", "rm", "kenv-abc-data"},
		},
		{
			name: "ps",
			got:  ContainerListArgs("kenv.managed=true"),
			want: []string{"ps", "--all", "--quiet", "--no-trunc", "--filter", "label=kenv.managed=true"},
		},
		{
			name: "image ls",
			got:  ImageListArgs("kenv.managed=true"),
			want: []string{"image", "ls", "--quiet", "--no-trunc", "--filter", "label=kenv.managed=true"},
		},
		{
			name: "version",
			got:  VersionArgs(),
			want: []string{"version", "--format", "{{json .}}"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("argv mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
