package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// respawn is a stdio upstream that is started again, with backoff and
// jitter, when its process exits: the calls in flight fail at once (the
// process's stdout ends), the calls during the outage get an unavailable
// result naming the server, and once the server is back its users are told
// (back), so that clients list its tools again. A server that keeps dying
// within probeStable of each start is given up after maxProbeFailures.
// It serves a client session's own process and a shared one (share.go).
type respawn struct {
	server string
	log    *slog.Logger
	start  func() (*stdioUpstream, error) // starts and initializes the process
	back   func()                         // the server is back after an outage
	gone   func()                         // the process exited; nil: nothing to do

	mu       sync.Mutex
	cur      *stdioUpstream // nil while the server is down
	down     error          // why it is down
	protocol string
	closed   bool
	gaveUp   bool // no more restarts: the server kept failing
	stop     chan struct{}
}

var _ upstream = (*respawn)(nil)

// newRespawn wraps u, the running process of server, and watches it:
// start starts it again, back is called each time it is back, gone (when
// not nil) each time a process has exited, before the next starts.
func newRespawn(server string, log *slog.Logger, u *stdioUpstream, start func() (*stdioUpstream, error), back, gone func()) *respawn {
	r := &respawn{server: server, log: log, start: start, back: back, gone: gone, cur: u, stop: make(chan struct{})}
	go r.watch(u)
	return r
}

// respawn makes the process of a client session's slot start again
// when it exits, initialized with the client's own params.
func (s *session) respawn(slot *upstreamSlot, params json.RawMessage, u *stdioUpstream) *respawn {
	idx := slot.idx
	start := func() (*stdioUpstream, error) {
		ctx, cancel := context.WithTimeout(context.Background(), s.g.opts.UpstreamTimeout)
		defer cancel()
		log := s.g.log.With("session", s.logID())
		u, err := startStdioUpstream(ctx, slot.srv, log, s.flood, func(m message) { s.fromUpstream(idx, m, nil) })
		if err != nil {
			return nil, err
		}
		tmp := &upstreamSlot{idx: idx, srv: slot.srv, conn: u, started: time.Now()}
		if _, err := handshake(ctx, tmp, params); err != nil {
			u.close()
			return nil, err
		}
		return u, nil
	}
	back := func() {
		// Its tools may differ: the client lists them again.
		s.toolsChanged()
	}
	log := s.g.log.With("server", slot.srv.Name, "session", s.logID())
	return newRespawn(slot.srv.Name, log, u, start, back, nil)
}

// listChangedMessage is notifications/tools/list_changed.
func listChangedMessage() message {
	return message{msg: &jsonrpc.Request{Method: "notifications/tools/list_changed"},
		raw: []byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`)}
}

// givenUp reports whether the server was given up: it kept failing and is
// not started again.
func (r *respawn) givenUp() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gaveUp
}

// errDown is the error of a call while the server is down.
type errDown struct {
	server string
	cause  error
}

func (e *errDown) Error() string {
	return fmt.Sprintf("upstream %s is down (%v); it is being restarted", e.server, e.cause)
}

func (e *errDown) Unwrap() error { return e.cause }

func (r *respawn) current() (*stdioUpstream, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		if r.closed {
			return nil, errUpstreamClosed
		}
		return nil, &errDown{server: r.server, cause: r.down}
	}
	return r.cur, nil
}

func (r *respawn) call(ctx context.Context, req *jsonrpc.Request, raw []byte, related func(message)) (*jsonrpc.Response, []byte, error) {
	u, err := r.current()
	if err != nil {
		return nil, nil, err
	}
	return u.call(ctx, req, raw, related)
}

func (r *respawn) send(ctx context.Context, raw []byte) error {
	u, err := r.current()
	if err != nil {
		return err
	}
	return u.send(ctx, raw)
}

func (r *respawn) initialized(protocol string) {
	r.mu.Lock()
	r.protocol = protocol
	u := r.cur
	r.mu.Unlock()
	if u != nil {
		u.initialized(protocol)
	}
}

func (r *respawn) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.stop)
	u := r.cur
	r.cur = nil
	r.mu.Unlock()
	if u != nil {
		u.close()
	}
}

// watch waits for u to exit, then starts the server again until it runs
// or r is closed.
func (r *respawn) watch(u *stdioUpstream) {
	log := r.log
	failures := 0
	for {
		startedAt := time.Now()
		select {
		case <-u.done:
		case <-r.stop:
			return
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return
		}
		cause := u.exited()
		if cause == nil {
			cause = errUpstreamClosed
		}
		r.cur, r.down = nil, cause
		r.mu.Unlock()
		u.close()
		if r.gone != nil {
			r.gone()
		}
		if time.Since(startedAt) >= probeStable {
			failures = 0
		}
		for {
			failures++
			if failures > maxProbeFailures {
				r.mu.Lock()
				r.down = fmt.Errorf("%w; gave up after %d failed starts in a row", r.down, maxProbeFailures)
				r.gaveUp = true
				r.mu.Unlock()
				log.Error("an upstream process keeps failing; not restarting it again", "failures", maxProbeFailures, "err", cause)
				return
			}
			wait := probeBackoff(failures)
			log.Warn("an upstream process stopped; restarting it", "err", cause, "in", wait.Round(time.Millisecond), "attempt", failures)
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-r.stop:
				t.Stop()
				return
			}
			nu, err := r.start()
			if err != nil {
				cause = err
				r.mu.Lock()
				r.down = err
				r.mu.Unlock()
				continue
			}
			r.mu.Lock()
			if r.closed {
				r.mu.Unlock()
				nu.close()
				return
			}
			r.cur, r.down = nu, nil
			r.mu.Unlock()
			log.Info("an upstream process is back", "attempt", failures)
			r.back()
			u = nu
			break
		}
	}
}
