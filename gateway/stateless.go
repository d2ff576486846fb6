package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// Protocol revision 2026-07-28 has no initialize handshake: every request
// carries its revision, the client's capabilities and (optionally) its
// identity in params._meta, a client first learns the server with
// server/discover, and no Mcp-Session-Id ties requests together. The
// gateway serves such a request with a session of its own, opened from the
// request's _meta and kept for the next requests of the same grant,
// endpoint, client address and _meta (statelessKey): the session is only a
// cache of upstream connections and tool lists. Every tools/call still goes
// through session.callTool, so through the one enforcement pipeline, with
// the grant the request itself carries.

// modernVersion is the revision served without a handshake.
const modernVersion = "2026-07-28"

// Keys of params._meta in protocol 2026-07-28.
const (
	metaProtocolVersion = "io.modelcontextprotocol/protocolVersion"
	metaClientCaps      = "io.modelcontextprotocol/clientCapabilities"
	metaClientInfo      = "io.modelcontextprotocol/clientInfo"
	metaServerInfo      = "io.modelcontextprotocol/serverInfo"
)

// JSON-RPC error codes of protocol 2026-07-28.
const (
	codeHeaderMismatch     = -32020
	codeMissingCapability  = -32021
	codeUnsupportedVersion = -32022
)

// allVersions is what server/discover lists: every revision the gateway
// speaks, newest first.
var allVersions = append([]string{modernVersion}, supportedVersions...)

// removedMethods are methods of older revisions that 2026-07-28 dropped:
// answered 404 with -32601, as the revision asks.
var removedMethods = map[string]bool{
	"initialize": true, "ping": true, "logging/setLevel": true,
	"resources/subscribe": true, "resources/unsubscribe": true,
}

// requestMeta is what a 2026-07-28 request says of itself in _meta.
type requestMeta struct {
	version string
	caps    json.RawMessage // an object
	info    json.RawMessage // an object, or nil
}

// metaOf reads params._meta; present reports whether it names a revision.
func metaOf(params json.RawMessage) (m map[string]json.RawMessage, version string, present bool) {
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if len(params) == 0 || json.Unmarshal(params, &p) != nil {
		return nil, "", false
	}
	raw, ok := p.Meta[metaProtocolVersion]
	if !ok {
		return p.Meta, "", false
	}
	_ = json.Unmarshal(raw, &version)
	return p.Meta, version, true
}

// isStatelessRequest reports whether a POST without Mcp-Session-Id is a
// request of protocol 2026-07-28 (or of a later revision the gateway
// refuses as such): its MCP-Protocol-Version header names no revision with
// a handshake, or its _meta names a revision.
func isStatelessRequest(r *http.Request, req *jsonrpc.Request) bool {
	hv := r.Header.Get("Mcp-Protocol-Version")
	if req.Method == "initialize" {
		// initialize belongs to the older revisions, unless the request
		// says it is of 2026-07-28 (which has no such method).
		if hv == modernVersion {
			return true
		}
	} else if hv != "" && !versionSupported(hv) {
		return true
	}
	_, _, present := metaOf(req.Params)
	return present
}

