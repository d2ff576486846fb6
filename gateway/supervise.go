package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/toolgate/toolgate/internal/upstreamauth"
)

// UpstreamState is what the gateway knows of an upstream server's own
// connection (its probe, below).
type UpstreamState string

// The states of an upstream in /readyz.
const (
	// StateStarting: the first start is under way.
	StateStarting UpstreamState = "starting"
	// StateReady: started, initialized and listed.
	StateReady UpstreamState = "ready"
	// StateFailed: the last start failed, or the server stopped, and it
	// is tried again at next_attempt; without next_attempt the gateway
	// has given up (after maxProbeFailures failures in a row).
	StateFailed UpstreamState = "failed"
	// StateRestarting: the server was ready, stopped, and is being
	// started again.
	StateRestarting UpstreamState = "restarting"
	// StateOnDemand: eager: false; started only by client sessions.
	StateOnDemand UpstreamState = "on_demand"
)

// UpstreamStatus is one upstream as /readyz reports it.
type UpstreamStatus struct {
	Name  string        `json:"name"`
	State UpstreamState `json:"state"`
	Since time.Time     `json:"since"`
	// Tools is how many tools it listed when it was last ready.
	Tools int `json:"tools"`
	// Reason says why it failed or restarts: the exit code and the last
	// lines of its stderr, an HTTP status, a timeout and the key to
	// raise. Configured env and header values are masked.
	Reason string `json:"reason,omitempty"`
	// Restarts counts the starts after the first.
	Restarts int `json:"restarts"`
	// NextAttempt is when it is tried again, while it is.
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	// Circuit is an HTTP upstream's circuit breaker when not closed:
	// "open" (requests fail at once until CircuitUntil) or "half_open"
	// (the next request is a trial); CircuitReason is the last failure.
	Circuit       string     `json:"circuit,omitempty"`
	CircuitUntil  *time.Time `json:"circuit_until,omitempty"`
	CircuitReason string     `json:"circuit_reason,omitempty"`
}

// Bounds of the restarts of a probe.
const (
	probeBackoffBase = time.Second
	probeBackoffMax  = time.Minute
	// maxProbeFailures failed starts in a row, and the gateway gives up
	// (about three minutes of attempts with the backoff above).
	maxProbeFailures = 8
	// probeStable is how long a started server must stay up for its
	// failures to be forgotten, so that a server that dies right after
	// each start still meets maxProbeFailures.
	probeStable = 30 * time.Second
	// probeHealthEvery is how often an HTTP upstream's probe pings it.
	probeHealthEvery = 30 * time.Second
)

// probeBackoff is the wait before the nth retry (n ≥ 1): exponential,
// capped, with jitter in [d/2, d] so that many gateways restarted together
// do not retry in step.
// probeFailed counts one more failed start after failures, and says
// whether the gateway gives up. An upstream that waits for an operator's
// toolgate upstream login is never given up: it is tried again at the
// longest backoff, so that a login made while the gateway runs is taken
// up without a restart.
func probeFailed(failures int, err error) (int, bool) {
	failures++
	var login *upstreamauth.LoginNeededError
	if failures >= maxProbeFailures && errors.As(err, &login) {
		return maxProbeFailures - 1, false
	}
	return failures, failures >= maxProbeFailures
}

func probeBackoff(n int) time.Duration {
	d := probeBackoffBase << min(n-1, 16)
	d = min(d, probeBackoffMax)
	return d/2 + rand.N(d/2+1)
}

// probe is the gateway's own connection to an eager upstream, apart from
// every client session's: it starts the server when the gateway starts,
// lists its tools into the catalog (GET /admin/tools), says in /readyz
// whether it is up, and is restarted with backoff when it stops. Client
// sessions still get connections of their own.
type probe struct {
	g    *Gateway
	idx  int
	srv  *Server
	mask *secretMask

	mu sync.Mutex
	st UpstreamStatus
}

func newProbe(g *Gateway, idx int) *probe {
	srv := &g.opts.Servers[idx]
	st := UpstreamStatus{Name: srv.Name, State: StateStarting, Since: time.Now()}
	if srv.Lazy {
		st.State = StateOnDemand
	}
	return &probe{g: g, idx: idx, srv: srv, mask: newSecretMask(srv), st: st}
}

