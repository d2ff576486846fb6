package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/toolgate/toolgate/internal/canonjson"
)

// ServeHTTP is the streamable-HTTP front: POST carries client messages,
// GET opens the server→client stream, DELETE ends a session.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.serveHTTP(w, r, "")
}

// ServerHandler serves the upstream server called name alone, as the
// gateway's /mcp serves them all merged (PolicyLayer gives each server a
// URL of its own). Its sessions reach that server only, under the same
// policy and tool names as on /mcp; a grant that may not reach the server
// gets 403.
func (g *Gateway) ServerHandler(name string) (http.Handler, error) {
	for _, s := range g.opts.Servers {
		if s.Name == name {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serveHTTP(w, r, name) }), nil
		}
	}
	return nil, fmt.Errorf("no server %q is configured", name)
}

type endpointKey struct{}

// endpointOf is the server a request's endpoint serves alone, or "".
func endpointOf(r *http.Request) string {
	e, _ := r.Context().Value(endpointKey{}).(string)
	return e
}

func (g *Gateway) serveHTTP(w http.ResponseWriter, r *http.Request, endpoint string) {
	if endpoint != "" {
		r = r.WithContext(context.WithValue(r.Context(), endpointKey{}, endpoint))
	}
	if !g.originAllowed(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if r = g.authenticate(w, r); r == nil {
		return
	}
	if c := callerOf(r); c != nil && endpoint != "" && !c.grant.AllowsServer(endpoint) {
		http.Error(w, "this grant may not reach server "+endpoint, http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodPost:
		g.servePost(w, r)
	case http.MethodGet:
		g.serveGet(w, r)
	case http.MethodDelete:
		g.serveDelete(w, r)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// originAllowed is the DNS-rebinding guard: the Host must be a loopback
// name or one the configuration allows, and a browser Origin a loopback
// origin or one the configuration allows.
func (g *Gateway) originAllowed(r *http.Request) bool {
	if !g.hostAllowed(r.Host) {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, o := range g.opts.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

func (g *Gateway) hostAllowed(hostport string) bool {
	if hostport == "" {
		return true // HTTP/1.0: nothing to check
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	switch host {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	for _, h := range g.opts.AllowedHosts {
		if h == host {
			return true
		}
	}
	return false
}

func writeJSONError(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func baseMediaType(v string) string {
	mt, _, _ := mime.ParseMediaType(v)
	return mt
}

// accepts reports whether the request's Accept headers take mediaType
// (parameters and case ignored), or say nothing.
func accepts(r *http.Request, mediaType string) bool {
	acc := r.Header.Values("Accept")
	if len(acc) == 0 {
		return true
	}
	for _, a := range acc {
		for part := range strings.SplitSeq(a, ",") {
			if i := strings.IndexByte(part, ';'); i >= 0 {
				part = part[:i]
			}
			part = strings.TrimSpace(part)
			if strings.EqualFold(part, mediaType) || part == "*/*" {
				return true
			}
		}
	}
	return false
}

// prefersSSE reports whether a request's Accept headers prefer
// text/event-stream to application/json for the answer to a POST: a higher
// q-value; or the same one, and named where JSON comes by a wildcard only,
// or listed first; or application/json not accepted at all. A wildcard
// counts for a type only when no range names that type. Without an Accept
// header, or with a tie, the answer is plain JSON.
func prefersSSE(r *http.Request) bool {
	type rank struct {
		q     float64
		pos   int
		exact bool
		seen  bool
	}
	var jsonRank, sseRank rank
	pos := 0
	for _, a := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(a, ",") {
			pos++
			mt, params, _ := strings.Cut(part, ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, v, ok := strings.Cut(p, "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0 // a malformed weight accepts nothing
					}
					q = f
				}
			}
			note := func(rk *rank, exact bool) {
				if exact && !rk.exact || !rk.seen {
					*rk = rank{q: q, pos: pos, exact: exact, seen: true}
				}
			}
			switch mt {
			case "application/json":
				note(&jsonRank, true)
			case "text/event-stream":
				note(&sseRank, true)
			case "application/*":
				note(&jsonRank, false)
			case "text/*":
				note(&sseRank, false)
			case "*/*":
				note(&jsonRank, false)
				note(&sseRank, false)
			}
		}
	}
	if !sseRank.seen || sseRank.q == 0 {
		return false
	}
	if !jsonRank.seen || jsonRank.q == 0 {
		return true
	}
	if sseRank.q != jsonRank.q {
		return sseRank.q > jsonRank.q
	}
	if sseRank.exact != jsonRank.exact {
		return sseRank.exact
	}
	return sseRank.pos < jsonRank.pos
}

func (g *Gateway) servePost(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" && baseMediaType(ct) != "application/json" {
		http.Error(w, "Content-Type must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	if !accepts(r, "application/json") && !accepts(r, "text/event-stream") {
		http.Error(w, "Accept must include application/json and text/event-stream", http.StatusNotAcceptable)
		return
	}
	// The bytes of requests being served are bounded across all clients:
	// a request waits its turn rather than take memory no one budgeted.
	weight, ok := g.chargeInflight(w, r)
	if !ok {
		return
	}
	defer g.inflight.Release(weight)
	body, ok := readBodyOrRefuse(w, r, g.opts.MaxBodyBytes)
	if !ok {
		return
	}
	if isBatch(body) {
		g.serveBatch(w, r, body)
		return
	}
	m, derr := decodeMessage(body, g.opts.MaxDepth)
	if derr != nil {
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(derr.Code, derr.Message))
		return
	}
	msg := m.msg
	sid := r.Header.Get("Mcp-Session-Id")
	if req, ok := msg.(*jsonrpc.Request); ok && sid == "" && isStatelessRequest(r, req) {
		g.serveStateless(w, r, m, req)
		return
	}
	if req, ok := msg.(*jsonrpc.Request); ok && sid == "" {
		switch req.Method {
		case "initialize":
			g.serveInitialize(w, r, req)
			return
		case "server/discover":
			writeJSONError(w, http.StatusOK, preInitError(req))
			return
		}
	}
	if sid == "" {
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(codeInvalidRequest, "missing Mcp-Session-Id header: initialize first"))
		return
	}
	s := g.sessionFor(r, sid)
	if s == nil {
		writeJSONError(w, http.StatusNotFound, encodeErrorNullID(codeInvalidRequest, "unknown or ended session"))
		return
	}
	if v := r.Header.Get("Mcp-Protocol-Version"); v != "" && !versionSupported(v) {
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(codeInvalidRequest, "unsupported MCP-Protocol-Version "+v))
		return
	}
	req, isReq := msg.(*jsonrpc.Request)
	if !isReq || !req.IsCall() {
		s.handle(r.Context(), m, nil)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	sse := accepts(r, "text/event-stream")
	st := &postStream{w: w, sse: sse, preferSSE: sse && prefersSSE(r), timeout: g.opts.StreamWriteTimeout}
	defer st.clearDeadline()
	resp := s.handle(r.Context(), m, st.emit)
	st.finish(resp)
}

// postStream answers one POSTed request: as plain JSON when nothing comes
// before the response, or as an SSE stream once the upstream sends related
// messages (progress, sampling requests) first, or from the start when the
// client prefers text/event-stream (its Accept header lists it first).
type postStream struct {
	mu        sync.Mutex
	w         http.ResponseWriter
	rc        *http.ResponseController // set once a write needs a deadline
	timeout   time.Duration            // bounds each write to a stream or a large answer
	sse       bool                     // the client accepts text/event-stream
	preferSSE bool                     // ... and prefers it to application/json
	started   bool
	finished  bool
	status    int // of a plain JSON answer; 0: 200
}

// start writes the headers of an SSE answer.
func (p *postStream) start() {
	h := p.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	p.w.WriteHeader(http.StatusOK)
	p.started = true
}

func (p *postStream) emit(raw []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished || !p.sse {
		return false
	}
	if !p.started {
		p.start()
	}
	p.deadline()
	if err := writeSSE(p.w, raw); err != nil {
		return false
	}
	if f, ok := p.w.(http.Flusher); ok {
		f.Flush()
	}
	return true
}

// smallAnswer is the size below which a plain JSON answer is written
// without a deadline: the socket's buffer takes it whether or not the
// client reads, so the write cannot hang.
const smallAnswer = 32 << 10

// deadline bounds the next write.
func (p *postStream) deadline() {
	if p.rc == nil {
		p.rc = http.NewResponseController(p.w)
	}
	_ = p.rc.SetWriteDeadline(time.Now().Add(p.timeout))
}

// clearDeadline lifts a deadline set for this answer: the connection may
// serve another request.
func (p *postStream) clearDeadline() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rc != nil {
		_ = p.rc.SetWriteDeadline(time.Time{})
	}
}

func (p *postStream) finish(resp []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished = true
	if !p.started && p.preferSSE && resp != nil {
		p.start()
	}
	if p.started || len(resp) > smallAnswer {
		p.deadline()
	}
	if p.started {
		_ = writeSSE(p.w, resp)
		return
	}
	h := p.w.Header()
	h.Set("Content-Type", "application/json")
	p.w.WriteHeader(cmp.Or(p.status, http.StatusOK))
	_, _ = p.w.Write(resp)
}

func (g *Gateway) serveInitialize(w http.ResponseWriter, r *http.Request, req *jsonrpc.Request) {
	if !req.IsCall() {
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(codeInvalidRequest, "initialize must be a request with an id"))
		return
	}
	s, resp, err := g.newSession(r.Context(), req, clientAddr(r), callerOf(r), endpointOf(r), nil)
	if err != nil {
		status := http.StatusServiceUnavailable
		if errors.Is(err, errTooManyForClient) {
			status = http.StatusTooManyRequests
		}
		if errors.Is(err, errTooManySessions) || errors.Is(err, errTooManyForClient) || errors.Is(err, errClosed) {
			writeJSONError(w, status, encodeResponse(req.ID, nil, rpcError(codeUnavailable, err.Error())))
			return
		}
		g.log.Error("initialize failed", "err", err)
		writeJSONError(w, http.StatusInternalServerError, encodeResponse(req.ID, nil, rpcError(codeInternal, "internal error")))
		return
	}
	if s != nil {
		w.Header().Set("Mcp-Session-Id", s.id)
	}
	writeJSONError(w, http.StatusOK, resp)
}

// serveBatch handles a JSON-RPC batch (protocol 2025-03-26 only).
func (g *Gateway) serveBatch(w http.ResponseWriter, r *http.Request, body []byte) {
	s := g.sessionFor(r, r.Header.Get("Mcp-Session-Id"))
	if s == nil {
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(codeInvalidRequest, "batches need an initialized session"))
		return
	}
	if s.protocol != "2025-03-26" {
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(codeInvalidRequest, "JSON-RPC batches are not part of protocol "+s.protocol))
		return
	}
	if err := canonjson.Valid(body, g.opts.MaxDepth); err != nil {
		var ce *canonjson.Error
		code := int64(codeInvalidRequest)
		if errors.As(err, &ce) && ce.Kind == canonjson.Syntax {
			code = codeParse
		}
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(code, err.Error()))
		return
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(body, &parts); err != nil {
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(codeParse, "parse error: body is not valid JSON"))
		return
	}
	if len(parts) == 0 {
		writeJSONError(w, http.StatusBadRequest, encodeErrorNullID(codeInvalidRequest, "empty batch"))
		return
	}
	var out [][]byte
	for _, part := range parts {
		m, e := decodeMessage(part, g.opts.MaxDepth)
		if e != nil {
			out = append(out, encodeErrorNullID(e.Code, e.Message))
			continue
		}
		if resp := s.handle(r.Context(), m, nil); resp != nil {
			out = append(out, resp)
		}
	}
	if len(out) == 0 {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("["))
	for i, o := range out {
		if i > 0 {
			_, _ = w.Write([]byte(","))
		}
		_, _ = w.Write(o)
	}
	_, _ = w.Write([]byte("]"))
}

