package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/directory"
	"github.com/toolgate/toolgate/gateway"
)

// iterablePolicy allows @iterable/mcp's user reads and update_user, and
// denies delete_user_by_email with a reason.
const iterablePolicy = `{
  "version": "1",
  "default": "deny",
  "tools": {
    "update_user": {},
    "get_user_by_email": {},
    "get_user_by_user_id": {},
    "delete_user_by_email": {"action": "deny", "on_deny": "deleting users needs a human"}
  }
}`

// iterableResult is what @iterable/mcp's tools return as text: Iterable's
// response on success, or the client's error object.
type iterableResult struct {
	Msg  string `json:"msg"`
	Code string `json:"code"`
	User *struct {
		Email      string         `json:"email"`
		UserID     string         `json:"userId"`
		DataFields map[string]any `json:"dataFields"`
	} `json:"user"`
	// Set on errors (IterableApiError, IterableResponseValidationError).
	Name       string `json:"name"`
	StatusCode int    `json:"statusCode"`
}

// startIterable starts @iterable/mcp as a stdio upstream of a gateway with
// iterablePolicy, its API at dir, and returns a client session to the
// gateway and the upstream's HOME.
func startIterable(t *testing.T, dir *liveDirectory) (*mcp.ClientSession, string) {
	t.Helper()
	node, server := nodeModule(t, "@iterable/mcp/dist/index.js")
	home := t.TempDir()
	url := startGateway(t, iterablePolicy, gateway.Server{
		Name:    "iterable",
		Command: []string{node, server},
		Env: map[string]string{
			"ITERABLE_API_KEY":  iterableKey,
			"ITERABLE_BASE_URL": dir.URL, // http is allowed for 127.0.0.1 only
			// Without these two, update_user and the user reads are not
			// listed (tool-filter.js: writes and PII are opt-in).
			"ITERABLE_ENABLE_WRITES": "true",
			"ITERABLE_USER_PII":      "true",
			// The key manager migrates ITERABLE_API_KEY into
			// $HOME/.iterable-mcp (a JSON file on Linux): keep it in a
			// temp dir. Logs go to stderr only.
			"HOME":            home,
			"XDG_CONFIG_HOME": filepath.Join(home, ".config"),
			"LOG_LEVEL":       "warn",
		},
	})
	return connect(t, testContext(t), url), home
}

func callIterable(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (iterableResult, string) {
	t.Helper()
	text, res := call(t, testContext(t), cs, name, args)
	var r iterableResult
	if res.IsError {
		t.Errorf("%s: tool error %s", name, text)
		return r, text
	}
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Errorf("%s: result is not JSON: %v: %s", name, err, text)
	}
	return r, text
}

