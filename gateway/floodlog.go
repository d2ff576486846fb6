package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// floodLog writes at most one line per key per interval, so that a peer
// sending a flood of bad or unwanted messages costs one log line a minute,
// not one per message. The first line after a quiet spell says how many
// lines were held back since the last one.
type floodLog struct {
	log   *slog.Logger
	every time.Duration

	mu   sync.Mutex
	keys map[string]*floodKey
}

type floodKey struct {
	last       time.Time
	suppressed int
}

func newFloodLog(log *slog.Logger, every time.Duration) *floodLog {
	return &floodLog{log: log, every: every, keys: map[string]*floodKey{}}
}

// Warn logs msg at warning level unless a line with the same key was
// logged less than the interval ago.
func (f *floodLog) Warn(key, msg string, args ...any) { f.write(slog.LevelWarn, key, msg, args) }

// Debug is Warn at debug level.
func (f *floodLog) Debug(key, msg string, args ...any) {
	if f.log.Enabled(context.Background(), slog.LevelDebug) {
		f.write(slog.LevelDebug, key, msg, args)
	}
}

func (f *floodLog) write(level slog.Level, key, msg string, args []any) {
	now := time.Now()
	f.mu.Lock()
	k := f.keys[key]
	if k == nil {
		k = &floodKey{}
		f.keys[key] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < f.every {
		k.suppressed++
		f.mu.Unlock()
		return
	}
	n := k.suppressed
	k.last, k.suppressed = now, 0
	f.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed", n, "suppressed_over", f.every.String())
	}
	f.log.Log(context.Background(), level, msg, args...)
}
