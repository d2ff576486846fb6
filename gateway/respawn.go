package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// respawn is a client session's stdio upstream that is started again, with
// backoff and jitter, when its process exits: the calls in flight fail at
// once (the process's stdout ends), the calls during the outage get an
// unavailable result naming the server, and once the server is back the
// client is told its tools changed. A server that keeps dying within
// probeStable of each start is given up after maxProbeFailures.
type respawn struct {
	s      *session
	slot   *upstreamSlot
	params json.RawMessage // the client's initialize, as the upstreams get it

	mu       sync.Mutex
	cur      *stdioUpstream // nil while the server is down
	down     error          // why it is down
	protocol string
	closed   bool
	stop     chan struct{}
}

var _ upstream = (*respawn)(nil)

// newRespawn wraps u, the running process of slot, and watches it.
func newRespawn(s *session, slot *upstreamSlot, params json.RawMessage, u *stdioUpstream) *respawn {
	r := &respawn{s: s, slot: slot, params: params, cur: u, stop: make(chan struct{})}
	go r.watch(u)
	return r
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
		return nil, &errDown{server: r.slot.srv.Name, cause: r.down}
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
// or the session ends.
func (r *respawn) watch(u *stdioUpstream) {
	log := r.s.g.log.With("server", r.slot.srv.Name, "session", r.s.logID())
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
		if time.Since(startedAt) >= probeStable {
			failures = 0
		}
		for {
			failures++
			if failures > maxProbeFailures {
				r.mu.Lock()
				r.down = fmt.Errorf("%w; gave up after %d failed starts in a row", r.down, maxProbeFailures)
				r.mu.Unlock()
				log.Error("a session's upstream keeps failing; not restarting it again for this session", "failures", maxProbeFailures, "err", cause)
				return
			}
			wait := probeBackoff(failures)
			log.Warn("a session's upstream stopped; restarting it", "err", cause, "in", wait.Round(time.Millisecond), "attempt", failures)
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
			log.Info("a session's upstream is back", "attempt", failures)
			// Its tools may differ: the client lists them again.
			r.s.toolsChanged()
			u = nu
			break
		}
	}
}

// start starts the server's process and initializes it with the client's
// parameters, within upstream_timeout.
func (r *respawn) start() (*stdioUpstream, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.s.g.opts.UpstreamTimeout)
	defer cancel()
	log := r.s.g.log.With("session", r.s.logID())
	idx := r.slot.idx
	u, err := startStdioUpstream(ctx, r.slot.srv, log, r.s.flood, func(m message) { r.s.fromUpstream(idx, m, nil) })
	if err != nil {
		return nil, err
	}
	tmp := &upstreamSlot{idx: idx, srv: r.slot.srv, conn: u, started: time.Now()}
	if _, err := handshake(ctx, tmp, r.params); err != nil {
		u.close()
		return nil, err
	}
	return u, nil
}
