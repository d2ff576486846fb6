// Package config reads toolgate's configuration file (toolgate.yaml), a YAML
// or JSON document naming the upstream MCP servers, the policies, and the
// gateway's knobs. Every problem is reported with its file, line and column,
// and all of them are reported at once. docs/config.md documents every field.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/toolgate/toolgate"
)

// Defaults of the fields a file may leave out.
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultAdminListen     = "127.0.0.1:8081"
	DefaultAuth            = "grants"
	DefaultStore           = "sqlite://toolgate.db"
	DefaultLimits          = "memory"
	DefaultMaxBodyBytes    = 4 << 20 // 4 MiB
	DefaultMaxDepth        = 64
	DefaultUpstreamTimeout = Duration(30 * time.Second)
	DefaultServerTimeout   = Duration(30 * time.Second)

	DefaultReadHeaderTimeout = Duration(10 * time.Second)
	DefaultReadTimeout       = Duration(60 * time.Second)
	DefaultIdleTimeout       = Duration(120 * time.Second)
	DefaultMaxHeaderBytes    = 64 << 10 // 64 KiB

	DefaultMaxSessions          = 10000
	DefaultMaxSessionsPerClient = 100
	DefaultSessionQueue         = 1024
	DefaultSessionQueueBytes    = 16 << 20 // 16 MiB
	DefaultStreamReplayEvents   = 256
	DefaultStreamReplayBytes    = 1 << 20  // 1 MiB
	DefaultMaxInflightBytes     = 96 << 20 // 96 MiB
	DefaultSessionIdleTimeout   = Duration(30 * time.Minute)
	DefaultListPageSize         = 1000

	DefaultApprovalWait          = Duration(50 * time.Second)
	DefaultApprovalValidFor      = Duration(10 * time.Minute)
	DefaultApprovalProgressEvery = Duration(5 * time.Second)
	DefaultWebhookTimeout        = Duration(10 * time.Second)
	DefaultWebhookRetries        = 5
	DefaultWebhookQueue          = 1000
	// MinWebhookSecretLen is the shortest webhook secret accepted.
	MinWebhookSecretLen = 16
)

// MaxCount is the largest max_sessions, max_sessions_per_client and
// session_queue a file may set: far beyond what one process serves, and
// small enough that a typo cannot make the gateway allocate gigabytes.
const MaxCount = 1_000_000

// MaxHeaderBytesLimit is the largest max_header_bytes a file may set: the
// net/http default, which no MCP client needs more than.
const MaxHeaderBytesLimit = 1 << 20 // 1 MiB

// MaxFileSize is the largest configuration file Load and Parse accept.
const MaxFileSize = 1 << 20 // 1 MiB

