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
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// maxUpstreamMessage bounds one message read from an upstream.
const maxUpstreamMessage = 64 << 20

// httpUpstream speaks streamable HTTP to one upstream server.
type httpUpstream struct {
	srv       *Server
	client    *http.Client
	log       *slog.Logger
	flood     *floodLog     // for what a misbehaving server could repeat at will
	onMessage func(message) // unsolicited messages from the GET stream

	ctx    context.Context // lifetime of the upstream session
	cancel context.CancelFunc

	mu        sync.Mutex
	sessionID string
	protocol  string
}

func newHTTPUpstream(srv *Server, client *http.Client, log *slog.Logger, flood *floodLog, onMessage func(message)) *httpUpstream {
	ctx, cancel := context.WithCancel(context.Background())
	return &httpUpstream{srv: srv, client: client, log: log, flood: flood, onMessage: onMessage, ctx: ctx, cancel: cancel}
}

func (u *httpUpstream) newRequest(ctx context.Context, method string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.srv.URL, rd)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", u.srv.Name, err)
	}
	for k, v := range u.srv.Headers {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	} else {
		req.Header.Set("Accept", "text/event-stream")
	}
	u.mu.Lock()
	if u.sessionID != "" {
		req.Header.Set("Mcp-Session-Id", u.sessionID)
	}
	if u.protocol != "" {
		req.Header.Set("Mcp-Protocol-Version", u.protocol)
	}
	u.mu.Unlock()
	for k, v := range upstreamHeaders(ctx) {
		req.Header[k] = v
	}
	return req, nil
}

func (u *httpUpstream) post(ctx context.Context, raw []byte) (*http.Response, error) {
	req, err := u.newRequest(ctx, http.MethodPost, raw)
	if err != nil {
		return nil, err
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", u.srv.Name, err)
	}
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
		u.mu.Lock()
		if u.sessionID == "" {
			u.sessionID = sid
		}
		u.mu.Unlock()
	}
	return resp, nil
}

func (u *httpUpstream) call(ctx context.Context, req *jsonrpc.Request, raw []byte, related func(message)) (*jsonrpc.Response, []byte, error) {
	resp, err := u.post(ctx, raw)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			// The upstream refused toolgate's credentials: its challenge
			// and body speak of toolgate's tokens, not the client's, and
			// are neither told nor logged.
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			msg := fmt.Sprintf("upstream %s refused toolgate's credentials (HTTP %d); an operator may need to configure its oauth and run `toolgate upstream login %s`", u.srv.Name, resp.StatusCode, u.srv.Name)
			return &jsonrpc.Response{ID: req.ID, Error: rpcError(codeInvalidRequest, msg)}, encodeResponse(req.ID, nil, rpcError(codeInvalidRequest, msg)), nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if m, e := decodeMessage(body, maxUpstreamDepth); e == nil {
			if r, ok := m.msg.(*jsonrpc.Response); ok && r.Error != nil {
				r.ID = req.ID
				return r, encodeResponse(req.ID, nil, asWireError(r.Error)), nil
			}
		}
		if resp.StatusCode == http.StatusNotFound {
			return nil, nil, fmt.Errorf("upstream %s: session ended (HTTP 404): %w", u.srv.Name, errUpstreamClosed)
		}
		if resp.StatusCode/100 == 4 {
			// The upstream refused this request without a JSON-RPC body (some
			// servers answer an unknown method so): pass its words on.
			text := strings.TrimSpace(string(body))
			if len(text) > 200 {
				text = text[:200]
			}
			msg := fmt.Sprintf("upstream %s refused the request (HTTP %d): %s", u.srv.Name, resp.StatusCode, text)
			return &jsonrpc.Response{ID: req.ID, Error: rpcError(codeInvalidRequest, msg)}, encodeResponse(req.ID, nil, rpcError(codeInvalidRequest, msg)), nil
		}
		return nil, nil, &httpAnswerError{server: u.srv.Name, status: resp.StatusCode, contentType: ct}
	}
	switch ct {
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxUpstreamMessage+1))
		if err != nil {
			return nil, nil, fmt.Errorf("upstream %s: reading response: %w", u.srv.Name, err)
		}
		if len(body) > maxUpstreamMessage {
			return nil, nil, fmt.Errorf("upstream %s: response over %d bytes", u.srv.Name, maxUpstreamMessage)
		}
		r, err := decodeResponse(body, req.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("upstream %s: %w", u.srv.Name, err)
		}
		return r, body, nil
	case "text/event-stream":
		sr := newSSEReader(resp.Body, maxUpstreamMessage)
		defer sr.release()
		for {
			data, err := sr.next()
			if err != nil {
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				return nil, nil, fmt.Errorf("upstream %s: stream ended before the response: %w", u.srv.Name, err)
			}
			m, e := decodeMessage(data, maxUpstreamDepth)
			if e != nil {
				u.flood.Warn("undecodable "+u.srv.Name, "upstream sent an undecodable event", "server", u.srv.Name, "err", e.Message)
				continue
			}
			if r, ok := m.msg.(*jsonrpc.Response); ok && r.ID == req.ID {
				return r, m.raw, nil
			}
			if related != nil {
				related(m)
			} else {
				u.onMessage(m)
			}
		}
	}
	return nil, nil, &httpAnswerError{server: u.srv.Name, status: resp.StatusCode, contentType: ct}
}

