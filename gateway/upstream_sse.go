package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// Transports of a URL server (Server.Transport).
const (
	TransportStreamableHTTP = "streamable-http"
	TransportSSE            = "sse"
)

// maxEndpointEvent bounds the first event of a legacy SSE stream, the
// endpoint: a URL, not a message.
const maxEndpointEvent = 8 << 10

// sseUpstream speaks the legacy HTTP+SSE transport of MCP 2024-11-05 to one
// upstream server: a GET stream whose first event names the endpoint that
// takes the client's messages as POSTs; every answer and every server
// message comes on the stream.
type sseUpstream struct {
	srv       *Server
	client    *http.Client // follows redirects on the server's origin only
	log       *slog.Logger
	flood     *floodLog
	onMessage func(message)
	endpoint  string // where messages go; on the origin of srv.URL

	ctx    context.Context // the upstream session's life: the GET stream's
	cancel context.CancelFunc
	done   chan struct{} // closed once the stream has ended

	pending *pendingCalls // ended, with why, once the stream has ended
}

// startSSEUpstream opens the event stream of srv.URL and reads its endpoint
// event, within ctx. The stream then lives until close.
func startSSEUpstream(ctx context.Context, srv *Server, client *http.Client, log *slog.Logger, flood *floodLog, onMessage func(message)) (*sseUpstream, error) {
	base, err := url.Parse(srv.URL)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: invalid url: %w", srv.Name, err)
	}
	c := *client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(base, req.URL) {
			return fmt.Errorf("redirect to another origin (%s) refused", req.URL.Redacted())
		}
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return nil
	}
	lctx, cancel := context.WithCancel(context.Background())
	u := &sseUpstream{srv: srv, client: &c, log: log, flood: flood, onMessage: onMessage,
		ctx: lctx, cancel: cancel, done: make(chan struct{}), pending: newPendingCalls()}
	// Until the endpoint is known, the start's bound applies to the stream.
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	fail := func(err error) (*sseUpstream, error) {
		cancel()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("upstream %s: no endpoint event from %s in time: %w", srv.Name, base.Redacted(), ctx.Err())
		}
		return nil, err
	}
	req, err := http.NewRequestWithContext(lctx, http.MethodGet, srv.URL, nil)
	if err != nil {
		return fail(fmt.Errorf("upstream %s: %w", srv.Name, err))
	}
	for k, v := range srv.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := u.client.Do(req)
	if err != nil {
		return fail(fmt.Errorf("upstream %s: opening the event stream: %w", srv.Name, err))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		hint := ""
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			hint = " (transport: sse wants the server's legacy SSE endpoint, often /sse)"
		}
		return fail(fmt.Errorf("upstream %s: GET %s answered HTTP %d%s", srv.Name, base.Redacted(), resp.StatusCode, hint))
	}
	if ct := baseMediaType(resp.Header.Get("Content-Type")); ct != "text/event-stream" {
		resp.Body.Close()
		if ct == "" {
			ct = "no Content-Type"
		}
		return fail(fmt.Errorf("upstream %s: GET %s answered %s, not an event stream (is url the server's legacy SSE endpoint?)", srv.Name, base.Redacted(), ct))
	}
	sr := newSSEReader(resp.Body, maxEndpointEvent)
	data, err := sr.next()
	if err != nil {
		sr.release()
		resp.Body.Close()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fail(fmt.Errorf("upstream %s: the event stream ended before its endpoint event", srv.Name))
		}
		return fail(fmt.Errorf("upstream %s: reading the endpoint event: %w", srv.Name, err))
	}
	if ev := sr.eventType(); ev != "endpoint" {
		sr.release()
		resp.Body.Close()
		return fail(fmt.Errorf("upstream %s: the event stream began with a %q event, not the endpoint", srv.Name, truncate(ev, 64)))
	}
	ep, err := messageEndpoint(base, string(data))
	if err != nil {
		sr.release()
		resp.Body.Close()
		return fail(fmt.Errorf("upstream %s: %w", srv.Name, err))
	}
	u.endpoint = ep
	sr.max = maxUpstreamMessage
	go u.read(sr, resp.Body)
	return u, nil
}

// messageEndpoint resolves the endpoint event's data against the stream's
// URL. It must stay on the stream's origin: a server may not send
// toolgate's messages, and the headers configured for it, elsewhere.
func messageEndpoint(base *url.URL, data string) (string, error) {
	data = strings.TrimSpace(data)
	if data == "" {
		return "", errors.New("the endpoint event is empty")
	}
	ep, err := base.Parse(data)
	if err != nil {
		return "", fmt.Errorf("the endpoint event does not hold a URL: %w", err)
	}
	if !sameOrigin(base, ep) {
		return "", fmt.Errorf("the endpoint event names another origin (%s) than the event stream's (%s): refused", originOf(ep), originOf(base))
	}
	if ep.User != nil {
		return "", errors.New("the endpoint event's URL carries credentials: refused")
	}
	ep.Fragment, ep.RawFragment = "", ""
	return ep.String(), nil
}

// sameOrigin reports whether a and b have the same scheme, host and port,
// an absent port being the scheme's default.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