// TestIterableMCPThroughGateway starts the real @iterable/mcp 1.9.0 as a
// stdio upstream of the gateway with its base URL at a live directory, and
// calls update_user by email and by userId through the gateway: the
// directory's user gets the dataFields.
func TestIterableMCPThroughGateway(t *testing.T) {
	ctx := testContext(t)
	dir := startDirectory(t)
	ada := dir.createUser(t, directory.CreateUserParams{
		EmailAddresses: []string{"ada@example.com"},
		FirstName:      ptr("Ada"),
		PublicMetadata: map[string]any{"plan": "free", "address": map[string]any{"city": "London", "zip": "N1"}},
	})
	bob := dir.createUser(t, directory.CreateUserParams{
		EmailAddresses: []string{"bob@example.com"},
		ExternalID:     ptr("crm-bob-7"),
	})
	cs, home := startIterable(t, dir)

	tools := toolsByName(t, ctx, cs)
	if reqs := dir.Requests(); len(reqs) != 0 {
		t.Errorf("@iterable/mcp called the directory before any tool call: %v", reqs)
	}
	for _, name := range []string{"update_user", "get_user_by_email", "get_user_by_user_id", "delete_user_by_email"} {
		if tools[name] == nil {
			t.Errorf("tool %s is not listed; got %v", name, keys(tools))
		}
	}
	if tools["get_campaigns"] != nil {
		t.Error("get_campaigns is listed, but the policy's default is deny")
	}
	if ut := tools["update_user"]; ut != nil {
		schema, _ := json.Marshal(ut.InputSchema)
		for _, p := range []string{"email", "userId", "dataFields", "mergeNestedObjects"} {
			if !strings.Contains(string(schema), `"`+p+`"`) {
				t.Errorf("update_user schema lacks %s: %s", p, schema)
			}
		}
	}

	// update_user by email.
	before := dir.Count()
	r, text := callIterable(t, cs, "update_user", map[string]any{
		"email":              "ada@example.com",
		"dataFields":         map[string]any{"plan": "pro", "lastName": "Lovelace", "address": map[string]any{"zip": "N2"}, "score": 7},
		"mergeNestedObjects": true,
	})
	if r.Code != "Success" {
		t.Errorf("update_user by email: %s; directory saw %v", text, dir.Since(before))
	}
	got := dir.user(t, ada.ID)
	addr := mapAt(got.PublicMetadata, "address")
	if got.PublicMetadata["plan"] != "pro" || fmt.Sprint(got.PublicMetadata["score"]) != "7" ||
		addr["city"] != "London" || addr["zip"] != "N2" || deref(got.LastName) != "Lovelace" || deref(got.FirstName) != "Ada" {
		t.Errorf("ada after update_user by email: public %v, names %s %s", got.PublicMetadata, deref(got.FirstName), deref(got.LastName))
	}
	if reqs := dir.Since(before); len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/api/users/update" ||
		reqs[0].Header.Get("Api-Key") != iterableKey {
		t.Errorf("update_user by email requests: %v", reqs)
	}

	// update_user by userId: the external id, and the directory's own id.
	r, text = callIterable(t, cs, "update_user", map[string]any{
		"userId":     "crm-bob-7",
		"dataFields": map[string]any{"tier": "gold", "firstName": "Bob"},
	})
	if r.Code != "Success" {
		t.Errorf("update_user by userId: %s", text)
	}
	got = dir.user(t, bob.ID)
	if got.PublicMetadata["tier"] != "gold" || deref(got.FirstName) != "Bob" {
		t.Errorf("bob after update_user by userId: public %v, first name %s", got.PublicMetadata, deref(got.FirstName))
	}
	r, text = callIterable(t, cs, "update_user", map[string]any{
		"userId":     ada.ID,
		"dataFields": map[string]any{"vip": true},
	})
	if r.Code != "Success" {
		t.Errorf("update_user by directory id: %s", text)
	}
	if got := dir.user(t, ada.ID); got.PublicMetadata["vip"] != true || got.PublicMetadata["plan"] != "pro" {
		t.Errorf("ada after update_user by directory id: %v", got.PublicMetadata)
	}

	// An unknown userId without preferUserId is refused, and creates nothing.
	n, err := dir.Svc.CountUsers(ctx, &directory.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	text, res := call(t, ctx, cs, "update_user", map[string]any{"userId": "nobody-42", "dataFields": map[string]any{"a": 1}})
	if res.IsError || strings.Contains(text, `"code": "Success"`) || !strings.Contains(text, "400") {
		t.Errorf("update_user unknown userId: isError %v: %s", res.IsError, text)
	}
	if m, _ := dir.Svc.CountUsers(ctx, &directory.UserQuery{}); m != n {
		t.Errorf("users: %d, then %d", n, m)
	}

	// get_user_by_user_id: GET /api/users/byUserId/{userId}.
	r, text = callIterable(t, cs, "get_user_by_user_id", map[string]any{"userId": "crm-bob-7"})
	if r.User == nil || r.User.Email != "bob@example.com" || r.User.DataFields["tier"] != "gold" {
		t.Errorf("get_user_by_user_id: %s", text)
	}

	// A denied tool never reaches the directory.
	before = dir.Count()
	res, err = cs.CallTool(ctx, mcpParams("delete_user_by_email", map[string]any{"email": "ada@example.com"}))
	if err == nil && (!res.IsError || !strings.Contains(textOf(res), "deleting users needs a human")) {
		t.Errorf("delete_user_by_email: want a refusal with the policy's reason, got %s", textOf(res))
	}
	if reqs := dir.Since(before); len(reqs) != 0 {
		t.Errorf("a denied tool reached the directory: %v", reqs)
	}

	// The key manager migrated ITERABLE_API_KEY into the temp HOME.
	if _, err := os.Stat(filepath.Join(home, ".iterable-mcp")); err != nil {
		t.Errorf("no key store under the temp HOME: %v", err)
	}
}

// TestIterableMCPGetUserByEmail calls @iterable/mcp's get_user_by_email
// through the gateway. Iterable's client sends GET /api/users/{email}
// (@iterable/api 0.13.0 client/users.js getUserByEmail; the address is
// percent-encoded in the path) and validates {"user":{"email",...}} or {}.
func TestIterableMCPGetUserByEmail(t *testing.T) {
	dir := startDirectory(t)
	dir.createUser(t, directory.CreateUserParams{
		EmailAddresses: []string{"ada@example.com"},
		FirstName:      ptr("Ada"),
		PublicMetadata: map[string]any{"plan": "pro"},
	})
	cs, _ := startIterable(t, dir)
	before := dir.Count()
	r, text := callIterable(t, cs, "get_user_by_email", map[string]any{"email": "ada@example.com"})
	reqs := dir.Since(before)
	if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/api/users/ada@example.com" {
		t.Fatalf("get_user_by_email sent %v, want GET /api/users/ada%%40example.com", reqs)
	}
	if r.User == nil || r.User.Email != "ada@example.com" || r.User.DataFields["plan"] != "pro" || r.User.DataFields["firstName"] != "Ada" {
		t.Errorf("get_user_by_email: %s", text)
	}
	// An unknown address is {} (no user), not an error.
	r, text = callIterable(t, cs, "get_user_by_email", map[string]any{"email": "nobody@example.com"})
	if r.User != nil || r.Name != "" {
		t.Errorf("get_user_by_email unknown: %s", text)
	}
}

