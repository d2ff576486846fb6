package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/toolgate/toolgate"
)

// session is one client session and its upstream sessions.
type session struct {
	id       string
	g        *Gateway
	ident    *toolgate.Identity
	protocol string
	ups      []*upstreamSlot

	used   atomic.Int64 // unix nanoseconds of the last request
	busy   atomic.Int32 // requests in progress
	pinned atomic.Bool  // lives as long as its transport (stdio): never idles out

	mu            sync.Mutex
	tools         map[string]*toolEntry
	toolsComplete bool
	resources     map[string]int // resource URI → upstream index
	inflight      map[any]*inflight
	lastInflight  *inflight
	srvReqs       map[any]srvReq // gateway id → upstream request
	srvReqsRev    map[srvReq]any // upstream request → gateway id
	nextSrvReq    int64

	out       chan []byte // server→client messages for the standalone stream
	listening atomic.Int32
	done      chan struct{}
	closeOnce sync.Once
}

type upstreamSlot struct {
	idx  int
	srv  *Server
	conn upstream
	init *initResult
	err  error
}

func (u *upstreamSlot) ok() bool { return u.conn != nil && u.err == nil }

type toolEntry struct {
	up     int
	name   string // the upstream's own name
	schema json.RawMessage
	info   *toolInfo // classification and pin status; never nil
}

type inflight struct {
	up   int
	emit func([]byte) bool
}

type srvReq struct {
	up int
	id any
}

// maxQueued bounds the messages waiting for a standalone stream.
const maxQueued = 1024

func (s *session) touch()              { s.used.Store(time.Now().UnixNano()) }
func (s *session) lastUsed() time.Time { return time.Unix(0, s.used.Load()) }

// initializeParams is what the gateway reads of a client's initialize.
type initializeParams struct {
	ProtocolVersion string `json:"protocolVersion"`
}

