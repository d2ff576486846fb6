package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// FuzzRedact checks that, for any JSON document, JSON returns valid JSON
// that is the input but for masked values, with every member that a key
// name, a value shape or a pointer calls secret masked, and no secret
// value left anywhere in the output.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"password":"hunter2","user_id":"u1"}`,
		`{"user_id":"u1","password":"p4ss-w0rd-1","totp_secret":"JBSWY3DPEHPK3PXP","backup_codes":["a1b2","c3d4"],"password_digest":"$2a$10$abc"}`,
		`{"a":[{"token":"t"},[{"Api_Key":{"x":1}}]],"b":{"c":{"cookie":null}}}`,
		`{"x":"\u003cscript\u003e","secret":["a",1,true]}`,
		`{"n":1e400,"m":-0.0,"BACKUP-CODES":"c"}`,
		`{"dup":"a","dup":"b","password":"p","password":"q"}`,
		`{"profile":{"ssn":"123-45-6789","a/b":{"m~n":"x"}},"list":[0,1,{"x":"tg_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"}]}`,
		`["Bearer abcdefghijklmnopqrstuvwxyz",{"pa\u017f\u017fword":"x"}]`,
		`{"max_tokens":100,"token_count":3,"skip_password_checks":true}`,
		`"postgres://u:p@h/db"`,
	} {
		f.Add([]byte(s))
	}
	r, err := New("/profile/ssn", "/profile/a~1b/m~0n", "/list/1", "/list/2/x", "/0")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in any
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		if d.Decode(&in) != nil {
			if _, err := r.JSON(data); err == nil {
				t.Fatalf("JSON accepted %q, which encoding/json refuses", data)
			}
			return
		}
		if _, err := d.Token(); err == nil {
			return // more than one value
		}
		out, err := r.JSON(data)
		if err != nil {
			t.Fatalf("JSON(%q): %v", data, err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q", out)
		}
		var got any
		d = json.NewDecoder(bytes.NewReader(out))
		d.UseNumber()
		if err := d.Decode(&got); err != nil {
			t.Fatal(err)
		}
		var secrets []string
		checkRedacted(t, "", in, got, r.root, &secrets)
		for _, s := range secrets {
			if bytes.Contains(out, []byte(s)) && !bytes.Contains(nonSecretText(got), []byte(s)) {
				t.Fatalf("the secret %q survives in %s", s, out)
			}
		}
		// Value agrees with JSON.
		vb, err := json.Marshal(r.Value(in))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		d = json.NewDecoder(bytes.NewReader(vb))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(v) != fmt.Sprint(got) {
			t.Fatalf("Value and JSON disagree:\n%v\n%v", v, got)
		}
	})
}

// checkRedacted compares the output tree got with the input want: a
// member a rule calls secret must be the marker (its strings are added to
// secrets), and everything else must be equal.
func checkRedacted(t *testing.T, path string, want, got any, tr *trie, secrets *[]string) {
	t.Helper()
	mask := func(p string, w, g any) {
		if g != Marker {
			t.Fatalf("%s: secret value %#v not masked: %#v", p, w, g)
		}
		collect(w, secrets)
	}
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
			c := tr.child(k)
			p := path + "/" + strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
			if IsSecretKey(k) || (c != nil && c.mask) {
				mask(p, wv, gv)
				continue
			}
			checkRedacted(t, p, wv, gv, c, secrets)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Fatalf("%s: got %#v, want an array like %#v", path, got, want)
		}
		for i := range w {
			c := tr.index(i)
			p := fmt.Sprintf("%s/%d", path, i)
			if c != nil && c.mask {
				mask(p, w[i], g[i])
				continue
			}
			checkRedacted(t, p, w[i], g[i], c, secrets)
		}
	case string:
		if IsSecretValue(w) {
			mask(path, w, got)
			return
		}
		if got != w {
			t.Fatalf("%s: got %#v, want %#v", path, got, want)
		}
	default:
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: got %#v, want %#v", path, got, want)
		}
	}
}

// collect adds the strings of v long enough to be told apart (4 bytes or
// more) to secrets.
func collect(v any, secrets *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			collect(x, secrets)
		}
	case []any:
		for _, x := range v {
			collect(x, secrets)
		}
	case string:
		if len(v) >= 4 {
			*secrets = append(*secrets, v)
		}
	}
}

// nonSecretText returns the JSON of every key and unmasked value of v: a
// secret may legitimately appear there too (the same text under a plain
// key).
func nonSecretText(v any) []byte {
	var b bytes.Buffer
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				b.WriteString(k + "\x00")
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if v != Marker {
				b.WriteString(v + "\x00")
			}
		default:
			fmt.Fprint(&b, v, "\x00")
		}
	}
	walk(v)
	return b.Bytes()
}
