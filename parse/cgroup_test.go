package parse

import "testing"

func TestOOMKillCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		data      string
		wantCount int64
		wantOK    bool
	}{
		{"cgroup v1 oom_control after a kill", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n", 1, true},
		{"cgroup v1 no kill", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", 0, true},
		{"cgroup v2 memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n", 2, true},
		{"old kernel without the counter", "oom_kill_disable 0\nunder_oom 0\n", 0, false},
		{"empty", "", 0, false},
		{"garbage value", "oom_kill many\n", 0, false},
		{"negative value ignored", "oom_kill -3\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			count, ok := OOMKillCount([]byte(tt.data))
			if count != tt.wantCount || ok != tt.wantOK {
				t.Errorf("OOMKillCount(%q) = %d, %t; want %d, %t", tt.data, count, ok, tt.wantCount, tt.wantOK)
			}
		})
	}
}
