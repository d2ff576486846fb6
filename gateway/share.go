package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// A stdio server with share: shared (or per_grant) runs one process for
// all client sessions (or all sessions of one grant) instead of one each.
// The process is the gateway's: started on first use, initialized once with
// the gateway's own clientInfo, restarted with backoff when it exits
// (respawn), and stopped once no session has used it for
// session_idle_timeout.
//
// What keeps the sessions apart on the one connection:
//   - request ids: every session's requests carry ids from the process's
//     one counter (upstreamSlot.idSrc), so a response reaches only the
//     call that sent the request;
//   - progress tokens: a call's token is replaced by one of the gateway's
//     own, unique on the process, and restored on the progress that comes
//     back, so that progress reaches only the call that asked for it;
//   - server requests (sampling, elicitation; roots is not advertised) go
//     to the one session with a call in flight on the process; with none
//     or several, the server gets a JSON-RPC error; only that session may
//     answer it (asked); ping is answered by the gateway;
//   - notifications: the list_changed ones concern the server as a whole
//     and reach every session using it; notifications/cancelled of a server
//     request reaches every session, and only the one that holds the
//     request acts on it; logging messages (notifications/message),
//     resources/updated and progress no call owns are dropped, as they may
//     concern another session. logging and resource subscriptions are not
//     offered to the sessions of a shared process.
//   - a session that ends only detaches: its calls in flight are cancelled
//     upstream, the process serves the others on.

// sharePool holds the processes several sessions share.
type sharePool struct {
	g *Gateway

	mu     sync.Mutex
	procs  map[shareKey]*sharedProc
	closed bool
}

// shareKey names one shared process: the server and, for per_grant, the
// grant (every session without a grant has toolgate.Anonymous's).
type shareKey struct {
	idx   int
	grant string
}

func newSharePool(g *Gateway) *sharePool {
	return &sharePool{g: g, procs: map[shareKey]*sharedProc{}}
}

// sharedProc is one shared process and the sessions that use it.
type sharedProc struct {
	pool   *sharePool
	key    shareKey
	srv    *Server
	ids    atomic.Int64 // request ids on the connection, for every session
	tokens atomic.Int64 // progress tokens of the gateway's own

	ready chan struct{} // closed once the first start has ended
	err   error         // why the first start failed; read after ready
	conn  *respawn      // the process; set before ready is closed
	init  *initResult   // its initialize result as sessions see it

	// Under pool.mu.
	users   map[*sharedConn]struct{}
	asked   map[any]*sharedConn // server requests of the running process → the session asked
	idle    *time.Timer         // stops the process once it has had no user for session_idle_timeout
	stopped bool
}

// acquire returns a connection to the shared process of server idx for
// a session of grant (ignored unless the server shares per grant),
// starting the process when none runs. onMessage gets the server's
// messages meant for the session. probe marks the gateway's own
// connection, which serves no client: its calls (list, ping) never make
// a server request its own.
func (p *sharePool) acquire(ctx context.Context, idx int, grant string, onMessage func(message), probe bool) (*sharedConn, error) {
	srv := &p.g.opts.Servers[idx]
	key := shareKey{idx: idx}
	if srv.Share == ShareGrant {
		key.grant = grant
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errClosed
	}
	pr := p.procs[key]
	if pr != nil && pr.givenUp() {
		// It kept failing and is not restarted: start afresh.
		p.dropLocked(pr)
		go pr.stop()
		pr = nil
	}
	if pr == nil {
		pr = &sharedProc{pool: p, key: key, srv: srv, ready: make(chan struct{}),
			users: map[*sharedConn]struct{}{}, asked: map[any]*sharedConn{}}
		p.procs[key] = pr
		go pr.start()
	}
	c := &sharedConn{proc: pr, onMessage: onMessage, probe: probe}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	pr.users[c] = struct{}{}
	if pr.idle != nil {
		pr.idle.Stop()
		pr.idle = nil
	}
	p.mu.Unlock()
	select {
	case <-pr.ready:
	case <-ctx.Done():
		c.close()
		return nil, fmt.Errorf("upstream %s: waiting for its shared process to start: %w", srv.Name, ctx.Err())
	}
	if pr.err != nil {
		c.close()
		return nil, pr.err
	}
	return c, nil
}

// givenUp reports whether the process was started and then given up.
// Under pool.mu.
func (pr *sharedProc) givenUp() bool {
	select {
	case <-pr.ready:
		return pr.err == nil && pr.conn.givenUp()
	default:
		return false
	}
}

