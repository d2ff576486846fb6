package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/directory/secret"
)

// MCPServerName is the serverInfo name of the directory's MCP server.
const MCPServerName = "toolgate-directory"

// prop is one property of a tool's input schema.
type prop struct {
	name, typ, desc string
	extra           map[string]any // more schema keywords (enum, items, format, minimum...)
}

func schemaOf(required []string, props []prop) json.RawMessage {
	ps := map[string]any{}
	for _, p := range props {
		s := map[string]any{"type": p.typ, "description": p.desc}
		for k, v := range p.extra {
			s[k] = v
		}
		ps[p.name] = s
	}
	doc := map[string]any{"type": "object", "properties": ps, "additionalProperties": false}
	if len(required) > 0 {
		doc["required"] = required
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("directory: tool schema: %v", err)) // static data: a programming error
	}
	return b
}

var (
	strList  = map[string]any{"items": map[string]any{"type": "string"}}
	rfc3339  = map[string]any{"format": "date-time"}
	anyProps = map[string]any{"additionalProperties": true}
)

func userIDProp() prop {
	return prop{"user_id", "string", "The ID of the user, e.g. user_2abc...", nil}
}

// updateUserProps are UpdateUser's parameters: Clerk's PATCH /v1/users/{id}
// body, snake_case as on the wire.
func updateUserProps() []prop {
	return []prop{
		userIDProp(),
		{"external_id", "string", "The user's ID in your own systems or a previous authentication provider. Must be unique across the instance.", nil},
		{"first_name", "string", "The first name to give the user.", nil},
		{"last_name", "string", "The last name to give the user.", nil},
		{"username", "string", "The username to give the user. Setting it to an empty string removes the username, which is only allowed while the user keeps another identifier to sign in with; the removed username is deleted for good.", nil},
		{"locale", "string", "The user's locale as a BCP-47 tag, e.g. en-US.", nil},
		{"primary_email_address_id", "string", "The ID of an email address of this user to make primary. The address must be verified.", nil},
		{"notify_primary_email_address_changed", "boolean", "When true, the user is told (by email) that their primary email address changed.", nil},
		{"primary_phone_number_id", "string", "The ID of a phone number of this user to make primary. The number must be verified.", nil},
		{"primary_web3_wallet_id", "string", "The ID of a web3 wallet of this user to make primary. The wallet must be verified.", nil},
		{"profile_image_id", "string", "The ID of an uploaded image to use as the user's profile image.", nil},
		{"password", "string", "A new plaintext password: at least 8 characters and not on any list of breached passwords, unless skip_password_checks is true.", nil},
		{"password_digest", "string", "A password digest to import instead of a plaintext password, made with the algorithm named by password_hasher, in that algorithm's digest format.", nil},
		{"password_hasher", "string", "The algorithm that made password_digest.", map[string]any{"enum": secret.Hashers()}},
		{"skip_password_checks", "boolean", "When true, the password is not checked against the length and breached-password rules.", nil},
		{"sign_out_of_other_sessions", "boolean", "When true (and a password is given), every other active session of the user is signed out once the password changes.", nil},
		{"totp_secret", "string", "A base32 TOTP secret to enable authenticator-app two-factor authentication for the user without enrolling again.", nil},
		{"backup_codes", "array", "Backup codes to enable for the user, plain or as bcrypt digests; they are stored hashed.", strList},
		{"public_metadata", "object", "Metadata readable from the frontend and the backend, not writable from the frontend. Replaces the stored object.", anyProps},
		{"private_metadata", "object", "Metadata readable and writable only from the backend. Replaces the stored object.", anyProps},
		{"unsafe_metadata", "object", "Metadata readable and writable from the frontend and the backend. Replaces the stored object.", anyProps},
		{"delete_self_enabled", "boolean", "When true, the user may delete their own account.", nil},
		{"create_organization_enabled", "boolean", "When true, the user may create organizations.", nil},
		{"create_organizations_limit", "integer", "The most organizations the user may create; 0 means no limit.", map[string]any{"minimum": 0}},
		{"legal_accepted_at", "string", "When the user accepted the legal terms, as an RFC3339 timestamp.", rfc3339},
		{"skip_legal_checks", "boolean", "When true, legal acceptance is not required.", nil},
		{"created_at", "string", "When the user signed up, as an RFC3339 timestamp (e.g. to keep the date of an imported account).", rfc3339},
		{"bypass_client_trust", "boolean", "When true, the user skips the new-device verification step.", nil},
	}
}

