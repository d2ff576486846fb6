package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/scan"
)

// session is one client session and its upstream sessions.
type session struct {
	id        string      // a bearer secret: never logged nor shown, see label
	label     string      // names the session in logs, limits and approvals
	client    string      // the client's address, for the per-client session cap
	tokenHash [32]byte    // of the grant token that opened it; zero for a JWT
	servers   []string    // the servers the session may reach; nil: all
	endpoint  string      // the server whose own endpoint opened it; "": /mcp
	legacy    *legacyConn // the legacy SSE stream it is for; nil on /mcp and stdio
	flood     *floodLog
	g         *Gateway
	ident     *toolgate.Identity
	protocol  string
	ups       []*upstreamSlot
	// stateless: the session serves requests of protocol 2026-07-28, which
	// carry no Mcp-Session-Id; no client names it (see stateless.go).
	stateless bool
	meta      requestMeta // what the requests of a stateless session declare
	key       string      // its statelessKey, once it serves requests

	used   atomic.Int64 // unix nanoseconds of the last request
	busy   atomic.Int32 // requests in progress
	pinned atomic.Bool  // lives as long as its transport (stdio): never idles out

	mu            sync.Mutex
	tools         map[string]*toolEntry
	toolsComplete bool
	resources     map[string]int           // resource URI → upstream index
	lists         map[string]*listSnapshot // list method → the latest listing longer than a page
	poisonedItems map[string]string        // "prompt:<name>", "resource:<uri>" → why it is withheld (poison.go)
	listedItems   map[string]bool          // "prompt", "resource": listed in this session
	inflight      map[any]*inflight
	lastInflight  *inflight
	srvReqs       map[any]srvReqInfo // gateway id → upstream request
	srvReqsRev    map[srvReq]any     // upstream request → gateway id
	srvTokens     map[any]int        // progress token of an upstream request → upstream
	nextSrvReq    int64
	waiting       map[any]context.CancelFunc // tools/call requests being decided, by client id
	progressShift map[any]float64            // progress token → progress the gateway sent before forwarding
	expected      map[upToken]int            // progress tokens of client requests in flight, per upstream

	out       chan []byte  // server→client messages for the standalone stream
	outBytes  atomic.Int64 // bytes waiting in out
	lastRead  atomic.Int64 // unix nanoseconds of the last message a stream took from out
	listening atomic.Int32
	replay    *replayLog // the GET stream's recent events; see stream()
	replayOne sync.Once
	done      chan struct{}
	closeOnce sync.Once
}

type upstreamSlot struct {
	idx     int
	srv     *Server
	conn    upstream
	init    *initResult
	err     error
	ids     atomic.Int64  // the gateway's request ids on this connection
	idSrc   *atomic.Int64 // when set, the ids of a connection sessions share
	started time.Time     // when connecting began
}

// nextID returns a fresh request id on this upstream connection. Every
// request an upstream sees carries an id of the gateway's, never a
// client's, so neither clients nor the gateway's own concurrent calls can
// collide on one connection.
//
// On a process several sessions share, the ids come from the process's
// one counter, so that they are unique across all of its sessions.
func (u *upstreamSlot) nextID() jsonrpc.ID {
	if u.idSrc != nil {
		return intID(u.idSrc.Add(1))
	}
	return intID(u.ids.Add(1))
}

// call sends method and params (canonical JSON) to the upstream under a
// fresh id and waits for the response.
func (u *upstreamSlot) call(ctx context.Context, method string, params json.RawMessage, related func(message)) (*jsonrpc.Response, error) {
	if u.srv.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, u.srv.Timeout)
		defer cancel()
	}
	id := u.nextID()
	resp, _, err := u.conn.call(ctx, &jsonrpc.Request{ID: id, Method: method, Params: params}, encodeRequest(id, method, params), related)
	return resp, err
}

func (u *upstreamSlot) ok() bool { return u.conn != nil && u.err == nil }

type toolEntry struct {
	up     int
	name   string // the upstream's own name
	schema json.RawMessage
	info   *toolInfo // classification and pin status; never nil
	// poisoned says why the tool's text was found to carry instructions
	// to the model, in this session's merged list (see toolPoison).
	poisoned string
}

type inflight struct {
	up   int
	upID jsonrpc.ID // the id the upstream knows the request by
	emit func([]byte) bool
}

// upToken is a progress token one upstream may report on.
type upToken struct {
	up    int
	token any
}