// dropLocked takes pr out of the pool, so that no new session gets it.
func (p *sharePool) dropLocked(pr *sharedProc) {
	if p.procs[pr.key] == pr {
		delete(p.procs, pr.key)
	}
	pr.stopped = true
	if pr.idle != nil {
		pr.idle.Stop()
		pr.idle = nil
	}
}

// release detaches c; the process stops once it has had no user for
// session_idle_timeout.
func (p *sharePool) release(c *sharedConn) {
	pr := c.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(pr.users, c)
	var unanswered []any
	for id, owner := range pr.asked {
		if owner == c {
			unanswered = append(unanswered, id)
			delete(pr.asked, id)
		}
	}
	if len(unanswered) > 0 {
		// The server waits for answers the session will never give.
		go func() {
			for _, id := range unanswered {
				pr.reply(encodeResponse(rawID(id), nil, rpcError(codeUnavailable, "the client session this request was for has ended")))
			}
		}()
	}
	if len(pr.users) > 0 || pr.stopped {
		return
	}
	if pr.idle != nil {
		pr.idle.Stop()
	}
	pr.idle = time.AfterFunc(p.g.opts.SessionIdleTimeout, func() { p.stopIdle(pr) })
}

func (p *sharePool) stopIdle(pr *sharedProc) {
	p.mu.Lock()
	if len(pr.users) > 0 || pr.stopped {
		p.mu.Unlock()
		return
	}
	p.dropLocked(pr)
	p.mu.Unlock()
	p.g.log.Info("stopping a shared upstream process: no session used it", "server", pr.srv.Name, "share", pr.srv.Share, "idle", p.g.opts.SessionIdleTimeout)
	pr.stop()
}

// closeAll stops every shared process (the gateway is closing).
func (p *sharePool) closeAll() {
	p.mu.Lock()
	p.closed = true
	procs := make([]*sharedProc, 0, len(p.procs))
	for _, pr := range p.procs {
		procs = append(procs, pr)
	}
	for _, pr := range procs {
		p.dropLocked(pr)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, pr := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); pr.stop() }()
	}
	wg.Wait()
}

// stop ends the process, once its first start has ended.
func (pr *sharedProc) stop() {
	<-pr.ready // bounded by upstream_timeout
	if pr.conn != nil {
		pr.conn.close()
	}
}

// start starts the process the first time, within upstream_timeout.
func (pr *sharedProc) start() {
	defer close(pr.ready)
	u, init, err := pr.launch()
	if err != nil {
		p := pr.pool
		p.mu.Lock()
		p.dropLocked(pr)
		p.mu.Unlock()
		pr.err = err
		return
	}
	pr.init = sessionView(init)
	log := pr.pool.g.log.With("server", pr.srv.Name, "share", pr.srv.Share)
	pr.conn = newRespawn(pr.srv.Name, log, u, func() (*stdioUpstream, error) {
		u, _, err := pr.launch()
		return u, err
	}, pr.back, pr.gone)
}

// gone forgets the server requests of a process that exited: an answer
// to one must not reach the next process, which reuses the ids.
func (pr *sharedProc) gone() {
	pr.pool.mu.Lock()
	clear(pr.asked)
	pr.pool.mu.Unlock()
}

// launch starts the process and initializes it as the gateway's own
// client, within upstream_timeout.
func (pr *sharedProc) launch() (*stdioUpstream, *initResult, error) {
	g := pr.pool.g
	ctx, cancel := context.WithTimeout(context.Background(), g.opts.UpstreamTimeout)
	defer cancel()
	log := g.log.With("share", pr.srv.Share)
	started := time.Now()
	u, err := startStdioUpstream(ctx, pr.srv, log, g.floodLog, pr.fromUpstream)
	if err != nil {
		return nil, nil, err
	}
	slot := &upstreamSlot{idx: pr.key.idx, srv: pr.srv, conn: u, started: started, idSrc: &pr.ids}
	init, err := handshake(ctx, slot, sharedInitParams(g.opts.Version))
	if err != nil {
		u.close()
		return nil, nil, err
	}
	return u, init, nil
}

// sharedInitParams is the initialize of a shared process: the gateway's
// own clientInfo, and only the capabilities the gateway can route to a
// session: sampling and elicitation belong to one call in flight. roots
// is left out: a session's roots would apply to every session.
func sharedInitParams(version string) json.RawMessage {
	params, _ := json.Marshal(map[string]any{
		"protocolVersion": latestVersion,
		"capabilities":    map[string]any{"sampling": map[string]any{}, "elicitation": map[string]any{}},
		"clientInfo":      map[string]string{"name": "toolgate", "version": version},
	})
	return params
}