func createUserProps() []prop {
	return []prop{
		{"email_address", "array", "Email addresses for the user; the first becomes primary. All are created verified.", strList},
		{"phone_number", "array", "Phone numbers in E.164 format; the first becomes primary.", strList},
		{"username", "string", "The username, unique across the instance.", nil},
		{"external_id", "string", "The user's ID in your own systems; unique across the instance.", nil},
		{"first_name", "string", "First name.", nil},
		{"last_name", "string", "Last name.", nil},
		{"locale", "string", "BCP-47 locale, e.g. en-US.", nil},
		{"password", "string", "Plaintext password: at least 8 characters, not breached, unless skip_password_checks.", nil},
		{"password_digest", "string", "A password digest to import, made with password_hasher.", nil},
		{"password_hasher", "string", "The algorithm that made password_digest.", map[string]any{"enum": secret.Hashers()}},
		{"skip_password_checks", "boolean", "Skip the password length and breached-password checks.", nil},
		{"skip_password_requirement", "boolean", "Create the user without a password.", nil},
		{"public_metadata", "object", "Public metadata.", anyProps},
		{"private_metadata", "object", "Private metadata.", anyProps},
		{"unsafe_metadata", "object", "Unsafe metadata.", anyProps},
	}
}

func queryProps() []prop {
	return []prop{
		{"email_address", "array", "Only users with one of these email addresses.", strList},
		{"phone_number", "array", "Only users with one of these phone numbers.", strList},
		{"username", "array", "Only users with one of these usernames.", strList},
		{"external_id", "array", "Only users with one of these external IDs.", strList},
		{"user_id", "array", "Only users with one of these IDs.", strList},
		{"query", "string", "A case-insensitive partial match over emails, phone numbers, usernames, IDs and names.", nil},
	}
}

func pageProps() []prop {
	return []prop{
		{"limit", "integer", "How many users to return, 1 to 500 (default 10).", map[string]any{"minimum": 1, "maximum": MaxListLimit}},
		{"offset", "integer", "How many users to skip.", map[string]any{"minimum": 0}},
		{"order_by", "string", "The field to order by, with + or - in front (default -created_at).", nil},
	}
}

func ptrBool(b bool) *bool { return &b }

// annotations: Read tools are read-only; of the others, only the ones that
// delete something or take a user's access away are destructive.
func readOnly() *mcp.ToolAnnotations {
	return &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: ptrBool(false)}
}

func write(destructive, idempotent bool) *mcp.ToolAnnotations {
	return &mcp.ToolAnnotations{DestructiveHint: ptrBool(destructive), IdempotentHint: idempotent, OpenWorldHint: ptrBool(false)}
}

