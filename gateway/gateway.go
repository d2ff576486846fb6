// Package gateway is the MCP front of toolgate: it accepts client sessions
// over streamable HTTP or stdio, opens one session per upstream server for
// each of them, merges the upstreams' tools, and puts every tools/call
// through the policy before forwarding it. Everything else passes through.
package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/enforce"
	"github.com/toolgate/toolgate/limit"
	"github.com/toolgate/toolgate/limit/memory"
	"github.com/toolgate/toolgate/policy"
	"github.com/toolgate/toolgate/scan"
)

// Options configure a Gateway. A nil *Options, and every zero field, means
// the documented default.
type Options struct {
	// Servers are the upstream servers, in aggregation order.
	Servers []Server
	// Policy is the initial policy; nil denies every call ("(no policy)").
	Policy *policy.Engine
	// Limiter enforces rate limits; default: an in-memory GCRA limiter.
	Limiter limit.Limiter
	// Counters hold the windowed counters of Intercept-format policies;
	// default: in memory, for the life of the process.
	Counters limit.Counters
	// Logger receives the gateway's logs; default: slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes bounds one HTTP request body; default 4 MiB.
	MaxBodyBytes int64
	// MaxDepth bounds JSON nesting in a request; default 64.
	MaxDepth int
	// AllowedOrigins are browser origins allowed besides loopback ones.
	AllowedOrigins []string
	// AllowedHosts are host names a request's Host header may carry
	// besides localhost, 127.0.0.1 and ::1. Checking Host keeps a page
	// that rebinds its own name to 127.0.0.1 from reading the gateway
	// (browsers send no Origin on same-origin GETs).
	AllowedHosts []string
	// ListPageSize is the most items one answer to tools/list,
	// prompts/list, resources/list or resources/templates/list carries:
	// a merged list up to this long comes in one page, a longer one in
	// pages of this size. Default DefaultListPageSize (1000).
	ListPageSize int
	// UpstreamTimeout bounds starting and initializing an upstream; default 30s.
	UpstreamTimeout time.Duration
	// SessionIdleTimeout ends sessions unused for this long; default 30m.
	SessionIdleTimeout time.Duration
	// MaxSessions bounds concurrent client sessions; default 10000.
	MaxSessions int
	// MaxSessionsPerClient bounds the concurrent sessions one client
	// address (the HTTP peer's IP) may hold; default 100.
	MaxSessionsPerClient int
	// SessionQueue bounds the server→client messages waiting for a
	// session's client; a client that lets it fill (it reads no stream) has
	// its session closed, with the reason logged. Default 1024.
	SessionQueue int
	// SessionQueueBytes bounds the bytes of those messages, with the same
	// rules. Default 16 MiB.
	SessionQueueBytes int64
	// ReplayEvents bounds the events a session's GET stream keeps after
	// writing them, for a client that resumes with Last-Event-ID. Default
	// DefaultReplayEvents (256).
	ReplayEvents int
	// ReplayBytes bounds the bytes of those events. Default
	// DefaultReplayBytes (1 MiB).
	ReplayBytes int64
	// MaxInflightBytes bounds the memory the HTTP front spends on the
	// requests it is serving, across all clients: each request is charged
	// decodeFactor (16) times its size, about the most its decoded form can
	// take, from when its body is read until it is answered. A request
	// that would exceed the budget waits for others to finish, and after
	// 10s is answered 503. Default 96 MiB: one 4 MiB body at a time,
	// thousands of small ones.
	MaxInflightBytes int64
	// HTTPClient reaches HTTP upstreams; default: a keep-alive client.
	HTTPClient *http.Client
	// Version is reported as serverInfo.version.
	Version string
	// Pins are the pinned tool definitions (toolgate scan --pin); nil for
	// none. A tool that differs from its pin is logged and flagged, and
	// refused where the policy says pinned: true.
	Pins *scan.Pins
	// Poisoned is what becomes of a tool whose text (name, description,
	// schema, annotations) carries instructions to the model, as the
	// scanner finds them (its injection and unicode signals): PoisonedHide
	// (the default: not listed, calls refused), PoisonedDeny (listed with
	// its text replaced by a neutral note, calls refused) or PoisonedAllow.
	Poisoned string
	// StreamWriteTimeout bounds one write to a client's event stream; a
	// client that does not take a message within it loses the stream (the
	// message stays in the stream's replay buffer, for the client to
	// resume with Last-Event-ID). Default 30s.
	StreamWriteTimeout time.Duration
	// LogFloodInterval is the least time between two log lines about the
	// same kind of unwanted traffic from one peer (undecodable upstream
	// messages, dropped notifications, refused requests); the next line
	// counts those held back. Default 1m.
	LogFloodInterval time.Duration
	// Methods sends requests and notifications of methods the gateway does
	// not know (method → server name). Any other unknown request is
	// answered -32601 and any other unknown notification dropped: a
	// message the gateway does not understand reaches no upstream.
	Methods map[string]string
	// Authenticator, when set, requires a grant's bearer token on every
	// HTTP request (auth: grants): a session belongs to the grant that
	// opened it, reaches only the servers the grant allows, and is decided
	// by the policy the grant names (SetNamedPolicy). Nil: every caller is
	// toolgate.Anonymous under the gateway's policy (auth: none).
	Authenticator Authenticator
	// ProtectedResource, when set, makes the gateway describe itself as
	// an OAuth protected resource (RFC 9728): ResourceMetadataHandler
	// serves the metadata, and every 401 points at it in its
	// WWW-Authenticate header, so that OAuth-capable MCP clients find the
	// authorization server. Nil: no metadata (grant tokens only).
	ProtectedResource *ProtectedResource
	// Approvals holds the calls waiting for a human (action approve); nil
	// refuses such calls, saying approvals are not configured.
	Approvals *approval.Manager
	// ApprovalWait is how long a call waits for a human before it is
	// answered with a refusal that names its approval, which stays
	// pending: once approved, the same call made again goes through.
	// Default 50s, under the 60s after which MCP SDKs give up on a request
	// by default.
	ApprovalWait time.Duration
	// ApprovalProgress is how often a waiting call whose request carried a
	// progress token is sent notifications/progress naming its approval.
	// Default 5s.
	ApprovalProgress time.Duration
	// OnUpstreamState, when set, is called with an upstream's status each
	// time its gateway-owned connection changes state (StartUpstreams),
	// e.g. to show progress on a terminal. It must not block.
	OnUpstreamState func(UpstreamStatus)
	// ApprovalSweep is how often approvals past their timeout that no call
	// waits for are marked expired (and reported). Default 5s.
	ApprovalSweep time.Duration
	// Audit records every tools/call decision (durably, before an allowed
	// call is forwarded: a call whose decision cannot be recorded is
	// refused), every forwarded call's outcome, and the gateway's admin
	// events (policy loaded or refused, approval decided). Nil records
	// nothing.
	Audit Auditor
	// AuditArgs says how the audit log records a call's arguments;
	// default audit.DefaultArgsMode (redacted).
	AuditArgs audit.ArgsMode
	// RequestStateKey signs the requestState the gateway gives a client
	// whose tool call asks for input (protocol 2026-07-28, mrtr.go), so
	// that the retry is known as the same call. Replicas that serve the
	// same clients share it; nil means a random key of this process.
	RequestStateKey []byte
}

