package approval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		name string
		args map[string]any
		want string
	}{
		{"nil", nil, `{}`},
		{"empty", map[string]any{}, `{}`},
		{"no secrets", map[string]any{"user_id": "u1", "n": 3, "ok": true, "x": nil}, `{"n":3,"ok":true,"user_id":"u1","x":null}`},
		{"password", map[string]any{"password": "hunter2", "user_id": "u1"}, `{"password":"[REDACTED]","user_id":"u1"}`},
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
		{"typed values", map[string]any{"ids": []string{"a", "b"}, "auth": struct {
			Token string `json:"token"`
			User  string `json:"user"`
		}{"t", "u"}}, `{"auth":{"token":"[REDACTED]","user":"u"},"ids":["a","b"]}`},
		{"big number kept exactly", map[string]any{"n": json.Number("12345678901234567890")}, `{"n":12345678901234567890}`},
		{"html not escaped", map[string]any{"q": "<a&b>"}, `{"q":"<a&b>"}`},
		{"values that look secret are kept", map[string]any{"note": "my password is hunter2"}, `{"note":"my password is hunter2"}`},
		{"unencodable", map[string]any{"f": func() {}}, `{"error":"[UNENCODABLE]"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Redact(tc.args)
			if string(got) != tc.want {
				t.Errorf("Redact\n got %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
}

func TestRedactDoesNotModifyArgs(t *testing.T) {
	args := map[string]any{"password": "p", "nested": map[string]any{"token": "t"}}
	Redact(args)
	if fmt.Sprint(args) != "map[nested:map[token:t] password:p]" {
		t.Errorf("args modified: %v", args)
	}
}

func TestIsSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"password": true, "newPassword": true, "SECRET": true, "access_token": true, "tokens": true,
		"api_key": true, "apikey": true, "x-api-key": true, "private_key": true, "digest": true,
		"totp": true, "backup_code": true, "credential": true, "authorization": true, "cookie": true,
		"user_id": false, "name": false, "email_address": false, "key": false, "api": false, "": false, "pass": false,
	} {
		if got := IsSecretKey(key); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}

// FuzzRedact checks that Redact never panics, returns valid JSON, and
// returns the arguments unchanged except that every secret-looking key
// holds "[REDACTED]".
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"password":"hunter2","user_id":"u1"}`,
		`{"a":[{"token":"t"},[{"Api_Key":{"x":1}}]],"b":{"c":{"cookie":null}}}`,
		`{"x":"\u003cscript\u003e","secret":["a",1,true]}`,
		`{"n":1e400,"m":-0.0,"BACKUP-CODES":"c"}`,
		`{"dup":"a","dup":"b","password":"p","password":"q"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var args map[string]any
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		if d.Decode(&args) != nil || args == nil {
			return
		}
		out := Redact(args)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q", out)
		}
		var got any
		d = json.NewDecoder(bytes.NewReader(out))
		d.UseNumber()
		if err := d.Decode(&got); err != nil {
			t.Fatal(err)
		}
		checkRedacted(t, "", args, got)
	})
}

// checkRedacted compares the redacted tree got with the input want.
func checkRedacted(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			t.Fatalf("%s: got %#v, want an object like %#v", path, got, want)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				t.Fatalf("%s: key %q missing", path, k)
			}
			if IsSecretKey(k) {
				if gv != Redacted {
					t.Fatalf("%s/%s: secret value %#v not redacted", path, k, gv)
				}
				continue
			}
			checkRedacted(t, path+"/"+k, wv, gv)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Fatalf("%s: got %#v, want an array like %#v", path, got, want)
		}
		for i := range w {
			checkRedacted(t, fmt.Sprintf("%s/%d", path, i), w[i], g[i])
		}
	default:
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: got %#v, want %#v", path, got, want)
		}
	}
}