// NewMCPServer returns the directory as an MCP server: Clerk-style user
// tools (UpdateUser with every parameter of Clerk's updateUser) and
// Iterable-style update_user / get_user, all over svc.
func NewMCPServer(svc *Service, version string) *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: MCPServerName, Version: version}, &mcp.ServerOptions{
		Instructions: "A Clerk-compatible user directory. Users are identified by user_id (user_...). " +
			"Iterable-style tools identify users by email or userId.",
	})
	m := &mcpTools{svc: svc}
	add := func(t *mcp.Tool, h func(context.Context, map[string]json.RawMessage) (any, error)) {
		srv.AddTool(t, m.handler(h))
	}
	add(&mcp.Tool{Name: "GetUser", Description: "Get one user by ID: profile, email addresses, phone numbers, metadata and status. Secrets are never returned.",
		InputSchema: schemaOf([]string{"user_id"}, []prop{userIDProp()}), Annotations: readOnly()}, m.getUser)
	add(&mcp.Tool{Name: "ListUsers", Description: "List users, newest first unless order_by says otherwise, filtered by identifiers or a search query.",
		InputSchema: schemaOf(nil, append(queryProps(), pageProps()...)), Annotations: readOnly()}, m.listUsers)
	add(&mcp.Tool{Name: "GetUserCount", Description: "Count the users that match the same filters as ListUsers.",
		InputSchema: schemaOf(nil, queryProps()), Annotations: readOnly()}, m.countUsers)
	add(&mcp.Tool{Name: "CreateUser", Description: "Create a user with email addresses, phone numbers, a username, a password or an imported password digest, and metadata.",
		InputSchema: schemaOf(nil, createUserProps()), Annotations: write(false, false)}, m.createUser)
	add(&mcp.Tool{Name: "UpdateUser", Description: "Update a user's attributes. Primary email address, phone number and web3 wallet IDs must be verified identifications of the user. " +
		"A username can be removed (set to \"\") only while another identifier remains. A new password must be at least 8 characters and not breached unless skip_password_checks is true; " +
		"sign_out_of_other_sessions then signs the user out everywhere else. A password digest made by a supported hasher may be imported instead.",
		InputSchema: schemaOf([]string{"user_id"}, updateUserProps()), Annotations: write(false, true)}, m.updateUser)
	add(&mcp.Tool{Name: "UpdateUserMetadata", Description: "Merge metadata into a user's public, private and unsafe metadata: keys are deep-merged, and a key set to null is removed.",
		InputSchema: schemaOf([]string{"user_id"}, []prop{userIDProp(),
			{"public_metadata", "object", "Merged into the public metadata.", anyProps},
			{"private_metadata", "object", "Merged into the private metadata.", anyProps},
			{"unsafe_metadata", "object", "Merged into the unsafe metadata.", anyProps}}), Annotations: write(false, true)}, m.updateMetadata)
	add(&mcp.Tool{Name: "DeleteUser", Description: "Delete a user and everything that belongs to them. This cannot be undone.",
		InputSchema: schemaOf([]string{"user_id"}, []prop{userIDProp()}), Annotations: write(true, true)}, m.deleteUser)
	add(&mcp.Tool{Name: "BanUser", Description: "Ban a user: they are signed out of every session and can no longer sign in.",
		InputSchema: schemaOf([]string{"user_id"}, []prop{userIDProp()}), Annotations: write(true, true)}, m.simple(svc.BanUser))
	add(&mcp.Tool{Name: "UnbanUser", Description: "Lift a user's ban so they can sign in again.",
		InputSchema: schemaOf([]string{"user_id"}, []prop{userIDProp()}), Annotations: write(false, true)}, m.simple(svc.UnbanUser))
	add(&mcp.Tool{Name: "LockUser", Description: "Lock a user out of signing in until they are unlocked.",
		InputSchema: schemaOf([]string{"user_id"}, []prop{userIDProp()}), Annotations: write(true, true)}, m.simple(svc.LockUser))
	add(&mcp.Tool{Name: "UnlockUser", Description: "Unlock a locked user.",
		InputSchema: schemaOf([]string{"user_id"}, []prop{userIDProp()}), Annotations: write(false, true)}, m.simple(svc.UnlockUser))
	add(&mcp.Tool{Name: "VerifyPassword", Description: "Check whether a password is the user's current password.",
		InputSchema: schemaOf([]string{"user_id", "password"}, []prop{userIDProp(), {"password", "string", "The password to check.", nil}}), Annotations: readOnly()}, m.verifyPassword)
	add(&mcp.Tool{Name: "CreateEmailAddress", Description: "Add an email address to a user, optionally verified and primary.",
		InputSchema: schemaOf([]string{"user_id", "email_address"}, []prop{userIDProp(),
			{"email_address", "string", "The email address to add.", map[string]any{"format": "email"}},
			{"verified", "boolean", "Whether the address is verified.", nil},
			{"primary", "boolean", "Whether it becomes the primary address (it must then be verified).", nil}}), Annotations: write(false, false)}, m.createEmail)
	add(&mcp.Tool{Name: "UpdateEmailAddress", Description: "Mark an email address verified or unverified, or make it primary.",
		InputSchema: schemaOf([]string{"email_address_id"}, []prop{
			{"email_address_id", "string", "The ID of the email address (idn_...).", nil},
			{"verified", "boolean", "Whether the address is verified.", nil},
			{"primary", "boolean", "Whether it becomes the primary address.", nil}}), Annotations: write(false, true)}, m.updateEmail)
	add(&mcp.Tool{Name: "update_user", Description: "Update a user profile in the Iterable style, identified by email OR userId; dataFields are merged into the profile.",
		InputSchema: schemaOf(nil, []prop{
			{"email", "string", "The user's email. Give email or userId.", map[string]any{"format": "email"}},
			{"userId", "string", "The user's userId. Give email or userId.", nil},
			{"dataFields", "object", "Profile fields to set; top-level keys replace stored ones.", anyProps},
			{"preferUserId", "boolean", "With userId and no email: create the user when none has that userId.", nil},
			{"mergeNestedObjects", "boolean", "Merge nested objects of dataFields into the stored ones instead of replacing them.", nil}}), Annotations: write(false, true)}, m.iterableUpdate)
	add(&mcp.Tool{Name: "get_user", Description: "Get a user profile in the Iterable style, by email OR userId.",
		InputSchema: schemaOf(nil, []prop{
			{"email", "string", "The user's email.", map[string]any{"format": "email"}},
			{"userId", "string", "The user's userId.", nil}}), Annotations: readOnly()}, m.iterableGet)
	return srv
}

