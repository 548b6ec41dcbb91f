package main

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/kenv/kenv/adapter"
)

// machine describes where a run took place.
type machine struct {
	cores     int
	cpuModel  string
	memory    int64 // bytes
	kernel    string
	goVersion string
	engine    adapter.EngineInfo
	loadAvg   string // at the start of the run
}

// describeMachine reads the host's description from /proc and the engine's
// from `version`. Fields that cannot be read stay empty.
func describeMachine(ctx context.Context, d *adapter.Docker) (machine, error) {
	m := machine{
		cores:     runtime.NumCPU(),
		cpuModel:  procField("/proc/cpuinfo", "model name"),
		kernel:    readTrimmed("/proc/sys/kernel/osrelease"),
		goVersion: runtime.Version(),
		loadAvg:   loadAverage(),
	}
	if kib, err := strconv.ParseInt(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 10, 64); err == nil {
		m.memory = kib << 10
	}
	info, err := d.Info(ctx)
	m.engine = info
	return m, err
}

// procField returns the value of the first "key: value" line of a /proc
// file with the given key, or "".
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		k, v, ok := strings.Cut(scanner.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func readTrimmed(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// loadAverage returns the 1, 5 and 15 minute load averages, or "".
func loadAverage() string {
	fields := strings.Fields(readTrimmed("/proc/loadavg"))
	if len(fields) < 3 {
		return ""
	}
	return strings.Join(fields[:3], " ")
}