// Config is a loaded configuration with every default applied and every
// ${NAME} reference replaced by its value. It may hold secrets taken from
// the environment (env, headers): do not log it.
type Config struct {
	// File is the path the configuration was loaded from (the name given
	// to Parse). Relative paths in the file are resolved against Dir().
	File string `json:"-"`
	// Listen is the host:port of the HTTP front; MCP is served at /mcp.
	Listen string `json:"listen"`
	// AdminListen is the host:port of the admin API, a listener of its
	// own that needs an admin token; "" when the admin plane is off (the
	// file says "off" or "").
	AdminListen string `json:"admin_listen"`
	// Servers are the upstream MCP servers by name.
	Servers map[string]*Server `json:"servers"`
	// ServerNames are the keys of Servers in the order the file lists
	// them: the order in which tool lists are aggregated.
	ServerNames []string `json:"-"`
	// Policies are the named policies: a file or an inline document.
	Policies map[string]*PolicySource `json:"policies"`
	// Auth is "none" (every caller is toolgate.Anonymous; only allowed on
	// a loopback listen address), "grants" (grant tokens, and JWTs too
	// when JWT is set) or "jwt" (JWTs only). The file writes "none" or
	// "grants", or a mapping {grants: bool, jwt: {...}}.
	Auth string `json:"auth"`
	// JWT configures JWT bearer tokens; nil when they are not accepted.
	JWT *JWT `json:"jwt,omitempty"`
	// Store is "sqlite://PATH" or a "postgres://" URL.
	Store string `json:"store"`
	// Limits is "memory" or a "redis://" (or "rediss://") URL.
	Limits string `json:"limits"`
	// AllowedOrigins are browser origins ("https://app.example.com")
	// allowed at /mcp besides loopback origins (http://localhost[:port],
	// http://127.0.0.1[:port], http://[::1][:port]).
	AllowedOrigins []string `json:"allowed_origins"`
	// AllowedHosts are host names a request's Host header may carry
	// besides the loopback names (for a proxy in front of toolgate).
	AllowedHosts []string `json:"allowed_hosts"`
	// MaxBodyBytes caps the size of one request body at /mcp.
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// MaxDepth caps the nesting of JSON values in a request.
	MaxDepth int `json:"max_depth"`
	// LegacySSE serves the legacy HTTP+SSE front of MCP 2024-11-05 (GET
	// /sse, POST /messages) beside /mcp, for clients that speak nothing
	// newer. Off by default.
	LegacySSE bool `json:"legacy_sse"`
	// ListDefaultDenied lists in tools/list the tools that only
	// "default: deny" refuses (they are left out when false).
	ListDefaultDenied bool `json:"list_default_denied"`
	// ListPageSize is the most items one answer to tools/list,
	// prompts/list, resources/list or resources/templates/list carries:
	// the merged list of every upstream comes in one page up to this
	// size, in pages of this size beyond it.
	ListPageSize int `json:"list_page_size"`
	// UpstreamTimeout is how long to wait for an upstream to start and
	// answer initialize. Each call is bounded by its server's Timeout.
	UpstreamTimeout Duration `json:"upstream_timeout"`
	// ReadHeaderTimeout bounds reading a request's headers, on every HTTP
	// server toolgate runs.
	ReadHeaderTimeout Duration `json:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, headers and body. It
	// does not bound responses: server-sent event streams stay open.
	ReadTimeout Duration `json:"read_timeout"`
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request.
	IdleTimeout Duration `json:"idle_timeout"`
	// MaxHeaderBytes bounds the size of a request's headers.
	MaxHeaderBytes int64 `json:"max_header_bytes"`
	// MaxSessions bounds the client sessions open at once.
	MaxSessions int `json:"max_sessions"`
	// MaxSessionsPerClient bounds the sessions one client address (the
	// HTTP peer's IP) may hold at once.
	MaxSessionsPerClient int `json:"max_sessions_per_client"`
	// RequestStateKey signs the requestState the gateway gives a client of
	// protocol 2026-07-28 whose tool call asks for input, so that its retry
	// counts as the same call; replicas behind one load balancer share it.
	// Empty: a random key per process.
	RequestStateKey string `json:"request_state_key,omitempty"`
	// SessionQueue bounds the server→client messages waiting for one
	// session's client; a session whose client lets it fill is closed.
	SessionQueue int `json:"session_queue"`
	// SessionQueueBytes bounds the bytes of those messages.
	SessionQueueBytes int64 `json:"session_queue_bytes"`
	// StreamReplayEvents bounds the events a session's GET stream keeps
	// after writing them, for a client that resumes with Last-Event-ID.
	StreamReplayEvents int `json:"stream_replay_events"`
	// StreamReplayBytes bounds the bytes of those events.
	StreamReplayBytes int64 `json:"stream_replay_bytes"`
	// MaxInflightBytes is the memory budget of the requests the HTTP front
	// serves at once, across all clients (each is charged 16 times its
	// size). It is at least MaxBodyBytes: when the file
	// leaves it out it is the default or MaxBodyBytes, whichever is larger.
	MaxInflightBytes int64 `json:"max_inflight_bytes"`
	// SessionIdleTimeout ends a client session that has made no request
	// for this long.
	SessionIdleTimeout Duration `json:"session_idle_timeout"`
	// Methods sends requests and notifications of MCP methods the gateway
	// does not handle itself to one server: method name → a key of
	// Servers. Unknown methods not listed reach no upstream.
	Methods map[string]string `json:"methods,omitempty"`
	// Pins is the file of tool definitions recorded by `toolgate scan
	// --pin`, relative to the configuration's directory; "" for none. A
	// tool whose definition differs is flagged, and refused where the
	// policy says pinned: true.
	Pins string `json:"pins,omitempty"`
	// OAuthKeyFile is the file holding the key that seals upstream OAuth
	// tokens in the store, resolved against the file's directory; "" to
	// take it from the environment variable TOOLGATE_OAUTH_KEY.
	OAuthKeyFile string `json:"oauth_key_file,omitempty"`
	// Poisoned is what becomes of a tool whose text carries instructions
	// to the model (the scanner's injection and unicode signals): "hide"
	// (the default), "deny" (listed with a neutral note, calls refused) or
	// "allow".
	Poisoned string `json:"poisoned"`
	// Directory configures `toolgate directory serve`.
	Directory Directory `json:"directory"`
	// Approvals configures how calls that need a human's approval wait,
	// and who is told about them.
	Approvals Approvals `json:"approvals"`
	// Audit configures the audit log.
	Audit Audit `json:"audit"`
}