type srvReq struct {
	up int
	id any
}

type srvReqInfo struct {
	srvReq
	token any // the request's progress token, or nil
}

// stream is the record of the session's GET stream events.
func (s *session) stream() *replayLog {
	s.replayOne.Do(func() { s.replay = newReplayLog(s.g.opts.ReplayEvents, s.g.opts.ReplayBytes) })
	return s.replay
}

// dequeued accounts for a message a stream took out of the queue.
func (s *session) dequeued(raw []byte) {
	s.outBytes.Add(-int64(len(raw)))
	s.lastRead.Store(time.Now().UnixNano())
}

// reading reports whether the session's stream took a message from the
// queue within StreamWriteTimeout, the bound of one write to it: a client
// that reads, however slowly, as opposed to one that stopped.
func (s *session) reading() bool {
	return time.Since(time.Unix(0, s.lastRead.Load())) < s.g.opts.StreamWriteTimeout
}

// logID is what logs show of the session: its label, never its id.
func (s *session) logID() string { return s.label }

func (s *session) touch()              { s.used.Store(time.Now().UnixNano()) }
func (s *session) lastUsed() time.Time { return time.Unix(0, s.used.Load()) }

// initializeParams is what the gateway reads of a client's initialize.
type initializeParams struct {
	ProtocolVersion string `json:"protocolVersion"`
}

// newSession handles initialize: it negotiates the protocol revision, opens
// the upstream sessions with the client's own capabilities, and answers
// with the merged capabilities.
//
// legacy, when not nil, is the legacy SSE stream the session is for: it
// holds the session's place among the bounds until the session takes it.
func (g *Gateway) newSession(ctx context.Context, req *jsonrpc.Request, client string, who *caller, endpoint string, legacy *legacyConn) (*session, []byte, error) {
	return g.openSession(ctx, req, client, who, endpoint, legacy, nil)
}

// openSession is newSession; a non-nil stateless opens the session that
// serves the requests of protocol 2026-07-28 with that _meta, which have no
// handshake (stateless.go): req is then an initialize the gateway made of
// the _meta.
func (g *Gateway) openSession(ctx context.Context, req *jsonrpc.Request, client string, who *caller, endpoint string, legacy *legacyConn, stateless *requestMeta) (*session, []byte, error) {
	var p initializeParams
	var params map[string]json.RawMessage
	if err := json.Unmarshal(req.Params, &params); err != nil || params == nil {
		return nil, encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "initialize: params must be an object")), nil
	}
	if err := json.Unmarshal(req.Params, &p); err != nil {
		return nil, encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "initialize: protocolVersion must be a string")), nil
	}
	version := p.ProtocolVersion
	switch {
	case stateless != nil:
		version = modernVersion
	case !versionSupported(version) && !(legacy != nil && version == legacyVersion):
		version = latestVersion
	}
	params["protocolVersion"], _ = json.Marshal(version)
	upParams, err := json.Marshal(params)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding initialize params: %w", err)
	}
	sid := newSessionID()
	s := &session{
		id:            sid,
		label:         sessionLabel(sid),
		client:        client,
		flood:         newFloodLog(g.log.With("session", sessionLabel(sid)), g.opts.LogFloodInterval),
		g:             g,
		ident:         toolgate.Anonymous(),
		protocol:      version,
		tools:         map[string]*toolEntry{},
		resources:     map[string]int{},
		inflight:      map[any]*inflight{},
		srvReqs:       map[any]srvReqInfo{},
		srvReqsRev:    map[srvReq]any{},
		srvTokens:     map[any]int{},
		waiting:       map[any]context.CancelFunc{},
		progressShift: map[any]float64{},
		expected:      map[upToken]int{},
		out:           make(chan []byte, g.opts.SessionQueue),
		done:          make(chan struct{}),
		legacy:        legacy,
		stateless:     stateless != nil,
	}
	if stateless != nil {
		s.meta = *stateless
	}
	if who != nil {
		// The session belongs to the grant that opened it.
		s.ident, s.servers = who.grant.Identity(), who.grant.Servers
		if who.bound {
			s.tokenHash = who.hash
		}
	}
	if endpoint != "" {
		s.endpoint, s.servers = endpoint, []string{endpoint}
	}
	s.touch()
	if err := g.addSession(s); err != nil {
		return nil, nil, err
	}
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.opts.UpstreamTimeout)
	defer cancel()
	s.ups = make([]*upstreamSlot, len(g.opts.Servers))
	var wg sync.WaitGroup
	for i := range g.opts.Servers {
		slot := &upstreamSlot{idx: i, srv: &g.opts.Servers[i]}
		s.ups[i] = slot
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.connect(ictx, slot, upParams)
		}()
	}
	wg.Wait()
	var failed []string
	granted := 0
	for _, u := range s.ups {
		if errors.Is(u.err, errNotGranted) {
			continue
		}
		granted++
		if !u.ok() {
			failed = append(failed, u.srv.Name)
			g.log.Error("upstream unavailable", "server", u.srv.Name, "session", s.logID(), "err", u.err)
		}
	}
	if granted > 0 && len(failed) == granted {
		g.removeSession(s.id)
		s.close()
		msg := "upstream unavailable: " + strings.Join(failed, ", ")
		return nil, encodeResponse(req.ID, nil, rpcError(codeUnavailable, msg)), nil
	}
	result := map[string]any{
		"protocolVersion": version,
		"capabilities":    s.capabilities(),
		"serverInfo":      map[string]string{"name": "toolgate", "version": g.opts.Version},
	}
	if ins := s.instructions(); ins != "" {
		result["instructions"] = ins
	}
	data, err := json.Marshal(result)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding initialize result: %w", err)
	}
	g.log.Info("session started", "session", s.logID(), "protocol", version, "upstreams", len(s.ups)-len(failed))
	return s, encodeResponse(req.ID, data, nil), nil
}

