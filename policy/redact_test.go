package policy

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestRedactPointers(t *testing.T) {
	for _, doc := range []string{
		`{"version":"1","default":"deny","tools":{
			"UpdateUser":{"redact":["/profile/ssn","/a~1b","/list/0"]},
			"clerk_*":{"redact":["/note"]},
			"clerk_GetUser":{},
			"@financial":{"redact":["/card/number"]},
			"Empty":{"redact":[]},
			"Null":{"redact":null}}}`,
		`
version: "1"
default: deny
tools:
  UpdateUser:
    redact:
      - /profile/ssn
      - "/a~1b"
      - /list/0
  clerk_*: {redact: [/note]}
  clerk_GetUser: {}
  "@financial": {redact: [/card/number]}
  Empty: {redact: []}
  Null: {redact: null}
`,
	} {
		e := mustLoad(t, doc)
		for _, tc := range []struct {
			tool string
			cats []string
			want []string
		}{
			{"UpdateUser", nil, []string{"/profile/ssn", "/a~1b", "/list/0"}},
			{"clerk_UpdateUser", nil, []string{"/note"}},
			{"clerk_GetUser", nil, nil}, // the exact rule decides, and lists none
			{"Charge", []string{"financial"}, []string{"/card/number"}},
			{"Empty", nil, nil},
			{"Null", nil, nil},
			{"Other", nil, nil},
		} {
			if got := e.Redactor(tc.tool, tc.cats).Pointers(); !slices.Equal(got, tc.want) {
				t.Errorf("Redactor(%s).Pointers() = %q, want %q", tc.tool, got, tc.want)
			}
		}
		got := string(e.Redactor("UpdateUser", nil).Args(map[string]any{
			"user_id": "u1", "password": "p", "profile": map[string]any{"ssn": "123", "name": "Ada"},
			"a/b": "x", "list": []any{"first", "second"}}))
		want := `{"a/b":"[REDACTED]","list":["[REDACTED]","second"],"password":"[REDACTED]","profile":{"name":"Ada","ssn":"[REDACTED]"},"user_id":"u1"}`
		if got != want {
			t.Errorf("Args\n got %s\nwant %s", got, want)
		}
	}
	if NoPolicy().Redactor("UpdateUser", nil) != nil {
		t.Error("nil engine: a Redactor")
	}
}

func TestRedactErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []wantErr
	}{
		{"not a list", `{"version":"1","default":"deny","tools":{"a":{"redact":"/password"}}}`,
			[]wantErr{{1, 56, "/tools/a/redact", "redact must be a list of JSON Pointers"}}},
		{"an object", `{"version":"1","default":"deny","tools":{"a":{"redact":{"p":1}}}}`,
			[]wantErr{{1, 56, "/tools/a/redact", "not an object"}}},
		{"not a string", `{"version":"1","default":"deny","tools":{"a":{"redact":["/ok",3]}}}`,
			[]wantErr{{1, 63, "/tools/a/redact/1", "must be a string, not a number"}}},
		{"no slash", `{"version":"1","default":"deny","tools":{"a":{"redact":["password"]}}}`,
			[]wantErr{{1, 57, "/tools/a/redact/0", `must start with "/"`}}},
		{"whole document", `{"version":"1","default":"deny","tools":{"a":{"redact":[""]}}}`,
			[]wantErr{{1, 57, "/tools/a/redact/0", "whole arguments object"}}},
		{"bad escape", `{"version":"1","default":"deny","tools":{"a":{"redact":["/a~2b"]}}}`,
			[]wantErr{{1, 57, "/tools/a/redact/0", `"~" must be followed by 0`}}},
		{"duplicate", `{"version":"1","default":"deny","tools":{"a":{"redact":["/a","/a"]}}}`,
			[]wantErr{{1, 62, "/tools/a/redact/1", `duplicate pointer "/a"`}}},
		{"yaml, with other errors", "version: \"1\"\ndefault: deny\ntools:\n  a:\n    redact:\n      - /ok\n      - nope\n  b:\n    redact: [/x~]\n    timeout: soon\n",
			[]wantErr{{7, 9, "/tools/a/redact/1", `must start with "/"`}, {9, 14, "/tools/b/redact/0", `"~" must be followed by 0`}, {10, 14, "/tools/b/timeout", "timeout must be a duration"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.doc, tt.want) })
	}
	many := `{"version":"1","default":"deny","tools":{"a":{"redact":[` + strings.Repeat(`"/x",`, MaxRedact) + `"/y"]}}}`
	checkErrors(t, many, []wantErr{{1, 56, "/tools/a/redact", "the limit is 256"}})
}

// The example of docs/policy.md masks what it says it masks.
func TestRedactDocExample(t *testing.T) {
	e, err := LoadFile("../docs/examples/policy/redact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]any{
		"user_id": "user_123", "password": "pw-secret-1", "totp_secret": "JBSWY3DPEHPK3PXP",
		"backup_codes": []any{"bc-1111", "bc-2222"}, "password_digest": "$2a$10$digest",
		"public_metadata": map[string]any{"ssn": "078-05-1120", "plan": "pro"},
		"phone_numbers":   []any{"+1-555-0100", "+1-555-0101"},
		"unsafe_metadata": map[string]any{"recovery/email": "ada@example.com"},
		"first_name":      "Ada",
	}
	got := string(e.Redactor("UpdateUser", nil).Args(args))
	for _, s := range []string{"pw-secret-1", "JBSWY3DPEHPK3PXP", "bc-1111", "$2a$10$digest", "078-05-1120", "+1-555-0100", "ada@example.com"} {
		if strings.Contains(got, s) {
			t.Errorf("%q survives: %s", s, got)
		}
	}
	for _, s := range []string{"user_123", `"plan":"pro"`, "+1-555-0101", `"first_name":"Ada"`} {
		if !strings.Contains(got, s) {
			t.Errorf("%q was masked too: %s", s, got)
		}
	}
	// The arguments and the stored form docs/policy.md shows.
	shown := map[string]any{"user_id": "user_123", "password": "...",
		"public_metadata": map[string]any{"ssn": "078-05-1120", "plan": "pro"}, "phone_numbers": []any{"+1-555-0100", "+1-555-0101"}}
	if got, want := string(e.Redactor("UpdateUser", nil).Args(shown)), `{"password":"[REDACTED]","phone_numbers":["[REDACTED]","+1-555-0101"],"public_metadata":{"plan":"pro","ssn":"[REDACTED]"},"user_id":"user_123"}`; got != want {
		t.Errorf("docs/policy.md's example\n got %s\nwant %s", got, want)
	}
	doc, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "stores\n`"+string(e.Redactor("UpdateUser", nil).Args(shown))+"`") {
		t.Error("docs/policy.md does not show the stored form")
	}
	if p := e.Redactor("clerk_DeleteUser", nil).Pointers(); !slices.Equal(p, []string{"/note"}) {
		t.Errorf("clerk_DeleteUser pointers %q", p)
	}
}