// httpAnswerError is an HTTP upstream's answer that holds no MCP message:
// a status the transport gives no meaning to (a 5xx), or a content type
// other than JSON or an event stream (a proxy's or a login page). Its
// status and content type are safe to tell the client, unlike its body,
// which may hold anything and is neither told nor logged.
type httpAnswerError struct {
	server      string
	status      int
	contentType string // the media type, "" when none was given
}

func (e *httpAnswerError) Error() string {
	ct := e.contentType
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("upstream %s answered HTTP %d (%s), not an MCP message", e.server, e.status, truncate(ct, 64))
}

// publicCause is what the client may be told of why an upstream failed to
// serve a request: an HTTP answer's status and content type, or "" (the
// cause then goes to the log alone). An open circuit breaker did not try
// the server: what it last answered is no news of this request.
func publicCause(err error) string {
	var open *errCircuitOpen
	var he *httpAnswerError
	var pub publicError
	switch {
	case errors.As(err, &pub):
		return pub.PublicMessage()
	case errors.As(err, &open) || !errors.As(err, &he):
		return ""
	}
	return he.Error()
}

// publicError is an error whose PublicMessage a client may read, such as
// an OAuth upstream's need for a login.
type publicError interface {
	error
	PublicMessage() string
}

func decodeResponse(body []byte, id jsonrpc.ID) (*jsonrpc.Response, error) {
	m, e := decodeMessage(body, maxUpstreamDepth)
	if e != nil {
		return nil, fmt.Errorf("decoding response: %s", e.Message)
	}
	r, ok := m.msg.(*jsonrpc.Response)
	if !ok || r.ID != id {
		return nil, errors.New("response does not answer the request")
	}
	return r, nil
}

func asWireError(err error) *jsonrpc.Error {
	var we *jsonrpc.Error
	if errors.As(err, &we) {
		return we
	}
	return rpcError(codeInternal, err.Error())
}

func (u *httpUpstream) send(ctx context.Context, raw []byte) error {
	resp, err := u.post(ctx, raw)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("upstream %s: HTTP %d", u.srv.Name, resp.StatusCode)
	}
	return nil
}

func (u *httpUpstream) initialized(protocol string) {
	u.mu.Lock()
	u.protocol = protocol
	u.mu.Unlock()
	go u.listen()
}

// modern marks the connection as one on protocol 2026-07-28, which has no
// standalone GET stream: every message of the server comes with the
// answer of the request it belongs to.
func (u *httpUpstream) modern() {
	u.mu.Lock()
	u.protocol = modernVersion
	u.mu.Unlock()
}

// listen keeps the standalone GET stream open and hands what arrives on it
// to onMessage, reconnecting a bounded number of times.
func (u *httpUpstream) listen() {
	delay := 100 * time.Millisecond
	for attempt := 0; attempt < 10 && u.ctx.Err() == nil; attempt++ {
		req, err := u.newRequest(u.ctx, http.MethodGet, nil)
		if err != nil {
			return
		}
		resp, err := u.client.Do(req)
		if err != nil {
			if u.ctx.Err() != nil {
				return
			}
		} else if resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode/100 == 4 {
			resp.Body.Close()
			return // the server offers no standalone stream
		} else if resp.StatusCode == http.StatusOK {
			attempt = 0
			sr := newSSEReader(resp.Body, maxUpstreamMessage)
			for {
				data, err := sr.next()
				if err != nil {
					break
				}
				m, e := decodeMessage(data, maxUpstreamDepth)
				if e != nil {
					u.flood.Warn("undecodable "+u.srv.Name, "upstream sent an undecodable event", "server", u.srv.Name, "err", e.Message)
					continue
				}
				u.onMessage(m)
			}
			sr.release()
			resp.Body.Close()
		} else {
			resp.Body.Close()
		}
		select {
		case <-u.ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

func (u *httpUpstream) close() {
	u.cancel()
	u.mu.Lock()
	sid := u.sessionID
	u.mu.Unlock()
	if sid == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := u.newRequest(ctx, http.MethodDelete, nil)
	if err != nil {
		return
	}
	if resp, err := u.client.Do(req); err == nil {
		resp.Body.Close()
	}
}