// TestIterableMCPUserWithoutEmail creates, through @iterable/mcp's
// update_user with preferUserId, a user that has a userId but no email,
// then reads it with get_user_by_user_id.
//
// @iterable/api's UserResponseSchema requires user.email to be a string, so
// the directory gives such a user Iterable's placeholder address
// "<userId>@placeholder.email".
func TestIterableMCPUserWithoutEmail(t *testing.T) {
	ctx := testContext(t)
	dir := startDirectory(t)
	cs, _ := startIterable(t, dir)
	r, text := callIterable(t, cs, "update_user", map[string]any{
		"userId": "anon-1", "preferUserId": true, "dataFields": map[string]any{"source": "app"},
	})
	if r.Code != "Success" {
		t.Fatalf("update_user preferUserId: %s", text)
	}
	users, err := dir.Svc.ListUsers(ctx, &directory.UserQuery{ExternalIDs: []string{"anon-1"}})
	if err != nil || len(users) != 1 || users[0].PublicMetadata["source"] != "app" {
		t.Fatalf("user anon-1: %v, %v", users, err)
	}
	r, text = callIterable(t, cs, "get_user_by_user_id", map[string]any{"userId": "anon-1"})
	if r.User == nil || r.User.UserID != "anon-1" || r.User.Email != "anon-1@placeholder.email" || r.User.DataFields["source"] != "app" {
		t.Errorf("get_user_by_user_id for a user without email: %s", text)
	}
}
