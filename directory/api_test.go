package directory_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/toolgate/toolgate/directory"
)

func TestAuth(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, header string
		status       int
		code         string
	}{
		{"missing", "", 401, "authentication_invalid"},
		{"not bearer", "Basic Zm9vOmJhcg==", 401, "authorization_header_format_invalid"},
		{"empty bearer", "Bearer ", 401, "authorization_header_format_invalid"},
		{"wrong key", "Bearer sk_test_wrong", 401, "clerk_key_invalid"},
		{"first key", "Bearer sk_test_other", 200, ""},
		{"second key", "Bearer " + testSK, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.header != "" {
				h["Authorization"] = tt.header
			}
			r := e.doWith("GET", "/v1/users", nil, h)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			if tt.code != "" {
				if c, _ := r.errCode(t); c != tt.code {
					t.Errorf("code %q, want %q", c, tt.code)
				}
			} else if string(r.body) != "[]" {
				t.Errorf("empty list is %s, want []", r.body)
			}
		})
	}
	// Iterable endpoints take the Api-Key header instead.
	r := e.doWith("GET", "/api/users/getByEmail?email=a@example.com", nil, map[string]string{"Api-Key": "nope"})
	if r.status != 401 || !strings.Contains(string(r.body), `"code":"BadApiKey"`) {
		t.Errorf("iterable bad key: %d %s", r.status, r.body)
	}
	r = e.doWith("GET", "/api/users/getByEmail?email=a@example.com", nil, map[string]string{"Authorization": "Bearer " + testSK})
	if r.status != 401 {
		t.Errorf("iterable with a secret key: %d", r.status)
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/nothing", nil)
	if c, _ := r.errCode(t); r.status != 404 || c != "resource_not_found" {
		t.Errorf("unknown path: %d %s", r.status, r.body)
	}
	r = e.do("PUT", "/v1/users/user_x", nil)
	if c, _ := r.errCode(t); r.status != 405 || c != "method_not_allowed" || !strings.Contains(r.header.Get("Allow"), "PATCH") {
		t.Errorf("wrong method: %d %s %q", r.status, r.body, r.header.Get("Allow"))
	}
	for _, p := range []string{"/v1/users/user_x", "/v1/users/user_x/metadata"} {
		r = e.do("GET", p, nil)
		if p == "/v1/users/user_x/metadata" {
			r = e.do("PATCH", p, `{}`)
		}
		if c, _ := r.errCode(t); r.status != 404 || c != "resource_not_found" || !strings.Contains(string(r.body), "No user was found with id user_x") {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
	for _, p := range []string{"/ban", "/unban", "/lock", "/unlock", "/verify_password"} {
		r = e.do("POST", "/v1/users/user_x"+p, `{"password":"whatever-pass"}`)
		if r.status != 404 {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
	if r = e.do("DELETE", "/v1/users/user_x", nil); r.status != 404 {
		t.Errorf("delete unknown: %d", r.status)
	}
}

func TestCreateUserRules(t *testing.T) {
	e := newEnv(t)
	e.mustUser(map[string]any{"email_address": []string{"taken@example.com"}, "phone_number": []string{"+15555550199"}, "username": "taken_name", "external_id": "taken-ext", "web3_wallet": []string{"0x52908400098527886e0f7030069857d2e4169ee7"}})
	tests := []struct {
		name  string
		body  string
		code  string
		param string
	}{
		{"no identifier", `{"first_name":"X"}`, "form_param_missing", "email_address"},
		{"bad email", `{"email_address":["not-an-email"]}`, "form_param_format_invalid", "email_address"},
		{"bad phone", `{"phone_number":["555-1234"]}`, "form_param_format_invalid", "phone_number"},
		{"bad web3", `{"web3_wallet":["0x123"]}`, "form_param_format_invalid", "web3_wallet"},
		{"email taken other case", `{"email_address":["TAKEN@example.com"]}`, "form_identifier_exists", "email_address"},
		{"phone taken", `{"phone_number":["+15555550199"]}`, "form_identifier_exists", "phone_number"},
		{"web3 taken", `{"web3_wallet":["0x52908400098527886E0F7030069857D2E4169EE7"]}`, "form_identifier_exists", "web3_wallet"},
		{"username taken", `{"username":"taken_name"}`, "form_identifier_exists", "username"},
		{"external id taken", `{"email_address":["x1@example.com"],"external_id":"taken-ext"}`, "form_identifier_exists", "external_id"},
		{"short password", `{"email_address":["x2@example.com"],"password":"1234567"}`, "form_password_length_too_short", "password"},
		{"pwned password", `{"email_address":["x3@example.com"],"password":"12345678"}`, "form_password_pwned", "password"},
		{"unknown field", `{"email_address":["x4@example.com"],"nickname":"x"}`, "form_param_unknown", "nickname"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/v1/users", tt.body)
			code, param := r.errCode(t)
			if r.status != 422 || code != tt.code || param != tt.param {
				t.Errorf("%d %s %s, want 422 %s %s: %s", r.status, code, param, tt.code, tt.param, r.body)
			}
		})
	}
	if n, _ := e.svc.CountUsers(context.Background(), nil); n != 1 {
		t.Errorf("refused creates left %d users", n)
	}
}

func TestUserObjectShape(t *testing.T) {
	e := newEnv(t)
	u := e.mustUser(map[string]any{"email_address": []string{"Shape@Example.com"}, "phone_number": []string{"+15555550100"}, "web3_wallet": []string{"0x52908400098527886e0f7030069857d2e4169ee7"}})
	for _, k := range []string{"object", "id", "external_id", "username", "first_name", "last_name", "locale", "image_url", "profile_image_url",
		"has_image", "primary_email_address_id", "primary_phone_number_id", "primary_web3_wallet_id", "email_addresses", "phone_numbers",
		"web3_wallets", "passkeys", "external_accounts", "saml_accounts", "enterprise_accounts", "password_enabled", "two_factor_enabled",
		"totp_enabled", "backup_code_enabled", "mfa_enabled_at", "mfa_disabled_at", "password_last_updated_at", "public_metadata",
		"private_metadata", "unsafe_metadata", "last_sign_in_at", "last_active_at", "legal_accepted_at", "banned", "locked",
		"deprovisioned", "lockout_expires_in_seconds", "verification_attempts_remaining", "delete_self_enabled",
		"create_organization_enabled", "create_organizations_limit", "bypass_client_trust", "created_at", "updated_at"} {
		if _, ok := u[k]; !ok {
			t.Errorf("user has no %q", k)
		}
	}
	if _, ok := u["deleted"]; ok {
		t.Error(`user has a "deleted" key`)
	}
	if u["object"] != "user" || !strings.HasPrefix(u["id"].(string), "user_") {
		t.Errorf("object/id: %v %v", u["object"], u["id"])
	}
	email := u["email_addresses"].([]any)[0].(map[string]any)
	if email["email_address"] != "shape@example.com" || email["object"] != "email_address" || !strings.HasPrefix(email["id"].(string), "idn_") {
		t.Errorf("email: %v", email)
	}
	for _, o := range []map[string]any{email, u["phone_numbers"].([]any)[0].(map[string]any)} {
		if l, ok := o["linked_to"].([]any); !ok || len(l) != 0 {
			t.Errorf("linked_to is not []: %v", o["linked_to"])
		}
		v := o["verification"].(map[string]any)
		if v["status"] != "verified" || v["strategy"] != "admin" {
			t.Errorf("verification: %v", v)
		}
		if _, ok := o["created_at"].(float64); !ok {
			t.Errorf("created_at not a number: %v", o["created_at"])
		}
	}
	if ts, ok := u["created_at"].(float64); !ok || ts < 1e12 {
		t.Errorf("created_at is not unix ms: %v", u["created_at"])
	}
}

func TestListAndCount(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i, name := range []string{"Carol", "Dave", "Erin", "Frank", "Grace"} {
		u := e.mustUser(map[string]any{
			"email_address": []string{strings.ToLower(name) + "@example.com"},
			"phone_number":  []string{fmt.Sprintf("+1555555020%d", i)},
			"username":      strings.ToLower(name) + "_u", "external_id": fmt.Sprintf("ext-%d", i),
			"first_name": name, "created_at": fmt.Sprintf("2020-01-0%dT00:00:00Z", i+1),
		})
		ids = append(ids, u["id"].(string))
	}
	list := func(q string) []string {
		t.Helper()
		r := e.do("GET", "/v1/users?"+q, nil)
		if r.status != 200 {
			t.Fatalf("list %s: %d %s", q, r.status, r.body)
		}
		var names []string
		for _, u := range decodeArray(t, r.body) {
			names = append(names, u["first_name"].(string))
		}
		return names
	}
	count := func(q string) float64 {
		t.Helper()
		r := e.do("GET", "/v1/users/count?"+q, nil)
		m := r.json(t)
		if r.status != 200 || m["object"] != "total_count" {
			t.Fatalf("count %s: %d %s", q, r.status, r.body)
		}
		return m["total_count"].(float64)
	}
	tests := []struct {
		query string
		want  string
		count float64
	}{
		{"", "Grace,Frank,Erin,Dave,Carol", 5},
		{"order_by=%2Bcreated_at", "Carol,Dave,Erin,Frank,Grace", 5},
		{"order_by=+created_at", "Carol,Dave,Erin,Frank,Grace", 5},
		{"order_by=first_name&order_by=-created_at", "Grace,Frank,Erin,Dave,Carol", 5},
		{"order_by=%2Bemail_address&limit=2&offset=1", "Dave,Erin", 5},
		{"limit=2", "Grace,Frank", 5},
		{"email_address=DAVE@example.com&email_address=erin@example.com", "Erin,Dave", 2},
		{"phone_number=%2B15555550200", "Carol", 1},
		{"username=frank_u", "Frank", 1},
		{"external_id=ext-4", "Grace", 1},
		{"external_id=-ext-4&external_id=-ext-0", "Frank,Erin,Dave", 3},
		{"user_id=" + ids[1], "Dave", 1},
		{"user_id=-" + ids[1] + "&limit=1", "Grace", 4},
		{"query=RIN", "Erin", 1},
		{"query=555020", "Grace,Frank,Erin,Dave,Carol", 5},
		{"name_query=fra", "Frank", 1},
		{"email_address_query=carol", "Carol", 1},
		{"username_query=_u&limit=1&offset=4", "Carol", 5},
		{"query=nobody", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got := strings.Join(list(tt.query), ","); got != tt.want {
				t.Errorf("list = %s, want %s", got, tt.want)
			}
			if got := count(tt.query); got != tt.count {
				t.Errorf("count = %v, want %v", got, tt.count)
			}
		})
	}
	for _, q := range []struct{ q, code, param string }{
		{"limit=0", "form_param_value_invalid", "limit"},
		{"limit=501", "form_param_value_invalid", "limit"},
		{"limit=ten", "form_param_format_invalid", "limit"},
		{"offset=-1", "form_param_value_invalid", "offset"},
		{"order_by=password", "form_param_value_invalid", "order_by"},
		{"banned=maybe", "form_param_format_invalid", "banned"},
		{"created_at_after=yesterday", "form_param_format_invalid", "created_at_after"},
	} {
		r := e.do("GET", "/v1/users?"+q.q, nil)
		code, param := r.errCode(t)
		if r.status != 422 || code != q.code || param != q.param {
			t.Errorf("%s: %d %s %s", q.q, r.status, code, param)
		}
	}
	e.do("POST", "/v1/users/"+ids[0]+"/ban", nil)
	if got := strings.Join(list("banned=true"), ","); got != "Carol" {
		t.Errorf("banned=true: %s", got)
	}
}

func TestMetadataMerge(t *testing.T) {
	e := newEnv(t)
	u := e.mustUser(map[string]any{"email_address": []string{"meta@example.com"},
		"public_metadata": map[string]any{"keep": 1, "drop": 2, "nested": map[string]any{"a": 1, "b": 2}, "fooBar": map[string]any{"bazQux": 1, "x": 1}}})
	id := u["id"].(string)
	r := e.do("PATCH", "/v1/users/"+id+"/metadata", `{"public_metadata":{"drop":null,"nested":{"b":null,"c":3},"fooBar":{"bazQux":null},"new":{"deep":{"x":null,"y":1}}},"private_metadata":{"secretish":true}}`)
	if r.status != 200 {
		t.Fatalf("merge: %d %s", r.status, r.body)
	}
	got := r.json(t)
	want := map[string]any{"keep": 1.0, "nested": map[string]any{"a": 1.0, "c": 3.0}, "fooBar": map[string]any{"x": 1.0}, "new": map[string]any{"deep": map[string]any{"y": 1.0}}}
	if fmt.Sprint(got["public_metadata"]) != fmt.Sprint(want) {
		t.Errorf("public_metadata = %v, want %v", got["public_metadata"], want)
	}
	if fmt.Sprint(got["private_metadata"]) != "map[secretish:true]" {
		t.Errorf("private_metadata = %v", got["private_metadata"])
	}
	// PUT replaces each field sent; null stores an empty object.
	r = e.do("PUT", "/v1/users/"+id+"/metadata", `{"public_metadata":{"only":1},"private_metadata":null}`)
	got = r.json(t)
	if fmt.Sprint(got["public_metadata"]) != "map[only:1]" || fmt.Sprint(got["private_metadata"]) != "map[]" {
		t.Errorf("PUT: %v %v", got["public_metadata"], got["private_metadata"])
	}
	for _, body := range []string{`{"public_metadata":"x"}`, `{"public_metadata":[]}`, `{"other":{}}`} {
		r = e.do("PATCH", "/v1/users/"+id+"/metadata", body)
		if r.status != 422 {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	big := strings.Repeat("x", directory.MaxMetadataBytes/2+1)
	e.do("PATCH", "/v1/users/"+id+"/metadata", map[string]any{"unsafe_metadata": map[string]any{"a": big}})
	r = e.do("PATCH", "/v1/users/"+id+"/metadata", map[string]any{"unsafe_metadata": map[string]any{"b": big}})
	if c, _ := r.errCode(t); r.status != 422 || c != "form_param_exceeds_allowed_size" {
		t.Errorf("merged metadata over the limit: %d %s", r.status, r.body)
	}
}

// TestConcurrentMetadataMerges: 50 concurrent merges of different keys into
// one user lose none.
func TestConcurrentMetadataMerges(t *testing.T) {
	e := newEnv(t)
	id := e.mustUser(map[string]any{"email_address": []string{"busy@example.com"}})["id"].(string)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			r := e.do("PATCH", "/v1/users/"+id+"/metadata", fmt.Sprintf(`{"public_metadata":{"k%02d":%d,"shared":{"k%02d":true}}}`, i, i, i))
			if r.status != 200 {
				errs <- fmt.Sprintf("%d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	u, err := e.svc.GetUser(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	shared, _ := u.PublicMetadata["shared"].(map[string]any)
	if len(u.PublicMetadata) != n+1 || len(shared) != n {
		t.Errorf("kept %d top-level keys and %d nested, want %d and %d", len(u.PublicMetadata)-1, len(shared), n, n)
	}
}

// TestConcurrentCreates: concurrent creates of one email address (in
// different cases), username or external id yield exactly one user.
func TestConcurrentCreates(t *testing.T) {
	tests := []struct {
		name  string
		body  func(i int) map[string]any
		param string
	}{
		{"email", func(i int) map[string]any {
			addr := "race@example.com"
			if i%2 == 1 {
				addr = "RACE@Example.com"
			}
			return map[string]any{"email_address": []string{addr}}
		}, "email_address"},
		{"username", func(i int) map[string]any {
			return map[string]any{"email_address": []string{fmt.Sprintf("u%d@example.com", i)}, "username": "racer"}
		}, "username"},
		{"external_id", func(i int) map[string]any {
			return map[string]any{"email_address": []string{fmt.Sprintf("x%d@example.com", i)}, "external_id": "ext-race"}
		}, "external_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			const n = 20
			var mu sync.Mutex
			ok, exists := 0, 0
			var other []string
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					r := e.do("POST", "/v1/users", tt.body(i))
					mu.Lock()
					defer mu.Unlock()
					switch {
					case r.status == 200:
						ok++
					case r.status == 422 && strings.Contains(string(r.body), `"code":"form_identifier_exists"`) && strings.Contains(string(r.body), `"param_name":"`+tt.param+`"`):
						exists++
					default:
						other = append(other, fmt.Sprintf("%d %s", r.status, r.body))
					}
				})
			}
			wg.Wait()
			if ok != 1 || exists != n-1 || len(other) > 0 {
				t.Errorf("%d created, %d form_identifier_exists, others %v", ok, exists, other)
			}
		})
	}
}

func TestBanLockDelete(t *testing.T) {
	e := newEnv(t)
	id := e.mustUser(map[string]any{"email_address": []string{"b@example.com"}})["id"].(string)
	e.do("POST", "/v1/sessions", map[string]string{"user_id": id})
	steps := []struct {
		path, field string
		want        bool
	}{{"/ban", "banned", true}, {"/unban", "banned", false}, {"/lock", "locked", true}, {"/unlock", "locked", false}}
	for _, s := range steps {
		for _, body := range []any{nil, "null"} { // no body (JS) and null (Go)
			r := e.do("POST", "/v1/users/"+id+s.path, body)
			if r.status != 200 || r.json(t)[s.field] != s.want {
				t.Errorf("%s (%v): %d %s", s.path, body, r.status, r.body)
			}
		}
	}
	sessions := decodeArray(t, e.do("GET", "/v1/sessions?user_id="+id+"&status=active", nil).body)
	if len(sessions) != 0 {
		t.Errorf("ban left %d active sessions", len(sessions))
	}
	r := e.do("DELETE", "/v1/users/"+id, nil)
	if r.status != 200 || string(r.body) != `{"object":"user","id":"`+id+`","deleted":true}` {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/v1/users/"+id, nil)
	if c, _ := r.errCode(t); r.status != 404 || c != "resource_not_found" {
		t.Errorf("after delete: %d %s", r.status, r.body)
	}
}

func TestEmailAddressesAndPhoneNumbers(t *testing.T) {
	e := newEnv(t)
	u := e.mustUser(map[string]any{"email_address": []string{"first@example.com"}})
	id := u["id"].(string)
	first := u["primary_email_address_id"].(string)

	r := e.do("POST", "/v1/email_addresses", map[string]any{"user_id": id, "email_address": "Second@Example.com", "verified": true, "primary": true})
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	second := r.json(t)
	sid := second["id"].(string)
	if second["email_address"] != "second@example.com" || second["object"] != "email_address" {
		t.Errorf("created: %s", r.body)
	}
	if got := e.do("GET", "/v1/users/"+id, nil).json(t)["primary_email_address_id"]; got != sid {
		t.Errorf("primary = %v, want %s", got, sid)
	}
	if r = e.do("GET", "/v1/email_addresses/"+sid, nil); r.status != 200 || r.json(t)["id"] != sid {
		t.Errorf("get: %d %s", r.status, r.body)
	}
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"create for unknown user", "POST", "/v1/email_addresses", map[string]any{"user_id": "user_nope", "email_address": "n@example.com"}, 404, "resource_not_found"},
		{"create without user", "POST", "/v1/email_addresses", map[string]any{"email_address": "n@example.com"}, 422, "form_param_missing"},
		{"create taken", "POST", "/v1/email_addresses", map[string]any{"user_id": id, "email_address": "FIRST@example.com"}, 422, "form_identifier_exists"},
		{"create malformed", "POST", "/v1/email_addresses", map[string]any{"user_id": id, "email_address": "nope"}, 422, "form_param_format_invalid"},
		{"create primary unverified", "POST", "/v1/email_addresses", map[string]any{"user_id": id, "email_address": "p@example.com", "primary": true}, 422, "form_param_value_invalid"},
		{"get unknown", "GET", "/v1/email_addresses/idn_nope", nil, 404, "resource_not_found"},
		{"unverify primary", "PATCH", "/v1/email_addresses/" + sid, `{"verified":false}`, 422, "form_param_value_invalid"},
		{"delete primary with others", "DELETE", "/v1/email_addresses/" + sid, nil, 422, "form_param_value_invalid"},
		{"phone malformed", "POST", "/v1/phone_numbers", map[string]any{"user_id": id, "phone_number": "12"}, 422, "form_param_format_invalid"},
		{"phone unknown", "GET", "/v1/phone_numbers/idn_nope", nil, 404, "resource_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body)
			if c, _ := r.errCode(t); r.status != tt.status || c != tt.code {
				t.Errorf("%d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
		})
	}
	if r = e.do("PATCH", "/v1/email_addresses/"+first, `{"primary":true}`); r.status != 200 {
		t.Errorf("make first primary: %d %s", r.status, r.body)
	}
	if r = e.do("DELETE", "/v1/email_addresses/"+sid, nil); r.status != 200 || string(r.body) != `{"object":"email_address","id":"`+sid+`","deleted":true}` {
		t.Errorf("delete: %d %s", r.status, r.body)
	}

	r = e.do("POST", "/v1/phone_numbers", map[string]any{"user_id": id, "phone_number": "+15555550111"})
	ph := r.json(t)
	pid := ph["id"].(string)
	if ph["object"] != "phone_number" || ph["verification"].(map[string]any)["status"] != "unverified" {
		t.Errorf("phone: %s", r.body)
	}
	if r = e.do("PATCH", "/v1/users/"+id, map[string]any{"primary_phone_number_id": pid}); r.status != 422 {
		t.Errorf("unverified phone made primary: %d", r.status)
	}
	e.do("PATCH", "/v1/phone_numbers/"+pid, `{"verified":true}`)
	if r = e.do("PATCH", "/v1/users/"+id, map[string]any{"primary_phone_number_id": pid}); r.status != 200 || r.json(t)["primary_phone_number_id"] != pid {
		t.Errorf("verified phone as primary: %d %s", r.status, r.body)
	}
	if r = e.do("DELETE", "/v1/phone_numbers/"+pid, nil); r.status != 200 {
		t.Errorf("delete phone: %d %s", r.status, r.body)
	}
	if got := e.do("GET", "/v1/users/"+id, nil).json(t); got["primary_phone_number_id"] != nil || len(got["phone_numbers"].([]any)) != 0 {
		t.Errorf("after phone delete: %v %v", got["primary_phone_number_id"], got["phone_numbers"])
	}
	// The last identifier stays.
	if r = e.do("DELETE", "/v1/email_addresses/"+first, nil); r.status != 422 {
		t.Errorf("deleting the last identifier: %d %s", r.status, r.body)
	}
}

func TestSeed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n, err := directory.Seed(ctx, e.store)
	if err != nil || n < 5 {
		t.Fatalf("Seed = %d, %v", n, err)
	}
	if n2, err := directory.Seed(ctx, e.store); err != nil || n2 != 0 {
		t.Errorf("second Seed = %d, %v", n2, err)
	}
	if err := e.svc.VerifyPassword(ctx, "user_demo_ada", directory.DemoPassword); err != nil {
		t.Errorf("demo password: %v", err)
	}
	users, err := e.svc.ListUsers(ctx, &directory.UserQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range users {
		ids = append(ids, u.ID)
		if u.PrimaryEmailAddressID == nil && u.PrimaryPhoneNumberID == nil {
			t.Errorf("%s has no primary identifier", u.ID)
		}
	}
	sort.Strings(ids)
	if len(ids) != n {
		t.Errorf("ids %v", ids)
	}
	if s, _ := e.svc.ListSessions(ctx, "user_demo_grace", "active"); len(s) != 1 {
		t.Errorf("demo sessions: %d", len(s))
	}
}
