package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// Defaults of an HTTP upstream's circuit breaker.
const (
	// DefaultBreakerFailures failures in a row open the circuit.
	DefaultBreakerFailures = 5
	// DefaultBreakerCooldown is how long the circuit first stays open;
	// each trial that fails doubles it, up to breakerMaxCooldown.
	DefaultBreakerCooldown = 10 * time.Second
	breakerMaxCooldown     = 5 * time.Minute
)

// breaker is the circuit breaker of one HTTP upstream, shared by every
// session's connection to it: after Failures failed requests in a row
// (the server unreachable, a 5xx, an answer that is not MCP), the circuit
// opens and requests fail at once, without reaching the server, for the
// cooldown; then one request is let through as a trial: its success closes
// the circuit, its failure opens it again for twice as long. An answer,
// even a JSON-RPC error or a 4xx refusal, is a success: the server is up.
type breaker struct {
	server   string
	failures int           // in a row that open the circuit; 0: never
	cooldown time.Duration // the first open period
	now      func() time.Time

	mu       sync.Mutex
	fails    int       // failures in a row
	openTill time.Time // zero: closed
	wait     time.Duration
	trial    bool // a trial request is under way
	cause    error
	opened   int // times it opened
}

func newBreaker(srv *Server) *breaker {
	b := &breaker{server: srv.Name, failures: srv.BreakerFailures, cooldown: srv.BreakerCooldown, now: time.Now}
	if b.failures == 0 {
		b.failures = DefaultBreakerFailures
	}
	if b.cooldown <= 0 {
		b.cooldown = DefaultBreakerCooldown
	}
	return b
}

// errCircuitOpen is the error of a request refused by an open circuit.
type errCircuitOpen struct {
	server string
	until  time.Time
	cause  error
}

func (e *errCircuitOpen) Error() string {
	return fmt.Sprintf("upstream %s failed repeatedly (last: %v): not tried again until %s (circuit breaker; servers.%s.breaker)",
		e.server, e.cause, e.until.UTC().Format(time.RFC3339), e.server)
}

func (e *errCircuitOpen) Unwrap() error { return e.cause }

// allow reports whether a request may go to the server now, and whether it
// is the trial of a half-open circuit.
func (b *breaker) allow() (trial bool, err error) {
	if b == nil || b.failures < 0 {
		return false, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openTill.IsZero() {
		return false, nil
	}
	if b.now().Before(b.openTill) || b.trial {
		return false, &errCircuitOpen{server: b.server, until: b.openTill, cause: b.cause}
	}
	b.trial = true
	return true, nil
}

// done records how a request the breaker allowed went: err is the
// transport's error (nil when the server answered).
func (b *breaker) done(ctx context.Context, trial bool, err error) {
	if b == nil || b.failures < 0 {
		return
	}
	failed := err != nil && ctx.Err() == nil && !errors.Is(err, errUpstreamClosed)
	b.mu.Lock()
	defer b.mu.Unlock()
	if trial {
		b.trial = false
	}
	if err != nil && !failed {
		return // cancelled by the client, or this session ended: says nothing of the server
	}
	if !failed {
		b.fails, b.openTill, b.wait, b.cause = 0, time.Time{}, 0, nil
		return
	}
	b.fails++
	b.cause = err
	switch {
	case trial:
		b.wait = min(2*b.wait, breakerMaxCooldown)
	case b.fails >= b.failures && b.openTill.IsZero():
		b.wait = b.cooldown
	default:
		return
	}
	b.openTill = b.now().Add(b.wait)
	b.opened++
}

// state is the circuit as /readyz shows it: "" when closed.
func (b *breaker) state() (string, *time.Time, string) {
	if b == nil {
		return "", nil, ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openTill.IsZero() {
		return "", nil, ""
	}
	t := b.openTill
	if b.now().Before(t) {
		return "open", &t, b.cause.Error()
	}
	return "half_open", &t, b.cause.Error()
}

// guarded is an upstream connection behind its server's breaker.
type guarded struct {
	upstream
	b *breaker
}

func (g *guarded) call(ctx context.Context, req *jsonrpc.Request, raw []byte, related func(message)) (*jsonrpc.Response, []byte, error) {
	trial, err := g.b.allow()
	if err != nil {
		return nil, nil, err
	}
	resp, out, err := g.upstream.call(ctx, req, raw, related)
	g.b.done(ctx, trial, err)
	return resp, out, err
}