// Defaults of the approval options.
const (
	DefaultApprovalWait     = 50 * time.Second
	DefaultApprovalProgress = 5 * time.Second
	DefaultApprovalSweep    = 5 * time.Second
)

// Gateway is the MCP policy gateway. It is an http.Handler for the /mcp
// endpoint and can also serve one session over stdio.
type Gateway struct {
	opts    Options
	log     *slog.Logger
	limiter limit.Limiter
	client  *http.Client
	engine  atomic.Pointer[policy.Engine]
	named   atomic.Pointer[map[string]*policy.Engine] // by name, for grants
	schemas schemaCache
	catalog *catalog

	pipeline  *enforce.Pipeline   // decides every tools/call
	authFails failures            // refused tokens per client address
	inflight  *semaphore.Weighted // request bytes being decoded and served
	floodLog  *floodLog

	shared    *sharePool // the processes several sessions share
	probes    []*probe   // one per server, in configuration order
	breakers  []*breaker // one per server; nil for a stdio server
	startOnce sync.Once

	stateKey   []byte     // signs the requestStates of input rounds (mrtr.go)
	usedStates usedStates // requestStates a retry used

	mu        sync.Mutex
	sessions  map[string]*session
	stateless map[string]*session // the sessions of 2026-07-28 requests, by statelessKey
	perClient map[string]int      // sessions per client address
	// legacy are the streams of the legacy SSE front, by sessionId; those
	// not initialized yet hold places among the sessions: legacyPending in
	// all, legacyPer per client address.
	legacy        map[string]*legacyConn
	legacyPending int
	legacyPer     map[string]int
	closed        bool
	stop          chan struct{}
	wg            sync.WaitGroup
}

