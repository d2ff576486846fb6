package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// Where the legacy HTTP+SSE front (MCP 2024-11-05) is served.
const (
	LegacySSEPath      = "/sse"
	LegacyMessagesPath = "/messages"
)

// legacyVersion is the revision of the legacy HTTP+SSE transport. A client
// on the legacy front that asks for it gets it: a client that old may
// speak no later one.
const legacyVersion = "2024-11-05"

// maxLegacyRequests bounds the requests of one legacy SSE session served
// at once; beyond it a POST is answered 429.
const maxLegacyRequests = 64

// legacyConn is one client of the legacy HTTP+SSE front: the GET stream
// that carries everything to the client, and, once the client's initialize
// has been served, the session it drives with POSTs. The session is the
// same type, with the same dispatch, bounds and idle timeout, as a /mcp
// session's; only the way messages travel differs.
type legacyConn struct {
	id     string // the sessionId of its endpoint: a bearer secret, never logged
	client string // the client's address, for the per-client bound
	who    *caller
	g      *Gateway

	ctx    context.Context // the stream's life: requests in flight end with it
	cancel context.CancelFunc
	flush  chan struct{} // closed to end the stream once out is written
	bound  chan struct{} // closed once sess is set

	out      chan []byte // answers and their related messages, for the stream
	outBytes atomic.Int64
	running  chan struct{} // requests being served
	// reserved: the connection holds a place among the sessions (max_sessions,
	// max_sessions_per_client) until its session takes it. Guarded by g.mu.
	reserved bool

	mu          sync.Mutex
	sess        *session
	initStarted bool
	flushOnce   sync.Once
}

func (c *legacyConn) session() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// enqueue hands raw to the stream. A client that lets its queue fill does
// not read the stream: the stream, and its session, end.
func (c *legacyConn) enqueue(raw []byte) bool {
	if c.ctx.Err() != nil {
		return false
	}
	if c.outBytes.Load()+int64(len(raw)) <= c.g.opts.SessionQueueBytes {
		select {
		case c.out <- raw:
			c.outBytes.Add(int64(len(raw)))
			return true
		default:
		}
	}
	c.g.log.Warn("closing a legacy SSE session: its client does not read its stream",
		"queued", len(c.out), "queued_bytes", c.outBytes.Load(), "limit", "session_queue")
	c.cancel()
	return false
}

// endAfterFlush ends the stream once what is queued has been written.
func (c *legacyConn) endAfterFlush() { c.flushOnce.Do(func() { close(c.flush) }) }

// ServeLegacySSE serves GET /sse: it opens a legacy HTTP+SSE stream, whose
// first event names the endpoint (LegacyMessagesPath?sessionId=...) that
// takes the client's messages. The stream carries every answer and every
// server message until the client goes away or the session ends.
func (g *Gateway) ServeLegacySSE(w http.ResponseWriter, r *http.Request) {
	if !g.originAllowed(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if r = g.authenticate(w, r); r == nil {
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !accepts(r, "text/event-stream") {
		http.Error(w, "Accept must include text/event-stream", http.StatusNotAcceptable)
		return
	}
	c, err := g.openLegacy(r)
	if err != nil {
		status := http.StatusServiceUnavailable
		if errors.Is(err, errTooManyForClient) {
			status = http.StatusTooManyRequests
		}
		writeJSONError(w, status, encodeErrorNullID(codeUnavailable, err.Error()))
		return
	}
	defer g.closeLegacy(c)
	rc := http.NewResponseController(w)
	defer rc.SetWriteDeadline(time.Time{}) // the connection may serve another request
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(g.opts.StreamWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("event: endpoint\ndata: " + LegacyMessagesPath + "?sessionId=" + c.id + "\n\n")) {
		return
	}
	writeMsg := func(raw []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(g.opts.StreamWriteTimeout))
		if writeSSE(w, raw) != nil {
			return false
		}
		return rc.Flush() == nil
	}
	keepAlive := time.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	// Until it initializes, an open stream idles out as a session does.
	idle := time.NewTimer(g.opts.SessionIdleTimeout)
	defer idle.Stop()
	idleC, bound := idle.C, c.bound
	var sess *session
	var sessOut <-chan []byte
	var sessDone <-chan struct{}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.ctx.Done():
			return
		case <-g.stop:
			return
		case <-idleC:
			g.log.Info("legacy SSE stream ended: no initialize before session_idle_timeout")
			return
		case <-bound:
			bound, idleC = nil, nil
			sess = c.session()
			sessOut, sessDone = sess.out, sess.done
		case <-sessDone:
			return
		case <-c.flush:
			for {
				select {
				case raw := <-c.out:
					c.outBytes.Add(-int64(len(raw)))
					if !writeMsg(raw) {
						return
					}
				default:
					return
				}
			}
		case raw := <-c.out:
			c.outBytes.Add(-int64(len(raw)))
			if !writeMsg(raw) {
				return
			}
		case raw := <-sessOut:
			sess.dequeued(raw)
			if !writeMsg(raw) {
				return
			}
		case <-keepAlive.C:
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
		}
	}
}

