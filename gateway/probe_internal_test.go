package gateway

import (
	"errors"
	"fmt"
	"testing"

	"github.com/toolgate/toolgate/internal/upstreamauth"
)

func TestProbeFailed(t *testing.T) {
	login := fmt.Errorf("initialize: %w", &upstreamauth.LoginNeededError{Server: "notes", Reason: "no token stored"})
	other := errors.New("connection refused")
	tests := []struct {
		name     string
		failures int
		err      error
		want     int
		giveUp   bool
	}{
		{"first failure", 0, other, 1, false},
		{"last allowed", maxProbeFailures - 2, other, maxProbeFailures - 1, false},
		{"gives up", maxProbeFailures - 1, other, maxProbeFailures, true},
		{"waits for a login forever", maxProbeFailures - 1, login, maxProbeFailures - 1, false},
		{"a login error early counts", 2, login, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, giveUp := probeFailed(tt.failures, tt.err)
			if got != tt.want || giveUp != tt.giveUp {
				t.Errorf("probeFailed(%d) = %d, %v; want %d, %v", tt.failures, got, giveUp, tt.want, tt.giveUp)
			}
		})
	}
}