func (g *Gateway) serveGet(w http.ResponseWriter, r *http.Request) {
	if !accepts(r, "text/event-stream") {
		http.Error(w, "Accept must include text/event-stream", http.StatusNotAcceptable)
		return
	}
	sid := r.Header.Get("Mcp-Session-Id")
	if sid == "" {
		http.Error(w, "missing Mcp-Session-Id header", http.StatusBadRequest)
		return
	}
	s := g.sessionFor(r, sid)
	if s == nil {
		http.Error(w, "unknown or ended session", http.StatusNotFound)
		return
	}
	rl := s.stream()
	// A Last-Event-ID this session's stream gave out resumes the stream
	// after it. Any other (another session's, forged, or one of no stream
	// of toolgate's) is ignored: the stream starts afresh and replays
	// nothing.
	var after uint64
	resume := false
	if v := r.Header.Values("Last-Event-ID"); len(v) > 0 {
		after, resume = rl.parse(v[0])
		if !resume {
			s.flood.Warn("foreign event id", "ignoring a Last-Event-ID that names no event of this session's stream")
		}
	}
	if !s.listening.CompareAndSwap(0, 1) {
		if !resume || !g.takeOver(r.Context(), s) {
			http.Error(w, "a stream for this session is already open", http.StatusConflict)
			return
		}
	}
	defer s.listening.Store(0)
	rc := http.NewResponseController(w)
	st := newGetStream(rc)
	rl.attach(st)
	defer func() {
		rl.detach(st)
		st.finish()
		_ = rc.SetWriteDeadline(time.Time{}) // the connection may serve another request
	}()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	flush := func() {
		if f != nil {
			f.Flush()
		}
	}
	if resume {
		events, lost := rl.since(after)
		if lost {
			g.log.Warn("a client resumed its stream after events no longer kept: it gets the kept ones",
				"session", s.logID(), "last_event_id", after, "replayed", len(events), "limit", "stream_replay")
		}
		for _, e := range events {
			if !st.writeDeadline(g.opts.StreamWriteTimeout) || writeEvent(w, rl.id(e.seq), e.data) != nil {
				return
			}
		}
	}
	// Priming (SEP-1699) is part of 2025-11-25; clients of older revisions
	// may take an event with empty data for a broken message.
	if s.protocol == "2025-11-25" {
		if !st.writeDeadline(g.opts.StreamWriteTimeout) || writePriming(w, rl.id(rl.next()), streamRetry) != nil {
			return
		}
	}
	flush()
	keepAlive := time.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-st.stop:
			return
		case raw := <-s.out:
			s.dequeued(raw)
			// Numbered and kept before it is written: if the write is lost
			// with the connection, the client's resumption replays it.
			seq := rl.record(raw)
			if !st.writeDeadline(g.opts.StreamWriteTimeout) || writeEvent(w, rl.id(seq), raw) != nil {
				return
			}
		case <-keepAlive.C:
			if !st.writeDeadline(g.opts.StreamWriteTimeout) {
				return
			}
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
		}
		flush()
	}
}

