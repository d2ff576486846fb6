package gateway

import (
	"net/http"
	"testing"
)

func TestPrefersSSE(t *testing.T) {
	for _, tc := range []struct {
		accept []string
		want   bool
	}{
		{nil, false},
		{[]string{"application/json, text/event-stream"}, false}, // the TypeScript and Go SDK clients
		{[]string{"text/event-stream, application/json"}, true},  // the conformance suite's raw requests
		{[]string{"text/event-stream", "application/json"}, true},
		{[]string{"application/json", "text/event-stream"}, false},
		{[]string{"TEXT/Event-Stream ; charset=utf-8, application/json"}, true},
		{[]string{"application/json;q=0.5, text/event-stream"}, true},
		{[]string{"text/event-stream;q=0.5, application/json"}, false},
		{[]string{"text/event-stream;q=0.9, application/json;q=0.9"}, true},
		{[]string{"text/event-stream"}, true},
		{[]string{"application/json"}, false},
		{[]string{"*/*"}, false},
		{[]string{"*/*, text/event-stream"}, true}, // only SSE is named: JSON comes by the wildcard alone
		{[]string{"*/*, application/json"}, false},
		{[]string{"text/event-stream, */*"}, true},
		{[]string{"application/json;q=0, text/event-stream"}, true},
		{[]string{"application/json;q=0, */*"}, true}, // JSON refused: SSE is what is left
		{[]string{"text/event-stream;q=0, application/json"}, false},
		{[]string{"text/event-stream;q=abc, application/json"}, false},
		{[]string{"text/event-stream;q=2, application/json"}, false},
		{[]string{"text/*, application/json"}, false}, // JSON named, SSE by a wildcard only
		{[]string{"application/json, text/event-stream, text/event-stream;q=1"}, false},
	} {
		r, _ := http.NewRequest(http.MethodPost, "/mcp", nil)
		for _, a := range tc.accept {
			r.Header.Add("Accept", a)
		}
		if got := prefersSSE(r); got != tc.want {
			t.Errorf("prefersSSE(Accept %q) = %v, want %v", tc.accept, got, tc.want)
		}
	}
}