type mcpTools struct{ svc *Service }

// handler adapts a tool function: it decodes the arguments object, runs the
// function and returns its value as JSON text; a directory error becomes an
// isError result carrying Clerk's code, so the agent can read what to fix.
func (m *mcpTools) handler(f func(context.Context, map[string]json.RawMessage) (any, error)) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args := map[string]json.RawMessage{}
		if raw := req.Params.Arguments; len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
			if err := json.Unmarshal(raw, &args); err != nil {
				return errorResult(errBadRequest(CodeRequestBodyInvalid, "The arguments must be a JSON object.")), nil
			}
		}
		v, err := f(ctx, args)
		if err != nil {
			var de *Error
			if errors.As(err, &de) {
				return errorResult(de), nil
			}
			return nil, err // internal: the SDK reports it without detail
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encoding the result: %w", err)
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}}, nil
	}
}

func errorResult(e *Error) *mcp.CallToolResult {
	text := e.Code + ": " + e.LongMessage
	if e.LongMessage == "" {
		text = e.Code + ": " + e.Message
	}
	if e.Param != "" {
		text += " (" + e.Param + ")"
	}
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

// str reads a required string argument.
func str(args map[string]json.RawMessage, name string) (string, error) {
	var s string
	if err := json.Unmarshal(args[name], &s); err != nil || s == "" {
		return "", invalid(CodeParamMissing, name, "%s", name+" is required and must be a non-empty string.")
	}
	return s, nil
}

// rest re-encodes the arguments without the named keys, for the REST body
// decoders, which check every field the way the HTTP API does.
func rest(args map[string]json.RawMessage, drop ...string) []byte {
	out := map[string]json.RawMessage{}
	for k, v := range args {
		out[k] = v
	}
	for _, d := range drop {
		delete(out, d)
	}
	b, _ := json.Marshal(out)
	return b
}

func (m *mcpTools) getUser(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	id, err := str(args, "user_id")
	if err != nil {
		return nil, err
	}
	return m.svc.GetUser(ctx, id)
}

func strs(args map[string]json.RawMessage, name string) ([]string, error) {
	raw, ok := args[name]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return nil, invalid(CodeFormatInvalid, name, "%s", name+" must be a list of strings.")
		}
		list = []string{one}
	}
	return list, nil
}