func (p *probe) status() UpstreamStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.st
	if st.NextAttempt != nil {
		t := *st.NextAttempt
		st.NextAttempt = &t
	}
	return st
}

func (p *probe) set(f func(*UpstreamStatus)) {
	p.mu.Lock()
	prev := p.st.State
	f(&p.st)
	if p.st.State != prev {
		p.st.Since = time.Now()
	}
	st := p.st
	p.mu.Unlock()
	if cb := p.g.opts.OnUpstreamState; cb != nil {
		cb(st)
	}
}

// StartUpstreams starts every eager upstream (Server.Lazy false) on a
// connection of the gateway's own, without waiting: Upstreams and
// ReadyHandler report how they fare, and Options.OnUpstreamState hears of
// every change. Call it once; Close stops them.
func (g *Gateway) StartUpstreams() {
	g.startOnce.Do(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.closed {
			return
		}
		for _, p := range g.probes {
			if p.srv.Lazy {
				continue
			}
			g.wg.Add(1)
			go p.run()
		}
	})
}

// Upstreams reports the state of every configured upstream.
func (g *Gateway) Upstreams() []UpstreamStatus {
	out := make([]UpstreamStatus, len(g.probes))
	for i, p := range g.probes {
		out[i] = p.status()
		var reason string
		out[i].Circuit, out[i].CircuitUntil, reason = g.breakers[i].state()
		out[i].CircuitReason = p.mask.apply(reason)
	}
	return out
}

// readiness is the body of /readyz.
type readiness struct {
	Ready     bool             `json:"ready"`
	Upstreams []UpstreamStatus `json:"upstreams"`
}

// ReadyHandler serves /readyz: every upstream's state as JSON, with
// status 200 when every eager upstream is ready and 503 otherwise.
// Upstreams started on demand (eager: false) do not count.
func (g *Gateway) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r := readiness{Ready: true, Upstreams: g.Upstreams()}
		for _, u := range r.Upstreams {
			if u.State != StateReady && u.State != StateOnDemand {
				r.Ready = false
			}
		}
		code := http.StatusOK
		if !r.Ready {
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(r)
	})
}