// Audit is the audit section: where every tools/call decision, its
// outcome and every admin change are recorded (docs/audit.md).
type Audit struct {
	// Enabled turns the audit log on (the default).
	Enabled bool `json:"enabled"`
	// Args is how a call's arguments are recorded: "keys", "redacted"
	// (the default) or "full".
	Args string `json:"args"`
	// Instance names this gateway in every event; "" for the host name.
	Instance string `json:"instance,omitempty"`
	// Journal (the default) makes a call wait only for its decision to be
	// written to the audit journal, a file beside the store, before it is
	// forwarded; the events reach the primary a few milliseconds later.
	// false: every call waits for the primary's commit.
	Journal bool `json:"journal"`
	// Sinks are where events go; the first is the primary, which every
	// decision is committed to before its call is forwarded.
	Sinks []AuditSink `json:"sinks"`
}

// The audit sink types.
const (
	SinkSQLite = "sqlite"
	SinkJSONL  = "jsonl"
	SinkStdout = "stdout"
	SinkHTTP   = "http"
)

// AuditSink is one destination of the audit log.
type AuditSink struct {
	// Type is "sqlite" (a table in the store), "jsonl" (a file),
	// "stdout" or "http" (POSTed to a SIEM; never the first sink).
	Type string `json:"type"`
	// Path is a jsonl sink's file, resolved against the configuration's
	// directory.
	Path string `json:"path,omitempty"`
	// MaxBytes is the size at which a jsonl file is rotated.
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// Keep is how many rotated jsonl files are kept.
	Keep int `json:"keep,omitempty"`
	// Fsync makes every batch wait for an fsync (survives a power loss).
	// Default: true for jsonl, false for sqlite (whose commits survive
	// the process being killed).
	Fsync bool `json:"fsync"`
	// OnError is "fail" (the default: a failing sink refuses calls) or
	// "continue" (logged and counted; not allowed on the first sink, and
	// required of an http sink).
	OnError string `json:"on_error"`

	// URL is an http sink's endpoint: https://, or http:// to a loopback
	// address.
	URL string `json:"url,omitempty"`
	// Headers are sent with every request of an http sink. Their values
	// usually hold credentials: they are never encoded nor logged.
	Headers map[string]string `json:"-"`
	// Batch bounds the events of one request of an http sink.
	Batch int `json:"batch,omitempty"`
	// Flush is how long an http sink lets a batch fill.
	Flush Duration `json:"flush,omitempty"`
	// Timeout bounds one request of an http sink.
	Timeout Duration `json:"timeout,omitempty"`
	// Retries is how many times an http sink tries a failed request again.
	Retries int `json:"retries,omitempty"`
	// Queue bounds the events an http sink holds while it sends.
	Queue int `json:"queue,omitempty"`
}

