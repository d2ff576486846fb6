package directory_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/directory"
	"github.com/toolgate/toolgate/directory/secret"
)

// fixture holds the users the rule tests update.
type fixture struct {
	*env
	alice, bob, lonely   string
	aliceUnverifiedEmail string
	alicePhoneUnverified string
	bobEmail             string
}

func newFixture(t *testing.T) *fixture {
	e := newEnv(t)
	f := &fixture{env: e}
	alice := e.mustUser(map[string]any{"email_address": []string{"alice@example.com"}, "first_name": "Alice", "password": "a-long-unique-pass"})
	f.alice = alice["id"].(string)
	r := e.do("POST", "/v1/email_addresses", map[string]any{"user_id": f.alice, "email_address": "alice.unverified@example.com"})
	if r.status != 200 {
		t.Fatalf("create email: %d %s", r.status, r.body)
	}
	f.aliceUnverifiedEmail = r.json(t)["id"].(string)
	r = e.do("POST", "/v1/phone_numbers", map[string]any{"user_id": f.alice, "phone_number": "+15555550123"})
	if r.status != 200 {
		t.Fatalf("create phone: %d %s", r.status, r.body)
	}
	f.alicePhoneUnverified = r.json(t)["id"].(string)
	bob := e.mustUser(map[string]any{"email_address": []string{"bob@example.com"}, "username": "bobby", "external_id": "ext-bob"})
	f.bob = bob["id"].(string)
	f.bobEmail = bob["primary_email_address_id"].(string)
	lonely := e.mustUser(map[string]any{"username": "lonely_user"})
	f.lonely = lonely["id"].(string)
	return f
}

