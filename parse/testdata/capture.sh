#!/usr/bin/env bash
# Captures the engine output samples that the parse tests read, from the local
# Docker daemon (through the 20.10 client at /usr/bin/docker and the 28 client at
# /usr/local/bin/docker) and from rootful Podman 4.3.
#
# Usage, from the repository root, as a user who may run docker and podman:
#
#	bash parse/testdata/capture.sh
#
# It needs the local image kenv-test/busybox:latest in Docker and
# localhost/kenv-test/busybox:latest in Podman, and pulls nothing. It creates only
# containers, volumes and images named parsetest-* (images parsetest/labelled) and
# removes them on exit. Rerunning replaces the samples with new IDs and times, so
# the expected values in parse/*_test.go must be updated afterwards.
#
# Each failure case writes failures/NAME.stderr and failures/NAME.exit, and
# failures/NAME.stdout when the command printed anything on stdout.
set -u

here=$(cd "$(dirname "$0")" && pwd)
docker20=/usr/bin/docker
docker28=/usr/local/bin/docker
podman=/usr/bin/podman
docker_image=kenv-test/busybox:latest
podman_image=localhost/kenv-test/busybox:latest
tmp=$(mktemp -d /tmp/parsetest-capture.XXXXXX)
service_pid=

docker_containers=(parsetest-running parsetest-exited parsetest-created parsetest-paused
	parsetest-labels parsetest-limits parsetest-oom parsetest-restarting parsetest-linker
	parsetest-logs parsetest-tty parsetest-conflict parsetest-run-failure)
podman_containers=(parsetest-running parsetest-exited parsetest-created parsetest-paused
	parsetest-initialized parsetest-labels parsetest-limits parsetest-oom parsetest-logs
	parsetest-conflict parsetest-run-failure)

