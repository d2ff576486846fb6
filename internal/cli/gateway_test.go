package cli

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/gateway"
)

// TestGatewayOptions covers the plumbing from toolgate.yaml to the
// gateway: every key the gateway takes reaches gateway.Options as written,
// and a key left out gives the documented default.
func TestGatewayOptions(t *testing.T) {
	const dir = "conf"
	defaults := gateway.Options{
		Servers:              []gateway.Server{},
		MaxBodyBytes:         4 << 20,
		MaxDepth:             64,
		UpstreamTimeout:      30 * time.Second,
		SessionIdleTimeout:   30 * time.Minute,
		MaxSessions:          10000,
		MaxSessionsPerClient: 100,
		SessionQueue:         1024,
		SessionQueueBytes:    16 << 20,
		ReplayEvents:         256,
		ReplayBytes:          1 << 20,
		MaxInflightBytes:     96 << 20,
		ListPageSize:         1000,
		Poisoned:             "hide",
	}
	with := func(change func(o *gateway.Options)) gateway.Options {
		o := defaults
		change(&o)
		return o
	}
	tests := []struct {
		name string
		doc  string
		want gateway.Options
	}{
		{"empty file", "", defaults},
		{"one session per client", "max_sessions_per_client: 1\n",
			with(func(o *gateway.Options) { o.MaxSessionsPerClient = 1 })},
		{"every bound", `max_body_bytes: 1MiB
max_depth: 10
upstream_timeout: 5s
session_idle_timeout: 2m
max_sessions: 20
max_sessions_per_client: 3
session_queue: 8
stream_replay_events: 32
stream_replay_bytes: 64KiB
list_page_size: 50
max_inflight_bytes: 2MiB
allowed_origins: [https://app.example.com]
`, with(func(o *gateway.Options) {
			o.MaxBodyBytes = 1 << 20
			o.MaxDepth = 10
			o.UpstreamTimeout = 5 * time.Second
			o.SessionIdleTimeout = 2 * time.Minute
			o.MaxSessions = 20
			o.MaxSessionsPerClient = 3
			o.SessionQueue = 8
			o.ReplayEvents = 32
			o.ReplayBytes = 64 << 10
			o.ListPageSize = 50
			o.MaxInflightBytes = 2 << 20
			o.AllowedOrigins = []string{"https://app.example.com"}
		})},
		{"in-flight budget follows a large body bound", "max_body_bytes: 200MiB\n",
			with(func(o *gateway.Options) { o.MaxBodyBytes, o.MaxInflightBytes = 200<<20, 200<<20 })},
		{"servers and methods", `servers:
  local:
    command: [node, server.js]
    env: {A: b}
    inherit_env: true
    timeout: 1m
  docs:
    url: http://127.0.0.1:9000/mcp
    headers: {X-Key: k}
    prefix: ""
    eager: false
methods:
  vendor/search: docs
  notifications/vendor/reindex: local
`, with(func(o *gateway.Options) {
			o.Servers = []gateway.Server{
				{Name: "local", Prefix: "local_", Command: []string{"node", "server.js"}, Env: map[string]string{"A": "b"},
					Dir: dir, InheritEnv: true, Timeout: time.Minute, BreakerFailures: 5, BreakerCooldown: 10 * time.Second, Share: gateway.ShareSession},
				{Name: "docs", URL: "http://127.0.0.1:9000/mcp", Headers: map[string]string{"X-Key": "k"}, Transport: config.TransportStreamableHTTP,
					Timeout: 30 * time.Second, Lazy: true, BreakerFailures: 5, BreakerCooldown: 10 * time.Second},
			}
			o.Methods = map[string]string{"vendor/search": "docs", "notifications/vendor/reindex": "local"}
		})},
		{"shared processes", `auth: none
servers:
  one: {command: [a], share: shared, eager: false}
  grants: {command: [b], share: per_grant}
`, with(func(o *gateway.Options) {
			o.Servers = []gateway.Server{
				{Name: "one", Prefix: "one_", Command: []string{"a"}, Dir: dir, Timeout: 30 * time.Second, Lazy: true,
					BreakerFailures: 5, BreakerCooldown: 10 * time.Second, Share: gateway.ShareShared},
				{Name: "grants", Prefix: "grants_", Command: []string{"b"}, Dir: dir, Timeout: 30 * time.Second,
					BreakerFailures: 5, BreakerCooldown: 10 * time.Second, Share: gateway.ShareGrant},
			}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tt.doc), filepath.Join(dir, "toolgate.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			got := gatewayOptions(cfg)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("gatewayOptions =\n%+v\nwant\n%+v", got, tt.want)
			}
			// The gateway accepts what the configuration accepted.
			gw, err := gateway.New(&got)
			if err != nil {
				t.Fatalf("gateway.New: %v", err)
			}
			gw.Close()
			// The options own their methods: changing them leaves the
			// configuration alone.
			if got.Methods != nil {
				got.Methods["vendor/search"] = "local"
				if cfg.Methods["vendor/search"] != "docs" {
					t.Error("gatewayOptions shares its Methods map with the configuration")
				}
			}
		})
	}
}