// takeOver ends the session's open GET stream for a client that resumes
// it (its connection dropped, and the gateway may not have noticed yet),
// and reports whether the new stream may take its place.
func (g *Gateway) takeOver(ctx context.Context, s *session) bool {
	ctx, cancel := context.WithTimeout(ctx, takeoverWait)
	defer cancel()
	for {
		if old := s.stream().current(); old != nil {
			old.end()
			select {
			case <-old.ended:
			case <-ctx.Done():
				return false
			}
		}
		if s.listening.CompareAndSwap(0, 1) {
			return true
		}
		// The old handler has not let go yet: wait a moment, bounded by ctx.
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return false
		}
	}
}

func (g *Gateway) serveDelete(w http.ResponseWriter, r *http.Request) {
	sid := r.Header.Get("Mcp-Session-Id")
	if sid == "" {
		http.Error(w, "missing Mcp-Session-Id header", http.StatusBadRequest)
		return
	}
	if g.sessionFor(r, sid) == nil { // another grant's session is not there to end
		http.Error(w, "unknown or ended session", http.StatusNotFound)
		return
	}
	s := g.removeSession(sid)
	if s == nil {
		http.Error(w, "unknown or ended session", http.StatusNotFound)
		return
	}
	g.log.Info("session ended by the client", "session", s.logID())
	// The upstreams are closed in the background: the client need not wait.
	go s.close()
	w.WriteHeader(http.StatusNoContent)
}

