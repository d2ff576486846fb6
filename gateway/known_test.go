package gateway_test

import (
	"testing"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// TestKnownTools starts two echo servers, one over HTTP, under prefixes:
// once both are ready KnownTools lists every tool under the names agents
// see and calls the list complete; with a lazy server it never is, and
// the misspelt policy names are found against the list.
func TestKnownTools(t *testing.T) {
	tests := []struct {
		name     string
		lazy     bool
		complete bool
	}{
		{"every server eager", false, true},
		{"a lazy server", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			servers := []gateway.Server{
				{Name: "a", Prefix: "a_", Command: []string{testpeer.BuildEchoServer(t)}},
				{Name: "b", Prefix: "b_", URL: testpeer.GoEchoServer().StartHTTP(t)},
			}
			if tt.lazy {
				servers = append(servers, gateway.Server{Name: "c", Prefix: "c_", Command: []string{"false"}, Lazy: true})
			}
			gw, err := gateway.New(&gateway.Options{
				Servers: servers,
				Policy:  mustLoad(t, `{"version": "1", "default": "allow", "tools": {"a_UpdateUsr": {}, "b_echo": {}, "UpdateUser": {}}}`),
				Logger:  quietLogger(),
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { gw.Close() })
			if tools, complete := gw.KnownTools(); len(tools) != 0 || complete {
				t.Fatalf("before the start: %v, complete %v", tools, complete)
			}
			gw.StartUpstreams()
			waitFor(t, "both eager servers to be listed", func() bool {
				tools, _ := gw.KnownTools()
				return len(tools) == 2*len(echoTools)
			})
			tools, complete := gw.KnownTools()
			if complete != tt.complete {
				t.Fatalf("complete %v, want %v", complete, tt.complete)
			}
			seen := map[string]string{}
			for _, k := range tools {
				seen[k.Name] = k.Prefix
			}
			if seen["a_UpdateUser"] != "a_" || seen["b_echo"] != "b_" || len(seen) != 2*len(echoTools) {
				t.Fatalf("tools: %v", tools)
			}
			var got []string
			for _, u := range gw.Policies()[""].Unmatched(tools) {
				got = append(got, u.Name+"->"+u.Suggestion)
			}
			if len(got) != 2 || got[0] != "a_UpdateUsr->a_UpdateUser" || got[1] != "UpdateUser->a_UpdateUser" {
				t.Fatalf("unmatched: %v", got)
			}
		})
	}
}
