package directory_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/toolgate/toolgate/directory"
)

// FuzzUpdateUserBody: no PATCH /v1/users/{id} body makes the decoder or
// the handler panic, and every refusal is a 4xx Clerk envelope.
func FuzzUpdateUserBody(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, ``, `{"first_name":"A","username":null}`, `{"password":"short"}`,
		`{"public_metadata":{"a":{"b":null}}}`, `{"backup_codes":["x",1]}`, `{"create_organizations_limit":1e99}`,
		`{"created_at":"2012-10-20T07:15:20.902Z","locale":"en-US"}`, `[`, `{"a":1}`, `"x"`, `{"username":""} trailing`,
		`{"password_digest":"$2a$10$x","password_hasher":"bcrypt"}`, `{"totp_secret":"JBSWY3DPEHPK3PXP"}`,
	} {
		f.Add([]byte(s))
	}
	e := newEnv(f)
	id := e.mustUser(map[string]any{"email_address": []string{"fuzz@example.com"}, "username": "fuzzer"})["id"].(string)
	h := e.srv.Config.Handler
	f.Fuzz(func(t *testing.T, body []byte) {
		var p directory.UpdateUserParams
		if err := json.Unmarshal(body, &p); err != nil {
			if de := directory.AsError(err); de != nil && (de.Status < 400 || de.Status >= 500) {
				t.Fatalf("decode error with status %d: %v", de.Status, err)
			}
		}
		req := httptest.NewRequest("PATCH", "/v1/users/"+id, strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+testSK)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			return
		}
		if rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		var env struct {
			Errors []struct {
				Code string `json:"code"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || len(env.Errors) != 1 || env.Errors[0].Code == "" {
			t.Fatalf("not an envelope for %q: %s", body, rec.Body)
		}
	})
}