// checkStateless validates a 2026-07-28 request the way the revision
// asks, before anything else looks at it: the _meta fields it needs, the
// revision, and the HTTP headers that mirror the body (MCP-Protocol-Version,
// Mcp-Method, Mcp-Name). It returns the request's meta, or the HTTP status
// and error to answer.
func checkStateless(r *http.Request, req *jsonrpc.Request) (requestMeta, int, *jsonrpc.Error) {
	hv := r.Header.Get("Mcp-Protocol-Version")
	meta, mv, present := metaOf(req.Params)
	switch {
	case hv == "":
		return requestMeta{}, http.StatusBadRequest, rpcError(codeHeaderMismatch, "the MCP-Protocol-Version header is required for requests carrying _meta."+metaProtocolVersion)
	case !present || mv == "":
		return requestMeta{}, http.StatusBadRequest, rpcError(codeInvalidParams, "missing or invalid _meta field "+metaProtocolVersion)
	case hv != mv:
		return requestMeta{}, http.StatusBadRequest, rpcError(codeHeaderMismatch, fmt.Sprintf("MCP-Protocol-Version header %q does not match _meta.%s %q", hv, metaProtocolVersion, mv))
	case mv != modernVersion:
		data, _ := json.Marshal(map[string]any{"supported": allVersions, "requested": mv})
		return requestMeta{}, http.StatusBadRequest, &jsonrpc.Error{Code: codeUnsupportedVersion,
			Message: fmt.Sprintf("protocol version %q is not supported; toolgate speaks %s", mv, strings.Join(allVersions, ", ")), Data: data}
	}
	caps := meta[metaClientCaps]
	if !isObject(caps) {
		return requestMeta{}, http.StatusBadRequest, rpcError(codeInvalidParams, "missing or invalid _meta field "+metaClientCaps)
	}
	info := meta[metaClientInfo]
	if info != nil && !isObject(info) {
		return requestMeta{}, http.StatusBadRequest, rpcError(codeInvalidParams, "invalid _meta field "+metaClientInfo)
	}
	if !req.IsCall() {
		return requestMeta{version: mv, caps: caps, info: info}, 0, nil
	}
	method := r.Header.Get("Mcp-Method")
	if method == "" {
		return requestMeta{}, http.StatusBadRequest, rpcError(codeHeaderMismatch, "missing required Mcp-Method header")
	}
	if method != req.Method {
		return requestMeta{}, http.StatusBadRequest, rpcError(codeHeaderMismatch, fmt.Sprintf("Mcp-Method header %q does not match the method %q", method, req.Method))
	}
	if name, ok := principalName(req.Method, req.Params); ok {
		h := r.Header.Get("Mcp-Name")
		if h == "" {
			return requestMeta{}, http.StatusBadRequest, rpcError(codeHeaderMismatch, "missing required Mcp-Name header for "+req.Method)
		}
		if h != name {
			return requestMeta{}, http.StatusBadRequest, rpcError(codeHeaderMismatch, fmt.Sprintf("Mcp-Name header %q does not match the request's %q", h, name))
		}
	}
	return requestMeta{version: mv, caps: caps, info: info}, 0, nil
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// principalName is what the Mcp-Name header mirrors: the tool or prompt
// name, or the resource URI. ok is false for other methods.
func principalName(method string, params json.RawMessage) (string, bool) {
	var p struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
	}
	switch method {
	case "tools/call", "prompts/get":
		_ = json.Unmarshal(params, &p)
		return p.Name, true
	case "resources/read":
		_ = json.Unmarshal(params, &p)
		return p.URI, true
	}
	return "", false
}