// New returns a Gateway. It starts no upstream: StartUpstreams starts the
// eager ones on connections of the gateway's own, and each client session
// opens its own upstream sessions when it initializes.
func New(opts *Options) (*Gateway, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 4 << 20
	}
	stateKey := o.RequestStateKey
	if len(stateKey) == 0 {
		stateKey = make([]byte, 32)
		_, _ = rand.Read(stateKey)
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 64
	}
	if o.ListPageSize <= 0 {
		o.ListPageSize = DefaultListPageSize
	}
	if o.UpstreamTimeout <= 0 {
		o.UpstreamTimeout = 30 * time.Second
	}
	if o.SessionIdleTimeout <= 0 {
		o.SessionIdleTimeout = 30 * time.Minute
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 10000
	}
	if o.StreamWriteTimeout <= 0 {
		o.StreamWriteTimeout = 30 * time.Second
	}
	if o.LogFloodInterval <= 0 {
		o.LogFloodInterval = time.Minute
	}
	if o.MaxSessionsPerClient <= 0 {
		o.MaxSessionsPerClient = 100
	}
	if o.SessionQueue <= 0 {
		o.SessionQueue = 1024
	}
	if o.SessionQueueBytes <= 0 {
		o.SessionQueueBytes = 16 << 20
	}
	if o.ReplayEvents <= 0 {
		o.ReplayEvents = DefaultReplayEvents
	}
	if o.ReplayBytes <= 0 {
		o.ReplayBytes = DefaultReplayBytes
	}
	if o.MaxInflightBytes <= 0 {
		o.MaxInflightBytes = 96 << 20
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.ApprovalWait <= 0 {
		o.ApprovalWait = DefaultApprovalWait
	}
	if o.ApprovalProgress <= 0 {
		o.ApprovalProgress = DefaultApprovalProgress
	}
	if o.ApprovalSweep <= 0 {
		o.ApprovalSweep = DefaultApprovalSweep
	}
	if o.AuditArgs == "" {
		o.AuditArgs = audit.DefaultArgsMode
	}
	// A copy, so that filling in defaults leaves the caller's slice alone.
	o.Servers = slices.Clone(o.Servers)
	seen := map[string]string{}
	for i, s := range o.Servers {
		if s.Timeout <= 0 {
			o.Servers[i].Timeout = DefaultServerTimeout
		}
		if (len(s.Command) == 0) == (s.URL == "") {
			return nil, fmt.Errorf("server %q: exactly one of command and url is needed", s.Name)
		}
		switch s.Transport {
		case "", TransportStreamableHTTP:
		case TransportSSE:
			if s.URL == "" {
				return nil, fmt.Errorf("server %q: transport %q needs a url", s.Name, s.Transport)
			}
		default:
			return nil, fmt.Errorf("server %q: unknown transport %q (want %q or %q)", s.Name, s.Transport, TransportStreamableHTTP, TransportSSE)
		}
		switch s.Share {
		case "", ShareSession:
		case ShareShared, ShareGrant:
			if s.URL != "" {
				return nil, fmt.Errorf("server %q: share %q applies to command servers only", s.Name, s.Share)
			}
		default:
			return nil, fmt.Errorf("server %q: unknown share %q (want %q, %q or %q)", s.Name, s.Share, ShareSession, ShareShared, ShareGrant)
		}
		for _, t := range o.Servers[:i] {
			if s.Prefix != "" && t.Prefix != "" && s.Prefix != t.Prefix &&
				(strings.HasPrefix(s.Prefix, t.Prefix) || strings.HasPrefix(t.Prefix, s.Prefix)) {
				return nil, fmt.Errorf("servers %q and %q have tool prefixes %q and %q that start alike: their tool names could collide", t.Name, s.Name, t.Prefix, s.Prefix)
			}
		}
		if len(o.Servers) > 1 {
			if other, ok := seen[s.Prefix]; ok {
				return nil, fmt.Errorf("servers %q and %q have the same tool prefix %q: their tool names could collide", other, s.Name, s.Prefix)
			}
			seen[s.Prefix] = s.Name
		}
	}
	for m, name := range o.Methods {
		found := false
		for _, s := range o.Servers {
			found = found || s.Name == name
		}
		if !found {
			return nil, fmt.Errorf("method %q is sent to server %q, which is not configured", m, name)
		}
	}
	g := &Gateway{
		stateKey:  stateKey,
		opts:      o,
		log:       o.Logger,
		limiter:   o.Limiter,
		client:    o.HTTPClient,
		sessions:  make(map[string]*session),
		perClient: make(map[string]int),
		legacy:    make(map[string]*legacyConn),
		legacyPer: make(map[string]int),
		inflight:  semaphore.NewWeighted(o.MaxInflightBytes),
		floodLog:  newFloodLog(o.Logger, o.LogFloodInterval),
		stop:      make(chan struct{}),
		catalog:   newCatalog(o.Pins),
	}
	g.shared = newSharePool(g)
	for i := range g.opts.Servers {
		g.probes = append(g.probes, newProbe(g, i))
		var b *breaker
		if srv := &g.opts.Servers[i]; srv.URL != "" {
			b = newBreaker(srv)
		}
		g.breakers = append(g.breakers, b)
	}
	if g.limiter == nil {
		g.limiter = memory.New(nil)
	}
	counters := o.Counters
	if counters == nil {
		counters = memory.NewCounters(nil)
	}
	g.pipeline = &enforce.Pipeline{Limiter: g.limiter, Logger: g.log, Counters: counters}
	g.named.Store(&map[string]*policy.Engine{})
	if o.Approvals != nil {
		g.pipeline.Approvals = approver{g}
	}
	if g.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 1024
		tr.MaxIdleConnsPerHost = 256
		tr.IdleConnTimeout = 90 * time.Second
		g.client = &http.Client{Transport: tr}
	}
	if o.Policy != nil {
		g.engine.Store(o.Policy)
	}
	g.wg.Add(1)
	go g.sweep()
	if o.Approvals != nil {
		g.wg.Add(1)
		go g.expireApprovals()
	}
	return g, nil
}