// TestUpdateUserRules sends each rule a bad value and checks Clerk's code,
// status and param_name.
func TestUpdateUserRules(t *testing.T) {
	f := newFixture(t)
	big := strings.Repeat("x", directory.MaxMetadataBytes)
	tests := []struct {
		name       string
		user       string // "" = alice
		body       any
		header     map[string]string
		wantStatus int
		wantCode   string
		wantParam  string
	}{
		{"password too short", "", `{"password":"short"}`, nil, 422, "form_password_length_too_short", "password"},
		{"password breached", "", `{"password":"password"}`, nil, 422, "form_password_pwned", "password"},
		{"password breached any case", "", `{"password":"PASSWORD"}`, nil, 422, "form_password_pwned", "password"},
		{"skip_password_checks without password", "", `{"skip_password_checks":true}`, nil, 422, "form_param_missing", "password"},
		{"sign_out_of_other_sessions without password", "", `{"sign_out_of_other_sessions":true}`, nil, 422, "form_param_missing", "password"},
		{"password with password_digest", "", `{"password":"a-long-unique-pass","password_digest":"5f4dcc3b5aa765d61d8327deb882cf99","password_hasher":"md5"}`, nil, 422, "form_param_value_invalid", "password_digest"},
		{"password_digest without hasher", "", `{"password_digest":"5f4dcc3b5aa765d61d8327deb882cf99"}`, nil, 422, "form_param_missing", "password_hasher"},
		{"password_hasher without digest", "", `{"password_hasher":"md5"}`, nil, 422, "form_param_missing", "password_digest"},
		{"unknown hasher", "", `{"password_digest":"abc","password_hasher":"rot13"}`, nil, 422, "form_param_value_invalid", "password_hasher"},
		{"malformed bcrypt digest", "", `{"password_digest":"$2a$10$short","password_hasher":"bcrypt"}`, nil, 422, "form_param_format_invalid", "password_digest"},
		{"malformed md5 digest", "", `{"password_digest":"nothex","password_hasher":"md5"}`, nil, 422, "form_param_format_invalid", "password_digest"},
		{"malformed awscognito digest", "", `{"password_digest":"awscognito#x","password_hasher":"awscognito"}`, nil, 422, "form_param_format_invalid", "password_digest"},
		{"primary email unknown", "", `{"primary_email_address_id":"idn_nope"}`, nil, 422, "form_param_value_invalid", "primary_email_address_id"},
		{"primary email of another user", "", map[string]any{"primary_email_address_id": f.bobEmail}, nil, 422, "form_param_value_invalid", "primary_email_address_id"},
		{"primary email unverified", "", map[string]any{"primary_email_address_id": f.aliceUnverifiedEmail}, nil, 422, "form_param_value_invalid", "primary_email_address_id"},
		{"primary phone unverified", "", map[string]any{"primary_phone_number_id": f.alicePhoneUnverified}, nil, 422, "form_param_value_invalid", "primary_phone_number_id"},
		{"primary web3 wallet unknown", "", `{"primary_web3_wallet_id":"idn_nope"}`, nil, 422, "form_param_value_invalid", "primary_web3_wallet_id"},
		{"username too short", "", `{"username":"abc"}`, nil, 422, "form_username_invalid_length", "username"},
		{"username bad character", "", `{"username":"al ice!"}`, nil, 422, "form_username_invalid_character", "username"},
		{"username taken", "", `{"username":"bobby"}`, nil, 422, "form_identifier_exists", "username"},
		{"username taken other case", "", `{"username":"BOBBY"}`, nil, 422, "form_identifier_exists", "username"},
		{"username removed when only identifier (empty)", f.lonely, `{"username":""}`, nil, 422, "form_param_value_invalid", "username"},
		{"username removed when only identifier (null)", f.lonely, `{"username":null}`, nil, 422, "form_param_value_invalid", "username"},
		{"external_id taken", "", `{"external_id":"ext-bob"}`, nil, 422, "form_identifier_exists", "external_id"},
		{"created_at not RFC3339", "", `{"created_at":"yesterday"}`, nil, 422, "form_param_format_invalid", "created_at"},
		{"created_at in the future", "", `{"created_at":"2999-01-01T00:00:00Z"}`, nil, 422, "form_param_value_invalid", "created_at"},
		{"legal_accepted_at not RFC3339", "", `{"legal_accepted_at":"2012-10-20"}`, nil, 422, "form_param_format_invalid", "legal_accepted_at"},
		{"locale not BCP-47", "", `{"locale":"not a locale!"}`, nil, 422, "form_param_format_invalid", "locale"},
		{"totp_secret not base32", "", `{"totp_secret":"not-base32!!"}`, nil, 422, "form_param_format_invalid", "totp_secret"},
		{"backup_codes empty", "", `{"backup_codes":[]}`, nil, 422, "form_param_value_invalid", "backup_codes"},
		{"backup_codes empty code", "", `{"backup_codes":[""]}`, nil, 422, "form_param_value_invalid", "backup_codes"},
		{"backup_codes not strings", "", `{"backup_codes":[1,2]}`, nil, 422, "form_param_format_invalid", "backup_codes"},
		{"create_organizations_limit negative", "", `{"create_organizations_limit":-1}`, nil, 422, "form_param_value_invalid", "create_organizations_limit"},
		{"create_organizations_limit not integer", "", `{"create_organizations_limit":1.5}`, nil, 422, "form_param_format_invalid", "create_organizations_limit"},
		{"public_metadata not an object", "", `{"public_metadata":"x"}`, nil, 422, "form_param_format_invalid", "public_metadata"},
		{"private_metadata an array", "", `{"private_metadata":[1]}`, nil, 422, "form_param_format_invalid", "private_metadata"},
		{"unsafe_metadata too large", "", map[string]any{"unsafe_metadata": map[string]any{"k": big}}, nil, 422, "form_param_exceeds_allowed_size", "unsafe_metadata"},
		{"metadata on PATCH with 2026-05-12", "", `{"public_metadata":{"a":1}}`, map[string]string{"Clerk-API-Version": "2026-05-12"}, 422, "form_param_deprecated", "public_metadata"},
		{"first_name not a string", "", `{"first_name":123}`, nil, 422, "form_param_format_invalid", "first_name"},
		{"skip_password_checks not a boolean", "", `{"skip_password_checks":"yes"}`, nil, 422, "form_param_format_invalid", "skip_password_checks"},
		{"unknown parameter", "", `{"profile_image_url":"https://x"}`, nil, 422, "form_param_unknown", "profile_image_url"},
		{"malformed JSON", "", `{"first_name":`, nil, 400, "request_body_invalid", ""},
		{"body not an object", "", `[1,2]`, nil, 400, "request_body_invalid", ""},
		{"trailing data", "", `{} {}`, nil, 400, "request_body_invalid", ""},
		{"too deep", "", `{"public_metadata":` + strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100) + `}`, nil, 400, "request_body_invalid", ""},
		{"oversized body", "", `{"first_name":"` + strings.Repeat("a", directory.DefaultMaxBodyBytes) + `"}`, nil, 400, "request_body_too_large", ""},
		{"unknown user", "user_doesnotexist", `{"first_name":"X"}`, nil, 404, "resource_not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.user
			if id == "" {
				id = f.alice
			}
			h := map[string]string{"Authorization": "Bearer " + testSK}
			for k, v := range tt.header {
				h[k] = v
			}
			r := f.doWith("PATCH", "/v1/users/"+id, tt.body, h)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			code, param := r.errCode(t)
			if code != tt.wantCode || param != tt.wantParam {
				t.Errorf("code %q param %q, want %q %q: %s", code, param, tt.wantCode, tt.wantParam, r.body)
			}
		})
	}
	// Nothing above changed alice.
	u, err := f.svc.GetUser(context.Background(), f.alice)
	if err != nil {
		t.Fatal(err)
	}
	if *u.FirstName != "Alice" || u.Username != nil || u.TOTPEnabled() || len(u.PublicMetadata) != 0 {
		t.Errorf("a refused update changed the user: %+v", u)
	}
	if err := f.svc.VerifyPassword(context.Background(), f.alice, "a-long-unique-pass"); err != nil {
		t.Errorf("password changed: %v", err)
	}
}