cleanup() {
	if [ -n "$service_pid" ]; then
		kill "$service_pid" 2>/dev/null
		wait "$service_pid" 2>/dev/null
	fi
	"$docker20" unpause parsetest-paused >/dev/null 2>&1
	"$docker20" rm -f "${docker_containers[@]}" >/dev/null 2>&1
	"$docker20" volume rm parsetest-vol >/dev/null 2>&1
	"$docker20" rmi parsetest/labelled:latest parsetest/labelled:second >/dev/null 2>&1
	"$podman" unpause parsetest-paused >/dev/null 2>&1
	"$podman" rm -f -i -t 0 "${podman_containers[@]}" >/dev/null 2>&1
	"$podman" volume rm parsetest-vol >/dev/null 2>&1
	"$podman" rmi localhost/parsetest/labelled:latest localhost/parsetest/labelled:second >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

# save FILE CMD... writes the command's stdout to FILE and reports a failure.
save() {
	local file=$1
	shift
	if ! "$@" >"$file" 2>"$tmp/stderr"; then
		echo "capture: $* failed: $(cat "$tmp/stderr")" >&2
	fi
}

# fail DIR NAME CMD... runs a command expected to fail and keeps its outputs.
fail() {
	local dir=$1/failures name=$2
	shift 2
	mkdir -p "$dir"
	"$@" </dev/null >"$dir/$name.stdout" 2>"$dir/$name.stderr"
	echo $? >"$dir/$name.exit"
	if [ ! -s "$dir/$name.stdout" ]; then
		rm -f "$dir/$name.stdout"
	fi
}

# wait_status ENGINE NAME STATUS polls inspect for up to 20 s.
wait_status() {
	local i
	for i in $(seq 1 40); do
		if [ "$("$1" container inspect -f '{{.State.Status}}' "$2" 2>/dev/null)" = "$3" ]; then
			return 0
		fi
		sleep 0.5
	done
	echo "capture: $2 never reached state $3" >&2
	return 1
}

# The program of the parsetest-logs containers. The 40000-byte line is the
# digits of 1, 2, 3, ... run together, so a lost or doubled chunk shows up.
logs_program='
echo "first line"
echo "2021-05-07T17:27:52.347500403Z this message starts with a timestamp"
printf "crlf line\r\n"
echo
printf "tab\tand trailing spaces  \n"
head -c 16384 /dev/zero | tr "\0" a; echo
head -c 16385 /dev/zero | tr "\0" b; echo
seq 1 20000 | tr -d "\n" | head -c 40000; echo
printf "written "; sleep 1; echo "in two parts"
echo "to stderr" >&2
echo last
printf "no newline at the end"
'

# create_containers ENGINE IMAGE creates the containers both engines share.
create_containers() {
	local engine=$1 image=$2
	"$engine" run -d --name parsetest-running --label kenv.role=sample "$image" sleep 600 >/dev/null
	"$engine" run --name parsetest-exited "$image" sh -c 'echo bye; exit 3' >/dev/null
	"$engine" create --name parsetest-created "$image" true >/dev/null
	"$engine" run -d --name parsetest-paused "$image" sleep 600 >/dev/null
	"$engine" pause parsetest-paused >/dev/null
	"$engine" create --name parsetest-labels \
		--label 'kenv.env=A=1,B=2' \
		--label 'kenv.note=one, two' \
		--label 'kenv.empty=' \
		--label 'kenv.quote=say "hi"' \
		"$image" true >/dev/null
	"$engine" run -d --name parsetest-limits --cpus 1.5 --memory 64m --network none \
		-v parsetest-vol:/data -v "$tmp/bind:/bind:ro" \
		--mount type=tmpfs,destination=/scratch \
		"$image" sleep 600 >/dev/null
	"$engine" run --name parsetest-oom --memory 16m --memory-swap 16m "$image" \
		sh -c 'x=$(head -c 64000000 /dev/zero | tr "\0" a); echo never' >/dev/null
	"$engine" run -d --name parsetest-logs "$image" sh -c "$logs_program" >/dev/null
	"$engine" create --name parsetest-conflict "$image" true >/dev/null
}

# capture_failures ENGINE DIR IMAGE triggers the failures both engines share.
capture_failures() {
	local engine=$1 dir=$2 image=$3
	fail "$dir" inspect-missing-container "$engine" container inspect parsetest-missing
	fail "$dir" inspect-missing-object "$engine" inspect parsetest-missing
	fail "$dir" exec-missing-container "$engine" exec parsetest-missing true
	fail "$dir" rm-missing-container "$engine" rm parsetest-missing
	fail "$dir" logs-missing-container "$engine" logs parsetest-missing
	fail "$dir" start-missing-container "$engine" start parsetest-missing
	fail "$dir" exec-stopped "$engine" exec parsetest-exited true
	fail "$dir" exec-created "$engine" exec parsetest-created true
	fail "$dir" exec-paused "$engine" exec parsetest-paused true
	fail "$dir" exec-missing-executable "$engine" exec parsetest-running no-such-command
	fail "$dir" exec-missing-path "$engine" exec parsetest-running /no/such/file
	fail "$dir" exec-not-executable "$engine" exec parsetest-running /etc/passwd
	fail "$dir" exec-user-not-found "$engine" exec parsetest-running sh -c no-such-command
	fail "$dir" exec-user-permission "$engine" exec parsetest-running sh -c /etc/passwd
	fail "$dir" exec-user-exit-125 "$engine" exec parsetest-running sh -c 'echo "it failed" >&2; exit 125'
	fail "$dir" run-missing-image "$engine" run --rm --name parsetest-run-failure --pull never parsetest/missing:latest true
	fail "$dir" run-missing-executable "$engine" run --rm --name parsetest-run-failure "$image" no-such-command
	"$engine" rm -f parsetest-run-failure >/dev/null 2>&1
	fail "$dir" run-not-executable "$engine" run --rm --name parsetest-run-failure "$image" /etc/passwd
	"$engine" rm -f parsetest-run-failure >/dev/null 2>&1
	fail "$dir" run-name-conflict "$engine" run --name parsetest-conflict "$image" true
	fail "$dir" image-inspect-missing "$engine" image inspect parsetest/missing:latest
}

# capture_docker_client CLIENT DIR captures what differs between Docker clients.
capture_docker_client() {
	local client=$1 dir=$here/$2
	mkdir -p "$dir"
	save "$dir/version.json" "$client" version --format '{{json .}}'
	fail "$dir" version-unreachable "$client" -H "unix://$tmp/nothing.sock" version --format '{{json .}}'
	mv "$dir/failures/version-unreachable.stdout" "$dir/version-unreachable.json"
	fail "$dir" ps-unreachable "$client" -H "unix://$tmp/nothing.sock" ps
	fail "$dir" ps-connection-refused "$client" -H "unix://$tmp/stale.sock" ps
	fail "$dir" exec-unreachable "$client" -H "unix://$tmp/nothing.sock" exec parsetest-running true
	save "$dir/ps.ndjson" "$client" ps -a --no-trunc --filter name=parsetest- --format '{{json .}}'
	save "$dir/container-inspect-running.json" "$client" container inspect parsetest-running
	fail "$dir" inspect-one-missing "$client" container inspect parsetest-missing parsetest-running
	mv "$dir/failures/inspect-one-missing.stdout" "$dir/container-inspect-one-missing.json"
	capture_failures "$client" "$dir" "$docker_image"
	mv "$dir/failures/inspect-missing-container.stdout" "$dir/container-inspect-missing.json"
	mv "$dir/failures/image-inspect-missing.stdout" "$dir/image-inspect-missing.json"
}

mkdir -p "$tmp/bind"
# A socket file that nothing listens on, so that connecting is refused.
python3 -c "import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()" "$tmp/stale.sock"

# Docker. Both clients talk to the same 20.10 daemon.
create_containers "$docker20" "$docker_image"
"$docker20" run -d --name parsetest-restarting --restart always "$docker_image" sh -c 'exit 1' >/dev/null
"$docker20" run -d --name parsetest-linker --link parsetest-running:db "$docker_image" sleep 600 >/dev/null
"$docker20" run -d -t --name parsetest-tty "$docker_image" sh -c 'echo "tty line"; echo second' >/dev/null
"$docker20" commit --change 'LABEL kenv.env="A=1,B=2"' --change 'LABEL kenv.note="one, two"' parsetest-created parsetest/labelled:latest >/dev/null
"$docker20" tag parsetest/labelled:latest parsetest/labelled:second
wait_status "$docker20" parsetest-logs exited
wait_status "$docker20" parsetest-tty exited

dir=$here/docker-20.10
mkdir -p "$dir"
for name in running exited created paused labels limits oom; do
	save "$dir/container-inspect-$name.json" "$docker20" container inspect "parsetest-$name"
done
# The restart policy brings the container back after a backoff, so inspect
# until one output catches it between runs.
for i in $(seq 1 60); do
	save "$dir/container-inspect-restarting.json" "$docker20" container inspect parsetest-restarting
	grep -q '"Status": "restarting"' "$dir/container-inspect-restarting.json" && break
	sleep 0.2
done
save "$dir/container-inspect-all.json" "$docker20" container inspect parsetest-running parsetest-exited parsetest-created
save "$dir/image-inspect.json" "$docker20" image inspect "$docker_image"
save "$dir/image-inspect-labelled.json" "$docker20" image inspect parsetest/labelled:latest
"$docker20" logs --timestamps parsetest-logs >"$dir/logs.txt" 2>"$dir/logs-stderr.txt"
save "$dir/logs-tty.txt" "$docker20" logs --timestamps parsetest-tty
capture_docker_client "$docker20" docker-20.10
capture_docker_client "$docker28" docker-28-client

# Podman.
create_containers "$podman" "$podman_image"
"$podman" create --name parsetest-initialized "$podman_image" true >/dev/null
"$podman" init parsetest-initialized >/dev/null
"$podman" commit -q --change 'LABEL kenv.env="A=1,B=2"' --change 'LABEL kenv.note="one, two"' parsetest-created parsetest/labelled:latest >/dev/null
"$podman" tag localhost/parsetest/labelled:latest localhost/parsetest/labelled:second
wait_status "$podman" parsetest-logs exited

dir=$here/podman-4.3
mkdir -p "$dir"
for name in running exited created paused initialized labels limits oom; do
	save "$dir/container-inspect-$name.json" "$podman" container inspect "parsetest-$name"
done
save "$dir/container-inspect-all.json" "$podman" container inspect parsetest-running parsetest-exited parsetest-created
save "$dir/image-inspect.json" "$podman" image inspect "$podman_image"
save "$dir/image-inspect-labelled.json" "$podman" image inspect localhost/parsetest/labelled:latest
save "$dir/ps.json" "$podman" ps -a --filter name=parsetest- --format json
save "$dir/ps-empty.json" "$podman" ps -a --filter name=parsetest-no-such-name --format json
"$podman" logs --timestamps parsetest-logs >"$dir/logs.txt" 2>"$dir/logs-stderr.txt"
save "$dir/version.json" "$podman" version --format json
fail "$dir" version-unreachable "$podman" --url "unix://$tmp/nothing.sock" version --format json
fail "$dir" ps-unreachable "$podman" --url "unix://$tmp/nothing.sock" ps
fail "$dir" ps-connection-refused "$podman" --url "unix://$tmp/stale.sock" ps
fail "$dir" inspect-one-missing "$podman" container inspect parsetest-missing parsetest-running
mv "$dir/failures/inspect-one-missing.stdout" "$dir/container-inspect-one-missing.json"
capture_failures "$podman" "$dir" "$podman_image"
mv "$dir/failures/inspect-missing-container.stdout" "$dir/container-inspect-missing.json"
mv "$dir/failures/image-inspect-missing.stdout" "$dir/image-inspect-missing.json"

# A Podman API service on a private socket, for version output with a Server section.
"$podman" system service --time=60 "unix://$tmp/podman.sock" >/dev/null 2>&1 &
service_pid=$!
for i in $(seq 1 20); do
	[ -S "$tmp/podman.sock" ] && break
	sleep 0.5
done
save "$dir/version-remote.json" "$podman" --url "unix://$tmp/podman.sock" version --format json