// Defaults of the audit section.
const (
	DefaultAuditArgs     = "redacted"
	DefaultAuditMaxBytes = 100 << 20 // 100 MiB
	DefaultAuditKeep     = 10
	// Defaults of an http sink.
	DefaultAuditHTTPBatch   = 100
	DefaultAuditHTTPFlush   = Duration(time.Second)
	DefaultAuditHTTPTimeout = Duration(10 * time.Second)
	DefaultAuditHTTPRetries = 5
	DefaultAuditHTTPQueue   = 10000
)

// Approvals is the approvals section.
type Approvals struct {
	// Wait is how long a call waits for the decision before it is
	// answered with an error naming its approval, which stays pending.
	Wait Duration `json:"wait"`
	// ValidFor is how long after its approval an approval lets the same
	// call, made again, go through (once).
	ValidFor Duration `json:"valid_for"`
	// ProgressEvery is how often a waiting call whose request carried a
	// progress token is sent notifications/progress.
	ProgressEvery Duration `json:"progress_every"`
	// Webhook, when set, is told of every new approval and decision.
	Webhook *Webhook `json:"webhook,omitempty"`
}

// Webhook is the endpoint told of approvals.
type Webhook struct {
	// URL is https://, or http:// to a loopback address.
	URL string `json:"url"`
	// Secret signs the deliveries: the secret key's value, or the value
	// of the environment variable secret_env names.
	Secret string `json:"-"`
	// SecretEnv is the variable the secret was read from, if any.
	SecretEnv string `json:"secret_env,omitempty"`
	// Timeout bounds one delivery attempt.
	Timeout Duration `json:"timeout"`
	// Retries is how many times a failed delivery is tried again.
	Retries int `json:"retries"`
	// Queue bounds the events waiting to be delivered.
	Queue int `json:"queue"`
}

// Transports of a url server.
const (
	TransportStreamableHTTP = "streamable-http"
	TransportSSE            = "sse"
)

// Values of a command server's Share.
const (
	// SharePerSession: each client session starts its own process.
	SharePerSession = "per_session"
	// ShareShared: one process serves every client session.
	ShareShared = "shared"
	// SharePerGrant: one process per grant, shared by its sessions.
	SharePerGrant = "per_grant"
)

// Server is one upstream MCP server: either a stdio command or a URL
// (streamable HTTP, or legacy HTTP+SSE), never both.
type Server struct {
	// Command is the program and its arguments of a stdio upstream.
	Command []string `json:"command,omitempty"`
	// Env holds variables set for Command, besides the few it takes from
	// toolgate's own environment (all of it with InheritEnv).
	Env map[string]string `json:"env,omitempty"`
	// InheritEnv passes toolgate's whole environment to Command, not just
	// PATH, HOME, TMPDIR, LANG, LC_ALL and LC_CTYPE.
	InheritEnv bool `json:"inherit_env,omitempty"`
	// Cwd is the working directory of Command, already resolved against
	// the configuration file's directory (which is also its default).
	Cwd string `json:"cwd,omitempty"`
	// URL is the endpoint of a streamable-HTTP upstream, or the event
	// stream of a legacy HTTP+SSE one (Transport "sse").
	URL string `json:"url,omitempty"`
	// Transport is how URL is spoken: TransportStreamableHTTP (the
	// default for a url) or TransportSSE (the legacy HTTP+SSE transport
	// of MCP 2024-11-05); "" for a command.
	Transport string `json:"transport,omitempty"`
	// Headers are sent with every request to URL.
	Headers map[string]string `json:"headers,omitempty"`
	// Prefix is put before the server's tool names. Nil means the default:
	// "<name>_" when there are several servers, none when there is one.
	// Use Config.ToolPrefix for the effective value.
	Prefix *string `json:"prefix,omitempty"`
	// Timeout bounds each call forwarded to the server.
	Timeout Duration `json:"timeout"`
	// Breaker is an HTTP server's circuit breaker.
	Breaker Breaker `json:"breaker"`
	// Share says which client sessions share Command's process:
	// SharePerSession (the default), ShareShared or SharePerGrant; "" for
	// a url.
	Share string `json:"share,omitempty"`
	// OAuth, when set, has toolgate obtain the server's bearer tokens
	// from its OAuth authorization server (toolgate upstream login).
	OAuth *OAuth `json:"oauth,omitempty"`
	// Eager starts the server when the gateway starts, on a connection
	// of the gateway's own, to list its tools and report its state in
	// /readyz; false leaves it until a client session needs it.
	Eager bool `json:"eager"`
	// Line and Column locate the server's name in the file.
	Line, Column int `json:"-"`
}

