package config

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte(""))
	f.Add([]byte("{}"))
	f.Add([]byte(`{"servers": {"a": {"url": "http://x"}}, "policies": {"p": {"version": "1"}}}`))
	f.Add([]byte("servers:\n  a: &x {command: [x]}\n  b: {<<: *x, prefix: b}\n"))
	f.Add([]byte("store: \"sqlite://${HOME}/$$x/${\"\n"))
	f.Add([]byte("policies:\n  p: {max: .inf, n: 0x7fffffffffffffffff}\n"))
	f.Add([]byte("policies: {default: {}}\nauth:\n  grants: true\n  jwt: {issuer: https://a.example, audience: x, jwks_url: https://a.example/k, label_claims: {t: team}, algorithms: [ES256]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "f.yaml")
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v is not a non-empty ErrorList", err)
			}
			for _, e := range list {
				if e.File != "f.yaml" || e.Line < 1 || e.Column < 1 || e.Message == "" {
					t.Fatalf("bad error %#v", e)
				}
			}
			return
		}
		if c == nil {
			t.Fatal("nil config without an error")
		}
		if len(c.ServerNames) != len(c.Servers) {
			t.Fatalf("ServerNames %q vs %d servers", c.ServerNames, len(c.Servers))
		}
		for _, name := range c.ServerNames {
			s := c.Servers[name]
			if (len(s.Command) == 0) == (s.URL == "") {
				t.Fatalf("server %q has neither or both of command and url", name)
			}
		}
		for name, p := range c.Policies {
			if (p.Path == "") == (p.Inline == nil) {
				t.Fatalf("policy %q has neither or both of path and inline", name)
			}
		}
	})
}