// run starts the server, keeps it watched, and restarts it when it stops,
// until the gateway closes or maxProbeFailures starts in a row failed.
func (p *probe) run() {
	defer p.g.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.g.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	log := p.g.log.With("server", p.srv.Name)
	failures, wasReady := 0, false
	for start := 0; ; start++ {
		if start > 0 {
			p.set(func(st *UpstreamStatus) {
				st.Restarts++
				st.NextAttempt = nil
				st.State = StateStarting
				if wasReady {
					st.State = StateRestarting
				}
			})
		}
		began := time.Now()
		conn, slot, tools, err := p.start(ctx)
		if ctx.Err() != nil {
			if conn != nil {
				conn.close()
			}
			return
		}
		if err == nil {
			wasReady = true
			p.set(func(st *UpstreamStatus) {
				st.State, st.Tools, st.Reason = StateReady, tools, ""
			})
			log.Info("upstream ready", "tools", tools, "took", time.Since(began).Round(time.Millisecond))
			readyAt := time.Now()
			err = p.watch(ctx, conn, slot)
			conn.close()
			if ctx.Err() != nil {
				return
			}
			if time.Since(readyAt) >= probeStable {
				failures = 0
			}
		} else if conn != nil {
			conn.close()
		}
		reason := p.mask.apply(err.Error())
		var giveUp bool
		failures, giveUp = probeFailed(failures, err)
		if giveUp {
			p.set(func(st *UpstreamStatus) {
				st.State, st.Reason, st.NextAttempt = StateFailed, reason, nil
			})
			log.Error("upstream failed; giving up restarting it", "failures", failures, "reason", reason)
			return
		}
		wait := probeBackoff(failures)
		next := time.Now().Add(wait)
		p.set(func(st *UpstreamStatus) {
			st.State, st.Reason, st.NextAttempt = StateFailed, reason, &next
		})
		log.Error("upstream failed; trying again", "reason", reason, "retry_in", wait.Round(100*time.Millisecond), "attempt", failures, "of", maxProbeFailures)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// start connects to the server, initializes it and lists its tools into
// the catalog, within upstream_timeout for the start and the server's
// timeout for the list.
func (p *probe) start(ctx context.Context) (upstream, *upstreamSlot, int, error) {
	g := p.g
	slot := &upstreamSlot{idx: p.idx, srv: p.srv, started: time.Now()}
	sctx, cancel := context.WithTimeout(ctx, g.opts.UpstreamTimeout)
	defer cancel()
	log := g.log.With("probe", true)
	onMessage := func(m message) { p.fromUpstream(slot, m) }
	if p.srv.Share == ShareShared {
		// The one process every session uses: the probe starts it and
		// holds it, so that it runs for as long as the gateway does.
		c, err := g.shared.acquire(sctx, p.idx, "", onMessage, true)
		if err != nil {
			return nil, nil, 0, err
		}
		slot.idSrc = &c.proc.ids
		slot.conn, slot.init = c, c.proc.init
	} else {
		u, err := g.dial(sctx, p.srv, log, g.floodLog, onMessage)
		if err != nil {
			return nil, nil, 0, err
		}
		slot.conn = u
		params, _ := json.Marshal(map[string]any{
			"protocolVersion": latestVersion,
			"capabilities":    map[string]any{},
			"clientInfo":      map[string]string{"name": "toolgate", "version": g.opts.Version},
		})
		init, err := handshake(sctx, slot, params)
		if err != nil {
			return slot.conn, slot, 0, err
		}
		slot.init = init
	}
	init := slot.init
	if !init.has("tools") {
		return slot.conn, slot, 0, nil
	}
	n, err := p.list(ctx, slot)
	return slot.conn, slot, n, err
}

// list reads the server's tools into the catalog and returns how many.
func (p *probe) list(ctx context.Context, slot *upstreamSlot) (int, error) {
	l := walkList(ctx, slot, nil, listToolsKind, nil)
	if l.err != nil {
		if l.cause != nil {
			return 0, l.cause
		}
		return 0, l.err
	}
	for _, raw := range l.items {
		if _, changes := p.g.catalog.observe(p.srv.Name, raw); len(changes) > 0 {
			p.g.log.Warn("tool definition differs from its pin", "server", p.srv.Name, "changes", changes)
		}
	}
	return len(l.items), nil
}

// fromUpstream answers what the server asks of the probe, which has no
// client: ping, and an error for anything else. A tools/list_changed
// makes it list again.
func (p *probe) fromUpstream(slot *upstreamSlot, m message) {
	req, ok := m.msg.(*jsonrpc.Request)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if req.IsCall() {
		raw := encodeResponse(req.ID, json.RawMessage(`{}`), nil)
		if req.Method != "ping" {
			raw = encodeResponse(req.ID, nil, rpcError(codeMethodNotFound, "toolgate's own connection has no client to ask"))
		}
		_ = slot.conn.send(ctx, raw)
		return
	}
	if req.Method == "notifications/tools/list_changed" {
		go func() {
			if n, err := p.list(context.Background(), slot); err == nil {
				p.set(func(st *UpstreamStatus) { st.Tools = n })
			}
		}()
	}
}

// watch waits until the server stops (a stdio process exits, an HTTP
// server stops answering pings) or the gateway closes, and says why.
func (p *probe) watch(ctx context.Context, conn upstream, slot *upstreamSlot) error {
	if u, ok := conn.(*stdioUpstream); ok {
		select {
		case <-u.done:
			return u.exited()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var ended <-chan struct{} // a legacy SSE server's stream: its end is the session's
	sse, _ := conn.(*sseUpstream)
	if sse != nil {
		ended = sse.done
	}
	t := time.NewTicker(probeHealthEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ended:
			return sse.ended()
		case <-t.C:
		}
		resp, err := slot.call(ctx, "ping", json.RawMessage(`{}`), nil)
		if err != nil {
			return err
		}
		if resp.Error != nil {
			return resp.Error
		}
	}
}
