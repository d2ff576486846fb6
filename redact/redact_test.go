package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestIsSecretKey(t *testing.T) {
	for _, tc := range []struct {
		keys []string
		want bool
	}{
		// The list, in every case and separator style.
		{[]string{"password", "PASSWORD", "Password", "pAsSwOrD", "newPassword", "new_password", "current-password", "password_confirmation", "passwords"}, true},
		{[]string{"password_digest", "passwordDigest", "PASSWORD_DIGEST", "PASSWORDDIGEST", "password_hash", "password.hash"}, true},
		{[]string{"totp_secret", "totpSecret", "TOTP-SECRET", "totp", "totp_seed", "totp_uri", "hotp"}, true},
		{[]string{"backup_codes", "backupCodes", "BACKUP-CODES", "backup_code", "recovery_codes"}, true},
		{[]string{"secret", "SECRET", "client_secret", "clientSecret", "webhook_secret", "secret_key", "secretKey", "secrets"}, true},
		{[]string{"token", "access_token", "refresh_token", "id_token", "accessToken", "X-Auth-Token", "csrf_token", "tokens", "device_tokens", "token_value"}, true},
		{[]string{"api_key", "apiKey", "ApiKey", "APIKey", "API_KEY", "api-key", "x-api-key", "X-Api-Key", "apikey", "api_key_hash"}, true},
		{[]string{"authorization", "Authorization", "Proxy-Authorization", "X-Authorization", "authorization_code"}, true},
		{[]string{"private_key", "privateKey", "private_key_pem", "ssh_private_key", "signing_key", "encryption_key", "master_key", "aws_secret_access_key"}, true},
		{[]string{"passphrase", "passwd", "passcode", "credential", "credentials", "Credentials", "credentials_json", "cookie", "Set-Cookie", "cookies"}, true},
		{[]string{"pin", "PIN", "card_pin", "pinCode", "pin_code", "otp", "otp_code", "cvv", "cvc", "cvv2", "bearer", "mnemonic", "seed_phrase"}, true},
		// Unicode case folding: the Kelvin sign folds to k, the long s to s.
		// (Go's encoding/json binds "paſſword" to a field named Password.)
		{[]string{"pa\u017f\u017fword", "PA\u017f\u017fWORD", "api_\u212aey", "api\u212aey", "to\u212aen", "\u212a\u212a_to\u212aen"}, true},
		// A fullwidth letter folds to no ASCII letter, and no decoder takes
		// it for one.
		{[]string{"\uff50assword", "passw\u00f6rd"}, false},
		// Separators that are not letters or digits vanish: marks, invisible characters.
		{[]string{"pass\u200bword", "pass word", "pass.word", "pass\u0301word", "__password__"}, true},
		// Not secrets: counts, flags, settings, names of things.
		{[]string{"token_count", "tokenCount", "max_tokens", "maxTokens", "prompt_tokens", "completion_tokens", "num_tokens", "tokenizer"}, false},
		{[]string{"password_enabled", "skip_password_checks", "skip_password_requirement", "password_length", "min_password_length", "password_changed_at", "password_hasher"}, false},
		{[]string{"token_type", "token_url", "token_endpoint", "secret_name", "token_expires_at", "totp_enabled", "backup_code_enabled"}, false},
		{[]string{"user_id", "name", "email_address", "key", "api", "", "pass", "digest", "email_digest", "secretary", "spin", "pinned", "code", "country_code", "aws_access_key_id", "cookie_consent", "note", "passwordless"}, false},
	} {
		for _, k := range tc.keys {
			if got := IsSecretKey(k); got != tc.want {
				t.Errorf("IsSecretKey(%q) = %v, want %v", k, got, tc.want)
			}
		}
	}
}