// Grants an OAuth server may use.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	// GrantCrossApp is cross-app access: toolgate exchanges a user's ID
	// token at the enterprise IdP for an ID-JAG, and the ID-JAG for a
	// token at the server's authorization server.
	GrantCrossApp = "cross_app_access"
)

// OAuth is how toolgate obtains an HTTP server's tokens. It may hold a
// client secret: do not log it.
type OAuth struct {
	// Grant is GrantAuthorizationCode (a person logs in once with
	// toolgate upstream login) or GrantClientCredentials (toolgate asks
	// for tokens by itself).
	Grant string `json:"grant"`
	// ClientID is a pre-registered client; "" registers one dynamically
	// (or uses ClientMetadataURL).
	ClientID string `json:"client_id,omitempty"`
	// ClientSecret is its secret, from client_secret (use ${NAME}) or
	// client_secret_env; ClientSecretFile, resolved against the file's
	// directory, is read when the secret is needed.
	ClientSecret     string `json:"-"`
	ClientSecretEnv  string `json:"client_secret_env,omitempty"`
	ClientSecretFile string `json:"client_secret_file,omitempty"`
	// ClientMetadataURL is toolgate's client ID metadata document, used
	// as client id by authorization servers that accept them.
	ClientMetadataURL string `json:"client_metadata_url,omitempty"`
	// Scopes, when set, are requested instead of the ones the server
	// asks for.
	Scopes []string `json:"scopes,omitempty"`
	// RedirectPort is the loopback port of the login's redirect
	// listener; 0 picks a free one.
	RedirectPort int `json:"redirect_port,omitempty"`
	// TokenEndpointAuth forces how the client authenticates at the token
	// endpoint: client_secret_basic, client_secret_post or
	// private_key_jwt; "" chooses from the authorization server's
	// metadata (private_key_jwt when PrivateKeyFile is set).
	TokenEndpointAuth string `json:"token_endpoint_auth,omitempty"`
	// PrivateKeyFile, resolved against the file's directory, is the PEM
	// private key that signs private_key_jwt client assertions; KeyID is
	// their kid header and SigningAlg their algorithm ("" for the key's
	// default: ES256 for P-256, RS256 for RSA).
	PrivateKeyFile string `json:"private_key_file,omitempty"`
	KeyID          string `json:"key_id,omitempty"`
	SigningAlg     string `json:"signing_alg,omitempty"`
	// IdP is the enterprise identity provider of GrantCrossApp.
	IdP *OAuthIdP `json:"idp,omitempty"`
}

// OAuthIdP is the identity provider of cross-app access: where the ID
// token is exchanged, as which client, and where the ID token is. The ID
// token is a credential: do not log it.
type OAuthIdP struct {
	// TokenEndpoint is the IdP's token endpoint (RFC 8693 token
	// exchange).
	TokenEndpoint string `json:"token_endpoint"`
	// ClientID is toolgate's client at the IdP, "" for none; its secret
	// comes as the server's own client secret does.
	ClientID         string `json:"client_id,omitempty"`
	ClientSecret     string `json:"-"`
	ClientSecretEnv  string `json:"client_secret_env,omitempty"`
	ClientSecretFile string `json:"client_secret_file,omitempty"`
	// IDTokenFile (resolved against the file's directory) or IDTokenEnv
	// holds the user's ID token, read for each exchange.
	IDTokenFile string `json:"id_token_file,omitempty"`
	IDTokenEnv  string `json:"id_token_env,omitempty"`
}