func (s *session) connect(ctx context.Context, slot *upstreamSlot, params json.RawMessage) {
	if len(s.servers) > 0 && !slices.Contains(s.servers, slot.srv.Name) {
		// Not for this grant: never started, so none of its tools, prompts
		// or resources reach the session.
		slot.err = errNotGranted
		return
	}
	slot.started = time.Now()
	onMessage := func(m message) { s.fromUpstream(slot.idx, m, nil) }
	if slot.srv.shared() {
		// A process other sessions use too, initialized by the gateway.
		c, err := s.g.shared.acquire(ctx, slot.idx, s.ident.Grant, onMessage, false)
		if err != nil {
			slot.err = err
			return
		}
		slot.idSrc = &c.proc.ids
		slot.conn, slot.init = c, c.proc.init
		if s.stateless {
			slot.conn = &olderUpstream{upstream: slot.conn}
		}
		return
	}
	log := s.g.log.With("session", s.logID())
	u, err := s.g.dial(ctx, slot.srv, log, s.flood, onMessage)
	if err != nil {
		slot.err = err
		return
	}
	if b := s.g.breakers[slot.idx]; b != nil {
		u = &guarded{upstream: u, b: b}
	}
	slot.conn = u
	if s.stateless {
		init, err := discoverUpstream(ctx, s, slot)
		if err == nil {
			slot.init = init
			return
		}
		// An upstream of an older revision: initialized on the latest of
		// those, with the capabilities and clientInfo of the request.
		log.Debug("upstream initialized on an older revision", "server", slot.srv.Name, "why", err)
		params = withProtocolVersion(params, latestVersion)
	}
	slot.init, slot.err = handshake(ctx, slot, params)
	if su, ok := u.(*stdioUpstream); ok && slot.err == nil {
		// From now on, a process that exits is started again.
		slot.conn = s.respawn(slot, params, su)
	}
	if s.stateless && slot.err == nil {
		slot.conn = &olderUpstream{upstream: slot.conn}
	}
}

// capabilities merges the upstreams' capabilities: a capability is offered
// when any upstream offers it, and boolean flags are OR-ed.
func (s *session) capabilities() map[string]any {
	caps := map[string]any{"tools": map[string]any{"listChanged": true}}
	for _, u := range s.ups {
		if !u.ok() {
			continue
		}
		for name, raw := range u.init.Capabilities {
			if name == "tools" {
				continue
			}
			var v map[string]any
			if json.Unmarshal(raw, &v) != nil {
				continue
			}
			prev, _ := caps[name].(map[string]any)
			if prev == nil {
				caps[name] = v
				continue
			}
			for k, x := range v {
				if b, ok := x.(bool); ok {
					pb, _ := prev[k].(bool)
					prev[k] = pb || b
				} else if _, ok := prev[k]; !ok {
					prev[k] = x
				}
			}
		}
	}
	return caps
}

