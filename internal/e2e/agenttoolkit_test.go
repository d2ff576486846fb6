package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/toolgate/toolgate/directory"
	"github.com/toolgate/toolgate/gateway"
)

// agentToolkitPolicy allows the users tools of @clerk/agent-toolkit except
// updateUserUnsafeMetadata, which it denies with a reason.
const agentToolkitPolicy = `{
  "version": "1",
  "default": "deny",
  "tools": {
    "getUser": {},
    "getUserCount": {},
    "updateUser": {},
    "updateUserPublicMetadata": {},
    "updateUserUnsafeMetadata": {"action": "deny", "on_deny": "unsafe metadata is not for agents"}
  }
}`

// TestClerkAgentToolkitThroughGateway starts the real @clerk/agent-toolkit
// 0.3.15 local MCP server as a stdio upstream of the gateway, its Clerk API
// URL at a live directory, and calls its users tools through the gateway
// with a go-sdk client: the directory's user really changes, and a tool the
// policy denies never reaches the directory.
func TestClerkAgentToolkitThroughGateway(t *testing.T) {
	ctx := testContext(t)
	node, server := nodeModule(t, "@clerk/agent-toolkit/dist/modelcontextprotocol/local-server.js")
	dir := startDirectory(t)
	u := dir.createUser(t, directory.CreateUserParams{
		EmailAddresses: []string{"grace@example.com"},
		FirstName:      ptr("Grace"),
		LastName:       ptr("Hopper"),
		PublicMetadata: map[string]any{"team": "navy", "prefs": map[string]any{"theme": "dark", "lang": "en"}},
	})
	dir.createUser(t, directory.CreateUserParams{EmailAddresses: []string{"alan@example.com"}, FirstName: ptr("Alan")})

	url := startGateway(t, agentToolkitPolicy, gateway.Server{
		Name:    "clerk",
		Command: []string{node, server, "--tools", "users"},
		Env: map[string]string{
			"CLERK_SECRET_KEY": secretKey,
			"CLERK_API_URL":    dir.URL,
			"HOME":             t.TempDir(),
		},
	})
	cs := connect(t, ctx, url)

	tools := toolsByName(t, ctx, cs)
	if reqs := dir.Requests(); len(reqs) != 0 {
		t.Errorf("the agent-toolkit called the directory before any tool call: %v", reqs)
	}
	for _, name := range []string{"getUser", "getUserCount", "updateUser", "updateUserPublicMetadata"} {
		if tools[name] == nil {
			t.Errorf("tool %s is not listed; got %v", name, keys(tools))
		}
	}
	if tools["getUserId"] != nil {
		t.Errorf("getUserId is listed, but the policy's default is deny")
	}
	if tools["organizations"] != nil || tools["createInvitation"] != nil {
		t.Errorf("--tools users exposed other categories: %v", keys(tools))
	}

	// updateUser: PATCH /v1/users/{id} {"first_name": ...}.
	before := dir.Count()
	text, res := call(t, ctx, cs, "updateUser", map[string]any{"userId": u.ID, "firstName": "Amazing Grace"})
	if res.IsError {
		t.Fatalf("updateUser: tool error %q; directory saw %v", text, dir.Since(before))
	}
	var got struct {
		ID              string          `json:"id"`
		Object          string          `json:"object"`
		FirstName       string          `json:"first_name"`
		PrivateMetadata json.RawMessage `json:"private_metadata"`
	}
	if err := json.Unmarshal([]byte(text), &got); err != nil || got.ID != u.ID || got.Object != "user" || got.FirstName != "Amazing Grace" {
		t.Errorf("updateUser result: %v: %s", err, text)
	}
	if got.PrivateMetadata != nil {
		t.Errorf("updateUser result leaks private_metadata: %s", text)
	}
	if now := dir.user(t, u.ID); deref(now.FirstName) != "Amazing Grace" || deref(now.LastName) != "Hopper" {
		t.Errorf("directory user after updateUser: first %s last %s", deref(now.FirstName), deref(now.LastName))
	}
	reqs := dir.Since(before)
	if len(reqs) != 1 || reqs[0].Method != "PATCH" || reqs[0].Path != "/v1/users/"+u.ID || reqs[0].Status != 200 {
		t.Errorf("updateUser requests: %v", reqs)
	} else {
		var body map[string]any
		if err := json.Unmarshal(reqs[0].Body, &body); err != nil || body["first_name"] != "Amazing Grace" || len(body) != 1 {
			t.Errorf("updateUser body: %s", reqs[0].Body)
		}
		if a := reqs[0].Header.Get("Authorization"); a != "Bearer "+secretKey {
			t.Errorf("Authorization: %q", a)
		}
		if ua := reqs[0].Header.Get("User-Agent"); !strings.Contains(ua, "agent-toolkit") {
			t.Errorf("User-Agent %q: not the agent-toolkit's", ua)
		}
	}

	// getUser.
	text, res = call(t, ctx, cs, "getUser", map[string]any{"userId": u.ID})
	if res.IsError || !strings.Contains(text, `"first_name":"Amazing Grace"`) || !strings.Contains(text, "grace@example.com") {
		t.Errorf("getUser: isError %v: %s", res.IsError, text)
	}

	// getUserCount: GET /v1/users/count, the number as text.
	text, res = call(t, ctx, cs, "getUserCount", map[string]any{})
	if res.IsError || strings.TrimSpace(text) != "2" {
		t.Errorf("getUserCount: isError %v: %q", res.IsError, text)
	}

	// updateUserPublicMetadata: PATCH /v1/users/{id}/metadata, deep merge.
	text, res = call(t, ctx, cs, "updateUserPublicMetadata", map[string]any{
		"userId":   u.ID,
		"metadata": map[string]any{"rank": "admiral", "prefs": map[string]any{"theme": nil, "size": 12}},
	})
	if res.IsError {
		t.Errorf("updateUserPublicMetadata: %s", text)
	}
	pub := dir.user(t, u.ID).PublicMetadata
	prefs := mapAt(pub, "prefs")
	// Numbers in stored metadata are json.Number; compare them as text.
	if pub["team"] != "navy" || pub["rank"] != "admiral" || prefs["lang"] != "en" || hasKey(prefs, "theme") || fmt.Sprint(prefs["size"]) != "12" {
		t.Errorf("public_metadata after updateUserPublicMetadata: %v", pub)
	}

	// A denied tool never reaches the directory.
	before = dir.Count()
	res, err := cs.CallTool(ctx, mcpParams("updateUserUnsafeMetadata", map[string]any{"userId": u.ID, "metadata": map[string]any{"x": 1}}))
	if err == nil && !res.IsError {
		t.Errorf("updateUserUnsafeMetadata: want a refusal, got %s", textOf(res))
	} else if err == nil && !strings.Contains(textOf(res), "unsafe metadata is not for agents") {
		t.Errorf("updateUserUnsafeMetadata refusal without the policy's reason: %s", textOf(res))
	}
	if reqs := dir.Since(before); len(reqs) != 0 {
		t.Errorf("a denied tool reached the directory: %v", reqs)
	}
	if um := dir.user(t, u.ID).UnsafeMetadata; len(um) != 0 {
		t.Errorf("unsafe_metadata changed: %v", um)
	}

	// profileImageUrl, in the tool's schema, becomes profile_image_url, which
	// is not an UpdateUser parameter: the directory answers 422
	// form_param_unknown (what live BAPI does is unverified, see
	// clerk-bapi.md §6), and the agent reads "Unprocessable Entity".
	before = dir.Count()
	text, res = call(t, ctx, cs, "updateUser", map[string]any{"userId": u.ID, "profileImageUrl": "https://example.com/grace.png"})
	if !res.IsError || text != "Unprocessable Entity" {
		t.Errorf("updateUser profileImageUrl: isError %v: %q", res.IsError, text)
	}
	if reqs := dir.Since(before); len(reqs) != 1 || reqs[0].Status != 422 || string(reqs[0].Body) != `{"profile_image_url":"https://example.com/grace.png"}` {
		t.Errorf("updateUser profileImageUrl requests: %v", reqs)
	}

	// A directory error comes back as a tool error (the HTTP status text).
	text, res = call(t, ctx, cs, "getUser", map[string]any{"userId": "user_nobody"})
	if !res.IsError || !strings.Contains(text, "Not Found") {
		t.Errorf("getUser unknown: isError %v: %q", res.IsError, text)
	}
}