func (m *mcpTools) query(args map[string]json.RawMessage, paged bool) (*UserQuery, error) {
	q := &UserQuery{}
	var err error
	for _, f := range []struct {
		name string
		dst  *[]string
	}{{"email_address", &q.EmailAddresses}, {"phone_number", &q.PhoneNumbers}, {"username", &q.Usernames},
		{"external_id", &q.ExternalIDs}, {"user_id", &q.UserIDs}} {
		if *f.dst, err = strs(args, f.name); err != nil {
			return nil, err
		}
	}
	if raw, ok := args["query"]; ok && json.Unmarshal(raw, &q.Query) != nil {
		return nil, invalid(CodeFormatInvalid, "query", "%s", "query must be a string.")
	}
	if !paged {
		return q, nil
	}
	q.Limit = 10
	if raw, ok := args["limit"]; ok {
		if json.Unmarshal(raw, &q.Limit) != nil || q.Limit < 1 || q.Limit > MaxListLimit {
			return nil, invalid(CodeValueInvalid, "limit", "limit must be an integer from 1 to %d.", MaxListLimit)
		}
	}
	if raw, ok := args["offset"]; ok {
		if json.Unmarshal(raw, &q.Offset) != nil || q.Offset < 0 {
			return nil, invalid(CodeValueInvalid, "offset", "%s", "offset must be an integer of 0 or more.")
		}
	}
	if raw, ok := args["order_by"]; ok {
		if json.Unmarshal(raw, &q.OrderBy) != nil {
			return nil, invalid(CodeFormatInvalid, "order_by", "%s", "order_by must be a string.")
		}
		field := strings.TrimLeft(q.OrderBy, "+-")
		valid := false
		for _, f := range OrderByFields {
			valid = valid || f == field
		}
		if !valid {
			return nil, invalid(CodeValueInvalid, "order_by", "order_by must be one of %s, with + or - in front.", strings.Join(OrderByFields, ", "))
		}
	}
	return q, nil
}

func (m *mcpTools) listUsers(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	q, err := m.query(args, true)
	if err != nil {
		return nil, err
	}
	users, err := m.svc.ListUsers(ctx, q)
	if err != nil {
		return nil, err
	}
	total, err := m.svc.CountUsers(ctx, &UserQuery{EmailAddresses: q.EmailAddresses, PhoneNumbers: q.PhoneNumbers,
		Usernames: q.Usernames, ExternalIDs: q.ExternalIDs, UserIDs: q.UserIDs, Query: q.Query})
	if err != nil {
		return nil, err
	}
	if users == nil {
		users = []*User{}
	}
	return map[string]any{"data": users, "total_count": total}, nil
}

func (m *mcpTools) countUsers(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	q, err := m.query(args, false)
	if err != nil {
		return nil, err
	}
	n, err := m.svc.CountUsers(ctx, q)
	if err != nil {
		return nil, err
	}
	return map[string]any{"object": "total_count", "total_count": n}, nil
}

func (m *mcpTools) createUser(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	var p CreateUserParams
	if err := json.Unmarshal(rest(args), &p); err != nil {
		return nil, asDirectoryError(err)
	}
	return m.svc.CreateUser(ctx, p)
}