// methodServer returns the index of the server Options.Methods names for
// method, or -1.
func (g *Gateway) methodServer(method string) int {
	name, ok := g.opts.Methods[method]
	if !ok {
		return -1
	}
	for i, s := range g.opts.Servers {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// SetPolicy swaps the policy atomically: the next call is checked against it.
func (g *Gateway) SetPolicy(e *policy.Engine) { g.engine.Store(e) }

// The values of Options.Poisoned.
const (
	PoisonedHide  = "hide"
	PoisonedDeny  = "deny"
	PoisonedAllow = "allow"
)

// SetPins puts a new set of pins in force (a pins file rewritten by
// toolgate scan --pin, accepting changed definitions): every session is
// told its tools changed, and lists them checked against the new pins.
func (g *Gateway) SetPins(p *scan.Pins) {
	g.catalog.setPins(p)
	g.mu.Lock()
	sessions := make([]*session, 0, len(g.sessions))
	for _, s := range g.sessions {
		sessions = append(sessions, s)
	}
	g.mu.Unlock()
	for _, s := range sessions {
		s.toolsChanged()
	}
}

// Policy returns the policy in force (nil when there is none).
func (g *Gateway) Policy() *policy.Engine { return g.engine.Load() }

// Close ends every session and stops their upstreams.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	close(g.stop)
	sessions := g.sessions
	g.sessions = map[string]*session{}
	g.perClient = map[string]int{}
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range sessions {
		wg.Add(1)
		go func() { defer wg.Done(); s.close() }()
	}
	wg.Wait()
	g.wg.Wait()
	g.shared.closeAll()
	return nil
}

var (
	errTooManySessions  = errors.New("too many sessions")
	errTooManyForClient = errors.New("too many sessions from this client address")
	errClosed           = errors.New("gateway is closed")
)

func (g *Gateway) addSession(s *session) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return errClosed
	}
	if l := s.legacy; l != nil && l.reserved {
		// The session takes the place its stream held.
		g.releaseLocked(l)
	} else {
		if len(g.sessions)+g.legacyPending >= g.opts.MaxSessions {
			return errTooManySessions
		}
		if g.perClient[s.client]+g.legacyPer[s.client] >= g.opts.MaxSessionsPerClient {
			return errTooManyForClient
		}
	}
	g.sessions[s.id] = s
	g.perClient[s.client]++
	return nil
}

