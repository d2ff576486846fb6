package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
)

func TestParseDefaults(t *testing.T) {
	for _, doc := range []string{"", "# nothing\n", "{}", "null\n", "servers:\npolicies:\n"} {
		c, err := Parse([]byte(doc), "c.yaml")
		if err != nil {
			t.Fatalf("Parse(%q): %v", doc, err)
		}
		want := Default()
		want.File = "c.yaml"
		if !reflect.DeepEqual(c, want) {
			t.Errorf("Parse(%q) = %+v, want %+v", doc, c, want)
		}
	}
	d := Default()
	if d.Listen != "127.0.0.1:8080" || d.AdminListen != "127.0.0.1:8081" || d.Auth != "grants" || d.Store != "sqlite://toolgate.db" || d.Limits != "memory" ||
		d.MaxBodyBytes != 4<<20 || d.MaxDepth != 64 || d.ListDefaultDenied || time.Duration(d.UpstreamTimeout) != 30*time.Second ||
		time.Duration(d.ReadHeaderTimeout) != 10*time.Second || time.Duration(d.ReadTimeout) != time.Minute ||
		time.Duration(d.IdleTimeout) != 2*time.Minute || d.MaxHeaderBytes != 64<<10 ||
		d.MaxSessions != 10000 || d.MaxSessionsPerClient != 100 || d.SessionQueue != 1024 ||
		d.MaxInflightBytes != 96<<20 || time.Duration(d.SessionIdleTimeout) != 30*time.Minute || d.Methods != nil {
		t.Errorf("Default() = %+v", d)
	}
}

func TestParseSessionBounds(t *testing.T) {
	type bounds struct {
		maxSessions, perClient, queue int
		inflight, body                int64
		idle                          time.Duration
		methods                       map[string]string
	}
	def := bounds{10000, 100, 1024, 96 << 20, 4 << 20, 30 * time.Minute, nil}
	tests := []struct {
		name string
		doc  string
		want bounds
	}{
		{"defaults", "", def},
		{"every key", `max_sessions: 50
max_sessions_per_client: 1
session_queue: 16
max_inflight_bytes: 8MiB
session_idle_timeout: 5m
`, bounds{50, 1, 16, 8 << 20, 4 << 20, 5 * time.Minute, nil}},
		{"upper bounds", "max_sessions: 1_000_000\nmax_sessions_per_client: 1000000\nsession_queue: 1000000\n",
			bounds{1000000, 1000000, 1000000, 96 << 20, 4 << 20, 30 * time.Minute, nil}},
		{"numbers of bytes and seconds", "max_inflight_bytes: 1048576\nmax_body_bytes: 1048576\nsession_idle_timeout: 90\n",
			bounds{10000, 100, 1024, 1 << 20, 1 << 20, 90 * time.Second, nil}},
		{"in-flight equal to the body bound", "max_body_bytes: 64MiB\nmax_inflight_bytes: 64MiB\n",
			bounds{10000, 100, 1024, 64 << 20, 64 << 20, 30 * time.Minute, nil}},
		{"in-flight default follows a larger body bound", "max_body_bytes: 160MiB\n",
			bounds{10000, 100, 1024, 160 << 20, 160 << 20, 30 * time.Minute, nil}},
		{"in-flight default above a smaller body bound", "max_body_bytes: 1MiB\n",
			bounds{10000, 100, 1024, 96 << 20, 1 << 20, 30 * time.Minute, nil}},
		{"null keeps the defaults", "max_sessions:\nsession_queue: null\nmax_inflight_bytes: ~\nsession_idle_timeout:\nmethods:\n", def},
		{"methods", `methods:
  notifications/x-audit: docs
  vendor/search: clerk
servers:
  clerk: {command: [x]}
  docs: {url: http://127.0.0.1:9000/mcp}
`, bounds{10000, 100, 1024, 96 << 20, 4 << 20, 30 * time.Minute,
			map[string]string{"notifications/x-audit": "docs", "vendor/search": "clerk"}}},
		{"methods from the environment", "servers:\n  docs: {url: http://x}\nmethods: {vendor/search: \"${TG_TEST_METHOD_SERVER}\"}\n",
			bounds{10000, 100, 1024, 96 << 20, 4 << 20, 30 * time.Minute, map[string]string{"vendor/search": "docs"}}},
		{"methods empty", "methods: {}\n", def},
		{"JSON", `{"max_sessions": 7, "max_sessions_per_client": 2, "session_queue": 64,
 "max_inflight_bytes": "16MiB", "session_idle_timeout": "1h",
 "servers": {"a": {"url": "http://x"}}, "methods": {"a/b": "a"}}`,
			bounds{7, 2, 64, 16 << 20, 4 << 20, time.Hour, map[string]string{"a/b": "a"}}},
	}
	t.Setenv("TG_TEST_METHOD_SERVER", "docs")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc), "c.yaml")
			if err != nil {
				t.Fatal(err)
			}
			got := bounds{c.MaxSessions, c.MaxSessionsPerClient, c.SessionQueue,
				c.MaxInflightBytes, c.MaxBodyBytes, time.Duration(c.SessionIdleTimeout), c.Methods}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

const full = `# the design's example
listen: 127.0.0.1:9090
servers:
  clerk:
    command: [node, local-server.js]
    env: {CLERK_SECRET_KEY: "${TG_TEST_SECRET}", LITERAL: "a$$b", PORT: 3000}
    cwd: srv
  docs:
    url: http://127.0.0.1:9000/mcp
    headers: {Authorization: "Bearer ${TG_TEST_TOKEN}"}
    prefix: "docs_"
  everything:
    command: npx -y @modelcontextprotocol/server-everything
    prefix: ""
policies:
  default: policy.json
  abs: /etc/toolgate/p.yaml
  inline:
    version: "1"
    default: deny
    tools:
      UpdateUser:
        limits: [{counter: c, window: minute, max: 0x1e, scope: grant}]
auth: grants
store: postgres://tg:secret@db:5432/toolgate
limits: redis://127.0.0.1:6379
allowed_origins: [https://app.example.com, "http://LOCALHOST:3000/"]
allowed_hosts: [MCP.example.com]
max_body_bytes: 1MiB
max_depth: 32
list_default_denied: true
upstream_timeout: 1m30s
read_header_timeout: 5s
read_timeout: 2m
idle_timeout: 30
max_header_bytes: 16KiB
`

