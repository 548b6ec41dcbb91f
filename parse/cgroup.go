package parse

import (
	"bytes"
	"strconv"
)

// OOMKillCount reads the "oom_kill N" line of a memory cgroup's counters:
// memory.events on cgroup v2, or memory.oom_control on cgroup v1 (kernel
// 4.13 and later), for example
//
//	oom_kill_disable 0
//	under_oom 0
//	oom_kill 1
//
// It sums the counts when the input holds several such files one after the
// other, and ok is false when no oom_kill line is present.
func OOMKillCount(data []byte) (count int64, ok bool) {
	for _, line := range bytes.Split(data, []byte("\n")) {
		fields := bytes.Fields(line)
		if len(fields) != 2 || string(fields[0]) != "oom_kill" {
			continue
		}
		n, err := strconv.ParseInt(string(fields[1]), 10, 64)
		if err != nil || n < 0 {
			continue
		}
		count += n
		ok = true
	}
	return count, ok
}