// openLegacy registers a new stream, which holds a place among the
// sessions from now on: a client cannot open more streams than sessions.
func (g *Gateway) openLegacy(r *http.Request) (*legacyConn, error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	c := &legacyConn{
		id: newSessionID(), client: clientAddr(r), who: callerOf(r), g: g,
		ctx: ctx, cancel: cancel, flush: make(chan struct{}), bound: make(chan struct{}),
		out:     make(chan []byte, g.opts.SessionQueue),
		running: make(chan struct{}, maxLegacyRequests),
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.closed:
		cancel()
		return nil, errClosed
	case len(g.sessions)+g.legacyPending >= g.opts.MaxSessions:
		cancel()
		return nil, errTooManySessions
	case g.perClient[c.client]+g.legacyPer[c.client] >= g.opts.MaxSessionsPerClient:
		cancel()
		return nil, errTooManyForClient
	}
	c.reserved = true
	g.legacyPending++
	g.legacyPer[c.client]++
	g.legacy[c.id] = c
	return c, nil
}

// releaseLocked gives back the place c holds until its session takes it.
func (g *Gateway) releaseLocked(c *legacyConn) {
	if !c.reserved {
		return
	}
	c.reserved = false
	g.legacyPending--
	if g.legacyPer[c.client]--; g.legacyPer[c.client] <= 0 {
		delete(g.legacyPer, c.client)
	}
}

// closeLegacy ends a stream and the session it drives.
func (g *Gateway) closeLegacy(c *legacyConn) {
	c.cancel()
	g.mu.Lock()
	delete(g.legacy, c.id)
	g.releaseLocked(c)
	g.mu.Unlock()
	if s := c.session(); s != nil && g.removeSession(s.id) != nil {
		g.log.Info("session ended: its legacy SSE stream closed", "session", s.logID())
		go s.close()
	}
}

// legacyFor returns the stream sid when it belongs to the caller: a stream
// opened with one grant is unknown to every other.
func (g *Gateway) legacyFor(r *http.Request, sid string) *legacyConn {
	g.mu.Lock()
	c := g.legacy[sid]
	g.mu.Unlock()
	if c == nil || c.ctx.Err() != nil {
		return nil
	}
	who := callerOf(r)
	if (who == nil) != (c.who == nil) || who != nil && who.grant.ID != c.who.grant.ID {
		return nil
	}
	return c
}

// endLegacyOfToken ends the stream sid when it was opened with the token
// of hash, which was just refused, as endSessionOfToken does on /mcp.
func (g *Gateway) endLegacyOfToken(sid string, hash [32]byte) {
	if sid == "" {
		return
	}
	g.mu.Lock()
	c := g.legacy[sid]
	g.mu.Unlock()
	if c != nil && c.who != nil && c.who.bound && c.who.hash == hash {
		g.log.Info("legacy SSE stream ended: its grant's token is no longer valid", "grant", c.who.grant.ID)
		c.cancel()
	}
}

