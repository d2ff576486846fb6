package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// clerkStep is one line of e2e/node/clerk-backend.mjs.
type clerkStep struct {
	Step   string          `json:"step"`
	Type   string          `json:"type"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Name         string `json:"name"`
		Message      string `json:"message"`
		Status       int    `json:"status"`
		ClerkTraceID string `json:"clerkTraceId"`
		Errors       []struct {
			Code        string         `json:"code"`
			Message     string         `json:"message"`
			LongMessage string         `json:"longMessage"`
			Meta        map[string]any `json:"meta"`
		} `json:"errors"`
	} `json:"error"`
	line json.RawMessage
}

// clerkUser is the part of Clerk's user object the test checks.
type clerkUser struct {
	Object         string  `json:"object"`
	ID             string  `json:"id"`
	FirstName      *string `json:"first_name"`
	LastName       *string `json:"last_name"`
	Username       *string `json:"username"`
	ExternalID     *string `json:"external_id"`
	EmailAddresses []struct {
		EmailAddress string `json:"email_address"`
		LinkedTo     []any  `json:"linked_to"`
	} `json:"email_addresses"`
	PasswordEnabled bool           `json:"password_enabled"`
	Banned          bool           `json:"banned"`
	Locked          bool           `json:"locked"`
	PublicMetadata  map[string]any `json:"public_metadata"`
	PrivateMetadata map[string]any `json:"private_metadata"`
	UnsafeMetadata  map[string]any `json:"unsafe_metadata"`
}

// TestClerkBackendSDK runs the real @clerk/backend 3.25.0 against a live
// directory: create, get, list (data + totalCount), update (with and
// without metadata, which the SDK splits into PATCH + PUT /metadata), merge
// metadata, verify the password, ban/unban, lock/unlock and delete; bad
// passwords and an unknown user surface as ClerkAPIResponseError with
// Clerk's codes.
func TestClerkBackendSDK(t *testing.T) {
	ctx := testContext(t)
	node, _ := nodeModule(t, "@clerk/backend/package.json")
	dir := startDirectory(t)
	script := filepath.Join(testpeer.RepoRoot(t), "e2e", "node", "clerk-backend.mjs")
	lines := runNode(t, ctx, node, script, "--api-url", dir.URL, "--secret-key", secretKey)

	steps := map[string]*clerkStep{}
	var order []string
	for _, l := range lines {
		s := &clerkStep{line: l}
		if err := json.Unmarshal(l, s); err != nil {
			t.Fatalf("line %s: %v", l, err)
		}
		steps[s.Step] = s
		order = append(order, s.Step)
	}
	get := func(name string) *clerkStep {
		t.Helper()
		s := steps[name]
		if s == nil {
			t.Fatalf("step %s missing; got %v", name, order)
		}
		return s
	}
	ok := func(name, wantType string) *clerkStep {
		t.Helper()
		s := get(name)
		if s.Error != nil {
			t.Errorf("%s: unexpected error %s", name, s.line)
			return nil
		}
		if wantType != "" && s.Type != wantType {
			t.Errorf("%s: the SDK returned a %s, want a %s: %s", name, s.Type, wantType, s.line)
		}
		return s
	}
	user := func(name string) *clerkUser {
		t.Helper()
		s := ok(name, "User")
		if s == nil {
			return &clerkUser{}
		}
		var u clerkUser
		if err := json.Unmarshal(s.Result, &u); err != nil {
			t.Fatalf("%s: %v: %s", name, err, s.line)
		}
		if u.Object != "user" || !strings.HasPrefix(u.ID, "user_") {
			t.Errorf("%s: not a user object: %s", name, s.line)
		}
		return &u
	}
	apiError := func(name string, status int, code string) {
		t.Helper()
		s := get(name)
		if s.Error == nil {
			t.Errorf("%s: want a ClerkAPIResponseError %d %s, got a result: %s", name, status, code, s.line)
			return
		}
		e := s.Error
		if e.Name != "ClerkAPIResponseError" || e.Status != status || len(e.Errors) == 0 || e.Errors[0].Code != code {
			t.Errorf("%s: want ClerkAPIResponseError status %d code %s, got %s", name, status, code, s.line)
		}
		if e.ClerkTraceID == "" {
			t.Errorf("%s: no clerkTraceId: %s", name, s.line)
		}
	}

	created := user("createUser")
	id := created.ID
	if deref(created.FirstName) != "Ada" || deref(created.Username) != "ada_lovelace" || deref(created.ExternalID) != "ext-ada-1" ||
		!created.PasswordEnabled || len(created.EmailAddresses) != 1 || created.EmailAddresses[0].LinkedTo == nil {
		t.Errorf("createUser: %s", get("createUser").line)
	}
	if created.PublicMetadata["plan"] != "free" || created.PrivateMetadata["crm"] != float64(42) {
		t.Errorf("createUser metadata: %s", get("createUser").line)
	}
	if got := user("getUser"); got.ID != id || deref(got.LastName) != "Lovelace" {
		t.Errorf("getUser: %s", get("getUser").line)
	}

	type list struct {
		Data       []clerkUser `json:"data"`
		Types      []string    `json:"types"`
		TotalCount int         `json:"totalCount"`
	}
	decodeList := func(name string) list {
		t.Helper()
		var l list
		if s := ok(name, "Object"); s != nil {
			if err := json.Unmarshal(s.Result, &l); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, ty := range l.Types {
				if ty != "User" {
					t.Errorf("%s: list item is a %s, not a User: %s", name, ty, s.line)
				}
			}
		}
		return l
	}
	if l := decodeList("getUserList.byEmail"); len(l.Data) != 1 || l.Data[0].ID != id || l.TotalCount != 1 {
		t.Errorf("getUserList by email: %s", get("getUserList.byEmail").line)
	}
	if l := decodeList("getUserList.page"); len(l.Data) != 1 || l.TotalCount != 1 {
		t.Errorf("getUserList limit 1: %s", get("getUserList.page").line)
	}
	if l := decodeList("getUserList.query"); len(l.Data) != 1 || l.TotalCount != 1 {
		t.Errorf("getUserList query: %s", get("getUserList.query").line)
	}
	if s := ok("getCount", ""); s != nil && string(s.Result) != "1" {
		t.Errorf("getCount: %s", s.line)
	}

	if u := user("updateUser"); deref(u.FirstName) != "Augusta" || deref(u.LastName) != "King" {
		t.Errorf("updateUser: %s", get("updateUser").line)
	}
	// PATCH then PUT /metadata: PUT replaces each metadata object sent.
	if u := user("updateUser.metadata"); deref(u.LastName) != "Byron" || deref(u.FirstName) != "Augusta" ||
		u.PublicMetadata["plan"] != "pro" || mapAt(u.PublicMetadata, "prefs")["lang"] != nil ||
		mapAt(u.PublicMetadata, "prefs")["theme"] != "light" || u.PrivateMetadata["crm"] != float64(43) {
		t.Errorf("updateUser with metadata: %s", get("updateUser.metadata").line)
	}
	if u := user("updateUserMetadata"); u.PublicMetadata["plan"] != nil || mapAt(u.PublicMetadata, "prefs")["fontSize"] != float64(14) ||
		hasKey(mapAt(u.PublicMetadata, "prefs"), "theme") || hasKey(u.PublicMetadata, "plan") ||
		mapAt(u.PublicMetadata, "fooBar")["bazQux"] != float64(1) || u.UnsafeMetadata["note"] != "hi" || u.PrivateMetadata["crm"] != float64(43) {
		t.Errorf("updateUserMetadata (deep merge, null removes): %s", get("updateUserMetadata").line)
	}

	if s := ok("verifyPassword", ""); s != nil && !strings.Contains(string(s.Result), `"verified":true`) {
		t.Errorf("verifyPassword: %s", s.line)
	}
	apiError("verifyPassword.wrong", 422, "form_password_incorrect")
	apiError("updateUser.passwordPwned", 422, "form_password_pwned")
	apiError("updateUser.passwordShort", 422, "form_password_length_too_short")

	if u := user("banUser"); !u.Banned {
		t.Errorf("banUser: %s", get("banUser").line)
	}
	if l := decodeList("getUserList.banned"); len(l.Data) != 1 || l.TotalCount != 1 {
		t.Errorf("getUserList banned: %s", get("getUserList.banned").line)
	}
	if u := user("unbanUser"); u.Banned {
		t.Errorf("unbanUser: %s", get("unbanUser").line)
	}
	if u := user("lockUser"); !u.Locked {
		t.Errorf("lockUser: %s", get("lockUser").line)
	}
	if u := user("unlockUser"); u.Locked {
		t.Errorf("unlockUser: %s", get("unlockUser").line)
	}

	apiError("getUser.unknown", 404, "resource_not_found")
	if s := ok("deleteUser", "DeletedObject"); s != nil && (!strings.Contains(string(s.Result), `"deleted":true`) || !strings.Contains(string(s.Result), id)) {
		t.Errorf("deleteUser: %s", s.line)
	}
	apiError("getUser.deleted", 404, "resource_not_found")

	// The wire: the SDK's metadata split is PATCH /v1/users/{id} then PUT
	// /v1/users/{id}/metadata, with Clerk-API-Version 2026-05-12.
	var seq []string
	for _, r := range dir.Requests() {
		seq = append(seq, r.String())
		if v := r.Header.Get("Clerk-API-Version"); v != "2026-05-12" {
			t.Errorf("%s: Clerk-API-Version %q", r, v)
		}
	}
	joined := strings.Join(seq, "\n")
	if want := "PATCH /v1/users/" + id + "\nPUT /v1/users/" + id + "/metadata\nPATCH /v1/users/" + id + "/metadata"; !strings.Contains(joined, want) {
		t.Errorf("requests do not contain\n%s\ngot:\n%s", want, joined)
	}
	if t.Failed() {
		t.Logf("requests:\n%s", joined)
	}
}

func mapAt(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