// newSession handles initialize: it negotiates the protocol revision, opens
// the upstream sessions with the client's own capabilities, and answers
// with the merged capabilities.
func (g *Gateway) newSession(ctx context.Context, req *jsonrpc.Request) (*session, []byte, error) {
	var p initializeParams
	var params map[string]json.RawMessage
	if err := json.Unmarshal(req.Params, &params); err != nil || params == nil {
		return nil, encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "initialize: params must be an object")), nil
	}
	if err := json.Unmarshal(req.Params, &p); err != nil {
		return nil, encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "initialize: protocolVersion must be a string")), nil
	}
	version := p.ProtocolVersion
	if !versionSupported(version) {
		version = latestVersion
	}
	params["protocolVersion"], _ = json.Marshal(version)
	upParams, err := json.Marshal(params)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding initialize params: %w", err)
	}
	s := &session{
		id:         newSessionID(),
		g:          g,
		ident:      toolgate.Anonymous(),
		protocol:   version,
		tools:      map[string]*toolEntry{},
		resources:  map[string]int{},
		inflight:   map[any]*inflight{},
		srvReqs:    map[any]srvReq{},
		srvReqsRev: map[srvReq]any{},
		out:        make(chan []byte, maxQueued),
		done:       make(chan struct{}),
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
	for _, u := range s.ups {
		if !u.ok() {
			failed = append(failed, u.srv.Name)
			g.log.Error("upstream unavailable", "server", u.srv.Name, "session", s.id, "err", u.err)
		}
	}
	if len(s.ups) > 0 && len(failed) == len(s.ups) {
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
	g.log.Info("session started", "session", s.id, "protocol", version, "upstreams", len(s.ups)-len(failed))
	return s, encodeResponse(req.ID, data, nil), nil
}

func (s *session) connect(ctx context.Context, slot *upstreamSlot, params json.RawMessage) {
	onMessage := func(m message) { s.fromUpstream(slot.idx, m, nil) }
	log := s.g.log.With("session", s.id)
	if slot.srv.URL != "" {
		slot.conn = newHTTPUpstream(slot.srv, s.g.client, log, onMessage)
	} else {
		u, err := startStdioUpstream(ctx, slot.srv, log, onMessage)
		if err != nil {
			slot.err = err
			return
		}
		slot.conn = u
	}
	slot.init, slot.err = handshake(ctx, slot.conn, params)
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
	for _, u := range s.ups {
		if u.ok() && u.init.Instructions != "" {
			if len(s.ups) == 1 {
				return u.init.Instructions
			}
			parts = append(parts, u.srv.Name+": "+u.init.Instructions)
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
			s.fromClientNotification(ctx, msg, m.raw)
			return nil
		}
		s.busy.Add(1)
		defer s.busy.Add(-1)
		return s.request(ctx, msg, m.raw, emit)
	}
	return nil
}

func (s *session) request(ctx context.Context, req *jsonrpc.Request, raw []byte, emit func([]byte) bool) []byte {
	switch req.Method {
	case "initialize":
		return encodeResponse(req.ID, nil, rpcError(codeInvalidRequest, "session is already initialized"))
	case "ping":
		return encodeResponse(req.ID, json.RawMessage(`{}`), nil)
	case "tools/list":
		return s.listTools(ctx, req, raw, emit)
	case "tools/call":
		return s.callTool(ctx, req, raw, emit)
	case "prompts/list":
		return s.list(ctx, req, raw, emit, listPrompts)
	case "resources/list":
		return s.list(ctx, req, raw, emit, listResources)
	case "resources/templates/list":
		return s.list(ctx, req, raw, emit, listTemplates)
	case "prompts/get":
		return s.routeByName(ctx, req, raw, emit, "prompts")
	case "resources/read", "resources/subscribe", "resources/unsubscribe":
		return s.routeByURI(ctx, req, raw, emit)
	case "completion/complete":
		return s.routeCompletion(ctx, req, raw, emit)
	case "logging/setLevel":
		return s.broadcast(ctx, req, raw, "logging")
	}
	// Anything else goes to the first available upstream, unchanged.
	for _, u := range s.ups {
		if u.ok() {
			return s.forward(ctx, u.idx, req, raw, emit)
		}
	}
	return encodeResponse(req.ID, nil, rpcError(codeMethodNotFound, "method not found: "+req.Method))
}

// forward sends a request to one upstream and returns its response as the
// upstream wrote it.
func (s *session) forward(ctx context.Context, up int, req *jsonrpc.Request, raw []byte, emit func([]byte) bool) []byte {
	data, _ := s.forwardCall(ctx, up, req, raw, emit)
	return data
}

// forwardCall is forward that also reports whether the upstream failed to
// serve the request at all (unreachable, gone, or no answer), as opposed to
// answering it, even with an error.
func (s *session) forwardCall(ctx context.Context, up int, req *jsonrpc.Request, raw []byte, emit func([]byte) bool) ([]byte, bool) {
	slot := s.ups[up]
	if !slot.ok() {
		return encodeResponse(req.ID, nil, rpcError(codeUnavailable, "upstream "+slot.srv.Name+" is unavailable")), true
	}
	fl := &inflight{up: up, emit: emit}
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
	_, data, err := slot.conn.call(ctx, req, raw, func(m message) { s.fromUpstream(up, m, emit) })
	if err != nil {
		if ctx.Err() != nil {
			// The client went away or cancelled: tell the upstream, which
			// may have acted on the request already.
			s.cancelUpstream(up, req.ID)
			return encodeResponse(req.ID, nil, rpcError(codeInternal, "request cancelled")), false
		}
		s.g.log.Error("upstream call failed", "server", slot.srv.Name, "session", s.id, "method", req.Method, "err", err)
		return encodeResponse(req.ID, nil, rpcError(codeUnavailable, "upstream "+slot.srv.Name+" failed to answer")), true
	}
	return data, false
}

func (s *session) cancelUpstream(up int, id jsonrpc.ID) {
	params, _ := json.Marshal(map[string]any{"requestId": id.Raw(), "reason": "client cancelled"})
	n := &jsonrpc.Request{Method: "notifications/cancelled", Params: params}
	raw, err := jsonrpc.EncodeMessage(n)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.ups[up].conn.send(ctx, raw)
}

// broadcast sends a request to every upstream with the capability and
// answers with an empty result when all accepted it.
func (s *session) broadcast(ctx context.Context, req *jsonrpc.Request, raw []byte, capability string) []byte {
	var firstErr []byte
	for _, u := range s.ups {
		if !u.ok() || !u.init.has(capability) {
			continue
		}
		resp, _, err := u.conn.call(ctx, req, raw, nil)
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
func (s *session) fromClientNotification(ctx context.Context, n *jsonrpc.Request, raw []byte) {
	switch n.Method {
	case "notifications/initialized":
		return // each upstream got its own at handshake
	case "notifications/cancelled":
		var p struct {
			RequestID any `json:"requestId"`
		}
		if json.Unmarshal(n.Params, &p) != nil {
			return
		}
		id, err := jsonrpc.MakeID(p.RequestID)
		if err != nil {
			return
		}
		s.mu.Lock()
		fl := s.inflight[idKey(id)]
		s.mu.Unlock()
		if fl != nil {
			_ = s.ups[fl.up].conn.send(ctx, raw)
		}
		return
	}
	for _, u := range s.ups {
		if u.ok() {
			if err := u.conn.send(ctx, raw); err != nil {
				s.g.log.Warn("forwarding notification failed", "server", u.srv.Name, "method", n.Method, "err", err)
			}
		}
	}
}

// fromClientResponse returns the client's answer to a server request to the
// upstream that asked, under the upstream's own id.
func (s *session) fromClientResponse(ctx context.Context, r *jsonrpc.Response) {
	key := idKey(r.ID)
	s.mu.Lock()
	orig, ok := s.srvReqs[key]
	delete(s.srvReqs, key)
	delete(s.srvReqsRev, orig)
	s.mu.Unlock()
	if !ok {
		s.g.log.Debug("client answered an unknown request", "session", s.id, "id", r.ID.Raw())
		return
	}
	r.ID = rawID(orig.id)
	raw, err := jsonrpc.EncodeMessage(r)
	if err != nil {
		return
	}
	if err := s.ups[orig.up].conn.send(ctx, raw); err != nil {
		s.g.log.Warn("returning a response upstream failed", "server", s.ups[orig.up].srv.Name, "err", err)
	}
}

// fromUpstream handles a request or notification an upstream sent. Requests
// get a gateway id, unique across upstreams, so the client's answer can be
// routed back. emit, when not nil, is the stream of the client request the
// message belongs to.
func (s *session) fromUpstream(up int, m message, emit func([]byte) bool) {
	req, ok := m.msg.(*jsonrpc.Request)
	if !ok {
		return // a response nobody waits for
	}
	raw := m.raw
	switch {
	case req.IsCall():
		s.mu.Lock()
		s.nextSrvReq++
		gid := intID(s.nextSrvReq)
		orig := srvReq{up: up, id: req.ID.Raw()}
		s.srvReqs[idKey(gid)] = orig
		s.srvReqsRev[orig] = idKey(gid)
		s.mu.Unlock()
		out := &jsonrpc.Request{ID: gid, Method: req.Method, Params: req.Params}
		var err error
		if raw, err = jsonrpc.EncodeMessage(out); err != nil {
			return
		}
	case req.Method == "notifications/cancelled":
		// The upstream cancels one of its own requests: use the gateway id.
		var p map[string]any
		if json.Unmarshal(req.Params, &p) != nil {
			return
		}
		rid, err := jsonrpc.MakeID(p["requestId"])
		if err != nil {
			return
		}
		s.mu.Lock()
		gid, ok := s.srvReqsRev[srvReq{up: up, id: rid.Raw()}]
		s.mu.Unlock()
		if !ok {
			return
		}
		p["requestId"] = gid
		params, _ := json.Marshal(p)
		if raw, err = jsonrpc.EncodeMessage(&jsonrpc.Request{Method: req.Method, Params: params}); err != nil {
			return
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

// push delivers a message that belongs to no open request stream: to the
// standalone stream when one is open, else to the most recent request
// stream, else it waits in a bounded queue.
func (s *session) push(raw []byte) {
	if s.listening.Load() == 0 {
		s.mu.Lock()
		fl := s.lastInflight
		s.mu.Unlock()
		if fl != nil && fl.emit != nil && fl.emit(raw) {
			return
		}
	}
	select {
	case s.out <- raw:
	default:
		s.g.log.Warn("dropping a server message: the client reads no stream", "session", s.id)
	}
}
