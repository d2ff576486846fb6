package directory_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toolgate/toolgate/directory"
)

const (
	testSK  = "sk_test_directory"
	testKey = "iterable_test_key"
)

// env is a live directory over a fresh SQLite database.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	svc   *directory.Service
	store *directory.SQLite
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	store, err := directory.Open(ctx, filepath.Join(t.TempDir(), "directory.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return newEnvWith(t, store, []string{"sk_test_other", testSK}, []string{testKey})
}

// newEnvWith serves store with the given keys.
func newEnvWith(t testing.TB, store *directory.SQLite, secretKeys, apiKeys []string) *env {
	t.Helper()
	svc := directory.NewService(store, nil)
	h := directory.NewHandler(svc, &directory.HandlerOptions{SecretKeys: secretKeys, APIKeys: apiKeys})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, svc: svc, store: store}
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// errCode returns the code of the first error of a Clerk envelope.
func (r *response) errCode(t testing.TB) (code, param string) {
	t.Helper()
	var env struct {
		Errors []struct {
			Message     string         `json:"message"`
			LongMessage string         `json:"long_message"`
			Code        string         `json:"code"`
			Meta        map[string]any `json:"meta"`
		} `json:"errors"`
		TraceID *string `json:"clerk_trace_id"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || len(env.Errors) != 1 {
		t.Fatalf("not a Clerk error envelope (%v): %s", err, r.body)
	}
	e := env.Errors[0]
	if e.Message == "" || e.LongMessage == "" || e.Meta == nil || env.TraceID == nil || *env.TraceID == "" {
		t.Errorf("incomplete envelope: %s", r.body)
	}
	p, _ := e.Meta["param_name"].(string)
	return e.Code, p
}

// do sends a request with the secret key; body may be a string, []byte, or
// a value marshalled to JSON.
func (e *env) do(method, path string, body any) *response {
	e.t.Helper()
	return e.doWith(method, path, body, map[string]string{"Authorization": "Bearer " + testSK})
}

func (e *env) doWith(method, path string, body any, headers map[string]string) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}
}

// mustUser creates a user through the API and returns its JSON.
func (e *env) mustUser(body map[string]any) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/v1/users", body)
	if r.status != 200 {
		e.t.Fatalf("create user: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

func ptr[T any](v T) *T                   { return &v }
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