func (m *mcpTools) updateUser(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	id, err := str(args, "user_id")
	if err != nil {
		return nil, err
	}
	var p UpdateUserParams
	if err := json.Unmarshal(rest(args, "user_id"), &p); err != nil {
		return nil, asDirectoryError(err)
	}
	return m.svc.UpdateUser(ctx, id, p)
}

func (m *mcpTools) updateMetadata(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	id, err := str(args, "user_id")
	if err != nil {
		return nil, err
	}
	var p MetadataParams
	if err := json.Unmarshal(rest(args, "user_id"), &p); err != nil {
		return nil, asDirectoryError(err)
	}
	return m.svc.UpdateUserMetadata(ctx, id, p)
}

func (m *mcpTools) deleteUser(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	id, err := str(args, "user_id")
	if err != nil {
		return nil, err
	}
	return m.svc.DeleteUser(ctx, id)
}

func (m *mcpTools) simple(f func(context.Context, string) (*User, error)) func(context.Context, map[string]json.RawMessage) (any, error) {
	return func(ctx context.Context, args map[string]json.RawMessage) (any, error) {
		id, err := str(args, "user_id")
		if err != nil {
			return nil, err
		}
		return f(ctx, id)
	}
}

func (m *mcpTools) verifyPassword(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	id, err := str(args, "user_id")
	if err != nil {
		return nil, err
	}
	pw, err := str(args, "password")
	if err != nil {
		return nil, err
	}
	if err := m.svc.VerifyPassword(ctx, id, pw); err != nil {
		return nil, err
	}
	return map[string]any{"object": "password_verification", "verified": true}, nil
}

func optBool(args map[string]json.RawMessage, name string) (*bool, error) {
	raw, ok := args[name]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, invalid(CodeFormatInvalid, name, "%s", name+" must be true or false.")
	}
	return &b, nil
}

func (m *mcpTools) createEmail(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	id, err := str(args, "user_id")
	if err != nil {
		return nil, err
	}
	addr, err := str(args, "email_address")
	if err != nil {
		return nil, err
	}
	p := CreateIdentifierParams{UserID: id, Value: addr}
	if p.Verified, err = optBool(args, "verified"); err != nil {
		return nil, err
	}
	if p.Primary, err = optBool(args, "primary"); err != nil {
		return nil, err
	}
	return m.svc.CreateEmailAddress(ctx, p)
}

func (m *mcpTools) updateEmail(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	id, err := str(args, "email_address_id")
	if err != nil {
		return nil, err
	}
	var p UpdateIdentifierParams
	if p.Verified, err = optBool(args, "verified"); err != nil {
		return nil, err
	}
	if p.Primary, err = optBool(args, "primary"); err != nil {
		return nil, err
	}
	return m.svc.UpdateEmailAddress(ctx, id, p)
}

func (m *mcpTools) iterableUpdate(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	var p IterableUpdateParams
	if err := json.Unmarshal(rest(args), &p); err != nil {
		return nil, invalid(CodeFormatInvalid, "", "%s", "The arguments do not match update_user's schema: "+err.Error())
	}
	u, err := m.svc.IterableUpdateUser(ctx, p)
	if err != nil {
		return nil, err
	}
	return map[string]any{"msg": "User updated", "code": "Success", "user": IterableView(u)}, nil
}

func (m *mcpTools) iterableGet(ctx context.Context, args map[string]json.RawMessage) (any, error) {
	var email, userID string
	_ = json.Unmarshal(args["email"], &email)
	_ = json.Unmarshal(args["userId"], &userID)
	u, err := m.svc.IterableGetUser(ctx, email, userID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"user": IterableView(u)}, nil
}

// asDirectoryError keeps a decoder's *Error, and reports anything else as
// a malformed body.
func asDirectoryError(err error) error {
	var de *Error
	if errors.As(err, &de) {
		return de
	}
	return errBadRequest(CodeRequestBodyInvalid, "The arguments are not valid: %v", err)
}