func (s *session) instructions() string {
	var parts []string
	var others scan.Others
	for _, u := range s.ups {
		if u.ok() && u.init.Instructions != "" {
			if others == nil {
				others = s.g.knownOthers()
			}
			text := s.screenInstructions(u, others)
			if text == "" {
				continue
			}
			if len(s.ups) == 1 {
				return text
			}
			parts = append(parts, u.srv.Name+": "+text)
		}
	}
	return strings.Join(parts, "\n\n")
}

func (s *session) close() {
	s.closeOnce.Do(func() {
		close(s.done)
		var wg sync.WaitGroup
		for _, u := range s.ups {
			if u != nil && u.conn != nil {
				wg.Add(1)
				go func() { defer wg.Done(); u.conn.close() }()
			}
		}
		wg.Wait()
	})
}

// handle processes one message from the client. It returns the response to
// a request, or nil for notifications and responses. emit delivers messages
// related to the request before its response; it reports false when it can
// no longer deliver.
func (s *session) handle(ctx context.Context, m message, emit func([]byte) bool) []byte {
	s.touch()
	switch msg := m.msg.(type) {
	case *jsonrpc.Response:
		s.fromClientResponse(ctx, msg)
		return nil
	case *jsonrpc.Request:
		if !msg.IsCall() {
			s.fromClientNotification(ctx, msg)
			return nil
		}
		s.busy.Add(1)
		defer s.busy.Add(-1)
		return s.request(ctx, msg, emit)
	}
	return nil
}

func (s *session) request(ctx context.Context, req *jsonrpc.Request, emit func([]byte) bool) []byte {
	switch req.Method {
	case "initialize":
		return encodeResponse(req.ID, nil, rpcError(codeInvalidRequest, "session is already initialized"))
	case "ping":
		return encodeResponse(req.ID, json.RawMessage(`{}`), nil)
	case "tools/list":
		return s.cacheHints(req.ID, s.list(ctx, req, emit, listToolsKind))
	case "tools/call":
		return s.callTool(ctx, req, emit)
	case "prompts/list":
		return s.cacheHints(req.ID, s.list(ctx, req, emit, listPrompts))
	case "resources/list":
		return s.cacheHints(req.ID, s.list(ctx, req, emit, listResources))
	case "resources/templates/list":
		return s.cacheHints(req.ID, s.list(ctx, req, emit, listTemplates))
	case "prompts/get":
		return s.routeByName(ctx, req, emit, "prompts")
	case "resources/read", "resources/subscribe", "resources/unsubscribe":
		return s.routeByURI(ctx, req, emit)
	case "completion/complete":
		return s.routeCompletion(ctx, req, emit)
	case "logging/setLevel":
		return s.broadcast(ctx, req, "logging")
	}
	// A method the gateway does not know goes only where the configuration
	// sends it: never to "some" upstream, which would run what no policy
	// judged.
	if up := s.g.methodServer(req.Method); up >= 0 {
		return s.forward(ctx, up, req, emit)
	}
	return encodeResponse(req.ID, nil, rpcError(codeMethodNotFound, "method not found: "+req.Method))
}

// forward sends a request to one upstream and returns its response, with
// the client's id.
// maxServerRequests bounds the upstream requests (sampling, elicitation,
// roots) waiting for one session's client to answer.
const maxServerRequests = 256

// errNotGranted marks an upstream the session's grant may not reach.
var errNotGranted = errors.New("the grant does not allow this server")

// errCallTimeout is the cause of a context that ran out of a call's timeout.
var errCallTimeout = errors.New("upstream call timed out")

func (s *session) forward(ctx context.Context, up int, req *jsonrpc.Request, emit func([]byte) bool) []byte {
	data, _ := s.forwardCall(ctx, up, req, emit)
	return data
}

// forwardCall is forward that also reports whether the upstream failed to
// serve the request at all (unreachable, gone, or no answer), as opposed to
// answering it, even with an error.
func (s *session) forwardCall(ctx context.Context, up int, req *jsonrpc.Request, emit func([]byte) bool) ([]byte, bool) {
	return s.forwardWithin(ctx, up, req, emit, 0)
}