// sessionView is what the sessions see of a shared process's initialize:
// without logging (its messages are dropped) nor resource subscriptions
// (one session's unsubscribe would end another's).
func sessionView(init *initResult) *initResult {
	out := *init
	out.Capabilities = make(map[string]json.RawMessage, len(init.Capabilities))
	for name, raw := range init.Capabilities {
		switch name {
		case "logging":
			continue
		case "resources":
			var v map[string]json.RawMessage
			if json.Unmarshal(raw, &v) == nil {
				delete(v, "subscribe")
				if b, err := json.Marshal(v); err == nil {
					raw = b
				}
			}
		}
		out.Capabilities[name] = raw
	}
	return &out
}

// users returns the connections using the process.
func (pr *sharedProc) usersNow() []*sharedConn {
	pr.pool.mu.Lock()
	defer pr.pool.mu.Unlock()
	out := make([]*sharedConn, 0, len(pr.users))
	for c := range pr.users {
		out = append(out, c)
	}
	return out
}

// back tells every session the server is back: its tools may differ.
func (pr *sharedProc) back() {
	for _, c := range pr.usersNow() {
		c.onMessage(listChangedMessage())
	}
}

// reply sends a response to a server request on the running process.
func (pr *sharedProc) reply(raw []byte) {
	select {
	case <-pr.ready:
	default:
		return // still starting: nobody to answer for
	}
	if pr.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = pr.conn.send(ctx, raw)
}

// fromUpstream routes what the server sends outside of any call's answer.
func (pr *sharedProc) fromUpstream(m message) {
	req, ok := m.msg.(*jsonrpc.Request)
	if !ok {
		return
	}
	g := pr.pool.g
	switch {
	case req.IsCall() && req.Method == "ping":
		pr.reply(encodeResponse(req.ID, json.RawMessage(`{}`), nil))
	case req.IsCall():
		var owner *sharedConn
		n := 0
		for _, c := range pr.usersNow() {
			if !c.probe && c.active.Load() > 0 {
				owner = c
				n++
			}
		}
		if n != 1 {
			g.floodLog.Warn("shared request "+pr.srv.Name, "refusing a shared server's request: not exactly one session has a call in flight",
				"server", pr.srv.Name, "method", req.Method, "sessions_in_flight", n)
			pr.reply(encodeResponse(req.ID, nil, rpcError(codeUnavailable,
				fmt.Sprintf("toolgate shares this server among sessions and cannot tell which one %s is for (%d have a call in flight)", req.Method, n))))
			return
		}
		pr.pool.mu.Lock()
		pr.asked[idKey(req.ID)] = owner
		pr.pool.mu.Unlock()
		owner.onMessage(m)
	case req.Method == "notifications/tools/list_changed",
		req.Method == "notifications/resources/list_changed",
		req.Method == "notifications/prompts/list_changed",
		req.Method == "notifications/cancelled":
		// The server as a whole; cancelled: only the session that holds
		// the server request knows its id and acts on it.
		for _, c := range pr.usersNow() {
			c.onMessage(m)
		}
	default:
		// Logging, resources/updated, progress of no call in flight: no
		// session is known to own it.
		g.floodLog.Debug("shared drop "+pr.srv.Name, "dropping a shared server's notification no one session owns", "server", pr.srv.Name, "method", req.Method)
	}
}

// sharedConn is one session's connection to a shared process.
type sharedConn struct {
	proc      *sharedProc
	onMessage func(message)
	probe     bool         // the gateway's own: no client behind it
	active    atomic.Int32 // calls in flight

	ctx       context.Context // cancelled when the session lets go
	cancel    context.CancelFunc
	closeOnce sync.Once
}

var _ upstream = (*sharedConn)(nil)

