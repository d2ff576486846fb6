package directory_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/directory"
	"github.com/toolgate/toolgate/directory/secret"
)

// mcpEnv is a directory over a fresh SQLite database, its MCP server and a
// go-sdk client connected to it in memory.
func mcpEnv(t *testing.T) (*directory.Service, *mcp.ClientSession) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	store, err := directory.Open(ctx, filepath.Join(t.TempDir(), "directory.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := directory.NewService(store, nil)
	srv := directory.NewMCPServer(svc, "test")
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return svc, cs
}

func callJSON(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (map[string]any, string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	text := res.Content[0].(*mcp.TextContent).Text
	var m map[string]any
	if !res.IsError {
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			t.Fatalf("%s: result is not JSON: %s", name, text)
		}
	}
	return m, text, res.IsError
}

func TestMCPToolsList(t *testing.T) {
	_, cs := mcpEnv(t)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tools := map[string]*mcp.Tool{}
	for _, tl := range res.Tools {
		tools[tl.Name] = tl
	}
	for _, name := range []string{"GetUser", "ListUsers", "GetUserCount", "CreateUser", "UpdateUser", "UpdateUserMetadata",
		"DeleteUser", "BanUser", "UnbanUser", "LockUser", "UnlockUser", "VerifyPassword", "CreateEmailAddress",
		"UpdateEmailAddress", "update_user", "get_user"} {
		if tools[name] == nil {
			t.Errorf("missing tool %s", name)
		}
	}
	// UpdateUser carries every parameter of Clerk's updateUser, snake_case.
	b, _ := json.Marshal(tools["UpdateUser"].InputSchema)
	var schema struct {
		Properties map[string]struct {
			Description string   `json:"description"`
			Enum        []string `json:"enum"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"user_id", "external_id", "first_name", "last_name", "username", "locale", "primary_email_address_id",
		"notify_primary_email_address_changed", "primary_phone_number_id", "primary_web3_wallet_id", "profile_image_id",
		"password", "password_digest", "password_hasher", "skip_password_checks", "sign_out_of_other_sessions", "totp_secret",
		"backup_codes", "public_metadata", "private_metadata", "unsafe_metadata", "delete_self_enabled",
		"create_organization_enabled", "create_organizations_limit", "legal_accepted_at", "created_at"} {
		if schema.Properties[p].Description == "" {
			t.Errorf("UpdateUser lacks a described %s", p)
		}
	}
	if len(schema.Properties["password_hasher"].Enum) != len(secret.Hashers()) {
		t.Errorf("password_hasher enum has %d hashers, want %d", len(schema.Properties["password_hasher"].Enum), len(secret.Hashers()))
	}
	if strings.Join(schema.Required, ",") != "user_id" {
		t.Errorf("required = %v", schema.Required)
	}
	// Annotations say what each tool does.
	for name, want := range map[string][2]bool{ // readOnly, destructive
		"GetUser": {true, false}, "ListUsers": {true, false}, "UpdateUser": {false, false}, "DeleteUser": {false, true}, "update_user": {false, false},
	} {
		a := tools[name].Annotations
		destructive := a.DestructiveHint == nil || *a.DestructiveHint
		if a.ReadOnlyHint {
			destructive = false
		}
		if a.ReadOnlyHint != want[0] || destructive != want[1] {
			t.Errorf("%s: readOnly=%v destructive=%v, want %v", name, a.ReadOnlyHint, destructive, want)
		}
	}
}

func TestMCPUpdateUser(t *testing.T) {
	svc, cs := mcpEnv(t)
	ctx := context.Background()
	u, text, isErr := callJSON(t, cs, "CreateUser", map[string]any{"email_address": []string{"ada@example.com"}, "first_name": "Ada", "password": "correct horse battery staple"})
	if isErr {
		t.Fatalf("CreateUser: %s", text)
	}
	id := u["id"].(string)

	// Every refusal names Clerk's code.
	for _, tc := range []struct {
		args map[string]any
		code string
	}{
		{map[string]any{"password": "short"}, "form_password_length_too_short"},
		{map[string]any{"password": "password"}, "form_password_pwned"},
		{map[string]any{"locale": "not a locale!"}, "form_param_format_invalid"},
		{map[string]any{"create_organizations_limit": -1}, "form_param_value_invalid"},
		{map[string]any{"password_digest": "nope", "password_hasher": "bcrypt"}, "form_param_format_invalid"},
		{map[string]any{"no_such_param": 1}, "form_param_unknown"},
	} {
		args := map[string]any{"user_id": id}
		for k, v := range tc.args {
			args[k] = v
		}
		_, text, isErr := callJSON(t, cs, "UpdateUser", args)
		if !isErr || !strings.HasPrefix(text, tc.code) {
			t.Errorf("UpdateUser %v: isError=%v %q, want code %s", tc.args, isErr, text, tc.code)
		}
	}
	if _, text, isErr := callJSON(t, cs, "GetUser", map[string]any{"user_id": "user_nope"}); !isErr || !strings.HasPrefix(text, "resource_not_found") {
		t.Errorf("unknown user: %q", text)
	}

	// A valid update, with a TOTP secret whose codes then verify.
	totp := "JBSWY3DPEHPK3PXPJBSWY3DP"
	u, text, isErr = callJSON(t, cs, "UpdateUser", map[string]any{"user_id": id, "last_name": "Lovelace", "totp_secret": totp,
		"skip_password_checks": true, "password": "password", "public_metadata": map[string]any{"plan": "pro"}})
	if isErr {
		t.Fatalf("UpdateUser: %s", text)
	}
	if u["last_name"] != "Lovelace" || u["totp_enabled"] != true || strings.Contains(text, totp) || strings.Contains(text, `"password"`) {
		t.Errorf("updated user: %s", text)
	}
	code, err := secret.TOTPCode(totp, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.VerifyTOTP(ctx, id, code); err != nil {
		t.Errorf("a code from the TOTP secret does not verify: %v", err)
	}
	if _, text, isErr := callJSON(t, cs, "VerifyPassword", map[string]any{"user_id": id, "password": "password"}); isErr {
		t.Errorf("VerifyPassword: %s", text)
	}
	// Metadata merges; null removes a key.
	u, _, _ = callJSON(t, cs, "UpdateUserMetadata", map[string]any{"user_id": id, "public_metadata": map[string]any{"seats": 3, "plan": nil}})
	if pm := u["public_metadata"].(map[string]any); pm["seats"] != float64(3) || pm["plan"] != nil {
		t.Errorf("metadata merge: %v", pm)
	}
	// Iterable-style, by email then by userId.
	if _, text, isErr := callJSON(t, cs, "update_user", map[string]any{"email": "ada@example.com", "dataFields": map[string]any{"favoriteColor": "green"}}); isErr {
		t.Fatalf("update_user: %s", text)
	}
	got, text, isErr := callJSON(t, cs, "get_user", map[string]any{"email": "ada@example.com"})
	if isErr || !strings.Contains(text, "green") {
		t.Fatalf("get_user: %s", text)
	}
	_ = got
	// ListUsers and the count agree.
	list, _, _ := callJSON(t, cs, "ListUsers", map[string]any{"query": "ada"})
	if list["total_count"] != float64(1) {
		t.Errorf("ListUsers: %v", list)
	}
	if _, text, isErr := callJSON(t, cs, "ListUsers", map[string]any{"order_by": "-shoe_size"}); !isErr || !strings.HasPrefix(text, "form_param_value_invalid") {
		t.Errorf("bad order_by: %q", text)
	}
	if _, text, isErr := callJSON(t, cs, "DeleteUser", map[string]any{"user_id": id}); isErr || !strings.Contains(text, `"deleted": true`) {
		t.Errorf("DeleteUser: %s", text)
	}
}
