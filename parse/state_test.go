package parse

import "testing"

func TestCanonicalState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want string
	}{
		// Docker.
		{"created", StateCreated},
		{"running", StateRunning},
		{"paused", StatePaused},
		{"restarting", StateRunning},
		{"removing", StateDead},
		{"exited", StateExited},
		{"dead", StateDead},
		// Podman.
		{"configured", StateCreated},
		{"initialized", StateCreated},
		{"stopping", StateRunning},
		{"stopped", StateExited},
		{"unknown", StateUnknown},
		// Case and spaces.
		{"Running", StateRunning},
		{"EXITED", StateExited},
		{" paused\n", StatePaused},
		// Anything else.
		{"", StateUnknown},
		{"Up 2 seconds", StateUnknown},
		{"runningx", StateUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			if got := CanonicalState(tt.raw); got != tt.want {
				t.Errorf("CanonicalState(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}