// Token endpoint authentication methods of oauth.token_endpoint_auth.
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = "private_key_jwt"
)

// SigningAlgs returns the algorithms oauth.signing_alg may name.
func SigningAlgs() []string {
	return []string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
}

// Breaker is an HTTP server's circuit breaker: after Failures failed
// requests in a row (unreachable, a 5xx, an answer that is not MCP) its
// requests fail at once for Cooldown, then one is tried; each failed trial
// doubles the wait, up to 5 minutes.
type Breaker struct {
	// Failures in a row that open the circuit; 0 turns the breaker off.
	Failures int `json:"failures"`
	// Cooldown is the first wait.
	Cooldown Duration `json:"cooldown"`
}

// Defaults of a server's breaker.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = Duration(10 * time.Second)
)

// PolicySource is where a named policy comes from: a file (Path) or a
// document written inline in the configuration (Inline).
type PolicySource struct {
	// Path is the policy file as written; Config.PolicyPath resolves it.
	Path string
	// Inline is the inline document re-encoded as JSON, one value per line.
	Inline []byte
	// Line and Column locate the policy's value in the configuration file.
	Line, Column int

	// marks maps positions in Inline to positions in the config file.
	marks []mark
}

// mark pairs a position in the re-encoded Inline document with the
// position of the same key or value in the configuration file.
type mark struct{ line, col, fileLine, fileCol int }

// Position maps a line and column of Inline (as reported by the policy
// loader) to the position of the same key or value in the configuration
// file. Positions it cannot map give the position of the policy itself.
func (p *PolicySource) Position(line, col int) (int, int) {
	best := -1
	for i, m := range p.marks {
		if m.line < line || (m.line == line && m.col <= col) {
			best = i
		} else {
			break
		}
	}
	if best < 0 {
		return p.Line, p.Column
	}
	return p.marks[best].fileLine, p.marks[best].fileCol
}

// MarshalJSON encodes a file policy as its path and an inline policy as the
// document itself.
func (p *PolicySource) MarshalJSON() ([]byte, error) {
	if p.Inline != nil {
		return p.Inline, nil
	}
	return json.Marshal(p.Path)
}

// Duration is a time.Duration written in the file as a Go duration string
// ("30s", "1m30s") or a number of seconds.
type Duration time.Duration

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON encodes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON accepts a Go duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		s = string(b)
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func parseDuration(s string) (Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 || n > float64(1<<63-1)/float64(time.Second) {
			return 0, fmt.Errorf("duration %s out of range", s)
		}
		return Duration(n * float64(time.Second)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. \"30s\", \"2m\" or a number of seconds)", s)
	}
	return Duration(v), nil
}

// Default returns the configuration of an empty file: no servers, no
// policies, every other field at its default.
func Default() *Config {
	return &Config{
		Listen:          DefaultListen,
		AdminListen:     DefaultAdminListen,
		Servers:         map[string]*Server{},
		Policies:        map[string]*PolicySource{},
		Auth:            DefaultAuth,
		Poisoned:        "hide",
		Store:           DefaultStore,
		Limits:          DefaultLimits,
		MaxBodyBytes:    DefaultMaxBodyBytes,
		MaxDepth:        DefaultMaxDepth,
		UpstreamTimeout: DefaultUpstreamTimeout,

		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,

		MaxSessions:          DefaultMaxSessions,
		MaxSessionsPerClient: DefaultMaxSessionsPerClient,
		SessionQueue:         DefaultSessionQueue,
		SessionQueueBytes:    DefaultSessionQueueBytes,
		StreamReplayEvents:   DefaultStreamReplayEvents,
		StreamReplayBytes:    DefaultStreamReplayBytes,
		MaxInflightBytes:     DefaultMaxInflightBytes,
		SessionIdleTimeout:   DefaultSessionIdleTimeout,
		ListPageSize:         DefaultListPageSize,

		Approvals: Approvals{
			Wait:          DefaultApprovalWait,
			ValidFor:      DefaultApprovalValidFor,
			ProgressEvery: DefaultApprovalProgressEvery,
		},
		Audit: Audit{
			Enabled: true,
			Journal: true,
			Args:    DefaultAuditArgs,
			Sinks:   []AuditSink{{Type: SinkSQLite, OnError: "fail"}},
		},
	}
}