// forwardWithin is forwardCall with a timeout other than the server's own
// (zero keeps the server's).
func (s *session) forwardWithin(ctx context.Context, up int, req *jsonrpc.Request, emit func([]byte) bool, timeout time.Duration) ([]byte, bool) {
	resp, rerr, st, _ := s.exchange(ctx, up, req, emit, timeout)
	if rerr != nil {
		return encodeResponse(req.ID, nil, rerr), st == exFailed
	}
	return encodeResponse(req.ID, resp.Result, nil), false
}

// exchangeStatus says how an exchange with an upstream ended.
type exchangeStatus int

const (
	exAnswered  exchangeStatus = iota // a result, or the upstream's own error
	exFailed                          // the upstream never served the request
	exTimeout                         // no answer in time; cancelled upstream
	exCancelled                       // the client cancelled or went away
)

// exchange sends req's method and params to upstream up under an id of the
// gateway's, and returns the upstream's result, or the error for the
// client, and how it ended (exFailed: the upstream never served the
// request). The upstream has timeout to answer (zero: the server's
// timeout); past it, the request is cancelled upstream and the client
// told why. cause, for exFailed, is what the client may be told of why
// (see publicCause), or "".
func (s *session) exchange(ctx context.Context, up int, req *jsonrpc.Request, emit func([]byte) bool, timeout time.Duration) (resp *jsonrpc.Response, rerr *jsonrpc.Error, st exchangeStatus, cause string) {
	slot := s.ups[up]
	if !slot.ok() {
		why := publicCause(slot.err)
		msg := "upstream " + slot.srv.Name + " is unavailable"
		if why != "" {
			msg = why
		}
		return nil, rpcError(codeUnavailable, msg), exFailed, why
	}
	fromPolicy := timeout > 0
	if !fromPolicy {
		timeout = slot.srv.Timeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, errCallTimeout)
		defer cancel()
	}
	upID := slot.nextID()
	fl := &inflight{up: up, upID: upID, emit: emit}
	key := idKey(req.ID)
	s.mu.Lock()
	s.inflight[key] = fl
	s.lastInflight = fl
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, key)
		if s.lastInflight == fl {
			s.lastInflight = nil
			for _, other := range s.inflight {
				s.lastInflight = other
				break
			}
		}
		s.mu.Unlock()
	}()
	defer s.expectProgress(up, req.Params)()
	upReq := &jsonrpc.Request{ID: upID, Method: req.Method, Params: req.Params}
	resp, _, err := slot.conn.call(ctx, upReq, encodeRequest(upID, req.Method, req.Params), func(m message) { s.fromUpstream(up, m, emit) })
	if err != nil {
		if ctx.Err() != nil {
			// Out of time, or the client went away or cancelled: tell the
			// upstream, which may have acted on the request already.
			s.cancelUpstream(up, upID)
			if context.Cause(ctx) == errCallTimeout {
				key := "the server's timeout"
				if fromPolicy {
					key = "the tool's timeout in the policy"
				}
				s.g.log.Warn("upstream call timed out", "server", slot.srv.Name, "session", s.logID(), "method", req.Method, "timeout", timeout)
				return nil, rpcError(codeUnavailable, fmt.Sprintf("upstream %s did not answer within %s, so the request was cancelled (raise %s to wait longer)", slot.srv.Name, timeout, key)), exTimeout, ""
			}
			return nil, rpcError(codeInternal, "request cancelled"), exCancelled, ""
		}
		s.g.log.Error("upstream call failed", "server", slot.srv.Name, "session", s.logID(), "method", req.Method, "err", err)
		msg, why := "upstream "+slot.srv.Name+" failed to answer", publicCause(err)
		if why != "" {
			msg = why
		}
		return nil, rpcError(codeUnavailable, msg), exFailed, why
	}
	if resp.Error != nil {
		return nil, asWireError(resp.Error), exAnswered, ""
	}
	return resp, nil, exAnswered, ""
}

func (s *session) cancelUpstream(up int, upID jsonrpc.ID) {
	params, _ := json.Marshal(map[string]any{"requestId": upID.Raw(), "reason": "client cancelled"})
	raw := encodeRequest(jsonrpc.ID{}, "notifications/cancelled", params)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.ups[up].conn.send(ctx, raw)
}

