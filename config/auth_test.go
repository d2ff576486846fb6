package config

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

const jwtPolicies = "policies:\n  default: {version: \"1\"}\n  support: {version: \"1\"}\n"

func TestAuthForms(t *testing.T) {
	for _, tt := range []struct {
		name, doc string
		auth      string
		jwt       bool
	}{
		{"none", "auth: none\n", "none", false},
		{"grants", "auth: grants\n", "grants", false},
		{"mapping grants", "auth: {grants: true}\n", "grants", false},
		{"jwt only", "auth:\n  jwt: {issuer: https://auth.example.com/, audience: x, jwks_url: https://auth.example.com/jwks}\n", "jwt", true},
		{"both", "auth:\n  grants: true\n  jwt: {issuer: https://auth.example.com/, audience: x, jwks_file: keys.json}\n", "grants", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(jwtPolicies+tt.doc), "/etc/toolgate/c.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if c.Auth != tt.auth || (c.JWT != nil) != tt.jwt {
				t.Fatalf("auth %q, jwt %+v", c.Auth, c.JWT)
			}
		})
	}
}

func TestJWTFields(t *testing.T) {
	doc := jwtPolicies + `listen: 0.0.0.0:8080
auth:
  grants: true
  jwt:
    issuer: https://auth.example.com/
    audience: https://mcp.example.com/mcp
    jwks_file: keys/jwks.json
    jwks_refresh: 10m
    subject_claim: email
    label_claims: {team: groups_team, tenant: org_id}
    policy: support
    algorithms: [ES256, EdDSA]
    resource: https://mcp.example.com/mcp
`
	c, err := Parse([]byte(doc), "/etc/toolgate/c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := &JWT{Issuer: "https://auth.example.com/", Audience: "https://mcp.example.com/mcp",
		JWKSFile: filepath.Join("/etc/toolgate", "keys/jwks.json"), JWKSRefresh: Duration(10 * time.Minute),
		SubjectClaim: "email", LabelClaims: map[string]string{"team": "groups_team", "tenant": "org_id"},
		Policy: "support", Algorithms: []string{"ES256", "EdDSA"}, Resource: "https://mcp.example.com/mcp", Line: 7, Column: 3}
	if !reflect.DeepEqual(c.JWT, want) {
		t.Fatalf("JWT\n got %+v\nwant %+v", c.JWT, want)
	}
	// Defaults.
	c, err = Parse([]byte(jwtPolicies+"auth:\n  jwt: {issuer: http://127.0.0.1:9000, audience: a, jwks_url: http://localhost:9000/jwks}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if j := c.JWT; j.SubjectClaim != "sub" || j.Policy != "default" || j.JWKSRefresh != DefaultJWTRefresh || j.Resource != "" {
		t.Fatalf("defaults: %+v", j)
	}
}

func TestJWTErrors(t *testing.T) {
	const ok = "issuer: https://a.example, audience: x, jwks_url: https://a.example/jwks"
	for _, tt := range []struct {
		name, doc string
		want      []string
	}{
		{"no token at all", "auth: {grants: false}\n", []string{`4:7: auth: accepts no token`}},
		{"unknown auth key", "auth: {grant: true}\n", []string{`4:7: auth: accepts no token`, `4:8: auth: unknown key "grant" (did you mean "grants"?)`}},
		{"empty jwt", "auth:\n  jwt:\n", []string{`5:3: auth.jwt: needs issuer, audience`, `5:3: auth: accepts no token`}},
		{"missing required", "auth:\n  jwt: {subject_claim: sub}\n", []string{
			`5:3: auth.jwt: needs issuer`, `5:3: auth.jwt: needs audience`, `5:3: auth.jwt: needs jwks_url`}},
		{"both key sources", "auth:\n  jwt:\n    issuer: https://a.example\n    audience: x\n    jwks_url: https://a.example/jwks\n    jwks_file: k.json\n",
			[]string{`9:5: auth.jwt.jwks_file: give jwks_url or jwks_file, not both (jwks_url at line 8)`}},
		{"plain http jwks", "auth:\n  jwt: {issuer: https://a.example, audience: x, jwks_url: http://a.example/jwks}\n",
			[]string{`5:59: auth.jwt.jwks_url: http:// is only allowed to a loopback address (127.0.0.1, ::1, localhost), not "a.example": use https://`}},
		{"issuer not a URL", "auth:\n  jwt: {issuer: my-idp, audience: x, jwks_file: k}\n",
			[]string{`5:17: auth.jwt.issuer: "my-idp" is not a valid URL`}},
		{"HS256", "auth:\n  jwt: {" + ok + ", algorithms: [RS256, HS256]}\n",
			[]string{`5:103: auth.jwt.algorithms[1]: "HS256" is never accepted`}},
		{"none alg", "auth:\n  jwt: {" + ok + ", algorithms: [none]}\n",
			[]string{`5:96: auth.jwt.algorithms[0]: "none" is never accepted`}},
		{"unknown policy", "auth:\n  jwt: {" + ok + ", policy: admin}\n",
			[]string{`5:3: auth.jwt.policy: policy "admin" is not in policies`}},
		{"bad label key", "auth:\n  jwt: {" + ok + ", label_claims: {-team: t}}\n",
			[]string{`5:98: auth.jwt.label_claims.-team: label key "-team"`}},
		{"refresh too short", "auth:\n  jwt: {" + ok + ", jwks_refresh: 1s}\n",
			[]string{`5:97: auth.jwt.jwks_refresh: must be at least 30s`}},
		{"resource needed off loopback", "listen: 0.0.0.0:8080\nauth:\n  jwt: {" + ok + "}\n",
			[]string{`6:3: auth.jwt.resource: is required when listen ("0.0.0.0:8080") is not a loopback address`}},
		{"resource with a query", "auth:\n  jwt: {" + ok + ", resource: \"https://m.example/mcp?x=1\"}\n",
			[]string{`5:93: auth.jwt.resource: "https://m.example/mcp?x=1" is not a valid URL`}},
		{"unknown jwt key", "auth:\n  jwt: {" + ok + ", jwks: x}\n",
			[]string{`5:83: auth.jwt: unknown key "jwks"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(jwtPolicies+tt.doc), "c.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", tt.want)
			}
			checkErrors(t, err, tt.want)
		})
	}
}