func (g *Gateway) session(id string) *session {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sessions[id]
}

// removeSession forgets the session with the id and returns it (nil when
// there is none); the caller closes it.
func (g *Gateway) removeSession(id string) *session {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessions[id]
	if s != nil {
		g.forgetLocked(s)
	}
	return s
}

func (g *Gateway) forgetLocked(s *session) {
	delete(g.sessions, s.id)
	g.forgetStatelessLocked(s)
	if g.perClient[s.client]--; g.perClient[s.client] <= 0 {
		delete(g.perClient, s.client)
	}
}

// EndGrantSessions ends, at once, every HTTP session opened with the
// grant id, and returns how many: call it when the grant was revoked,
// rotated or given another policy, so that its clients start new sessions
// under what the grant is now. A stdio session checks its token before
// every request instead.
func (g *Gateway) EndGrantSessions(id string) int {
	var ended []*session
	g.mu.Lock()
	for _, s := range g.sessions {
		if s.ident != nil && s.ident.Grant == id && !s.pinned.Load() {
			ended = append(ended, s)
		}
	}
	for _, s := range ended {
		g.forgetLocked(s)
	}
	var streams []*legacyConn // legacy SSE streams not initialized yet
	for _, c := range g.legacy {
		if c.who != nil && c.who.grant.ID == id && c.reserved {
			streams = append(streams, c)
		}
	}
	g.mu.Unlock()
	for _, c := range streams {
		c.cancel()
	}
	for _, s := range ended {
		g.log.Info("session ended: its grant changed", "session", s.logID(), "grant", id)
		go s.close()
	}
	return len(ended)
}

// sweep ends sessions idle for longer than SessionIdleTimeout.
func (g *Gateway) sweep() {
	defer g.wg.Done()
	t := time.NewTicker(min(g.opts.SessionIdleTimeout/4, time.Minute))
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case now := <-t.C:
			var idle []*session
			g.mu.Lock()
			for _, s := range g.sessions {
				if now.Sub(s.lastUsed()) > g.opts.SessionIdleTimeout && s.busy.Load() == 0 && !s.pinned.Load() {
					idle = append(idle, s)
				}
			}
			for _, s := range idle {
				g.forgetLocked(s)
			}
			g.mu.Unlock()
			for _, s := range idle {
				g.log.Info("session ended after idling", "session", s.logID())
				// In the background: one upstream slow to stop must not
				// hold up the sweep of every other session.
				go s.close()
			}
		}
	}
}

// sessionLabel names a session without revealing its id: the id is the
// only credential of an unauthenticated session, so logs, limits and
// approvals carry the first 64 bits of its SHA-256 instead.
func sessionLabel(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "s-" + hex.EncodeToString(sum[:8])
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