func originOf(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + u.Host
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// read hands each message of the stream to the call waiting for it, or to
// onMessage, until the stream ends; then every waiting call fails.
func (u *sseUpstream) read(sr *sseReader, body io.ReadCloser) {
	var err error
	for {
		var data []byte
		data, err = sr.next()
		if err != nil {
			break
		}
		if ev := sr.eventType(); ev != "message" {
			u.flood.Warn("sse event "+u.srv.Name, "upstream sent an event that is not a message; ignored", "server", u.srv.Name, "event", truncate(ev, 64))
			continue
		}
		m, derr := decodeMessage(data, maxUpstreamDepth)
		if derr != nil {
			u.flood.Warn("undecodable "+u.srv.Name, "upstream sent an undecodable event", "server", u.srv.Name, "err", derr.Message)
			continue
		}
		u.pending.dispatch(m, u.srv.Name, u.flood, u.onMessage)
	}
	sr.release()
	body.Close()
	switch {
	case u.ctx.Err() != nil:
		err = fmt.Errorf("upstream %s: %w", u.srv.Name, errUpstreamClosed)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("upstream %s: the server ended its event stream: %w", u.srv.Name, errUpstreamClosed)
	default:
		u.log.Error("upstream event stream unreadable; ending the session", "server", u.srv.Name, "err", err)
		err = fmt.Errorf("upstream %s: %w: %w", u.srv.Name, errUpstreamClosed, err)
	}
	u.cancel()
	u.pending.end(err)
	close(u.done)
}

// ended returns why the stream ended, once it has (nil before).
func (u *sseUpstream) ended() error { return u.pending.ended() }

// post sends one message to the endpoint. A 2xx status means the server
// took it; its answer, if any, comes on the stream. It returns the status,
// the answer's media type and its body.
func (u *sseUpstream) post(ctx context.Context, raw []byte) (int, string, []byte, error) {
	// No POST outlives the session: closing it (its stream) ends them,
	// including one made from the reader with no deadline of its own.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(u.ctx, cancel)
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.endpoint, bytes.NewReader(raw))
	if err != nil {
		return 0, "", nil, fmt.Errorf("upstream %s: %w", u.srv.Name, err)
	}
	for k, v := range u.srv.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := u.client.Do(req)
	if err != nil {
		if e := u.ended(); e != nil {
			return 0, "", nil, e
		}
		return 0, "", nil, fmt.Errorf("upstream %s: %w", u.srv.Name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return resp.StatusCode, ct, body, nil
}

func (u *sseUpstream) call(ctx context.Context, req *jsonrpc.Request, raw []byte, related func(message)) (*jsonrpc.Response, []byte, error) {
	key, p, err := u.pending.add(req, related)
	if err != nil {
		return nil, nil, err
	}
	status, ct, body, err := u.post(ctx, raw)
	if err != nil {
		u.pending.forget(key)
		return nil, nil, err
	}
	if status/100 != 2 {
		u.pending.forget(key)
		return u.refused(req, status, ct, body)
	}
	select {
	case m, ok := <-p.resp:
		if !ok {
			return nil, nil, u.ended()
		}
		return m.msg.(*jsonrpc.Response), m.raw, nil
	case <-ctx.Done():
		u.pending.forget(key)
		return nil, nil, ctx.Err()
	}
}

// refused turns a POST the server did not take into the call's outcome:
// a JSON-RPC error it sent, its words for a 4xx, an error otherwise.
func (u *sseUpstream) refused(req *jsonrpc.Request, status int, ct string, body []byte) (*jsonrpc.Response, []byte, error) {
	if m, e := decodeMessage(body, maxUpstreamDepth); e == nil {
		if r, ok := m.msg.(*jsonrpc.Response); ok && r.Error != nil {
			werr := asWireError(r.Error)
			return &jsonrpc.Response{ID: req.ID, Error: werr}, encodeResponse(req.ID, nil, werr), nil
		}
	}
	if status == http.StatusNotFound {
		return nil, nil, fmt.Errorf("upstream %s: session ended (HTTP 404 from its endpoint): %w", u.srv.Name, errUpstreamClosed)
	}
	if status/100 == 4 {
		text := truncate(strings.TrimSpace(string(body)), 200)
		msg := fmt.Sprintf("upstream %s refused the request (HTTP %d): %s", u.srv.Name, status, text)
		werr := rpcError(codeInvalidRequest, msg)
		return &jsonrpc.Response{ID: req.ID, Error: werr}, encodeResponse(req.ID, nil, werr), nil
	}
	return nil, nil, &httpAnswerError{server: u.srv.Name, status: status, contentType: ct}
}

func (u *sseUpstream) send(ctx context.Context, raw []byte) error {
	if e := u.ended(); e != nil {
		return e
	}
	status, _, _, err := u.post(ctx, raw)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("upstream %s: HTTP %d from its endpoint", u.srv.Name, status)
	}
	return nil
}

func (u *sseUpstream) initialized(string) {}

// close ends the stream, which ends the upstream session.
func (u *sseUpstream) close() {
	u.cancel()
	<-u.done
}
