package approval

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/redact"
)

// Redact and IsSecretKey are the redact package's: its tests
// (redact/redact_test.go) cover the rules; these check the wrappers stay
// wired to it for the callers that still use them.
func TestRedactIsRedactPackage(t *testing.T) {
	for _, args := range []map[string]any{
		nil,
		{"password": "hunter2", "user_id": "u1"},
		{"user": map[string]any{"totp_secret": "s", "backup_codes": []any{"a"}, "password_digest": "d", "token_count": 3}},
		{"f": func() {}},
	} {
		if got, want := string(Redact(args)), string(redact.Args(args)); got != want {
			t.Errorf("Redact = %s, redact.Args = %s", got, want)
		}
	}
	if !IsSecretKey("x-api-key") || IsSecretKey("skip_password_checks") || Redacted != redact.Marker {
		t.Error("IsSecretKey or Redacted differ from the redact package")
	}
}

// A request's stored arguments are masked by the redactor given (a
// policy rule's pointers) as well as by key name; the hash that matches
// a retry is of the unmasked arguments.
func TestRequestRedactsPointers(t *testing.T) {
	ctx := context.Background()
	m := NewManager(NewMemoryStore(), nil)
	rd, err := redact.New("/profile/ssn", "/note")
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]any{"user_id": "u1", "password": "hunter2-secret", "note": "call 555-0100",
		"profile": map[string]any{"ssn": "123-45-6789", "name": "Ada"}}
	r, err := m.Request(ctx, &Request{Tool: "UpdateUser", Subject: "a"}, args, rd, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"note":"[REDACTED]","password":"[REDACTED]","profile":{"name":"Ada","ssn":"[REDACTED]"},"user_id":"u1"}`
	if string(r.Args) != want {
		t.Errorf("Args\n got %s\nwant %s", r.Args, want)
	}
	stored, err := m.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(stored)
	for _, s := range []string{"hunter2", "123-45-6789", "555-0100"} {
		if strings.Contains(string(b), s) {
			t.Errorf("the stored request holds %q: %s", s, b)
		}
	}
	key, err := m.store.Key(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := HashArgs(key, args); h != r.ArgsHash {
		t.Error("ArgsHash is not the hash of the unmasked arguments")
	}
	// The same call asked again, with or without pointers, joins it.
	if again, created, err := m.Ask(ctx, &Request{Tool: "UpdateUser", Subject: "a"}, args, nil, time.Minute); err != nil || created || again.ID != r.ID {
		t.Errorf("Ask: %v created=%v", err, created)
	}
}