// broadcast sends a request to every upstream with the capability and
// answers with an empty result when all accepted it.
func (s *session) broadcast(ctx context.Context, req *jsonrpc.Request, capability string) []byte {
	var firstErr []byte
	for _, u := range s.ups {
		if !u.ok() || !u.init.has(capability) {
			continue
		}
		resp, err := u.call(ctx, req.Method, req.Params, nil)
		if err != nil {
			return encodeResponse(req.ID, nil, rpcError(codeUnavailable, "upstream "+u.srv.Name+" failed to answer"))
		}
		if resp.Error != nil && firstErr == nil {
			firstErr = encodeResponse(req.ID, nil, asWireError(resp.Error))
		}
	}
	if firstErr != nil {
		return firstErr
	}
	return encodeResponse(req.ID, json.RawMessage(`{}`), nil)
}

// fromClientNotification forwards a client notification to the upstreams
// it concerns.
func (s *session) fromClientNotification(ctx context.Context, n *jsonrpc.Request) {
	switch n.Method {
	case "notifications/initialized":
		return // each upstream got its own at handshake
	case "notifications/cancelled":
		// Only the upstream serving the request hears of it, under the id
		// it knows the request by.
		var p map[string]json.RawMessage
		if json.Unmarshal(n.Params, &p) != nil {
			return
		}
		var rid any
		if json.Unmarshal(p["requestId"], &rid) != nil {
			return
		}
		id, err := jsonrpc.MakeID(rid)
		if err != nil {
			return
		}
		s.mu.Lock()
		fl := s.inflight[idKey(id)]
		stopWaiting := s.waiting[idKey(id)]
		s.mu.Unlock()
		if stopWaiting != nil {
			// A call still being decided (waiting for a human): it
			// stops waiting; its approval stays pending.
			stopWaiting()
		}
		if fl == nil {
			return
		}
		p["requestId"], _ = json.Marshal(fl.upID.Raw())
		params, err := json.Marshal(p)
		if err != nil {
			return
		}
		_ = s.ups[fl.up].conn.send(ctx, encodeRequest(jsonrpc.ID{}, n.Method, params))
		return
	case "notifications/progress":
		// Progress on a request an upstream made goes to that upstream.
		var p struct {
			Token any `json:"progressToken"`
		}
		if json.Unmarshal(n.Params, &p) != nil || p.Token == nil {
			return
		}
		s.mu.Lock()
		up, ok := s.srvTokens[tokenKey(p.Token)]
		s.mu.Unlock()
		if ok {
			s.sendUp(ctx, up, n)
		}
		return
	case "notifications/roots/list_changed":
		for _, u := range s.ups {
			if u.ok() {
				s.sendUp(ctx, u.idx, n)
			}
		}
		return
	}
	if up := s.g.methodServer(n.Method); up >= 0 {
		s.sendUp(ctx, up, n)
		return
	}
	s.g.log.Debug("dropping a client notification no upstream expects", "session", s.logID(), "method", n.Method)
}

// sendUp forwards a client notification to one upstream.
func (s *session) sendUp(ctx context.Context, up int, n *jsonrpc.Request) {
	u := s.ups[up]
	if !u.ok() {
		return
	}
	if err := u.conn.send(ctx, encodeRequest(jsonrpc.ID{}, n.Method, n.Params)); err != nil {
		s.g.log.Warn("forwarding notification failed", "server", u.srv.Name, "method", n.Method, "err", err)
	}
}

// tokenKey makes a progress token (a string or a JSON number) a map key.
func tokenKey(t any) any {
	if f, ok := t.(float64); ok {
		return f
	}
	return t
}

// fromClientResponse returns the client's answer to a server request to the
// upstream that asked, under the upstream's own id.
func (s *session) fromClientResponse(ctx context.Context, r *jsonrpc.Response) {
	key := idKey(r.ID)
	s.mu.Lock()
	orig, ok := s.srvReqs[key]
	delete(s.srvReqs, key)
	delete(s.srvReqsRev, orig.srvReq)
	if orig.token != nil {
		delete(s.srvTokens, orig.token)
	}
	s.mu.Unlock()
	if !ok {
		s.g.log.Debug("client answered an unknown request", "session", s.logID())
		return
	}
	var rerr *jsonrpc.Error
	if r.Error != nil {
		rerr = asWireError(r.Error)
	}
	raw := encodeResponse(rawID(orig.id), r.Result, rerr)
	if err := s.ups[orig.up].conn.send(ctx, raw); err != nil {
		s.g.log.Warn("returning a response upstream failed", "server", s.ups[orig.up].srv.Name, "err", err)
	}
}

