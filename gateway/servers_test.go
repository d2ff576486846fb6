package gateway

import (
	"testing"
	"time"
)

// New gives every server without a call timeout the default one, in its
// own copy of the servers: the caller's slice is left as it was.
func TestNewServerTimeoutDefault(t *testing.T) {
	servers := []Server{
		{Name: "a", Prefix: "a_", URL: "http://127.0.0.1:1/mcp"},
		{Name: "b", Prefix: "b_", URL: "http://127.0.0.1:1/mcp", Timeout: 5 * time.Second},
		{Name: "c", Prefix: "c_", Command: []string{"true"}, Timeout: -time.Second},
	}
	g, err := New(&Options{Servers: servers})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for i, want := range []time.Duration{DefaultServerTimeout, 5 * time.Second, DefaultServerTimeout} {
		if got := g.opts.Servers[i].Timeout; got != want {
			t.Errorf("server %s: Timeout = %v, want %v", servers[i].Name, got, want)
		}
	}
	if servers[0].Timeout != 0 || servers[2].Timeout != -time.Second {
		t.Errorf("New changed the caller's servers: %+v", servers)
	}
	if DefaultServerTimeout != 30*time.Second {
		t.Errorf("DefaultServerTimeout = %v, the documented default is 30s", DefaultServerTimeout)
	}
}