// ServeLegacyMessages serves POST /messages?sessionId=...: one JSON-RPC
// message of a legacy SSE client, read as strictly and bounded as on /mcp,
// answered 202; its answer goes out on the client's stream.
func (g *Gateway) ServeLegacyMessages(w http.ResponseWriter, r *http.Request) {
	if !g.originAllowed(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	sid := r.URL.Query().Get("sessionId")
	token, hasToken := bearer(r)
	ar := g.authenticate(w, r)
	if ar == nil {
		if hasToken {
			g.endLegacyOfToken(sid, sha256.Sum256([]byte(token)))
		}
		return
	}
	r = ar
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); baseMediaType(ct) != "application/json" {
		http.Error(w, "Content-Type must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	if sid == "" {
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(codeInvalidRequest, "missing sessionId: open "+LegacySSEPath+" first"))
		return
	}
	c := g.legacyFor(r, sid)
	if c == nil {
		writeJSONError(w, http.StatusNotFound, encodeErrorNullID(codeInvalidRequest, "unknown or ended session"))
		return
	}
	weight, ok := g.chargeInflight(w, r)
	if !ok {
		return
	}
	var once sync.Once
	release := func() { once.Do(func() { g.inflight.Release(weight) }) }
	body, ok := readBodyOrRefuse(w, r, g.opts.MaxBodyBytes)
	if !ok {
		release()
		return
	}
	if isBatch(body) {
		release()
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(codeInvalidRequest, "JSON-RPC batches are not accepted on the legacy SSE front"))
		return
	}
	m, derr := decodeMessage(body, g.opts.MaxDepth)
	body = nil
	if derr != nil {
		release()
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(derr.Code, derr.Message))
		return
	}
	status, msg := c.accept(r.Context(), m, release)
	if status != http.StatusAccepted {
		release()
		writeJSONError(w, status, encodeErrorNullID(codeInvalidRequest, msg))
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// accept takes one decoded message of the client. A request is served in
// the background, its answer sent on the stream, and release called when
// it is done; anything else is handled before accept returns.
func (c *legacyConn) accept(ctx context.Context, m message, release func()) (int, string) {
	req, isReq := m.msg.(*jsonrpc.Request)
	s := c.session()
	if s == nil {
		if !isReq || req.Method != "initialize" {
			if isReq && req.IsCall() {
				c.enqueue(preInitError(req))
			}
			release()
			return http.StatusAccepted, ""
		}
		if !req.IsCall() {
			return http.StatusBadRequest, "initialize must be a request with an id"
		}
		c.mu.Lock()
		again := c.initStarted
		c.initStarted = true
		c.mu.Unlock()
		if again {
			c.enqueue(encodeResponse(req.ID, nil, rpcError(codeInvalidRequest, "session is already initialized")))
			release()
			return http.StatusAccepted, ""
		}
		go func() {
			defer release()
			c.initialize(req)
		}()
		return http.StatusAccepted, ""
	}
	if !isReq || !req.IsCall() {
		// Notifications and answers to the server's requests are quick:
		// handled now, as on /mcp.
		s.handle(ctx, m, nil)
		release()
		return http.StatusAccepted, ""
	}
	select {
	case c.running <- struct{}{}:
	default:
		return http.StatusTooManyRequests, "too many requests of this session are in progress"
	}
	go func() {
		defer func() { <-c.running }()
		defer release()
		if resp := s.handle(c.ctx, m, c.enqueue); resp != nil {
			c.enqueue(resp)
		}
	}()
	return http.StatusAccepted, ""
}

// initialize opens the connection's session with the client's initialize,
// and sends the answer on the stream. A stream whose initialize failed
// ends once the answer is written.
func (c *legacyConn) initialize(req *jsonrpc.Request) {
	g := c.g
	s, resp, err := g.newSession(c.ctx, req, c.client, c.who, "", c)
	if err != nil {
		msg := err.Error()
		if !errors.Is(err, errTooManySessions) && !errors.Is(err, errTooManyForClient) && !errors.Is(err, errClosed) {
			g.log.Error("initialize failed", "err", err)
			msg = "internal error"
		}
		c.enqueue(encodeResponse(req.ID, nil, rpcError(codeUnavailable, msg)))
		c.endAfterFlush()
		return
	}
	if s == nil {
		c.enqueue(resp)
		c.endAfterFlush()
		return
	}
	// The stream is the session's only way to its client: what the
	// upstreams send goes there, never to a request's answer.
	s.listening.Store(1)
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
	if c.ctx.Err() != nil { // the stream closed while the upstreams started
		if g.removeSession(s.id) != nil {
			go s.close()
		}
		return
	}
	close(c.bound)
	c.enqueue(resp)
}

// chargeInflight takes a request's share of the in-flight byte budget
// (MaxInflightBytes), waiting for it up to inflightWait; it answers 503
// and reports false when the budget stays full.
func (g *Gateway) chargeInflight(w http.ResponseWriter, r *http.Request) (int64, bool) {
	weight := g.opts.MaxBodyBytes
	if cl := r.ContentLength; cl >= 0 && cl < weight {
		weight = max(cl, 64)
	}
	weight = min(weight*decodeFactor, g.opts.MaxInflightBytes)
	if !g.inflight.TryAcquire(weight) && !g.acquireWithin(r.Context(), weight) {
		g.floodLog.Warn("busy", "refusing a request: the gateway is serving its in-flight byte budget (max_inflight_bytes)")
		w.Header().Set("Retry-After", "1")
		writeJSONError(w, http.StatusServiceUnavailable, encodeErrorNullID(codeUnavailable, "the gateway is busy; retry shortly"))
		return 0, false
	}
	return weight, true
}