// decodeFactor is how many times its size a request is charged against
// MaxInflightBytes: encoding/json's generic form of a body of small values
// (numbers, empty objects) takes up to about this much.
const decodeFactor = 16

// inflightWait bounds how long a request waits for the in-flight byte
// budget before it is answered 503.
const inflightWait = 10 * time.Second

// acquireWithin waits up to inflightWait for weight of the in-flight budget.
func (g *Gateway) acquireWithin(ctx context.Context, weight int64) bool {
	ctx, cancel := context.WithTimeout(ctx, inflightWait)
	defer cancel()
	return g.inflight.Acquire(ctx, weight) == nil
}

// clientAddr is the address sessions are counted under: the peer's IP.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// readBody reads the request body, at most max bytes, in one allocation
// when the client said how long it is.
// readBodyOrRefuse reads a request's body, up to max bytes, or answers the
// request itself: 413 with a JSON-RPC error over the bound, 400 when the
// body cannot be read. ok is false when it answered.
func readBodyOrRefuse(w http.ResponseWriter, r *http.Request, max int64) ([]byte, bool) {
	body, err := readBody(w, r, max)
	if err == nil {
		return body, true
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeJSONError(w, http.StatusRequestEntityTooLarge, encodeErrorNullID(codeInvalidRequest, "request body too large"))
	} else {
		http.Error(w, "reading body failed", http.StatusBadRequest)
	}
	return nil, false
}

func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, max)
	if n := r.ContentLength; n > 0 && n <= max {
		buf := make([]byte, n)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(rd)
}

// preInitError answers a request that comes before initialize. A client of
// a newer revision probes with server/discover first; answering that with
// an error makes it fall back to initialize.
func preInitError(req *jsonrpc.Request) []byte {
	if req.Method == "server/discover" {
		return encodeResponse(req.ID, nil, rpcError(codeMethodNotFound, "method not found: server/discover (this server speaks "+strings.Join(supportedVersions, ", ")+"; use initialize)"))
	}
	return encodeResponse(req.ID, nil, rpcError(codeInvalidRequest, "initialize first"))
}