// TestUpdateUserEffects checks what each accepted parameter does.
func TestUpdateUserEffects(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	patch := func(t *testing.T, id string, body any) map[string]any {
		t.Helper()
		r := f.do("PATCH", "/v1/users/"+id, body)
		if r.status != 200 {
			t.Fatalf("PATCH: %d %s", r.status, r.body)
		}
		if strings.Contains(string(r.body), "digest") || strings.Contains(string(r.body), "totp_secret") {
			t.Errorf("secret field in response: %s", r.body)
		}
		return r.json(t)
	}
	verify := func(id, pw string) (int, string) {
		r := f.do("POST", "/v1/users/"+id+"/verify_password", map[string]string{"password": pw})
		if r.status == 200 {
			if string(r.body) != `{"verified":true}` {
				t.Errorf("verify_password body %s", r.body)
			}
			return 200, ""
		}
		c, _ := r.errCode(t)
		return r.status, c
	}

	t.Run("names, locale, times, flags", func(t *testing.T) {
		u := patch(t, f.alice, `{"first_name":"Alicia","last_name":"Liddell","locale":"en-us","created_at":"2012-10-20T07:15:20.902Z",
			"legal_accepted_at":"2013-01-02T03:04:05Z","delete_self_enabled":false,"create_organization_enabled":false,
			"create_organizations_limit":0,"skip_legal_checks":true,"bypass_client_trust":true,"external_id":"ext-alice","profile_image_id":"img_1"}`)
		want := map[string]any{"first_name": "Alicia", "last_name": "Liddell", "locale": "en-US", "created_at": 1350717320902.0,
			"legal_accepted_at": 1357095845000.0, "delete_self_enabled": false, "create_organization_enabled": false,
			"create_organizations_limit": 0.0, "bypass_client_trust": true, "external_id": "ext-alice", "has_image": true}
		for k, v := range want {
			if u[k] != v {
				t.Errorf("%s = %v, want %v", k, u[k], v)
			}
		}
		u = patch(t, f.alice, `{"last_name":null,"external_id":""}`)
		if u["last_name"] != nil || u["external_id"] != nil {
			t.Errorf("null/empty did not clear: %v %v", u["last_name"], u["external_id"])
		}
	})

	t.Run("password, skip_password_checks, sign_out_of_other_sessions", func(t *testing.T) {
		for range 2 {
			if r := f.do("POST", "/v1/sessions", map[string]string{"user_id": f.alice}); r.status != 200 {
				t.Fatalf("create session: %d %s", r.status, r.body)
			}
		}
		u := patch(t, f.alice, `{"password":"another-unique-pass","sign_out_of_other_sessions":true}`)
		if u["password_enabled"] != true || u["password_last_updated_at"] == nil {
			t.Errorf("password not enabled: %v", u)
		}
		r := f.do("GET", "/v1/sessions?user_id="+f.alice, nil)
		var n, revoked int
		for _, s := range decodeArray(t, r.body) {
			n++
			if s["status"] == "revoked" {
				revoked++
			}
		}
		if n != 2 || revoked != 2 {
			t.Errorf("sessions: %d, revoked %d; want 2 and 2: %s", n, revoked, r.body)
		}
		if s, c := verify(f.alice, "another-unique-pass"); s != 200 {
			t.Errorf("verify new password: %d %s", s, c)
		}
		if s, c := verify(f.alice, "a-long-unique-pass"); s != 422 || c != "form_password_incorrect" {
			t.Errorf("old password: %d %s", s, c)
		}
		patch(t, f.alice, `{"password":"short","skip_password_checks":true}`)
		if s, _ := verify(f.alice, "short"); s != 200 {
			t.Errorf("skip_password_checks password not set")
		}
		patch(t, f.alice, `{"password":"password","skip_password_checks":true}`)
		if s, _ := verify(f.alice, "password"); s != 200 {
			t.Errorf("breached password with skip_password_checks not set")
		}
		if s, c := verify(f.lonely, "whatever1"); s != 422 || c != "form_password_not_set" {
			t.Errorf("user without password: %d %s", s, c)
		}
		if s, c := verify("user_nope", "whatever1"); s != 404 || c != "resource_not_found" {
			t.Errorf("unknown user: %d %s", s, c)
		}
	})

	t.Run("password_digest", func(t *testing.T) {
		bc, err := secret.HashPassword("imported-bcrypt-pw")
		if err != nil {
			t.Fatal(err)
		}
		m := md5.Sum([]byte("imported-md5-pw"))
		s := sha256.Sum256([]byte("imported-sha-pw"))
		tests := []struct{ hasher, digest, plain string }{
			{"bcrypt", bc, "imported-bcrypt-pw"},
			{"md5", hex.EncodeToString(m[:]), "imported-md5-pw"},
			{"sha256", hex.EncodeToString(s[:]), "imported-sha-pw"},
		}
		for _, tt := range tests {
			patch(t, f.alice, map[string]any{"password_digest": tt.digest, "password_hasher": tt.hasher})
			if s, c := verify(f.alice, tt.plain); s != 200 {
				t.Errorf("%s: verify: %d %s", tt.hasher, s, c)
			}
			if s, c := verify(f.alice, tt.plain+"x"); s != 422 || c != "form_password_incorrect" {
				t.Errorf("%s: wrong password: %d %s", tt.hasher, s, c)
			}
		}
		patch(t, f.alice, `{"password_digest":"awscognito#us-east-1_AbC123#client1#alice@example.com","password_hasher":"awscognito"}`)
		if s, c := verify(f.alice, "anything-at-all"); s != 422 || c != "form_password_pending_migration" {
			t.Errorf("awscognito: %d %s", s, c)
		}
	})

	t.Run("primary email with notification", func(t *testing.T) {
		r := f.do("PATCH", "/v1/email_addresses/"+f.aliceUnverifiedEmail, `{"verified":true}`)
		if r.status != 200 {
			t.Fatalf("verify email: %d %s", r.status, r.body)
		}
		u := patch(t, f.alice, map[string]any{"primary_email_address_id": f.aliceUnverifiedEmail, "notify_primary_email_address_changed": true})
		if u["primary_email_address_id"] != f.aliceUnverifiedEmail {
			t.Errorf("primary not changed: %v", u["primary_email_address_id"])
		}
		r = f.do("GET", "/v1/outbox?user_id="+f.alice, nil)
		out := decodeArray(t, r.body)
		if len(out) != 1 || out[0]["kind"] != "primary_email_address_changed" || out[0]["to"] != "alice@example.com" {
			t.Fatalf("outbox: %s", r.body)
		}
		data := out[0]["data"].(map[string]any)
		if data["new_email_address"] != "alice.unverified@example.com" {
			t.Errorf("outbox data: %v", data)
		}
		// Same primary again: nothing changes, nothing is recorded.
		patch(t, f.alice, map[string]any{"primary_email_address_id": f.aliceUnverifiedEmail, "notify_primary_email_address_changed": true})
		if out := decodeArray(t, f.do("GET", "/v1/outbox?user_id="+f.alice, nil).body); len(out) != 1 {
			t.Errorf("outbox grew without a change: %d", len(out))
		}
	})

	t.Run("username set and removed", func(t *testing.T) {
		u := patch(t, f.alice, `{"username":"Alice_L"}`)
		if u["username"] != "alice_l" {
			t.Errorf("username %v", u["username"])
		}
		u = patch(t, f.alice, `{"username":null}`)
		if u["username"] != nil {
			t.Errorf("username not removed: %v", u["username"])
		}
	})

	t.Run("totp and backup codes", func(t *testing.T) {
		const totp = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
		bcode, err := secret.HashBackupCode("pre-hashed-code")
		if err != nil {
			t.Fatal(err)
		}
		u := patch(t, f.alice, map[string]any{"totp_secret": totp, "backup_codes": []string{"code-one", "code-two", bcode}})
		if u["totp_enabled"] != true || u["backup_code_enabled"] != true || u["two_factor_enabled"] != true {
			t.Errorf("mfa flags: %v %v %v", u["totp_enabled"], u["backup_code_enabled"], u["two_factor_enabled"])
		}
		code, err := secret.TOTPCode(totp, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			code, want string
			status     int
		}{{code, "totp", 200}, {"code-two", "backup_code", 200}, {"pre-hashed-code", "backup_code", 200},
			{"code-two", "", 422}, {"000000x", "", 422}} {
			r := f.do("POST", "/v1/users/"+f.alice+"/verify_totp", map[string]string{"code": tc.code})
			if r.status != tc.status {
				t.Errorf("verify_totp %q: %d %s", tc.code, r.status, r.body)
				continue
			}
			if tc.status == 200 && r.json(t)["code_type"] != tc.want {
				t.Errorf("verify_totp %q: %s", tc.code, r.body)
			}
		}
		// The secrets are stored hashed (backup codes) and never returned.
		u2, err := f.svc.GetUser(ctx, f.alice)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range u2.Secrets.BackupCodes {
			if !strings.HasPrefix(h, "$2") {
				t.Errorf("backup code not hashed: %q", h)
			}
		}
		body := f.do("GET", "/v1/users/"+f.alice, nil).body
		if strings.Contains(string(body), totp) || strings.Contains(string(body), "code-one") || strings.Contains(string(body), "$2") {
			t.Errorf("secret in GET response: %s", body)
		}
	})

	t.Run("metadata on PATCH replaces (2025-04-10)", func(t *testing.T) {
		patch(t, f.alice, `{"public_metadata":{"a":1,"b":{"c":2}}}`)
		u := patch(t, f.alice, `{"public_metadata":{"b":{"d":3}},"private_metadata":{"p":true}}`)
		pub := u["public_metadata"].(map[string]any)
		if _, ok := pub["a"]; ok || len(pub) != 1 {
			t.Errorf("public_metadata not replaced: %v", pub)
		}
	})
}

func decodeArray(t testing.TB, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := jsonUnmarshal(b, &out); err != nil {
		t.Fatalf("not a JSON array: %v: %s", err, b)
	}
	return out
}