func TestParseFull(t *testing.T) {
	t.Setenv("TG_TEST_SECRET", "sk_test")
	t.Setenv("TG_TEST_TOKEN", "tok")
	c, err := Parse([]byte(full), filepath.Join("conf", "toolgate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9090" || c.Auth != "grants" || c.Limits != "redis://127.0.0.1:6379" ||
		c.Store != "postgres://tg:secret@db:5432/toolgate" || c.MaxBodyBytes != 1<<20 || c.MaxDepth != 32 ||
		!c.ListDefaultDenied || time.Duration(c.UpstreamTimeout) != 90*time.Second ||
		time.Duration(c.ReadHeaderTimeout) != 5*time.Second || time.Duration(c.ReadTimeout) != 2*time.Minute ||
		time.Duration(c.IdleTimeout) != 30*time.Second || c.MaxHeaderBytes != 16<<10 {
		t.Errorf("scalars: %+v", c)
	}
	if want := []string{"https://app.example.com", "http://localhost:3000"}; !reflect.DeepEqual(c.AllowedOrigins, want) {
		t.Errorf("AllowedOrigins = %q, want %q", c.AllowedOrigins, want)
	}
	if want := []string{"mcp.example.com"}; !reflect.DeepEqual(c.AllowedHosts, want) {
		t.Errorf("AllowedHosts = %q, want %q", c.AllowedHosts, want)
	}
	if want := []string{"clerk", "docs", "everything"}; !reflect.DeepEqual(c.ServerNames, want) {
		t.Errorf("ServerNames = %q, want %q", c.ServerNames, want)
	}
	clerk := c.Servers["clerk"]
	if !reflect.DeepEqual(clerk.Command, []string{"node", "local-server.js"}) ||
		!reflect.DeepEqual(clerk.Env, map[string]string{"CLERK_SECRET_KEY": "sk_test", "LITERAL": "a$b", "PORT": "3000"}) ||
		clerk.Cwd != filepath.Join("conf", "srv") || clerk.Prefix != nil || clerk.Line != 4 || clerk.Column != 3 {
		t.Errorf("clerk = %+v", clerk)
	}
	docs := c.Servers["docs"]
	if docs.URL != "http://127.0.0.1:9000/mcp" || docs.Headers["Authorization"] != "Bearer tok" || docs.Cwd != "" {
		t.Errorf("docs = %+v", docs)
	}
	every := c.Servers["everything"]
	if !reflect.DeepEqual(every.Command, []string{"npx", "-y", "@modelcontextprotocol/server-everything"}) || every.Cwd != "conf" {
		t.Errorf("everything = %+v", every)
	}
	for name, want := range map[string]string{"clerk": "clerk_", "docs": "docs_", "everything": "", "nope": ""} {
		if got := c.ToolPrefix(name); got != want {
			t.Errorf("ToolPrefix(%q) = %q, want %q", name, got, want)
		}
	}
	if got := c.PolicyPath("default"); got != filepath.Join("conf", "policy.json") {
		t.Errorf("PolicyPath(default) = %q", got)
	}
	if got := c.PolicyPath("abs"); got != "/etc/toolgate/p.yaml" {
		t.Errorf("PolicyPath(abs) = %q", got)
	}
	if got := c.PolicyPath("inline"); got != "" {
		t.Errorf("PolicyPath(inline) = %q", got)
	}
	in := c.Policies["inline"]
	if in.Line != 19 || in.Column != 5 {
		t.Errorf("inline policy at %d:%d, want 19:5", in.Line, in.Column)
	}
	wantJSON := `{
  "version": "1",
  "default": "deny",
  "tools": {
    "UpdateUser": {
      "limits": [
        {
          "counter": "c",
          "window": "minute",
          "max": 30,
          "scope": "grant"
        }
      ]
    }
  }
}`
	if string(in.Inline) != wantJSON {
		t.Errorf("Inline =\n%s\nwant\n%s", in.Inline, wantJSON)
	}
	// "max": 30 is on line 10, column 18 of Inline; it came from 0x1e.
	if l, col := in.Position(10, 18); l != 23 || col != 52 {
		t.Errorf("Position(10, 18) = %d:%d, want 23:52", l, col)
	}
	if l, col := in.Position(5, 5); l != 22 || col != 7 {
		t.Errorf("Position(5, 5) = %d:%d, want 22:7 (UpdateUser)", l, col)
	}
	if l, col := in.Position(0, 0); l != 19 || col != 5 {
		t.Errorf("Position(0, 0) = %d:%d, want the policy's own position", l, col)
	}
	if c.Dir() != "conf" {
		t.Errorf("Dir() = %q", c.Dir())
	}
}

func TestParseServerSettings(t *testing.T) {
	doc := `servers:
  clean:
    command: [x]
  inherits:
    command: [x]
    inherit_env: true
    timeout: 2m
  remote:
    url: http://127.0.0.1:9000/mcp
    timeout: 90
`
	c, err := Parse([]byte(doc), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		inherit bool
		timeout time.Duration
	}{
		{"clean", false, 30 * time.Second},
		{"inherits", true, 2 * time.Minute},
		{"remote", false, 90 * time.Second},
	}
	for _, tt := range tests {
		s := c.Servers[tt.name]
		if s.InheritEnv != tt.inherit || time.Duration(s.Timeout) != tt.timeout {
			t.Errorf("%s: InheritEnv %v, Timeout %v; want %v, %v", tt.name, s.InheritEnv, s.Timeout, tt.inherit, tt.timeout)
		}
	}
}

func TestParseJSON(t *testing.T) {
	doc := `{
	"listen": "127.0.0.1:0",
	"servers": {"a": {"url": "https:\/\/example.com\/mcp"}, "b": {"command": ["x"], "prefix": "a_"}},
	"policies": {"p": {"version": "1", "tools": {"t": {"max": 1.5e3}}}},
	"max_depth": 10
}`
	c, err := Parse([]byte(doc), "c.json")
	if err == nil {
		t.Fatal("want the prefix collision error")
	}
	checkErrors(t, err, []string{`3:92: servers.b.prefix: servers "a" and "b" both use the tool prefix "a_"`})
	if c.Servers["a"].URL != "https://example.com/mcp" || c.MaxDepth != 10 || c.Listen != "127.0.0.1:0" {
		t.Errorf("c = %+v", c)
	}
	if got := string(c.Policies["p"].Inline); !strings.Contains(got, `"max": 1500`) {
		t.Errorf("inline = %s", got)
	}
}

// checkErrors asserts that err is an ErrorList whose errors are, in order,
// "line:col: " followed by a text each error's "path: message" starts with.
func checkErrors(t *testing.T, err error, want []string) {
	t.Helper()
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %v (%T) is not an ErrorList", err, err)
	}
	var got []string
	for _, e := range list {
		if e.File == "" {
			t.Errorf("error without file: %v", e)
		}
		msg := e.Message
		if e.Path != "" {
			msg = e.Path + ": " + msg
		}
		got = append(got, fmt.Sprintf("%d:%d: %s", e.Line, e.Column, msg))
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// admin_listen: its own address, or off.
func TestAdminListen(t *testing.T) {
	tests := []struct {
		doc, want string
	}{
		{"", "127.0.0.1:8081"},
		{"admin_listen: off\n", ""},
		{"admin_listen: \"\"\n", ""},
		{"admin_listen: 127.0.0.1:0\nlisten: 127.0.0.1:0\n", "127.0.0.1:0"},
		{"admin_listen: 127.0.0.1:9001\nlisten: 127.0.0.1:9000\n", "127.0.0.1:9001"},
		{"admin_listen: 127.0.0.2:8080\n", "127.0.0.2:8080"},
		{"admin_listen: off\nlisten: 127.0.0.1:8081\n", ""},
	}
	for _, tt := range tests {
		c, err := Parse([]byte(tt.doc), "c.yaml")
		if err != nil || c.AdminListen != tt.want {
			t.Errorf("Parse(%q): admin_listen %q, %v; want %q", tt.doc, c.AdminListen, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Setenv("TG_TEST_SET", "x")
	os.Unsetenv("TG_TEST_UNSET")
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"unknown top key", "listen: 127.0.0.1:1\nlisen: x\n",
			[]string{`2:1: unknown key "lisen" (did you mean "listen"?)`}},
		{"unknown key camelCase", "allowedOrigins: []\n",
			[]string{`1:1: unknown key "allowedOrigins" (did you mean "allowed_origins"?)`}},
		{"unknown key no suggestion", "zzzzzz: 1\n",
			[]string{`1:1: unknown key "zzzzzz" (known keys: listen, servers`}},
		{"unknown server key", "servers:\n  a:\n    url: http://x\n    comand: [x]\n",
			[]string{`4:5: servers.a: unknown key "comand" (did you mean "command"?)`}},
		{"duplicate key", "auth: none\nauth: grants\n",
			[]string{`2:1: duplicate key "auth" (first at line 1)`}},
		{"not a mapping", "- a\n- b\n",
			[]string{`1:1: the configuration must be a mapping`}},
		{"syntax error", "listen: [1\nauth: none\n",
			[]string{`1:1: invalid YAML: did not find expected ',' or ']'`}},
		{"syntax error later line", "a:\n  b: c\n d: e\n",
			[]string{`2:1: invalid YAML: did not find expected key`}},
		{"tab indentation", "servers:\n\ta: {}\n",
			[]string{`2:1: invalid YAML: tab characters`}},
		{"json syntax", "{\"listen\": \"x\",\n  \"auth\" \"none\"}",
			[]string{`2:10: invalid JSON: invalid character '"' after object key`}},
		{"two documents", "auth: none\n---\nauth: grants\n",
			[]string{`2:1: the file holds several YAML documents`}},
		{"env unset", "servers:\n  a:\n    url: http://x\n    headers: {A: \"x ${TG_TEST_UNSET} y\"}\n",
			[]string{`4:21: servers.a.headers.A: environment variable TG_TEST_UNSET is not set`}},
		{"env unset twice", "store: \"sqlite://${TG_TEST_UNSET}/${TG_TEST_UNSET2}\"\n",
			[]string{`1:18: store: environment variable TG_TEST_UNSET is not set`,
				`1:35: store: environment variable TG_TEST_UNSET2 is not set`}},
		{"env unterminated", "store: sqlite://${TG_TEST_SET\n",
			[]string{`1:17: store: unterminated ${`}},
		{"env bad name", "store: sqlite://${1X}\n",
			[]string{`1:17: store: invalid environment variable reference ${1X}`}},
		{"env default syntax", "store: sqlite://${X:-y}\n",
			[]string{`1:17: store: invalid environment variable reference ${X:-y}`}},
		{"listen not host:port", "listen: 8080\n",
			[]string{`1:9: listen: must be host:port`}},
		{"listen bad port", "listen: 127.0.0.1:99999\n",
			[]string{`1:9: listen: port "99999" must be a number from 0 to 65535`}},
		{"listen not a string", "listen: [a]\n",
			[]string{`1:9: listen: must be a string, not a list`}},
		{"auth none on all interfaces", "auth: none\nlisten: 0.0.0.0:8080\n",
			[]string{`2:9: listen: "0.0.0.0:8080" is not a loopback address, which auth: none requires`}},
		{"auth none on empty host", "auth: none\nlisten: \":8080\"\n",
			[]string{`2:9: listen: ":8080" is not a loopback address`}},
		{"auth unknown", "auth: oauth\n",
			[]string{`1:7: auth: must be "none" or "grants", not "oauth"`}},
		{"store scheme", "store: mysql://x\n",
			[]string{`1:8: store: must be sqlite://PATH or a postgres:// URL, not "mysql://x"`}},
		{"store sqlite empty", "store: sqlite://\n",
			[]string{`1:8: store: sqlite:// needs a database file path`}},
		{"store postgres no host", "store: postgres:///db\n",
			[]string{`1:8: store: invalid postgres URL`}},
		{"store redacts password", "store: mysql://u:hunter2@h/db\n",
			[]string{`1:8: store: must be sqlite://PATH or a postgres:// URL, not "mysql://u:xxxxx@h/db"`}},
		{"limits scheme", "limits: memcached://x\n",
			[]string{`1:9: limits: must be "memory" or a redis:// URL`}},
		{"limits no host", "limits: redis://\n",
			[]string{`1:9: limits: redis URL "redis://" has no host`}},
		{"origins not list", "allowed_origins: https://a.example\n",
			[]string{`1:18: allowed_origins: must be a list of origins`}},
		{"origin with path", "allowed_origins: [https://a.example, https://b.example/x, \"*\"]\n",
			[]string{`1:38: allowed_origins[1]: "https://b.example/x" is not an origin`,
				`1:59: allowed_origins[2]: "*" is not an origin`}},
		{"hosts not list", "allowed_hosts: a.example\n",
			[]string{`1:16: allowed_hosts: must be a list of host names`}},
		{"host with port or scheme", "allowed_hosts: [a.example, a.example:80, \"https://b\", \"*\"]\n",
			[]string{`1:28: allowed_hosts[1]: "a.example:80" is not a host name`,
				`1:42: allowed_hosts[2]: "https://b" is not a host name`,
				`1:55: allowed_hosts[3]: "*" is not a host name`}},
		{"max_body_bytes bad", "max_body_bytes: lots\n",
			[]string{`1:17: max_body_bytes: must be a number of bytes or a size such as "4MiB", not "lots"`}},
		{"max_body_bytes zero", "max_body_bytes: 0\n",
			[]string{`1:17: max_body_bytes: must be at least 1 byte`}},
		{"max_body_bytes overflow", "max_body_bytes: 99999999999999GiB\n",
			[]string{`1:17: max_body_bytes: "99999999999999GiB" is too large`}},
		{"max_depth range", "max_depth: 0\n",
			[]string{`1:12: max_depth: must be between 1 and 10000, not 0`}},
		{"max_depth not number", "max_depth: deep\n",
			[]string{`1:12: max_depth: must be a whole number, not "deep"`}},
		{"bool", "list_default_denied: yes\n",
			[]string{`1:22: list_default_denied: must be true or false, not "yes"`}},
		{"duration", "upstream_timeout: soon\n",
			[]string{`1:19: upstream_timeout: invalid duration "soon"`}},
		{"duration zero", "upstream_timeout: 0s\n",
			[]string{`1:19: upstream_timeout: must be longer than 0`}},
		{"http timeouts", "read_header_timeout: 0\nread_timeout: -1s\nidle_timeout: later\n",
			[]string{`1:22: read_header_timeout: must be longer than 0`,
				`2:15: read_timeout: must be longer than 0`,
				`3:15: idle_timeout: invalid duration "later"`}},
		{"http timeout camelCase", "readHeaderTimeout: 1s\n",
			[]string{`1:1: unknown key "readHeaderTimeout" (did you mean "read_header_timeout"?)`}},
		{"write_timeout is not a key", "write_timeout: 1s\n",
			[]string{`1:1: write_timeout: toolgate sets no write timeout: it would cut the long-lived event streams`}},
		{"max_header_bytes too large", "max_header_bytes: 2MiB\n",
			[]string{`1:19: max_header_bytes: must be at most 1MiB`}},
		{"max_header_bytes zero", "max_header_bytes: 0\n",
			[]string{`1:19: max_header_bytes: must be at least 1 byte`}},
		{"max_sessions zero", "max_sessions: 0\n",
			[]string{`1:15: max_sessions: must be between 1 and 1000000, not 0`}},
		{"max_sessions negative", "max_sessions: -5\n",
			[]string{`1:15: max_sessions: must be between 1 and 1000000, not -5`}},
		{"max_sessions too many", "max_sessions: 1000001\n",
			[]string{`1:15: max_sessions: must be between 1 and 1000000, not 1000001`}},
		{"max_sessions not number", "max_sessions: lots\n",
			[]string{`1:15: max_sessions: must be a whole number, not "lots"`}},
		{"max_sessions list", "max_sessions: [1]\n",
			[]string{`1:15: max_sessions: must be a number, not a list`}},
		{"max_sessions_per_client zero", "max_sessions_per_client: 0\n",
			[]string{`1:26: max_sessions_per_client: must be between 1 and 1000000, not 0`}},
		{"max_sessions_per_client fraction", "max_sessions_per_client: 1.5\n",
			[]string{`1:26: max_sessions_per_client: must be a whole number, not "1.5"`}},
		{"max_sessions_per_client camelCase", "maxSessionsPerClient: 1\n",
			[]string{`1:1: unknown key "maxSessionsPerClient" (did you mean "max_sessions_per_client"?)`}},
		{"session_queue zero", "session_queue: 0\n",
			[]string{`1:16: session_queue: must be between 1 and 1000000, not 0`}},
		{"session_queue too long", "session_queue: 99999999999\n",
			[]string{`1:16: session_queue: must be between 1 and 1000000, not 99999999999`}},
		{"session_queue not number", "session_queue: deep\n",
			[]string{`1:16: session_queue: must be a whole number, not "deep"`}},
		{"stream_replay_events zero", "stream_replay_events: 0\n",
			[]string{`1:23: stream_replay_events: must be between 1 and 1000000, not 0`}},
		{"stream_replay_bytes not a size", "stream_replay_bytes: lots\n",
			[]string{`1:22: stream_replay_bytes: must be a number of bytes or a size such as "4MiB", not "lots"`}},
		{"max_inflight_bytes zero", "max_inflight_bytes: 0\n",
			[]string{`1:21: max_inflight_bytes: must be at least 1 byte`}},
		{"max_inflight_bytes bad", "max_inflight_bytes: 32 megs\n",
			[]string{`1:21: max_inflight_bytes: must be a number of bytes or a size such as "4MiB", not "32 megs"`}},
		{"max_inflight_bytes overflow", "max_inflight_bytes: 99999999999999GiB\n",
			[]string{`1:21: max_inflight_bytes: "99999999999999GiB" is too large`}},
		{"max_inflight_bytes below the default body bound", "max_inflight_bytes: 1MiB\n",
			[]string{`1:21: max_inflight_bytes: must be at least max_body_bytes (4MiB), or no request of the largest size could ever be decoded; it is 1MiB`}},
		{"max_inflight_bytes below max_body_bytes after it", "max_inflight_bytes: 1000000\nmax_body_bytes: 1000001\n",
			[]string{`1:21: max_inflight_bytes: must be at least max_body_bytes (1000001 bytes), or no request of the largest size could ever be decoded; it is 1000000 bytes`}},
		{"session_idle_timeout zero", "session_idle_timeout: 0\n",
			[]string{`1:23: session_idle_timeout: must be longer than 0`}},
		{"session_idle_timeout bad", "session_idle_timeout: never\n",
			[]string{`1:23: session_idle_timeout: invalid duration "never"`}},
		{"methods not mapping", "methods: [vendor/x]\n",
			[]string{`1:10: methods: must be a mapping of keys to values, not a list`}},
		{"methods unknown server", "servers:\n  clerk: {command: [x]}\n  docs: {url: http://x}\nmethods:\n  vendor/search: dcos\n",
			[]string{`5:18: methods.vendor/search: server "dcos" is not in servers (known servers: clerk, docs)`}},
		{"methods unknown server before servers", "methods: {vendor/search: b}\nservers:\n  a: {url: http://x}\n",
			[]string{`1:26: methods.vendor/search: server "b" is not in servers (known servers: a)`}},
		{"methods without servers", "methods:\n  vendor/search: docs\n",
			[]string{`2:18: methods.vendor/search: server "docs" is not in servers (servers lists none)`}},
		{"methods empty server name", "servers:\n  a: {url: http://x}\nmethods: {vendor/x: \"\"}\n",
			[]string{`3:21: methods.vendor/x: server "" is not in servers (known servers: a)`}},
		{"methods empty method", "servers:\n  a: {url: http://x}\nmethods:\n  \"\": a\n",
			[]string{`4:3: methods: the method name must not be empty`}},
		{"methods blank method", "servers:\n  a: {url: http://x}\nmethods: {\" \": a}\n",
			[]string{`3:11: methods: the method name must not be empty`}},
		{"methods null server", "servers:\n  a: {url: http://x}\nmethods:\n  vendor/x:\n",
			[]string{`4:3: methods.vendor/x: has no value (write the name of the server that gets vendor/x)`}},
		{"methods list server", "servers:\n  a: {url: http://x}\nmethods:\n  vendor/x: [a]\n",
			[]string{`4:13: methods.vendor/x: must be the name of a server, not a list`}},
		{"methods env unset", "servers:\n  a: {url: http://x}\nmethods: {vendor/x: \"${TG_TEST_UNSET}\"}\n",
			[]string{`3:22: methods.vendor/x: environment variable TG_TEST_UNSET is not set`}},
		{"methods duplicate", "servers:\n  a: {url: http://x}\nmethods:\n  vendor/x: a\n  vendor/x: a\n",
			[]string{`5:3: methods: duplicate key "vendor/x" (first at line 4)`}},
		{"server timeout zero", "servers:\n  a:\n    url: http://x\n    timeout: 0s\n",
			[]string{`4:14: servers.a.timeout: must be longer than 0`}},
		{"server timeout bad", "servers:\n  a:\n    command: [x]\n    timeout: forever\n",
			[]string{`4:14: servers.a.timeout: invalid duration "forever"`}},
		{"inherit_env not bool", "servers:\n  a:\n    command: [x]\n    inherit_env: all\n",
			[]string{`4:18: servers.a.inherit_env: must be true or false, not "all"`}},
		{"inherit_env on url", "servers:\n  a:\n    url: http://x\n    inherit_env: true\n",
			[]string{`4:5: servers.a.inherit_env: only applies to command servers`}},
		{"inherit_env camelCase", "servers:\n  a:\n    command: [x]\n    inheritEnv: true\n",
			[]string{`4:5: servers.a: unknown key "inheritEnv" (did you mean "inherit_env"?)`}},
		{"servers not mapping", "servers: [a]\n",
			[]string{`1:10: servers: must be a mapping of keys to values, not a list`}},
		{"server bad name", "servers:\n  a.b: {url: http://x}\n",
			[]string{`2:3: servers: server name "a.b" may hold only letters, digits, _ and -`}},
		{"server empty", "servers:\n  a:\n",
			[]string{`2:3: servers.a: needs either command`}},
		{"server neither", "servers:\n  a: {env: {A: b}}\n",
			[]string{`2:3: servers.a: needs either command (a stdio server) or url`}},
		{"server both", "servers:\n  a:\n    command: [x]\n    url: http://x\n",
			[]string{`4:5: servers.a: has both command and url`}},
		{"server stdio-only keys on url", "servers:\n  a:\n    url: http://x\n    env: {A: b}\n    cwd: /tmp\n",
			[]string{`4:5: servers.a.env: only applies to command servers`,
				`5:5: servers.a.cwd: only applies to command servers`}},
		{"server http-only keys on command", "servers:\n  a:\n    command: [x]\n    headers: {A: b}\n",
			[]string{`4:5: servers.a.headers: only applies to url servers`}},
		{"transport on command", "servers:\n  a:\n    command: [x]\n    transport: sse\n",
			[]string{`4:5: servers.a.transport: only applies to url servers`}},
		{"transport unknown", "servers:\n  a:\n    url: http://x\n    transport: websocket\n",
			[]string{`4:16: servers.a.transport: must be "streamable-http" or "sse", not "websocket"`}},
		{"transport not scalar", "servers:\n  a:\n    url: http://x\n    transport: [sse]\n",
			[]string{`4:16: servers.a.transport: must be "streamable-http" or "sse", not a list`}},
		{"share on url", "auth: none\nservers:\n  a:\n    url: http://x\n    share: shared\n",
			[]string{`5:5: servers.a.share: only applies to command servers`}},
		{"share unknown", "auth: none\nservers:\n  a:\n    command: [x]\n    share: everyone\n",
			[]string{`5:12: servers.a.share: must be "per_session", "shared" or "per_grant", not "everyone"`}},
		{"share not scalar", "auth: none\nservers:\n  a:\n    command: [x]\n    share: [shared]\n",
			[]string{`5:12: servers.a.share: must be "per_session", "shared" or "per_grant", not a list`}},
		{"legacy_sse not bool", "legacy_sse: yes please\n",
			[]string{`1:13: legacy_sse: must be true or false`}},
		{"command empty list", "servers:\n  a: {command: []}\n",
			[]string{`2:16: servers.a.command: must not be empty`}},
		{"command empty string", "servers:\n  a: {command: \"  \"}\n",
			[]string{`2:16: servers.a.command: must not be empty`}},
		{"command empty program", "servers:\n  a: {command: [\"\", x]}\n",
			[]string{`2:17: servers.a.command[0]: the program name must not be empty`}},
		{"command quoted string", "servers:\n  a:\n    command: node 'my server.js'\n",
			[]string{`3:14: servers.a.command: a command string is split at spaces without shell quoting`}},
		{"command mapping", "servers:\n  a:\n    command: {x: y}\n",
			[]string{`3:14: servers.a.command: must be a list such as [node, server.js], not a mapping`}},
		{"command element not string", "servers:\n  a:\n    command: [x, [y]]\n",
			[]string{`3:18: servers.a.command[1]: must be a string, not a list`}},
		{"url scheme", "servers:\n  a: {url: \"ws://x\"}\n",
			[]string{`2:12: servers.a.url: URL scheme must be http or https, not "ws"`}},
		{"url no host", "servers:\n  a: {url: \"http:///mcp\"}\n",
			[]string{`2:12: servers.a.url: URL "http:///mcp" has no host`}},
		{"url invalid", "servers:\n  a: {url: \"http://[::1\"}\n",
			[]string{`2:12: servers.a.url: invalid URL`}},
		{"env null value", "servers:\n  a:\n    command: [x]\n    env: {A: }\n",
			[]string{`4:11: servers.a.env.A: has no value`}},
		{"env bad name", "servers:\n  a:\n    command: [x]\n    env: {\"A=B\": c}\n",
			[]string{`4:11: servers.a.env.A=B: "A=B" is not a valid environment variable name`}},
		{"env not mapping", "servers:\n  a:\n    command: [x]\n    env: [A]\n",
			[]string{`4:10: servers.a.env: must be a mapping`}},
		{"header bad name", "servers:\n  a:\n    url: http://x\n    headers: {\"X Y\": z}\n",
			[]string{`4:15: servers.a.headers.X Y: "X Y" is not a valid HTTP header name`}},
		{"header reserved", "servers:\n  a:\n    url: http://x\n    headers: {Mcp-Session-Id: z}\n",
			[]string{`4:15: servers.a.headers.Mcp-Session-Id: header Mcp-Session-Id is set by the gateway`}},
		{"header value newline", "servers:\n  a:\n    url: http://x\n    headers: {A: \"x\\ny\"}\n",
			[]string{`4:18: servers.a.headers.A: must not contain NUL or line breaks`}},
		{"prefix chars", "servers:\n  a:\n    url: http://x\n    prefix: \"a/\"\n",
			[]string{`4:13: servers.a.prefix: prefix "a/" may hold only`}},
		{"same explicit prefix", "servers:\n  a: {url: http://x, prefix: p_}\n  b: {url: http://y, prefix: p_}\n",
			[]string{`3:30: servers.b.prefix: servers "a" and "b" both use the tool prefix "p_" (line 2)`}},
		{"explicit prefix equals default", "servers:\n  a: {url: http://x}\n  b: {url: http://y, prefix: a_}\n",
			[]string{`3:30: servers.b.prefix: servers "a" and "b" both use the tool prefix "a_" (line 2)`}},
		{"policies not mapping", "policies: p.json\n",
			[]string{`1:11: policies: must be a mapping`}},
		{"policy bad name", "policies:\n  \"a b\": p.json\n",
			[]string{`2:3: policies: policy name "a b" may hold only`}},
		{"policy null", "policies:\n  p:\n",
			[]string{`2:5: policies.p: must be a policy file name or an inline policy document, not null`}},
		{"policy list", "policies:\n  p: [a]\n",
			[]string{`2:6: policies.p: must be a policy file name or an inline policy document, not a list`}},
		{"policy empty path", "policies:\n  p: \"\"\n",
			[]string{`2:6: policies.p: the policy file name is empty`}},
		{"inline policy env", "policies:\n  p:\n    tools: {t: {on_deny: \"${TG_TEST_UNSET}\"}}\n",
			[]string{`3:27: policies.p.tools.t.on_deny: environment variable TG_TEST_UNSET is not set`}},
		{"inline policy inf", "policies:\n  p: {max: .inf}\n",
			[]string{`2:12: policies.p.max: number .inf cannot be written in JSON`}},
		{"inline duplicate key", "policies:\n  p: {a: 1, a: 2}\n",
			[]string{`2:13: policies.p: duplicate key "a" (first at line 2)`}},
		{"merge key bad", "servers:\n  a:\n    <<: 3\n    url: http://x\n",
			[]string{`3:9: servers.a: a merge key (<<) takes a mapping or a list of mappings`}},
		{"non-scalar key", "? [a]\n: b\n",
			[]string{`1:3: keys must be strings`}},
		{"admin_listen is listen", "listen: 127.0.0.1:9000\nadmin_listen: 127.0.0.1:9000\n",
			[]string{`2:15: admin_listen: "127.0.0.1:9000" is the MCP listener's address`}},
		{"admin_listen wildcard over listen", "listen: 127.0.0.1:9000\nadmin_listen: 0.0.0.0:9000\n",
			[]string{`2:15: admin_listen: "0.0.0.0:9000" is the MCP listener's address`}},
		{"listen on the default admin address", "listen: 127.0.0.1:8081\n",
			[]string{`1:9: admin_listen: "127.0.0.1:8081" is the MCP listener's address`}},
		{"admin_listen not host:port", "admin_listen: 8081\n",
			[]string{`1:15: admin_listen: must be host:port`}},
		{"admin_listen not a string", "admin_listen: [a]\n",
			[]string{`1:15: admin_listen: must be a string`}},
		{"several errors in order", "zz: 1\nauth: x\nservers:\n  a: {}\n",
			[]string{`1:1: unknown key "zz"`, `2:7: auth: must be`, `4:3: servers.a: needs either command`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "c.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", tt.want)
			}
			checkErrors(t, err, tt.want)
			if !strings.HasPrefix(err.Error(), "c.yaml:") {
				t.Errorf("Error() = %q, want it to start with the file name", err)
			}
			if toolgate.ErrorCode(err) != toolgate.Invalid {
				t.Errorf("ErrorCode = %v, want invalid", toolgate.ErrorCode(err))
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	data := make([]byte, MaxFileSize+1)
	for i := range data {
		data[i] = ' '
	}
	c, err := Parse(data, "big.yaml")
	if c != nil {
		t.Error("want a nil config")
	}
	checkErrors(t, err, []string{"1:1: config file is larger than 1048576 bytes (1 MiB)"})
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "toolgate.yaml")
	if err := os.WriteFile(path, []byte("servers:\n  a: {command: [x]}\npolicies: {default: p.json}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.File != path || c.PolicyPath("default") != filepath.Join(dir, "p.json") || c.Servers["a"].Cwd != dir {
		t.Errorf("c = %+v", c)
	}
	if c.StorePath() != filepath.Join(dir, "toolgate.db") {
		t.Errorf("StorePath() = %q", c.StorePath())
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if toolgate.ErrorCode(err) != toolgate.NotFound || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v (code %v)", err, toolgate.ErrorCode(err))
	}

	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", MaxFileSize+10)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(big)
	checkErrors(t, err, []string{"1:1: config file is larger than"})
}

func TestParseMergeAndAliases(t *testing.T) {
	doc := `
x-common: &common
  command: [node, server.js]
  env: {A: "1"}
servers:
  a:
    <<: *common
    env: {B: "2"}
  b: *common
`
	_, err := Parse([]byte(doc), "c.yaml")
	// x-common is not a known key: extension blocks are not allowed.
	checkErrors(t, err, []string{`2:1: unknown key "x-common"`})

	doc = `
servers:
  a: &common
    command: [node, server.js]
    env: {A: "1"}
  b:
    <<: *common
    env: {B: "2"}
`
	c, err := Parse([]byte(doc), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Servers["b"]; !reflect.DeepEqual(b.Command, []string{"node", "server.js"}) || !reflect.DeepEqual(b.Env, map[string]string{"B": "2"}) {
		t.Errorf("b = %+v", b)
	}
}

func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("policies:\n  p:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "    a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	start := time.Now()
	_, err := Parse([]byte(b.String()), "bomb.yaml")
	if err == nil || !strings.Contains(err.Error(), "too large once its aliases are expanded") {
		t.Errorf("err = %v", err)
	}
	if time.Since(start) > 30*time.Second { // generous: only a hang should fail
		t.Errorf("took %v", time.Since(start))
	}
}

func TestErrorListFormat(t *testing.T) {
	l := ErrorList{
		{File: "a.yaml", Line: 1, Column: 2, Message: "first"},
		{File: "a.yaml", Line: 3, Column: 4, Path: "servers.x", Message: "second"},
	}
	if got, want := l.Error(), "a.yaml:1:2: first\na.yaml:3:4: servers.x: second"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var te *toolgate.Error
	if !errors.As(error(l), &te) || te.Code != toolgate.Invalid {
		t.Errorf("errors.As toolgate.Error: %v", te)
	}
	if !errors.Is(l, l[1]) {
		t.Error("errors.Is does not see the list's members")
	}
}

func TestDurationJSON(t *testing.T) {
	var d Duration
	for in, want := range map[string]time.Duration{`"1m"`: time.Minute, `2.5`: 2500 * time.Millisecond, `"45"`: 45 * time.Second} {
		if err := d.UnmarshalJSON([]byte(in)); err != nil || time.Duration(d) != want {
			t.Errorf("UnmarshalJSON(%s) = %v, %v", in, d, err)
		}
	}
	if err := d.UnmarshalJSON([]byte(`"soon"`)); err == nil {
		t.Error("want an error")
	}
	b, _ := Duration(90 * time.Second).MarshalJSON()
	if string(b) != `"1m30s"` {
		t.Errorf("MarshalJSON = %s", b)
	}
}

func TestPins(t *testing.T) {
	c, err := Parse([]byte("pins: state/pins.json\n"), "conf/toolgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.PinsPath() != filepath.Join("conf", "state", "pins.json") {
		t.Errorf("PinsPath = %q", c.PinsPath())
	}
	if _, err := Parse([]byte("pins: \"\"\n"), "t.yaml"); err == nil || !strings.Contains(err.Error(), "t.yaml:1:7") {
		t.Errorf("empty pins: %v", err)
	}
	if c, _ := Parse(nil, "t.yaml"); c.PinsPath() != "" {
		t.Errorf("no pins: PinsPath = %q", c.PinsPath())
	}
}

func TestDirectorySection(t *testing.T) {
	t.Setenv("K1", "sk_test_one")
	c, err := Parse([]byte("directory:\n  data: state\n  listen: 127.0.0.1:9000\n  secret_keys: [\"${K1}\"]\n  api_keys: [abc]\n"), "conf/t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := c.Directory
	if d.Data != filepath.Join("conf", "state") || d.Listen != "127.0.0.1:9000" || d.SecretKeys[0] != "sk_test_one" || d.APIKeys[0] != "abc" {
		t.Errorf("directory: %+v", d)
	}
	for doc, want := range map[string]string{
		"directory:\n  nope: 1\n":          "t.yaml:2:3",
		"directory:\n  secret_keys: abc\n": "t.yaml:2:16",
		"directory:\n  api_keys: [\"\"]\n": "t.yaml:2:14",
	} {
		if _, err := Parse([]byte(doc), "t.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error at %s", doc, err, want)
		}
	}
}

// Tool prefixes that start alike ("a_" and "a_b_") could give two servers'
// tools one name, so a rule for it would judge either: refused.
func TestPrefixesStartingAlike(t *testing.T) {
	_, err := Parse([]byte("servers:\n  a:\n    url: http://127.0.0.1:1/mcp\n  a_b:\n    url: http://127.0.0.1:2/mcp\n"), "toolgate.yaml")
	if err == nil || !strings.Contains(err.Error(), `the tool prefix "a_b_" of server "a_b" and "a_" of server "a"`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Parse([]byte("servers:\n  a:\n    url: http://127.0.0.1:1/mcp\n  b:\n    url: http://127.0.0.1:2/mcp\n"), "toolgate.yaml"); err != nil {
		t.Fatalf("distinct prefixes: %v", err)
	}
}

func TestApprovalsSection(t *testing.T) {
	t.Setenv("TG_HOOK_SECRET", "0123456789abcdef")
	t.Setenv("TG_SHORT_SECRET", "short")
	c, err := Parse([]byte("auth: none\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Approvals; a.Wait != DefaultApprovalWait || a.ValidFor != DefaultApprovalValidFor || a.ProgressEvery != DefaultApprovalProgressEvery || a.Webhook != nil {
		t.Errorf("defaults: %+v", a)
	}
	c, err = Parse([]byte(`auth: none
approvals:
  wait: 20s
  valid_for: 5m
  progress_every: 2
  webhook:
    url: https://hooks.example.com/toolgate
    secret_env: TG_HOOK_SECRET
    timeout: 3s
    retries: 0
    queue: 10
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := c.Approvals
	if a.Wait != Duration(20*time.Second) || a.ValidFor != Duration(5*time.Minute) || a.ProgressEvery != Duration(2*time.Second) {
		t.Errorf("approvals: %+v", a)
	}
	if w := a.Webhook; w == nil || w.URL != "https://hooks.example.com/toolgate" || w.Secret != "0123456789abcdef" || w.SecretEnv != "TG_HOOK_SECRET" ||
		w.Timeout != Duration(3*time.Second) || w.Retries != 0 || w.Queue != 10 {
		t.Errorf("webhook: %+v", a.Webhook)
	}
	if b, _ := json.Marshal(c); strings.Contains(string(b), "0123456789abcdef") {
		t.Errorf("the secret is in the configuration's JSON: %s", b)
	}
	c, err = Parse([]byte("auth: none\napprovals:\n  webhook: {url: \"http://127.0.0.1:9000/hook\", secret: \"${TG_HOOK_SECRET}\"}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Approvals.Webhook; w.Secret != "0123456789abcdef" || w.Retries != DefaultWebhookRetries || w.Queue != DefaultWebhookQueue || w.Timeout != DefaultWebhookTimeout {
		t.Errorf("webhook defaults: %+v", w)
	}

	for _, tt := range []struct {
		name, doc, want string
	}{
		{"unknown key", "approvals:\n  wiat: 5s\n", `2:3: approvals: unknown key "wiat" (did you mean "wait"?)`},
		{"zero wait", "approvals:\n  wait: 0s\n", `2:9: approvals.wait: must be longer than 0`},
		{"wait too long", "approvals:\n  wait: 25h\n", `2:9: approvals.wait: must be at most 24h`},
		{"bad valid_for", "approvals:\n  valid_for: soon\n", `2:14: approvals.valid_for: invalid duration "soon"`},
		{"not a mapping", "approvals: 5s\n", `1:12: approvals: must be a mapping`},
		{"webhook without url", "approvals:\n  webhook:\n    secret_env: TG_HOOK_SECRET\n", `2:3: approvals.webhook: needs a url`},
		{"webhook without secret", "approvals:\n  webhook:\n    url: https://h.example.com/\n", `2:3: approvals.webhook: needs a secret`},
		{"plain http to a remote host", "approvals:\n  webhook:\n    url: http://h.example.com/\n    secret_env: TG_HOOK_SECRET\n",
			`3:10: approvals.webhook.url: http:// is only allowed to a loopback address`},
		{"not http", "approvals:\n  webhook:\n    url: ftp://127.0.0.1/\n    secret_env: TG_HOOK_SECRET\n",
			`3:10: approvals.webhook.url: "ftp://127.0.0.1/" is not an https:// URL`},
		{"credentials in the url", "approvals:\n  webhook:\n    url: https://u:p@h.example.com/\n    secret_env: TG_HOOK_SECRET\n",
			`3:10: approvals.webhook.url: must not hold credentials`},
		{"both secrets", "approvals:\n  webhook:\n    url: https://h.example.com/\n    secret_env: TG_HOOK_SECRET\n    secret: \"0123456789abcdef\"\n",
			`5:5: approvals.webhook.secret: set one of secret and secret_env, not both`},
		{"secret_env unset", "approvals:\n  webhook:\n    url: https://h.example.com/\n    secret_env: TG_HOOK_UNSET\n",
			`4:17: approvals.webhook.secret_env: environment variable TG_HOOK_UNSET is not set`},
		{"secret too short", "approvals:\n  webhook:\n    url: https://h.example.com/\n    secret_env: TG_SHORT_SECRET\n",
			`4:17: approvals.webhook.secret_env: environment variable TG_SHORT_SECRET must hold at least 16 characters`},
		{"inline secret too short", "approvals:\n  webhook:\n    url: https://h.example.com/\n    secret: abc\n",
			`4:13: approvals.webhook.secret: must have at least 16 characters`},
		{"retries out of range", "approvals:\n  webhook:\n    url: https://h.example.com/\n    secret_env: TG_HOOK_SECRET\n    retries: 50\n",
			`5:14: approvals.webhook.retries: must be between 0 and 20`},
		{"unknown webhook key", "approvals:\n  webhook:\n    url: https://h.example.com/\n    secret_env: TG_HOOK_SECRET\n    retry: 2\n",
			`5:5: approvals.webhook: unknown key "retry"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte("auth: none\n"+tt.doc), "c.yaml")
			// The doc is shifted by the "auth" line.
			want := shiftLine(tt.want)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Parse = %v, want an error containing %q", err, want)
			}
		})
	}
}

// shiftLine adds one to the line of a "line:col: message" string.
func shiftLine(s string) string {
	line, rest, _ := strings.Cut(s, ":")
	n, _ := strconv.Atoi(line)
	return strconv.Itoa(n+1) + ":" + rest
}

func TestParseListPageSize(t *testing.T) {
	tests := []struct {
		doc     string
		want    int
		wantErr string
	}{
		{"", DefaultListPageSize, ""},
		{"list_page_size: 50\n", 50, ""},
		{"list_page_size:\n", DefaultListPageSize, ""},
		{"list_page_size: 0\n", 0, "list_page_size"},
		{"list_page_size: 2000000\n", 0, "list_page_size"},
		{"list_page_size: many\n", 0, "list_page_size"},
	}
	for _, tt := range tests {
		c, err := Parse([]byte("auth: none\n"+tt.doc), "c.yaml")
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q): want an error naming %s, got %v", tt.doc, tt.wantErr, err)
			}
			continue
		}
		if err != nil || c.ListPageSize != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want list_page_size %d", tt.doc, c, err, tt.want)
		}
	}
}

func TestAuditSection(t *testing.T) {
	t.Setenv("TG_TEST_TOKEN", "tok")
	c, err := Parse([]byte("auth: none\n"), "dir/t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Audit; !a.Enabled || a.Args != "redacted" || len(a.Sinks) != 1 || a.Sinks[0].Type != SinkSQLite || a.Sinks[0].OnError != "fail" || a.Sinks[0].Fsync {
		t.Errorf("defaults: %+v", a)
	}
	c, err = Parse([]byte(`auth: none
audit:
  args: keys
  instance: gw-1
  sinks:
    - type: sqlite
      fsync: true
    - {type: jsonl, path: logs/audit.jsonl, max_bytes: 1MiB, keep: 3, on_error: continue}
    - {type: stdout, on_error: continue}
    - type: http
      url: https://siem.example/ingest
      headers: {Authorization: "Bearer ${TG_TEST_TOKEN}"}
      batch: 50
      flush: 2s
      retries: 0
      on_error: continue
`), "dir/t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := c.Audit
	if !a.Enabled || a.Args != "keys" || a.Instance != "gw-1" || len(a.Sinks) != 4 {
		t.Fatalf("audit: %+v", a)
	}
	want := []AuditSink{
		{Type: SinkSQLite, Fsync: true, OnError: "fail"},
		{Type: SinkJSONL, Path: filepath.Join("dir", "logs", "audit.jsonl"), MaxBytes: 1 << 20, Keep: 3, Fsync: true, OnError: "continue"},
		{Type: SinkStdout, OnError: "continue"},
		{Type: SinkHTTP, OnError: "continue", URL: "https://siem.example/ingest", Headers: map[string]string{"Authorization": "Bearer tok"},
			Batch: 50, Flush: Duration(2 * time.Second), Timeout: DefaultAuditHTTPTimeout, Retries: 0, Queue: DefaultAuditHTTPQueue},
	}
	for i, s := range a.Sinks {
		if !reflect.DeepEqual(s, want[i]) {
			t.Errorf("sink %d: %+v, want %+v", i, s, want[i])
		}
	}
	c, err = Parse([]byte("auth: none\naudit: {enabled: false}\n"), "t.yaml")
	if err != nil || c.Audit.Enabled {
		t.Fatalf("enabled: false: %+v %v", c.Audit, err)
	}
	c, err = Parse([]byte("auth: none\naudit: {sinks: [{type: jsonl, path: a.jsonl}]}\n"), "t.yaml")
	if err != nil || c.Audit.Sinks[0].MaxBytes != DefaultAuditMaxBytes || c.Audit.Sinks[0].Keep != DefaultAuditKeep || !c.Audit.Sinks[0].Fsync {
		t.Fatalf("jsonl defaults: %+v %v", c.Audit, err)
	}
	c, err = Parse([]byte("auth: none\naudit: {sinks: [{type: sqlite}, {type: http, url: \"http://127.0.0.1:9000/x\", on_error: continue}]}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if h := c.Audit.Sinks[1]; h.Batch != DefaultAuditHTTPBatch || h.Flush != DefaultAuditHTTPFlush || h.Timeout != DefaultAuditHTTPTimeout ||
		h.Retries != DefaultAuditHTTPRetries || h.Queue != DefaultAuditHTTPQueue {
		t.Fatalf("http defaults: %+v", h)
	}
	if b, err := json.Marshal(a.Sinks[3]); err != nil || strings.Contains(string(b), "tok") {
		t.Errorf("an http sink's header value is encoded: %s %v", b, err)
	}

	for _, tt := range []struct {
		name, doc, want string
	}{
		{"unknown key", "audit:\n  arg: keys\n", `2:3: audit: unknown key "arg" (did you mean "args"?)`},
		{"bad args", "audit:\n  args: everything\n", `2:9: audit.args: must be keys, redacted or full, not "everything"`},
		{"not a mapping", "audit: on\n", `1:8: audit: must be a mapping`},
		{"no sinks", "audit:\n  sinks: []\n", `2:10: audit.sinks: must be a list of at least one sink`},
		{"sink without type", "audit:\n  sinks:\n    - {path: a.jsonl}\n", `3:7: audit.sinks[0]: needs a type`},
		{"unknown type", "audit:\n  sinks:\n    - type: s3\n", `3:13: audit.sinks[0].type: must be sqlite, jsonl, stdout or http, not "s3"`},
		{"http first", "audit:\n  sinks:\n    - {type: http, url: \"https://siem.example/\", on_error: continue}\n", `3:14: audit.sinks[0].type: the first sink is the primary, which keeps the chain: it must be sqlite or jsonl, not http`},
		{"http fails closed", "audit:\n  sinks:\n    - type: sqlite\n    - {type: http, url: \"https://siem.example/\", on_error: fail}\n", `4:60: audit.sinks[1].on_error: an http sink sends after the call has gone on`},
		{"http on_error unset", "audit:\n  sinks:\n    - type: sqlite\n    - {type: http, url: \"https://siem.example/\"}\n", `4:14: audit.sinks[1].on_error: an http sink sends after the call has gone on`},
		{"http without url", "audit:\n  sinks:\n    - type: sqlite\n    - {type: http, on_error: continue}\n", `4:14: audit.sinks[1]: an http sink needs a url`},
		{"http off loopback", "audit:\n  sinks:\n    - type: sqlite\n    - {type: http, url: \"http://siem.example/\", on_error: continue}\n", `4:25: audit.sinks[1].url: http:// is only allowed to a loopback address`},
		{"http credentials in url", "audit:\n  sinks:\n    - type: sqlite\n    - {type: http, url: \"https://u:p@siem.example/\", on_error: continue}\n", `4:25: audit.sinks[1].url: must not hold credentials`},
		{"http same url", "audit:\n  sinks:\n    - type: sqlite\n    - {type: http, url: \"https://s/\", on_error: continue}\n    - {type: http, url: \"https://s/\", on_error: continue}\n", `5:14: audit.sinks[2].url: audit.sinks[1] sends to the same URL`},
		{"http content-type", "audit:\n  sinks:\n    - type: sqlite\n    - {type: http, url: \"https://s/\", on_error: continue, headers: {Content-Type: x}}\n", `4:69: audit.sinks[1].headers.Content-Type: header Content-Type is set by the sink`},
		{"http retries out of range", "audit:\n  sinks:\n    - type: sqlite\n    - {type: http, url: \"https://s/\", on_error: continue, retries: 99}\n", `4:68: audit.sinks[1].retries: must be between 0 and 20`},
		{"http queue below batch", "audit:\n  sinks:\n    - type: sqlite\n    - {type: http, url: \"https://s/\", on_error: continue, batch: 50, queue: 10}\n", `4:14: audit.sinks[1].queue: must hold at least one batch (50 events), not 10`},
		{"http fsync", "audit:\n  sinks:\n    - type: sqlite\n    - {type: http, url: \"https://s/\", on_error: continue, fsync: true}\n", `4:14: audit.sinks[1].fsync: an http sink is never fsynced`},
		{"url on jsonl", "audit:\n  sinks:\n    - {type: jsonl, path: a.jsonl, url: \"https://s/\"}\n", `3:36: audit.sinks[0].url: applies to http sinks only, not to jsonl`},
		{"jsonl without path", "audit:\n  sinks:\n    - type: jsonl\n", `3:13: audit.sinks[0]: a jsonl sink needs a path`},
		{"path on sqlite", "audit:\n  sinks:\n    - type: sqlite\n      path: x.db\n", `4:7: audit.sinks[0].path: applies to jsonl sinks only, not to sqlite`},
		{"stdout first", "audit:\n  sinks:\n    - type: stdout\n", `3:13: audit.sinks[0].type: the first sink is the primary`},
		{"primary continues", "audit:\n  sinks:\n    - {type: sqlite, on_error: continue}\n", `3:14: audit.sinks[0].on_error: the first sink is the primary`},
		{"bad on_error", "audit:\n  sinks:\n    - {type: sqlite, on_error: ignore}\n", `3:32: audit.sinks[0].on_error: must be fail or continue, not "ignore"`},
		{"two sqlite", "audit:\n  sinks:\n    - type: sqlite\n    - type: sqlite\n", `4:13: audit.sinks[1].type: a second sqlite sink`},
		{"same file", "audit:\n  sinks:\n    - {type: jsonl, path: a.jsonl}\n    - {type: jsonl, path: ./a.jsonl}\n", `4:14: audit.sinks[1].path: audit.sinks[0] writes to the same file`},
		{"keep out of range", "audit:\n  sinks:\n    - {type: jsonl, path: a.jsonl, keep: 0}\n", `3:42: audit.sinks[0].keep: must be between 1 and 1000`},
		{"unknown sink key", "audit:\n  sinks:\n    - {type: sqlite, table: x}\n", `3:22: audit.sinks[0]: unknown key "table"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte("auth: none\n"+tt.doc), "c.yaml")
			want := shiftLine(tt.want)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Parse = %v, want an error containing %q", err, want)
			}
		})
	}
}

func TestServerShare(t *testing.T) {
	c, err := Parse([]byte(`auth: none
servers:
  plain: {command: [x]}
  one: {command: [x], share: shared}
  grants: {command: [x], share: per_grant}
  isolated: {command: [x], share: per_session}
  web: {url: http://127.0.0.1:1/mcp}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"plain": SharePerSession, "one": ShareShared, "grants": SharePerGrant, "isolated": SharePerSession, "web": "",
	} {
		if got := c.Servers[name].Share; got != want {
			t.Errorf("servers.%s.share = %q, want %q", name, got, want)
		}
	}
}

func TestServerTransport(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       map[string]string
		legacySSE  bool
	}{
		{"defaults", "servers:\n  h: {url: http://127.0.0.1:1/mcp}\n  c: {command: [x]}\n",
			map[string]string{"h": TransportStreamableHTTP, "c": ""}, false},
		{"sse", "legacy_sse: true\nservers:\n  h: {url: http://127.0.0.1:1/sse, transport: sse}\n",
			map[string]string{"h": TransportSSE}, true},
		{"explicit streamable", "servers:\n  h: {url: http://127.0.0.1:1/mcp, transport: streamable-http}\n",
			map[string]string{"h": TransportStreamableHTTP}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte("auth: none\n"+tt.yaml), "t.yaml")
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := c.Servers[name].Transport; got != want {
					t.Errorf("servers.%s.transport = %q, want %q", name, got, want)
				}
			}
			if c.LegacySSE != tt.legacySSE {
				t.Errorf("legacy_sse = %v, want %v", c.LegacySSE, tt.legacySSE)
			}
		})
	}
}

// request_state_key is a secret of at least 32 characters, from the
// environment like any other.
func TestParseRequestStateKey(t *testing.T) {
	t.Setenv("REV_STATE_KEY", strings.Repeat("k", 32))
	for _, tc := range []struct {
		name, doc, want, err string
	}{
		{"absent", "", "", ""},
		{"from the environment", "request_state_key: ${REV_STATE_KEY}\n", strings.Repeat("k", 32), ""},
		{"too short", "request_state_key: short\n", "", "at least 32 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte("servers: {a: {url: http://127.0.0.1:9/mcp}}\nauth: none\n"+tc.doc), "toolgate.yaml")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.RequestStateKey != tc.want {
				t.Errorf("key = %q, want %q", c.RequestStateKey, tc.want)
			}
		})
	}
}