// statelessStatus is the HTTP status of an answer to a 2026-07-28
// request: the revision puts method-not-found on 404 and invalid params,
// an unsupported revision, a missing client capability and a header
// mismatch on 400.
func statelessStatus(resp []byte) int {
	var m struct {
		Error *struct {
			Code int64 `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(resp, &m) != nil || m.Error == nil {
		return http.StatusOK
	}
	switch m.Error.Code {
	case codeMethodNotFound:
		return http.StatusNotFound
	case codeInvalidParams, codeUnsupportedVersion, codeMissingCapability, codeHeaderMismatch:
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// serveStateless answers a POSTed request of protocol 2026-07-28.
func (g *Gateway) serveStateless(w http.ResponseWriter, r *http.Request, m message, req *jsonrpc.Request) {
	meta, status, rerr := checkStateless(r, req)
	if rerr != nil {
		writeJSONError(w, status, encodeResponse(req.ID, nil, rerr))
		return
	}
	if !req.IsCall() {
		// Notifications have nowhere to go without a session: a client of
		// this revision cancels by closing its request.
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if removedMethods[req.Method] {
		writeJSONError(w, http.StatusNotFound, encodeResponse(req.ID, nil, rpcError(codeMethodNotFound, "method not found: "+req.Method+" is not part of protocol "+modernVersion)))
		return
	}
	if req.Method == "server/discover" {
		writeJSONError(w, http.StatusOK, g.discover(r, req.ID, meta))
		return
	}
	s, resp, err := g.statelessSession(r, meta)
	if err != nil {
		status := http.StatusServiceUnavailable
		if errors.Is(err, errTooManyForClient) {
			status = http.StatusTooManyRequests
		}
		if errors.Is(err, errTooManySessions) || errors.Is(err, errTooManyForClient) || errors.Is(err, errClosed) {
			writeJSONError(w, status, encodeResponse(req.ID, nil, rpcError(codeUnavailable, err.Error())))
			return
		}
		g.log.Error("opening a stateless session failed", "err", err)
		writeJSONError(w, http.StatusInternalServerError, encodeResponse(req.ID, nil, rpcError(codeInternal, "internal error")))
		return
	}
	if s == nil {
		// No upstream could be reached: resp says so, with the request's id.
		var e struct {
			Error *jsonrpc.Error `json:"error"`
		}
		_ = json.Unmarshal(resp, &e)
		if e.Error == nil {
			e.Error = rpcError(codeUnavailable, "upstream unavailable")
		}
		writeJSONError(w, http.StatusServiceUnavailable, encodeResponse(req.ID, nil, e.Error))
		return
	}
	if req.Method == "tools/call" {
		if rerr := s.checkParamHeaders(r, req); rerr != nil {
			writeJSONError(w, http.StatusBadRequest, encodeResponse(req.ID, nil, rerr))
			return
		}
	}
	sse := accepts(r, "text/event-stream")
	st := &postStream{w: w, sse: sse, preferSSE: sse && prefersSSE(r), timeout: g.opts.StreamWriteTimeout}
	defer st.clearDeadline()
	if req.Method == "subscriptions/listen" {
		s.touch()
		st.finish(s.listen(r.Context(), req, st.emit))
		return
	}
	resp = s.handle(r.Context(), m, st.emit)
	if st.status = statelessStatus(resp); st.status != http.StatusOK {
		st.preferSSE = false // the error goes with its status, as JSON
	}
	st.finish(resp)
}

// statelessKey names the session that serves a 2026-07-28 request: the
// grant (and token) it carries, its endpoint, its client's address and what
// its _meta declares. Requests that differ in any of them never share
// upstream connections, tool lists or rate-limit sessions.
func statelessKey(r *http.Request, meta requestMeta) string {
	h := sha256.New()
	write := func(b []byte) {
		var n [8]byte
		h.Write(strconv.AppendInt(n[:0], int64(len(b)), 10))
		h.Write([]byte{0})
		h.Write(b)
	}
	if c := callerOf(r); c != nil {
		write([]byte(c.grant.ID))
		write(c.hash[:])
	} else {
		write(nil)
		write(nil)
	}
	write([]byte(endpointOf(r)))
	write([]byte(clientAddr(r)))
	write([]byte(meta.version))
	write(canonicalJSON(meta.caps))
	write(canonicalJSON(meta.info))
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalJSON re-encodes raw with sorted keys, so that the same meta
// spelled differently maps to the same session.
func canonicalJSON(raw json.RawMessage) []byte {
	if raw == nil {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return b
}

// statelessSession returns the session for the request, opening it when
// there is none (or the last one ended). A nil session with a response
// means no upstream could be reached.
func (g *Gateway) statelessSession(r *http.Request, meta requestMeta) (*session, []byte, error) {
	key := statelessKey(r, meta)
	g.mu.Lock()
	if s := g.stateless[key]; s != nil && g.sessions[s.id] == s {
		g.mu.Unlock()
		s.touch()
		return s, nil, nil
	}
	g.mu.Unlock()
	params := map[string]json.RawMessage{"capabilities": meta.caps}
	params["protocolVersion"], _ = json.Marshal(meta.version)
	if meta.info != nil {
		params["clientInfo"] = meta.info
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding stateless params: %w", err)
	}
	init := &jsonrpc.Request{ID: intID(0), Method: "initialize", Params: raw}
	s, resp, err := g.openSession(r.Context(), init, clientAddr(r), callerOf(r), endpointOf(r), nil, &meta)
	if err != nil || s == nil {
		return nil, resp, err
	}
	g.mu.Lock()
	if g.stateless == nil {
		g.stateless = map[string]*session{}
	}
	if old := g.stateless[key]; old != nil && old != s && g.sessions[old.id] == old {
		// Another request opened one meanwhile: use it, end this one.
		g.mu.Unlock()
		if g.removeSession(s.id) != nil {
			go s.close()
		}
		old.touch()
		return old, nil, nil
	}
	s.key = key
	g.stateless[key] = s
	g.mu.Unlock()
	return s, nil, nil
}

// forgetStatelessLocked drops s from the stateless sessions (it ended).
func (g *Gateway) forgetStatelessLocked(s *session) {
	if s.stateless && g.stateless[s.key] == s {
		delete(g.stateless, s.key)
	}
}

// discover answers server/discover. It opens no session: it asks each
// server the request reaches with server/discover of its own (a
// connection that ends with the answer), and answers with the revisions
// the gateway speaks, the merged capabilities and instructions, and
// toolgate's identity in _meta. When a server speaks an older revision
// only (it does not list 2026-07-28, refuses server/discover, or is a stdio
// or legacy SSE server, which the gateway speaks older revisions to), the
// answer lists the older revisions alone: the client then initializes, and
// gets everything such an upstream does (its sampling, elicitation and
// roots requests, its notifications), which a 2026-07-28 request could not
// carry. A 2026-07-28 request is still served then, statelessly.
func (g *Gateway) discover(r *http.Request, id jsonrpc.ID, meta requestMeta) []byte {
	ctx, cancel := context.WithTimeout(r.Context(), g.opts.UpstreamTimeout)
	defer cancel()
	c, endpoint := callerOf(r), endpointOf(r)
	probe := &session{g: g, stateless: true, meta: meta}
	modern := true
	var wg sync.WaitGroup
	for i := range g.opts.Servers {
		srv := &g.opts.Servers[i]
		if (endpoint != "" && srv.Name != endpoint) || (c != nil && !c.grant.AllowsServer(srv.Name)) {
			continue
		}
		if srv.URL == "" || srv.Transport == TransportSSE {
			modern = false
			continue
		}
		slot := &upstreamSlot{idx: i, srv: srv}
		probe.ups = append(probe.ups, slot)
		wg.Add(1)
		go func() {
			defer wg.Done()
			slot.conn = newHTTPUpstream(srv, g.client, g.log, g.floodLog, func(message) {})
			slot.init, slot.err = discoverUpstream(ctx, probe, slot)
			if slot.err != nil {
				g.log.Debug("server/discover: an upstream speaks an older revision", "server", srv.Name, "why", slot.err)
			}
			slot.conn.close()
		}()
	}
	wg.Wait()
	for _, u := range probe.ups {
		if u.err != nil {
			modern = false
		}
	}
	result := map[string]any{
		"supportedVersions": allVersions,
		"resultType":        "complete",
		"ttlMs":             0,
		"cacheScope":        "private",
		"_meta":             map[string]any{metaServerInfo: map[string]string{"name": "toolgate", "version": g.opts.Version}},
	}
	if modern {
		result["capabilities"] = modernCapabilities(probe.capabilities())
		if ins := probe.instructions(); ins != "" {
			result["instructions"] = ins
		}
	} else {
		result["supportedVersions"] = supportedVersions
		result["capabilities"] = map[string]any{"tools": map[string]any{"listChanged": true}}
	}
	data, err := json.Marshal(result)
	if err != nil {
		return encodeResponse(id, nil, rpcError(codeInternal, "internal error"))
	}
	return encodeResponse(id, data, nil)
}

// modernCapabilities leaves out of caps what 2026-07-28 has no method
// for: logging/setLevel and resources/subscribe are gone.
func modernCapabilities(caps map[string]any) map[string]any {
	delete(caps, "logging")
	if res, ok := caps["resources"].(map[string]any); ok {
		delete(res, "subscribe")
	}
	return caps
}

// checkParamHeaders validates the Mcp-Param-* headers of a tools/call
// against its arguments, for the parameters the tool's inputSchema marks
// with x-mcp-header: a header that says something other than the body
// is refused (-32020), so that nothing on the way can act on a value the
// policy did not judge. The upstream gets headers made from the arguments
// forwarded, never the client's.
func (s *session) checkParamHeaders(r *http.Request, req *jsonrpc.Request) *jsonrpc.Error {
	var p struct {
		Name      string                     `json:"name"`
		Arguments map[string]json.RawMessage `json:"arguments"`
	}
	if json.Unmarshal(req.Params, &p) != nil {
		return nil // callTool refuses it
	}
	tool, complete := s.lookupTool(p.Name)
	if tool == nil && !complete {
		s.loadTools(r.Context())
		tool, _ = s.lookupTool(p.Name)
	}
	if tool == nil {
		return nil
	}
	for _, b := range paramHeaderBindings(tool.schema) {
		name := "Mcp-Param-" + b.header
		hv := r.Header.Get(name)
		arg, ok := lookupArg(p.Arguments, b.path)
		if !ok || string(arg) == "null" {
			if hv != "" {
				return rpcError(codeHeaderMismatch, fmt.Sprintf("header %s given for the absent parameter %q", name, strings.Join(b.path, ".")))
			}
			continue
		}
		if hv == "" {
			return rpcError(codeHeaderMismatch, fmt.Sprintf("missing %s header for the parameter %q", name, strings.Join(b.path, ".")))
		}
		decoded, ok := decodeParamHeader(hv)
		if !ok {
			return rpcError(codeHeaderMismatch, fmt.Sprintf("header %s is not valid Base64", name))
		}
		want, ok := primitiveString(arg)
		if !ok || decoded != want {
			return rpcError(codeHeaderMismatch, fmt.Sprintf("header %s does not match the parameter %q", name, strings.Join(b.path, ".")))
		}
	}
	return nil
}

// paramHeader binds a parameter (its path in the arguments) to the header
// name x-mcp-header gives it.
type paramHeader struct {
	header string
	path   []string
}

type headerSchema struct {
	Type       string                  `json:"type"`
	Header     *string                 `json:"x-mcp-header"`
	Properties map[string]headerSchema `json:"properties"`
}

// paramHeaderBindings lists the x-mcp-header annotations of an inputSchema.
func paramHeaderBindings(schema json.RawMessage) []paramHeader {
	var root headerSchema
	if len(schema) == 0 || json.Unmarshal(schema, &root) != nil {
		return nil
	}
	var out []paramHeader
	var walk func(props map[string]headerSchema, prefix []string, depth int)
	walk = func(props map[string]headerSchema, prefix []string, depth int) {
		if depth > 8 {
			return
		}
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			sc := props[n]
			path := append(slices.Clone(prefix), n)
			if sc.Header != nil && *sc.Header != "" {
				out = append(out, paramHeader{header: *sc.Header, path: path})
			}
			if len(sc.Properties) > 0 {
				walk(sc.Properties, path, depth+1)
			}
		}
	}
	walk(root.Properties, nil, 0)
	return out
}

func lookupArg(args map[string]json.RawMessage, path []string) (json.RawMessage, bool) {
	cur := args
	for i, p := range path {
		v, ok := cur[p]
		if !ok {
			return nil, false
		}
		if i == len(path)-1 {
			return v, true
		}
		cur = nil
		if json.Unmarshal(v, &cur) != nil || cur == nil {
			return nil, false
		}
	}
	return nil, false
}

// primitiveString is a string, number or boolean argument as a header
// carries it.
func primitiveString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case 't', 'f':
		return string(raw), true
	case '{', '[', 'n':
		return "", false
	}
	var f json.Number
	if json.Unmarshal(raw, &f) != nil {
		return "", false
	}
	if n, err := f.Int64(); err == nil {
		return strconv.FormatInt(n, 10), true
	}
	return f.String(), true
}

const (
	base64Open  = "=?base64?"
	base64Close = "?="
)

func decodeParamHeader(v string) (string, bool) {
	if enc, ok := strings.CutPrefix(v, base64Open); ok {
		if enc, ok = strings.CutSuffix(enc, base64Close); ok {
			b, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				return "", false
			}
			return string(b), true
		}
	}
	return v, true
}

// encodeParamHeader is the header value of a parameter: as is when it is
// plain visible ASCII, otherwise Base64 in =?base64?...?=.
func encodeParamHeader(s string) string {
	plain := s == "" || (s[0] != ' ' && s[0] != '\t' && s[len(s)-1] != ' ' && s[len(s)-1] != '\t')
	for i := 0; plain && i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			plain = false
		}
	}
	if plain && strings.HasPrefix(s, base64Open) && strings.HasSuffix(s, base64Close) {
		plain = false
	}
	if plain {
		return s
	}
	return base64Open + base64.StdEncoding.EncodeToString([]byte(s)) + base64Close
}

// upstreamHeadersKey carries, in a request's context, the headers of
// protocol 2026-07-28 an HTTP upstream gets with it.
type upstreamHeadersKey struct{}

func withUpstreamHeaders(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, upstreamHeadersKey{}, h)
}

func upstreamHeaders(ctx context.Context) http.Header {
	h, _ := ctx.Value(upstreamHeadersKey{}).(http.Header)
	return h
}

// cacheHints adds to a list answer of a stateless session what
// 2026-07-28 asks of every list result: resultType, and the caching hints
// ttlMs and cacheScope. The gateway's lists are merged from several
// servers, filtered by the grant's policy and change with a policy reload,
// so they are fresh for no time (ttlMs 0) and belong to the grant that
// asked (cacheScope private), whatever the upstreams said of theirs.
func (s *session) cacheHints(id jsonrpc.ID, resp []byte) []byte {
	if !s.stateless {
		return resp
	}
	var m struct {
		Result map[string]json.RawMessage `json:"result"`
	}
	if json.Unmarshal(resp, &m) != nil || m.Result == nil {
		return resp
	}
	m.Result["resultType"] = json.RawMessage(`"complete"`)
	m.Result["ttlMs"] = json.RawMessage(`0`)
	m.Result["cacheScope"] = json.RawMessage(`"private"`)
	out, err := json.Marshal(m.Result)
	if err != nil {
		return resp
	}
	return encodeResponse(id, out, nil)
}

// maxListen bounds one subscriptions/listen request; the client listens
// again after it.
const maxListen = time.Hour

// listenParams is what subscriptions/listen asks for.
type listenParams struct {
	Notifications struct {
		ToolsListChanged     bool `json:"toolsListChanged"`
		PromptsListChanged   bool `json:"promptsListChanged"`
		ResourcesListChanged bool `json:"resourcesListChanged"`
	} `json:"notifications"`
}

// listenMethods maps the notifications subscriptions/listen can ask for
// to the capability that offers them.
var listenMethods = map[string]string{
	"notifications/tools/list_changed":     "tools",
	"notifications/prompts/list_changed":   "prompts",
	"notifications/resources/list_changed": "resources",
}

// listen serves subscriptions/listen, the one stream of 2026-07-28 for
// notifications of no request: it acknowledges what the gateway honours
// (the list_changed notifications of the capabilities the session offers;
// no resource subscriptions, which the gateway does not offer on this
// revision), opens the same subscription on every upstream of that
// revision, and passes on their list_changed notifications of the kinds
// asked for, tagged with this request's id, until the client goes away or
// maxListen passes. It needs an SSE answer: without one it ends at once.
func (s *session) listen(ctx context.Context, req *jsonrpc.Request, emit func([]byte) bool) []byte {
	var p listenParams
	if err := json.Unmarshal(req.Params, &p); err != nil {
		return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "subscriptions/listen: notifications must be an object of booleans"))
	}
	caps := s.capabilities()
	offers := func(capability string) bool {
		c, _ := caps[capability].(map[string]any)
		lc, _ := c["listChanged"].(bool)
		return lc
	}
	honored := map[string]bool{}
	want := map[string]bool{}
	for method, asked := range map[string]bool{
		"notifications/tools/list_changed":     p.Notifications.ToolsListChanged,
		"notifications/prompts/list_changed":   p.Notifications.PromptsListChanged,
		"notifications/resources/list_changed": p.Notifications.ResourcesListChanged,
	} {
		if capability := listenMethods[method]; asked && offers(capability) {
			honored[capability+"ListChanged"] = true
			want[method] = true
		}
	}
	subID := req.ID.Raw()
	tag := map[string]any{"io.modelcontextprotocol/subscriptionId": subID}
	ack, err := json.Marshal(map[string]any{"notifications": honored, "_meta": tag})
	if err != nil {
		return encodeResponse(req.ID, nil, rpcError(codeInternal, "internal error"))
	}
	result, _ := json.Marshal(map[string]any{"resultType": "complete", "_meta": tag})
	if emit == nil || !emit(encodeRequest(jsonrpc.ID{}, "notifications/subscriptions/acknowledged", ack)) || len(want) == 0 {
		return encodeResponse(req.ID, result, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, maxListen)
	defer cancel()
	s.busy.Add(1) // a session listened to does not idle out
	defer s.busy.Add(-1)
	var mu sync.Mutex
	pass := func(raw []byte) bool {
		m, derr := decodeMessage(raw, maxUpstreamDepth)
		if derr != nil {
			return true
		}
		n, ok := m.msg.(*jsonrpc.Request)
		if !ok || n.IsCall() || !want[n.Method] {
			return true // the upstream's own acknowledgement, or not asked for
		}
		params, _ := json.Marshal(map[string]any{"_meta": tag})
		mu.Lock()
		defer mu.Unlock()
		return emit(encodeRequest(jsonrpc.ID{}, n.Method, params))
	}
	var wg sync.WaitGroup
	for i, u := range s.ups {
		if !u.ok() || u.init.ProtocolVersion != modernVersion {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _, _ = s.exchange(ctx, i, req, pass, maxListen)
		}()
	}
	select {
	case <-ctx.Done():
	case <-s.done:
		cancel()
	}
	wg.Wait()
	return encodeResponse(req.ID, result, nil)
}
