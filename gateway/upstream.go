package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/toolgate/toolgate/internal/upstreamauth"
)

// Server describes one upstream MCP server.
type Server struct {
	// Name is the server's name in the configuration.
	Name string
	// Prefix is put before each of its tool (and prompt) names.
	Prefix string
	// Command, Env and Dir start a stdio server. Its environment is Env
	// added to PATH, HOME, TMPDIR, LANG, LC_ALL and LC_CTYPE from the
	// gateway's own (see CommandEnv), or to all of it when InheritEnv is
	// set.
	Command    []string
	Env        map[string]string
	Dir        string
	InheritEnv bool
	// URL and Headers reach a streamable-HTTP server, or a legacy
	// HTTP+SSE one when Transport is TransportSSE (URL is then its event
	// stream).
	URL     string
	Headers map[string]string
	// Transport is TransportStreamableHTTP (or "", the same) or
	// TransportSSE.
	Transport string
	// Lazy leaves the server alone until a client session needs it;
	// otherwise StartUpstreams starts it when the gateway starts (config
	// eager: true, the default), to list its tools and report its state.
	Lazy bool
	// Timeout bounds one call forwarded to the server, from sending the
	// request to its response; zero means DefaultServerTimeout. Starting
	// and initializing the server is bounded by Options.UpstreamTimeout
	// instead.
	Timeout time.Duration
	// BreakerFailures failed requests in a row to an HTTP server open its
	// circuit breaker for BreakerCooldown (see breaker); zero means
	// DefaultBreakerFailures and DefaultBreakerCooldown, a negative
	// BreakerFailures turns the breaker off.
	BreakerFailures int
	BreakerCooldown time.Duration
	// Credentials, when set, gives the bearer token of a streamable-HTTP
	// server that requires OAuth: it is sent on the requests to URL only
	// (never on a redirect elsewhere), renewed when the server refuses it,
	// and never shown to a client.
	Credentials upstreamauth.Credentials
	// Share says which client sessions share a stdio server's process:
	// ShareSession (or "", the same: each session its own), ShareShared
	// (one for all) or ShareGrant (one per grant). See share.go.
	Share string
}

// Values of Server.Share.
const (
	ShareSession = "per_session"
	ShareShared  = "shared"
	ShareGrant   = "per_grant"
)

// shared reports whether the server's process serves several sessions.
func (s *Server) shared() bool { return s.Share == ShareShared || s.Share == ShareGrant }

// DefaultServerTimeout is the Timeout of a Server that sets none.
const DefaultServerTimeout = 30 * time.Second

// message is one JSON-RPC message together with its wire form.
type message struct {
	msg jsonrpc.Message
	raw []byte
}

// upstream is the connection of one client session to one upstream server.
type upstream interface {
	// call sends a request and waits for its response. Requests and
	// notifications the server sends while serving it go to related.
	call(ctx context.Context, req *jsonrpc.Request, raw []byte, related func(message)) (*jsonrpc.Response, []byte, error)
	// send delivers a notification, or a response to a server request.
	send(ctx context.Context, raw []byte) error
	// initialized is called after a successful handshake.
	initialized(protocol string)
	// close ends the upstream session and releases its resources.
	close()
}

var errUpstreamClosed = errors.New("upstream connection closed")

// initResult is the part of an upstream's InitializeResult the gateway uses.
type initResult struct {
	ProtocolVersion string                     `json:"protocolVersion"`
	Capabilities    map[string]json.RawMessage `json:"capabilities"`
	ServerInfo      json.RawMessage            `json:"serverInfo,omitempty"`
	Instructions    string                     `json:"instructions,omitempty"`
}

func (r *initResult) has(capability string) bool {
	_, ok := r.Capabilities[capability]
	return ok
}

// handshake runs initialize + notifications/initialized on u with the
// client's own initialize params (protocol version set to the negotiated one).
func handshake(ctx context.Context, slot *upstreamSlot, params json.RawMessage) (*initResult, error) {
	u := slot.conn
	// Bounded by ctx alone (upstream_timeout), not by the server's call
	// timeout: starting a server (npx fetching a package) may take longer
	// than any one call should.
	id := slot.nextID()
	resp, _, err := u.call(ctx, &jsonrpc.Request{ID: id, Method: "initialize", Params: params}, encodeRequest(id, "initialize", params), nil)
	if err != nil {
		if ctx.Err() != nil {
			if d, ok := ctx.Deadline(); ok && slot.started != (time.Time{}) {
				return nil, fmt.Errorf("upstream %s did not start and answer initialize within %s (raise upstream_timeout to wait longer): %w", slot.srv.Name, d.Sub(slot.started).Round(time.Second), err)
			}
		}
		return nil, fmt.Errorf("initialize: %w", err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("initialize refused: %w", resp.Error)
	}
	var res initResult
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		return nil, fmt.Errorf("initialize result: %w", err)
	}
	if !versionSupported(res.ProtocolVersion) && res.ProtocolVersion != "2024-11-05" {
		return nil, fmt.Errorf("upstream chose unsupported protocol version %q", res.ProtocolVersion)
	}
	u.initialized(res.ProtocolVersion)
	if err := u.send(ctx, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)); err != nil {
		return nil, fmt.Errorf("notifications/initialized: %w", err)
	}
	return &res, nil
}

// dial makes the connection of one session to srv: it starts the process
// of a command, opens the event stream of a legacy SSE server (within
// ctx), or readies a streamable-HTTP client. onMessage gets what the server
// sends outside of any call's answer.
func (g *Gateway) dial(ctx context.Context, srv *Server, log *slog.Logger, flood *floodLog, onMessage func(message)) (upstream, error) {
	switch {
	case srv.URL != "" && srv.Transport == TransportSSE:
		return startSSEUpstream(ctx, srv, g.client, log, flood, onMessage)
	case srv.URL != "" && srv.Credentials != nil:
		base := g.client.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		client := &http.Client{Transport: &upstreamauth.Transport{Base: base, ServerURL: srv.URL, Credentials: srv.Credentials},
			CheckRedirect: g.client.CheckRedirect, Jar: g.client.Jar, Timeout: g.client.Timeout}
		return newHTTPUpstream(srv, client, log, flood, onMessage), nil
	case srv.URL != "":
		return newHTTPUpstream(srv, g.client, log, flood, onMessage), nil
	}
	return startStdioUpstream(ctx, srv, log, flood, onMessage)
}
