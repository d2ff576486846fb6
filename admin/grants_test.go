package admin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/toolgate/toolgate/grant"
)

type grantsEnv struct {
	url     string
	store   *grant.Memory
	tokens  map[Role]string
	mu      sync.Mutex
	changed []string
}

func newGrantsEnv(t *testing.T) *grantsEnv {
	t.Helper()
	ctx := context.Background()
	env := &grantsEnv{store: grant.NewMemory(), tokens: map[Role]string{}}
	tokens := NewMemory()
	for _, r := range Roles {
		_, secret, err := Create(ctx, tokens, Spec{Subject: string(r) + "@example.com", Role: r})
		if err != nil {
			t.Fatal(err)
		}
		env.tokens[r] = secret
	}
	api := &Grants{
		Store:    env.store,
		Policies: func() []string { return []string{"support", "admin"} },
		Servers:  []string{"clerk", "docs"},
		Changed: func(id string) {
			env.mu.Lock()
			env.changed = append(env.changed, id)
			env.mu.Unlock()
		},
	}
	mux := http.NewServeMux()
	api.Register(mux)
	ts := httptest.NewServer(Authenticate(&Verifier{Store: tokens}, nil, mux))
	t.Cleanup(ts.Close)
	env.url = ts.URL
	return env
}

// do sends method path with body as role and returns the status and the
// decoded answer.
func (e *grantsEnv) do(t *testing.T, role Role, method, path, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: HTTP %d, not a JSON object: %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func TestGrantsAPI(t *testing.T) {
	env := newGrantsEnv(t)
	ctx := context.Background()

	code, out := env.do(t, Admin, "POST", "/admin/grants", `{"subject":"agent:bot","policy":"support","labels":{"team":"support"},"servers":["clerk"],"expires_in":"720h"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	token, _ := out["token"].(string)
	g := out["grant"].(map[string]any)
	id := g["id"].(string)
	if !grant.WellFormed(token) || g["status"] != "active" || g["subject"] != "agent:bot" || g["expires_at"] == nil {
		t.Fatalf("create answered %v", out)
	}
	v := &grant.Verifier{Store: env.store}
	if got, err := v.Verify(ctx, token); err != nil || got.ID != id {
		t.Fatalf("the issued token does not verify: %v %v", got, err)
	}

	// Reading never shows a token or its hash.
	for _, path := range []string{"/admin/grants", "/admin/grants/" + id} {
		code, out := env.do(t, Viewer, "GET", path, "")
		raw, _ := json.Marshal(out)
		if code != 200 || strings.Contains(string(raw), token) || strings.Contains(strings.ToLower(string(raw)), "hash") {
			t.Fatalf("GET %s: %d %s", path, code, raw)
		}
	}

	// A policy manager attaches another policy; nothing else.
	if code, out := env.do(t, PolicyManager, "PUT", "/admin/grants/"+id+"/policy", `{"policy":"admin"}`); code != 200 || out["policy"] != "admin" {
		t.Fatalf("set policy: %d %v", code, out)
	}
	for _, req := range [][2]string{{"POST", "/admin/grants"}, {"POST", "/admin/grants/" + id + "/revoke"}, {"POST", "/admin/grants/" + id + "/rotate"}} {
		if code, _ := env.do(t, PolicyManager, req[0], req[1], `{}`); code != 403 {
			t.Fatalf("policy manager %s %s: %d, want 403", req[0], req[1], code)
		}
	}
	if code, _ := env.do(t, Viewer, "PUT", "/admin/grants/"+id+"/policy", `{"policy":"support"}`); code != 403 {
		t.Fatalf("viewer set policy: %d", code)
	}

	// Rotate: a new token, the old one refused at once.
	code, out = env.do(t, Admin, "POST", "/admin/grants/"+id+"/rotate", "")
	newToken, _ := out["token"].(string)
	if code != 200 || newToken == "" || newToken == token {
		t.Fatalf("rotate: %d %v", code, out)
	}
	if _, err := v.Verify(ctx, token); err != grant.ErrInvalidToken {
		t.Fatalf("the rotated-away token: %v", err)
	}
	// Revoke: final.
	if code, out := env.do(t, Admin, "POST", "/admin/grants/"+id+"/revoke", ""); code != 200 || out["status"] != "revoked" {
		t.Fatalf("revoke: %d %v", code, out)
	}
	if _, err := v.Verify(ctx, newToken); err != grant.ErrInvalidToken {
		t.Fatalf("the revoked grant's token: %v", err)
	}
	if code, _ := env.do(t, Admin, "POST", "/admin/grants/"+id+"/rotate", ""); code != 409 {
		t.Fatalf("rotate after revoke: %d, want 409", code)
	}
	if code, _ := env.do(t, PolicyManager, "PUT", "/admin/grants/"+id+"/policy", `{"policy":"support"}`); code != 409 {
		t.Fatalf("set policy after revoke: %d, want 409", code)
	}
	env.mu.Lock()
	changed := strings.Join(env.changed, ",")
	env.mu.Unlock()
	if changed != id+","+id+","+id {
		t.Fatalf("Changed was called for %q, want policy, rotate and revoke of %s", changed, id)
	}
}

func TestGrantsAPIBadInput(t *testing.T) {
	env := newGrantsEnv(t)
	tests := []struct {
		name, method, path, body string
		want                     int
		msg                      string
	}{
		{"no subject", "POST", "/admin/grants", `{"policy":"support"}`, 400, "subject"},
		{"unknown policy", "POST", "/admin/grants", `{"subject":"a","policy":"root"}`, 400, `no policy "root"`},
		{"unknown server", "POST", "/admin/grants", `{"subject":"a","policy":"support","servers":["prod"]}`, 400, `no server "prod"`},
		{"bad label", "POST", "/admin/grants", `{"subject":"a","policy":"support","labels":{"-x":"y"}}`, 400, "label"},
		{"unknown field", "POST", "/admin/grants", `{"subject":"a","policy":"support","role":"admin"}`, 400, "unknown field"},
		{"token given", "POST", "/admin/grants", `{"subject":"a","policy":"support","token":"tg_x"}`, 400, "unknown field"},
		{"two values", "POST", "/admin/grants", `{"subject":"a","policy":"support"} {}`, 400, "more than one"},
		{"not JSON", "POST", "/admin/grants", `subject=a`, 400, "not a JSON object"},
		{"both expiries", "POST", "/admin/grants", `{"subject":"a","policy":"support","expires_in":"1h","expires_at":"2099-01-01T00:00:00Z"}`, 400, "not both"},
		{"negative expiry", "POST", "/admin/grants", `{"subject":"a","policy":"support","expires_in":"-1h"}`, 400, "positive"},
		{"past expiry", "POST", "/admin/grants", `{"subject":"a","policy":"support","expires_at":"2001-01-01T00:00:00Z"}`, 400, "not in the future"},
		{"control character", "POST", "/admin/grants", `{"subject":"a\u0000b","policy":"support"}`, 400, "control"},
		{"oversized", "POST", "/admin/grants", `{"subject":"` + strings.Repeat("a", 70000) + `","policy":"support"}`, 413, "larger"},
		{"malformed id", "POST", "/admin/grants/gr_x/revoke", "", 400, "not a grant id"},
		{"unknown id", "POST", "/admin/grants/gr_aaaaaaaaaaaa/revoke", "", 404, "not found"},
		{"revoke with a body", "POST", "/admin/grants/gr_aaaaaaaaaaaa/revoke", `{"by":"x"}`, 400, "no body"},
		{"empty policy", "PUT", "/admin/grants/gr_aaaaaaaaaaaa/policy", `{}`, 400, "policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := env.do(t, Admin, tt.method, tt.path, tt.body)
			msg, _ := out["error"].(string)
			if code != tt.want || !strings.Contains(msg, tt.msg) {
				t.Fatalf("HTTP %d %q, want %d containing %q", code, msg, tt.want, tt.msg)
			}
		})
	}
	list, err := env.store.List(context.Background())
	if err != nil || len(list) != 0 {
		t.Fatalf("refused requests created grants: %v %v", list, err)
	}
	if code, _ := env.do(t, "", "GET", "/admin/grants", ""); code != 401 {
		t.Fatalf("no token: %d", code)
	}
}