// toolsChanged tells the client its tools changed (an upstream restarted,
// the pins changed): what the session knew of them is dropped, so that
// its next call lists them again and is checked against what they are now.
func (s *session) toolsChanged() {
	s.mu.Lock()
	s.tools = map[string]*toolEntry{}
	s.toolsComplete = false
	s.mu.Unlock()
	s.push([]byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`))
}

// fromUpstream handles a request or notification an upstream sent. Requests
// get a gateway id, unique across upstreams, so the client's answer can be
// routed back. emit, when not nil, is the stream of the client request the
// message belongs to.
func (s *session) fromUpstream(up int, m message, emit func([]byte) bool) {
	req, ok := m.msg.(*jsonrpc.Request)
	if !ok {
		// A response to no request in flight (an id never sent, or an
		// answer given already): dropped, never passed on as an answer.
		s.flood.Debug("unknown response "+s.ups[up].srv.Name, "upstream answered an unknown request", "server", s.ups[up].srv.Name)
		return
	}
	raw := m.raw
	switch {
	case req.IsCall() && s.stateless:
		// Protocol 2026-07-28 has no server requests: a server asks for
		// input inside its result instead. An older upstream's request
		// cannot reach the client.
		s.flood.Warn("stateless server request", "refusing an upstream request: the client speaks protocol "+modernVersion+", which takes no server requests", "server", s.ups[up].srv.Name, "method", req.Method)
		_ = s.ups[up].conn.send(context.Background(), encodeResponse(req.ID, nil, rpcError(codeMethodNotFound, "the client reached toolgate with protocol "+modernVersion+", which takes no server requests ("+req.Method+"); ask for input in the tool result instead")))
		return
	case req.IsCall():
		s.mu.Lock()
		waiting := len(s.srvReqs)
		s.mu.Unlock()
		if waiting >= maxServerRequests {
			// The client answers none of them: refuse more rather than
			// remember them without end.
			s.flood.Warn("server requests", "refusing an upstream request: too many wait for the client", "server", s.ups[up].srv.Name, "waiting", waiting)
			_ = s.ups[up].conn.send(context.Background(), encodeResponse(req.ID, nil, rpcError(codeUnavailable, "too many requests are waiting for the client")))
			return
		}
		tok := progressToken(req.Params)
		if tok != nil {
			tok = tokenKey(tok)
		}
		s.mu.Lock()
		s.nextSrvReq++
		gid := intID(s.nextSrvReq)
		orig := srvReq{up: up, id: req.ID.Raw()}
		s.srvReqs[idKey(gid)] = srvReqInfo{srvReq: orig, token: tok}
		s.srvReqsRev[orig] = idKey(gid)
		if tok != nil {
			s.srvTokens[tok] = up
		}
		s.mu.Unlock()
		raw = encodeRequest(gid, req.Method, req.Params)
	case req.Method == "notifications/cancelled":
		// The upstream cancels one of its own requests: use the gateway id.
		var p map[string]json.RawMessage
		if json.Unmarshal(req.Params, &p) != nil {
			return
		}
		var rid any
		if json.Unmarshal(p["requestId"], &rid) != nil {
			return
		}
		id, err := jsonrpc.MakeID(rid)
		if err != nil {
			return
		}
		s.mu.Lock()
		gid, ok := s.srvReqsRev[srvReq{up: up, id: id.Raw()}]
		s.mu.Unlock()
		if !ok {
			return
		}
		p["requestId"], _ = json.Marshal(gid)
		params, err := json.Marshal(p)
		if err != nil {
			return
		}
		raw = encodeRequest(jsonrpc.ID{}, req.Method, params)
	case req.Method == "notifications/progress":
		if !s.progressExpected(up, req.Params) {
			// Progress on a token of no request in flight to this upstream:
			// invented, stale, or another upstream's. The client would take
			// it for news of a request it made.
			s.flood.Warn("unexpected progress "+s.ups[up].srv.Name, "dropping upstream progress for a token of no request in flight to it",
				"server", s.ups[up].srv.Name)
			return
		}
		if shifted, ok := s.shiftProgress(req.Params); ok {
			raw = encodeRequest(jsonrpc.ID{}, req.Method, shifted)
		}
	case req.Method == "notifications/tools/list_changed":
		s.mu.Lock()
		s.toolsComplete = false
		s.mu.Unlock()
	}
	if emit != nil && emit(raw) {
		return
	}
	s.push(raw)
}

// expectProgress records that upstream up may report progress on the
// progress token of a client request's params (if it has one) until the
// returned function is called.
func (s *session) expectProgress(up int, params json.RawMessage) func() {
	tok := progressToken(params)
	if tok == nil {
		return func() {}
	}
	k := upToken{up: up, token: tokenKey(tok)}
	s.mu.Lock()
	if s.expected == nil {
		s.expected = map[upToken]int{}
	}
	s.expected[k]++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		if s.expected[k]--; s.expected[k] <= 0 {
			delete(s.expected, k)
		}
		s.mu.Unlock()
	}
}

// progressExpected reports whether a notifications/progress from upstream
// up is on the token of a client request in flight to it.
func (s *session) progressExpected(up int, params json.RawMessage) bool {
	tok := progressTokenOfNotification(params)
	if tok == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expected[upToken{up: up, token: tokenKey(tok)}] > 0
}

// shiftProgress adds to the progress (and total) of an upstream's
// notifications/progress the progress the gateway reported on the same
// token while the call waited for approval, so that the client sees the
// values increase. ok is false when there is nothing to shift.
func (s *session) shiftProgress(params json.RawMessage) (json.RawMessage, bool) {
	var p map[string]any
	if json.Unmarshal(params, &p) != nil || p["progressToken"] == nil {
		return nil, false
	}
	s.mu.Lock()
	n, ok := s.progressShift[tokenKey(p["progressToken"])]
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	for _, k := range []string{"progress", "total"} {
		if v, isNum := p[k].(float64); isNum {
			p[k] = v + n
		}
	}
	out, err := json.Marshal(p)
	if err != nil {
		return nil, false
	}
	return out, true
}

// push delivers a message that belongs to no open request stream: to the
// standalone stream when one is open, else to the most recent request
// stream, else it waits in a bounded queue. When an open stream's queue is
// full, push waits for room while the client reads (so that an upstream
// sending faster than the client reads is slowed to the client's pace, and
// a flood of notifications costs neither memory nor the session); a
// client that read nothing for StreamWriteTimeout has stopped reading its
// stream: its session is closed, so that it holds no more memory and the
// others are unaffected. Without an open stream the oldest waiting
// message is dropped instead.
func (s *session) push(raw []byte) {
	if s.stateless {
		// No stream reaches the client outside of its requests, and the
		// session serves every request of its key: a message of no
		// request is dropped, never given to another request's answer.
		s.flood.Debug("stateless drop", "dropping a server message of no request: a client of protocol "+modernVersion+" has no stream for it")
		return
	}
	if s.listening.Load() == 0 {
		s.mu.Lock()
		fl := s.lastInflight
		s.mu.Unlock()
		if fl != nil && fl.emit != nil && fl.emit(raw) {
			return
		}
	}
	for {
		if s.outBytes.Load()+int64(len(raw)) <= s.g.opts.SessionQueueBytes {
			select {
			case s.out <- raw:
				s.outBytes.Add(int64(len(raw)))
				return
			default:
			}
		}
		if s.listening.Load() != 0 {
			if s.reading() {
				t := time.NewTimer(time.Millisecond)
				select {
				case <-s.done:
					t.Stop()
					return
				case <-t.C:
				}
				continue
			}
			s.g.log.Warn("closing a session: its client does not read the stream it opened",
				"session", s.logID(), "queued", len(s.out), "queued_bytes", s.outBytes.Load(), "limit", "session_queue")
			if s.g.removeSession(s.id) != nil {
				go s.close()
			}
			return
		}
		select {
		case old := <-s.out:
			s.outBytes.Add(-int64(len(old))) // dropped, not read
			s.flood.Warn("queue full", "dropping the oldest server message: the client opened no stream to receive it",
				"queued", len(s.out), "limit", "session_queue")
		default:
			s.flood.Warn("message too large", "dropping a server message larger than the session queue's byte budget",
				"bytes", len(raw), "limit", "session_queue_bytes")
			return
		}
	}
}

// withProtocolVersion returns initialize params with protocolVersion v.
func withProtocolVersion(params json.RawMessage, v string) json.RawMessage {
	var p map[string]json.RawMessage
	if json.Unmarshal(params, &p) != nil || p == nil {
		return params
	}
	p["protocolVersion"], _ = json.Marshal(v)
	out, err := json.Marshal(p)
	if err != nil {
		return params
	}
	return out
}