func TestIsSecretValue(t *testing.T) {
	const body = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde" // 43 base64url characters
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"tg_" + body, true},
		{"tga_" + body, true},
		{"token is tg_" + body + ", keep it", true},
		{"sk_live_" + body, true},
		{"ghp_" + body[:36], true},
		{"xoxb-" + body, true},
		{jwt, true},
		{"id " + jwt + " end", true},
		{"Bearer " + body, true},
		{"bearer " + body, true},
		{"Authorization: BEARER " + body, true},
		{"Basic dXNlcjpodW50ZXIy", true}, // user:hunter2
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----", true},
		{"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----", true},
		{"postgres://app:hunter2@db.internal:5432/app", true},
		{"see https://user:pw@example.com/x", true},

		{"", false},
		{"hunter2", false},
		{"my password is hunter2", false},
		{"tg_short", false},
		{"xtg_" + body, false}, // not at a boundary
		{"tg_" + body[:10], false},
		{"the bearer of good news", false},
		{"Basic questions about billing", false},
		{"Basic aGVsbG8=", false}, // "hello": no colon
		{"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", false},
		{"https://example.com/a@b", false},
		{"https://user@example.com/", false},
		{"mailto:a:b@example.com", false},
		{"eyJhbGciOiJIUzI1NiJ9 and nothing", false},
		{"user_1234567890abcdefghij", false},
	} {
		if got := IsSecretValue(tc.v); got != tc.want {
			t.Errorf("IsSecretValue(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args map[string]any
		want string
	}{
		{"nil", nil, `{}`},
		{"empty", map[string]any{}, `{}`},
		{"no secrets", map[string]any{"user_id": "u1", "n": 3, "ok": true, "x": nil}, `{"n":3,"ok":true,"user_id":"u1","x":null}`},
		{"password", map[string]any{"password": "hunter2", "user_id": "u1"}, `{"password":"[REDACTED]","user_id":"u1"}`},
		{"update user", map[string]any{"user_id": "u1", "password": "p", "totp_secret": "t", "backup_codes": []any{"a", "b"}, "password_digest": "$2a$10$x", "skip_password_checks": false},
			`{"backup_codes":"[REDACTED]","password":"[REDACTED]","password_digest":"[REDACTED]","skip_password_checks":false,"totp_secret":"[REDACTED]","user_id":"u1"}`},
		{"case and separators", map[string]any{
			"API_KEY": "k1", "apiKey": "k2", "Api-Key": "k3", "privateKey": "pk", "private_key_pem": "pem",
			"X-Authorization": "Bearer t", "Set-Cookie": "c", "backup_codes": []any{"a", "b"}, "backupCodes": "c",
			"totp_secret": "s", "password_digest": "d", "refresh_token": "r", "Credentials": "c", "client_secret": "s",
		}, `{"API_KEY":"[REDACTED]","Api-Key":"[REDACTED]","Credentials":"[REDACTED]","Set-Cookie":"[REDACTED]","X-Authorization":"[REDACTED]","apiKey":"[REDACTED]","backupCodes":"[REDACTED]","backup_codes":"[REDACTED]","client_secret":"[REDACTED]","password_digest":"[REDACTED]","privateKey":"[REDACTED]","private_key_pem":"[REDACTED]","refresh_token":"[REDACTED]","totp_secret":"[REDACTED]"}`},
		{"secret object replaced whole", map[string]any{"credentials": map[string]any{"user": "a", "pass": "b"}}, `{"credentials":"[REDACTED]"}`},
		{"nested object", map[string]any{"user": map[string]any{"name": "a", "password": "p", "meta": map[string]any{"token": 1}}},
			`{"user":{"meta":{"token":"[REDACTED]"},"name":"a","password":"[REDACTED]"}}`},
		{"array of objects", map[string]any{"users": []any{map[string]any{"id": "u1", "secret": "s1"}, map[string]any{"id": "u2", "Secret": nil}, "plain", 4}},
			`{"users":[{"id":"u1","secret":"[REDACTED]"},{"Secret":"[REDACTED]","id":"u2"},"plain",4]}`},
		{"nested arrays", map[string]any{"a": []any{[]any{map[string]any{"cookie": "c", "v": []any{}}}}}, `{"a":[[{"cookie":"[REDACTED]","v":[]}]]}`},
		{"typed values", map[string]any{"ids": []string{"a", "b"}, "n": 7, "auth": struct {
			Token string `json:"token"`
			User  string `json:"user"`
		}{"t", "u"}}, `{"auth":{"token":"[REDACTED]","user":"u"},"ids":["a","b"],"n":7}`},
		{"typed map", map[string]any{"headers": map[string]string{"Authorization": "x", "Accept": "y"}}, `{"headers":{"Accept":"y","Authorization":"[REDACTED]"}}`},
		{"floats as encoding/json writes them", map[string]any{"a": 1.5, "b": 1e21, "c": 1e-7, "d": math.Copysign(0, -1), "e": 123456789.0, "f": 3.0},
			`{"a":1.5,"b":1e+21,"c":1e-7,"d":-0,"e":123456789,"f":3}`},
		{"big number kept exactly", map[string]any{"n": json.Number("12345678901234567890")}, `{"n":12345678901234567890}`},
		{"html not escaped", map[string]any{"q": "<a&b>"}, `{"q":"<a&b>"}`},
		{"escapes", map[string]any{"q\"": "a\"b\\c\n\t\x01\u2028\xff"}, `{"q\"":"a\"b\\c\n\t\u0001\u2028\ufffd"}`},
		{"value shapes", map[string]any{"note": "Bearer abcdefghijklmnopqrstuvwxyz", "dsn": "postgres://a:b@h/db"}, `{"dsn":"[REDACTED]","note":"[REDACTED]"}`},
		{"values that look secret but have no shape are kept", map[string]any{"note": "my password is hunter2"}, `{"note":"my password is hunter2"}`},
		{"unencodable", map[string]any{"f": func() {}}, Unencodable},
		{"NaN", map[string]any{"f": nanValue()}, Unencodable},
		{"invalid number", map[string]any{"n": json.Number("12abc")}, Unencodable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Args(tc.args)
			if string(got) != tc.want {
				t.Errorf("Args\n got %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

// Args writes what encoding/json writes, but for what it masks.
func TestArgsMatchesEncodingJSON(t *testing.T) {
	args := map[string]any{"s": "a\u00e9\U0001F600<>&'\"\\/\x00\x1f\x7f", "f": []any{0.1, 1e20, 1e-6, 5e-324, 1.7976931348623157e308, -12.5},
		"m": map[string]any{"z": nil, "a": true, "k\u00e9": []any{}}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(args); err != nil {
		t.Fatal(err)
	}
	if got, want := string(Args(args)), strings.TrimSuffix(buf.String(), "\n"); got != want {
		t.Errorf("Args\n got %s\nwant %s", got, want)
	}
}

func TestArgsDoesNotModifyArgs(t *testing.T) {
	args := map[string]any{"password": "p", "nested": map[string]any{"token": "t"}, "list": []any{map[string]any{"secret": "s"}}}
	r, err := New("/nested")
	if err != nil {
		t.Fatal(err)
	}
	Args(args)
	r.Args(args)
	Value(args)
	r.Value(args)
	if fmt.Sprint(args) != "map[list:[map[secret:s]] nested:map[token:t] password:p]" {
		t.Errorf("args modified: %v", args)
	}
}

func TestPointers(t *testing.T) {
	args := func() map[string]any {
		return map[string]any{
			"user_id": "u1",
			"profile": map[string]any{"ssn": "123-45-6789", "name": "Ada", "a/b": "slash", "m~n": "tilde", "": "empty"},
			"phones":  []any{"555-0100", "555-0101", map[string]any{"n": "555-0102"}},
			"note":    "plain",
			"n":       42,
		}
	}
	for _, tc := range []struct {
		name     string
		pointers []string
		want     string
	}{
		{"none", nil, `{"n":42,"note":"plain","phones":["555-0100","555-0101",{"n":"555-0102"}],"profile":{"":"empty","a/b":"slash","m~n":"tilde","name":"Ada","ssn":"123-45-6789"},"user_id":"u1"}`},
		{"top level and nested", []string{"/note", "/profile/ssn"}, `{"n":42,"note":"[REDACTED]","phones":["555-0100","555-0101",{"n":"555-0102"}],"profile":{"":"empty","a/b":"slash","m~n":"tilde","name":"Ada","ssn":"[REDACTED]"},"user_id":"u1"}`},
		{"a whole object, and inside it too", []string{"/profile/name", "/profile"}, `{"n":42,"note":"plain","phones":["555-0100","555-0101",{"n":"555-0102"}],"profile":"[REDACTED]","user_id":"u1"}`},
		{"~1 is slash, ~0 is tilde, empty token", []string{"/profile/a~1b", "/profile/m~0n", "/profile/"}, `{"n":42,"note":"plain","phones":["555-0100","555-0101",{"n":"555-0102"}],"profile":{"":"[REDACTED]","a/b":"[REDACTED]","m~n":"[REDACTED]","name":"Ada","ssn":"123-45-6789"},"user_id":"u1"}`},
		{"array indexes", []string{"/phones/1", "/phones/2/n"}, `{"n":42,"note":"plain","phones":["555-0100","[REDACTED]",{"n":"[REDACTED]"}],"profile":{"":"empty","a/b":"slash","m~n":"tilde","name":"Ada","ssn":"123-45-6789"},"user_id":"u1"}`},
		{"a number", []string{"/n"}, `{"n":"[REDACTED]","note":"plain","phones":["555-0100","555-0101",{"n":"555-0102"}],"profile":{"":"empty","a/b":"slash","m~n":"tilde","name":"Ada","ssn":"123-45-6789"},"user_id":"u1"}`},
		{"missing, past the end, leading zero, dash, into a string, into a number", []string{"/nope", "/profile/nope/x", "/phones/3", "/phones/01", "/phones/-", "/note/0", "/user_id/x", "/n/0"},
			`{"n":42,"note":"plain","phones":["555-0100","555-0101",{"n":"555-0102"}],"profile":{"":"empty","a/b":"slash","m~n":"tilde","name":"Ada","ssn":"123-45-6789"},"user_id":"u1"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.pointers...)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(r.Args(args())); got != tc.want {
				t.Errorf("Args\n got %s\nwant %s", got, tc.want)
			}
			// Value agrees with Args.
			v := r.Value(args())
			b, _ := json.Marshal(v)
			if string(b) != tc.want {
				t.Errorf("Value\n got %s\nwant %s", b, tc.want)
			}
			if got := r.Pointers(); !reflect.DeepEqual(got, tc.pointers) && len(tc.pointers)+len(got) > 0 {
				t.Errorf("Pointers() = %q", got)
			}
		})
	}
}

func TestParsePointer(t *testing.T) {
	for _, tc := range []struct {
		p    string
		want []string
		err  string
	}{
		{"/a", []string{"a"}, ""},
		{"/a/0/b", []string{"a", "0", "b"}, ""},
		{"/a~1b/m~0n", []string{"a/b", "m~n"}, ""},
		{"/~01", []string{"~1"}, ""}, // ~0 first: "~01" is "~1", not "/"
		{"/", []string{""}, ""},
		{"//", []string{"", ""}, ""},
		{"", nil, "whole arguments"},
		{"password", nil, `must start with "/"`},
		{"/a~", nil, `"~" must be followed by 0`},
		{"/a~2", nil, `"~" must be followed by 0`},
	} {
		got, err := ParsePointer(tc.p)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePointer(%q) error %v, want %q", tc.p, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParsePointer(%q) = %q, %v; want %q", tc.p, got, err, tc.want)
		}
	}
	if _, err := New("/ok", "bad"); err == nil {
		t.Error("New accepted a bad pointer")
	}
	if r, err := New(); r != nil || err != nil {
		t.Errorf("New() = %v, %v; want the nil default", r, err)
	}
}

func TestJSON(t *testing.T) {
	r, err := New("/profile/ssn")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{`{"b":1,"a":{"password":"x"},"profile":{"ssn":"1"}}`, `{"a":{"password":"[REDACTED]"},"b":1,"profile":{"ssn":"[REDACTED]"}}`, false},
		{`[{"token":"t"},"x",1.50,null]`, `[{"token":"[REDACTED]"},"x",1.50,null]`, false}, // the number as written
		{`"tg_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"`, `"[REDACTED]"`, false},
		{`12`, `12`, false},
		{`{"password":"a","password":"b"}`, `{"password":"[REDACTED]"}`, false},
		{`{"a":`, ``, true},
		{`{} {}`, ``, true},
		{``, ``, true},
	} {
		got, err := r.JSON([]byte(tc.in))
		if (err != nil) != tc.err || string(got) != tc.want {
			t.Errorf("JSON(%s) = %s, %v; want %s (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// Nesting deeper than MaxDepth is masked, not walked; so is a cycle.
func TestDepthBound(t *testing.T) {
	deep := any("tail")
	for range MaxDepth + 10 {
		deep = map[string]any{"a": deep}
	}
	out := string(Args(map[string]any{"x": deep}))
	if !json.Valid([]byte(out)) || strings.Contains(out, "tail") || !strings.Contains(out, Marker) {
		t.Errorf("deep input: %.200s...", out)
	}
	if n := strings.Count(out, `{"a":`); n != MaxDepth {
		t.Errorf("%d levels written, want %d", n, MaxDepth)
	}
	cyc := map[string]any{"name": "loop"}
	cyc["self"] = cyc
	cyc["list"] = []any{cyc}
	if out := Args(cyc); !json.Valid(out) {
		t.Errorf("cycle: invalid JSON")
	}
	if v, ok := Value(cyc).(map[string]any); !ok || v["name"] != "loop" {
		t.Errorf("cycle: Value = %v", v)
	}
	// A deep array through JSON: encoding/json refuses more than 10000 levels.
	raw := strings.Repeat("[", 300) + `"tg_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"` + strings.Repeat("]", 300)
	got, err := JSON([]byte(raw))
	if err != nil || strings.Contains(string(got), "tg_") || !json.Valid(got) {
		t.Errorf("deep array: %v %.100s", err, got)
	}
}

// A large input is handled in one pass, every secret in it masked.
func TestLargeInput(t *testing.T) {
	users := make([]any, 50_000)
	for i := range users {
		users[i] = map[string]any{"id": fmt.Sprint("u", i), "password": fmt.Sprint("pw-", i), "tags": []any{"a", "b"}}
	}
	out := Args(map[string]any{"users": users})
	if bytes.Contains(out, []byte("pw-")) || !json.Valid(out) {
		t.Fatal("a password survived, or invalid JSON")
	}
	if n := bytes.Count(out, []byte(Marker)); n != len(users) {
		t.Errorf("%d markers, want %d", n, len(users))
	}
}

func TestValue(t *testing.T) {
	in := map[string]any{"a": map[string]any{"b": "x"}, "c": []any{"y", map[string]any{"token": "t"}}}
	out := Value(in).(map[string]any)
	// Unchanged parts are shared, changed parts copied.
	if reflect.ValueOf(out["a"]).Pointer() != reflect.ValueOf(in["a"]).Pointer() {
		t.Error("an unchanged object was copied")
	}
	if got := out["c"].([]any)[1].(map[string]any)["token"]; got != Marker {
		t.Errorf("token = %v", got)
	}
	if in["c"].([]any)[1].(map[string]any)["token"] != "t" {
		t.Error("input modified")
	}
	for _, v := range []any{nil, "plain", 1.5, true, json.Number("1"), []any{}, "Bearer abcdefghijklmnopqrstuvwxyz"} {
		want := v
		if s, ok := v.(string); ok && IsSecretValue(s) {
			want = Marker
		}
		if got := Value(v); !reflect.DeepEqual(got, want) {
			t.Errorf("Value(%#v) = %#v", v, got)
		}
	}
}
