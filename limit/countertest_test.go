package limit_test

import (
	"testing"
	"time"

	"github.com/toolgate/toolgate/limit"
)

func TestWindowStart(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name   string
		t      time.Time
		window time.Duration
		want   time.Time
	}{
		{"minute", time.Date(2026, 3, 4, 10, 31, 42, 5, time.UTC), time.Minute, time.Date(2026, 3, 4, 10, 31, 0, 0, time.UTC)},
		{"hour", time.Date(2026, 3, 4, 10, 31, 42, 5, time.UTC), time.Hour, time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)},
		{"day", time.Date(2026, 3, 4, 23, 59, 59, 0, time.UTC), 24 * time.Hour, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)},
		{"day is UTC, not local", time.Date(2026, 3, 5, 0, 30, 0, 0, paris), 24 * time.Hour, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)},
		{"other length", time.Date(2026, 3, 4, 10, 31, 42, 0, time.UTC), 10 * time.Second, time.Date(2026, 3, 4, 10, 31, 40, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := limit.WindowStart(tt.t, tt.window); !got.Equal(tt.want) {
				t.Fatalf("WindowStart(%s, %s) = %s, want %s", tt.t, tt.window, got, tt.want)
			}
		})
	}
}