func (c *sharedConn) call(ctx context.Context, req *jsonrpc.Request, raw []byte, related func(message)) (*jsonrpc.Response, []byte, error) {
	if c.ctx.Err() != nil {
		return nil, nil, errUpstreamClosed
	}
	switch req.Method {
	case "resources/subscribe", "resources/unsubscribe":
		rerr := rpcError(codeMethodNotFound, "resource subscriptions are not available on a server toolgate shares among sessions")
		return &jsonrpc.Response{ID: req.ID, Error: rerr}, encodeResponse(req.ID, nil, rerr), nil
	}
	if tok := rawProgressToken(req.Params); tok != nil {
		// A token of the gateway's own: two sessions may use the same.
		own := fmt.Sprintf("toolgate-%d", c.proc.tokens.Add(1))
		params, err := replaceProgressToken(req.Params, own)
		if err != nil {
			return nil, nil, fmt.Errorf("upstream %s: %w", c.proc.srv.Name, err)
		}
		req = &jsonrpc.Request{ID: req.ID, Method: req.Method, Params: params}
		raw = encodeRequest(req.ID, req.Method, params)
		if inner := related; inner != nil {
			related = func(m message) {
				if back, ok := restoreProgressToken(m, tok); ok {
					inner(back)
				}
			}
		}
	}
	c.active.Add(1)
	defer c.active.Add(-1)
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(c.ctx, stop)()
	resp, rraw, err := c.proc.conn.call(cctx, req, raw, related)
	if err != nil && ctx.Err() == nil && c.ctx.Err() != nil {
		// The session let go: tell the server, which serves others on.
		params, _ := json.Marshal(map[string]any{"requestId": req.ID.Raw(), "reason": "client session ended"})
		c.proc.reply(encodeRequest(jsonrpc.ID{}, "notifications/cancelled", params))
		return nil, nil, errUpstreamClosed
	}
	return resp, rraw, err
}

func (c *sharedConn) send(ctx context.Context, raw []byte) error {
	if c.ctx.Err() != nil {
		return errUpstreamClosed
	}
	var head struct {
		Method string          `json:"method"`
		ID     json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("upstream %s: %w", c.proc.srv.Name, err)
	}
	switch {
	case head.Method == "notifications/roots/list_changed":
		return nil // roots are not offered on a shared process
	case head.Method == "" && head.ID != nil:
		// An answer to a server request: only the session it was put to
		// may answer it, once, and only to the process that asked.
		var id any
		if err := json.Unmarshal(head.ID, &id); err != nil {
			return fmt.Errorf("upstream %s: response id: %w", c.proc.srv.Name, err)
		}
		rid, err := jsonrpc.MakeID(id)
		if err != nil {
			return fmt.Errorf("upstream %s: response id: %w", c.proc.srv.Name, err)
		}
		p := c.proc.pool
		p.mu.Lock()
		owner := c.proc.asked[idKey(rid)]
		if owner == c {
			delete(c.proc.asked, idKey(rid))
		}
		p.mu.Unlock()
		if owner != c {
			p.g.floodLog.Warn("shared answer "+c.proc.srv.Name, "dropping an answer to a request the shared server did not put to this session", "server", c.proc.srv.Name)
			return nil
		}
	}
	return c.proc.conn.send(ctx, raw)
}

// initialized: the process was initialized once, when it started.
func (c *sharedConn) initialized(string) {}

func (c *sharedConn) close() {
	c.closeOnce.Do(func() {
		c.cancel()
		c.proc.pool.release(c)
	})
}

// rawProgressToken returns params._meta.progressToken as written, or nil.
func rawProgressToken(params json.RawMessage) json.RawMessage {
	if progressToken(params) == nil {
		return nil
	}
	var p struct {
		Meta struct {
			Token json.RawMessage `json:"progressToken"`
		} `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil {
		return nil
	}
	return p.Meta.Token
}

// replaceProgressToken returns params with _meta.progressToken set to tok.
func replaceProgressToken(params json.RawMessage, tok string) (json.RawMessage, error) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(params, &p); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(p["_meta"], &meta); err != nil {
		return nil, fmt.Errorf("params._meta: %w", err)
	}
	meta["progressToken"], _ = json.Marshal(tok)
	var err error
	if p["_meta"], err = json.Marshal(meta); err != nil {
		return nil, fmt.Errorf("params._meta: %w", err)
	}
	return json.Marshal(p)
}

// restoreProgressToken gives a notifications/progress the client's token
// back; other messages pass unchanged.
func restoreProgressToken(m message, tok json.RawMessage) (message, bool) {
	req, ok := m.msg.(*jsonrpc.Request)
	if !ok || req.Method != "notifications/progress" {
		return m, true
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(req.Params, &p) != nil {
		return m, false
	}
	p["progressToken"] = tok
	params, err := json.Marshal(p)
	if err != nil {
		return m, false
	}
	out := &jsonrpc.Request{Method: req.Method, Params: params}
	return message{msg: out, raw: encodeRequest(jsonrpc.ID{}, req.Method, params)}, true
}