// Load reads and parses the configuration file at path. A missing file is
// a toolgate.NotFound error; an invalid one is an ErrorList.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &toolgate.Error{Code: toolgate.NotFound, Message: "config file " + path + " not found", Err: err}
		}
		return nil, &toolgate.Error{Code: toolgate.Invalid, Message: "cannot read config file " + path, Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &toolgate.Error{Code: toolgate.Invalid, Message: "cannot read config file " + path, Err: err}
	}
	return Parse(data, path)
}

// Parse parses a configuration document; name is used in error positions
// and as Config.File. When the document is well-formed but invalid, Parse
// returns an ErrorList together with a Config holding what it understood,
// so that a checker can go on to validate the policies; such a Config
// must not be used to run a gateway. On any other error the Config is nil.
func Parse(data []byte, name string) (*Config, error) {
	if len(data) > MaxFileSize {
		return nil, ErrorList{{File: name, Line: 1, Column: 1,
			Message: fmt.Sprintf("config file is larger than %d bytes (1 MiB)", MaxFileSize)}}
	}
	d := &decoder{file: name, data: data}
	root, err := d.parseDocument()
	if err != nil {
		return nil, err
	}
	c := Default()
	c.File = name
	d.config(c, root)
	if len(d.errs) > 0 {
		d.errs.Sort()
		return c, d.errs
	}
	return c, nil
}

// Dir is the directory of the configuration file, against which relative
// paths in it are resolved.
func (c *Config) Dir() string {
	if c.File == "" {
		return "."
	}
	return filepath.Dir(c.File)
}

// resolve makes p relative to the configuration's directory unless it is
// absolute.
func (c *Config) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir(), p)
}

// PolicyPath is the path of the named policy's file, resolved against the
// configuration's directory; "" for an inline or unknown policy.
func (c *Config) PolicyPath(name string) string {
	p, ok := c.Policies[name]
	if !ok || p.Inline != nil {
		return ""
	}
	return c.resolve(p.Path)
}

// Directory is the configuration of the reference user directory. Keys
// usually come from the environment: secret_keys: ["${DIRECTORY_KEY}"].
type Directory struct {
	// Data is the directory holding directory.db (resolved against the
	// configuration's directory); "" for the flag's default.
	Data string `json:"data,omitempty"`
	// Listen is the address to serve on; "" for the flag's default.
	Listen string `json:"listen,omitempty"`
	// SecretKeys are accepted as "Authorization: Bearer KEY" on /v1/ and /mcp.
	SecretKeys []string `json:"secret_keys,omitempty"`
	// APIKeys are accepted as the Api-Key header on /api/.
	APIKeys []string `json:"api_keys,omitempty"`
}

// PinsPath is the pins file resolved against the configuration's
// directory; "" when none is configured.
func (c *Config) PinsPath() string { return c.resolve(c.Pins) }

// StorePath is the database file of a sqlite:// store, resolved against the
// configuration's directory; "" for other stores.
func (c *Config) StorePath() string {
	if rest, ok := cutPrefixFold(c.Store, "sqlite://"); ok {
		return c.resolve(rest)
	}
	return ""
}

// ToolPrefix is the effective prefix of the named server's tool names: its
// explicit prefix, or "<name>_" when the configuration has several servers
// and "" when it has one.
func (c *Config) ToolPrefix(server string) string {
	s, ok := c.Servers[server]
	if !ok {
		return ""
	}
	if s.Prefix != nil {
		return *s.Prefix
	}
	if len(c.Servers) > 1 {
		return server + "_"
	}
	return ""
}
