package config

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/toolgate/toolgate/internal/jwtauth"
	"github.com/toolgate/toolgate/internal/outbound"
)

// DefaultJWTRefresh is how often the JWKS is fetched again when the file
// does not say.
const DefaultJWTRefresh = Duration(jwtauth.DefaultRefresh)

// JWT configures JWT bearer tokens (auth: {jwt: {...}}).
type JWT struct {
	// Issuer must equal a token's "iss" claim; it is also the
	// authorization server the resource metadata names.
	Issuer string `json:"issuer"`
	// Audience must be one of a token's "aud" values.
	Audience string `json:"audience"`
	// JWKSURL is where the issuer publishes its keys; JWKSFile a file of
	// them, resolved against the configuration's directory. One is set.
	JWKSURL  string `json:"jwks_url,omitempty"`
	JWKSFile string `json:"jwks_file,omitempty"`
	// JWKSRefresh is how often the key set is fetched again.
	JWKSRefresh Duration `json:"jwks_refresh"`
	// SubjectClaim names the claim that becomes the caller's subject.
	SubjectClaim string `json:"subject_claim"`
	// LabelClaims maps a label key to the claim whose string value
	// becomes that label.
	LabelClaims map[string]string `json:"label_claims,omitempty"`
	// Policy is the named policy that decides every JWT caller's calls.
	Policy string `json:"policy"`
	// Algorithms restricts the accepted signature algorithms; all the
	// asymmetric ones toolgate knows when empty.
	Algorithms []string `json:"algorithms,omitempty"`
	// Resource is the canonical URL of the /mcp endpoint as clients reach
	// it, published in the protected resource metadata; "" derives it
	// from each request's Host (loopback listen addresses only).
	Resource string `json:"resource,omitempty"`
	// Line and Column locate the jwt key in the file.
	Line, Column int `json:"-"`
}

var (
	authKeys = []string{"grants", "jwt"}
	jwtKeys  = []string{"issuer", "audience", "jwks_url", "jwks_file", "jwks_refresh", "subject_claim",
		"label_claims", "policy", "algorithms", "resource"}
	labelKeyRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$`)
)

// auth decodes auth: the string "none" or "grants", or a mapping
// {grants: bool, jwt: {...}}.
func (d *decoder) auth(c *Config, n *yaml.Node) {
	n = d.deref(n)
	if isNull(n) {
		return
	}
	if n.Kind == yaml.ScalarNode {
		if d.str(n, "auth", &c.Auth) && c.Auth != "none" && c.Auth != "grants" {
			d.errorf(n, "auth", "must be \"none\" or \"grants\", not %q", c.Auth)
		}
		return
	}
	ps, ok := d.mapping(n, "auth")
	if !ok {
		return
	}
	grants := false
	for _, p := range ps {
		kp := "auth." + p.key.Value
		switch p.key.Value {
		case "grants":
			if b, ok := d.boolean(p.val, kp); ok {
				grants = b
			}
		case "jwt":
			c.JWT = d.jwt(p.key, p.val, kp)
		default:
			d.unknown(p.key, "auth", authKeys)
		}
	}
	switch {
	case grants:
		c.Auth = "grants"
	case c.JWT != nil:
		c.Auth = "jwt"
	default:
		d.errorf(n, "auth", "accepts no token: set grants: true, configure jwt, or write auth: none")
		c.Auth = "grants" // never run without authentication by mistake
	}
}

// jwt decodes auth.jwt; nil when it is not a mapping.
func (d *decoder) jwt(key, n *yaml.Node, path string) *JWT {
	ps, ok := d.mapping(n, path)
	if !ok || isNull(d.deref(n)) {
		if ok {
			d.errorf(key, path, "needs issuer, audience and jwks_url or jwks_file")
		}
		return nil
	}
	j := &JWT{SubjectClaim: jwtauth.DefaultSubjectClaim, Policy: "default", JWKSRefresh: DefaultJWTRefresh, Line: key.Line, Column: key.Column}
	var urlNode, fileNode *yaml.Node
	for _, p := range ps {
		kp := path + "." + p.key.Value
		v := p.val
		switch p.key.Value {
		case "issuer":
			if d.str(v, kp, &j.Issuer) {
				d.checkHTTPURL(v, kp, j.Issuer, "an issuer identifier such as https://auth.example.com/", true)
			}
		case "audience":
			if d.str(v, kp, &j.Audience) && j.Audience == "" {
				d.errorf(v, kp, "must not be empty")
			}
		case "jwks_url":
			if d.str(v, kp, &j.JWKSURL) {
				urlNode = p.key
				if err := outbound.CheckURL(j.JWKSURL); err != nil {
					d.errorf(v, kp, "%v", err)
				}
			}
		case "jwks_file":
			if d.str(v, kp, &j.JWKSFile) {
				fileNode = p.key
				if j.JWKSFile == "" {
					d.errorf(v, kp, "must be the path of a JWKS file")
				}
			}
		case "jwks_refresh":
			if t, ok := d.duration(v, kp); ok {
				if time.Duration(t) < jwtauth.DefaultMinRefetch {
					d.errorf(v, kp, "must be at least %s", jwtauth.DefaultMinRefetch)
				} else {
					j.JWKSRefresh = t
				}
			}
		case "subject_claim":
			if d.str(v, kp, &j.SubjectClaim) && j.SubjectClaim == "" {
				d.errorf(v, kp, "must name a claim, e.g. sub or email")
			}
		case "label_claims":
			j.LabelClaims = d.strMap(v, kp, func(k *yaml.Node, path string) bool {
				if !labelKeyRE.MatchString(k.Value) {
					d.errorf(k, path, "label key %q: want 1 to 63 letters, digits, '.', '_', '-' or '/', starting and ending with a letter or digit", k.Value)
					return false
				}
				return true
			})
			for k, claim := range j.LabelClaims {
				if claim == "" {
					d.errorf(v, kp+"."+k, "must name a claim")
				}
			}
		case "policy":
			if d.str(v, kp, &j.Policy) && j.Policy == "" {
				d.errorf(v, kp, "must name one of policies")
			}
		case "algorithms":
			j.Algorithms = d.list(v, kp, "algorithms", "an algorithm such as RS256", func(e *yaml.Node, ep, s string) (string, bool) {
				if err := jwtauth.CheckAlgorithm(s); err != nil {
					d.errorf(e, ep, "%v", err)
					return "", false
				}
				return s, true
			})
		case "resource":
			if d.str(v, kp, &j.Resource) {
				d.checkHTTPURL(v, kp, j.Resource, "the URL clients use for /mcp, e.g. https://mcp.example.com/mcp", false)
			}
		default:
			d.unknown(p.key, path, jwtKeys)
		}
	}
	if j.Issuer == "" {
		d.errorf(key, path, "needs issuer: the authorization server's issuer identifier (the iss claim of its tokens)")
	}
	if j.Audience == "" {
		d.errorf(key, path, "needs audience: the aud value tokens for this gateway carry (usually its /mcp URL)")
	}
	switch {
	case urlNode != nil && fileNode != nil:
		d.errorf(fileNode, path+".jwks_file", "give jwks_url or jwks_file, not both (jwks_url at line %d)", urlNode.Line)
	case urlNode == nil && fileNode == nil:
		d.errorf(key, path, "needs jwks_url (where the issuer publishes its keys) or jwks_file")
	}
	return j
}

// checkHTTPURL checks an https URL (http for loopback hosts) without
// credentials, query or fragment; a trailing slash is allowed with slash.
func (d *decoder) checkHTTPURL(n *yaml.Node, path, v, want string, slash bool) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		(u.Scheme != "https" && u.Scheme != "http") || (!slash && strings.HasSuffix(u.Path, "/")) {
		d.errorf(n, path, "%q is not a valid URL (want %s)", v, want)
		return
	}
	if u.Scheme == "http" && !outbound.IsLoopbackHost(u.Hostname()) {
		d.errorf(n, path, "%q must use https (http is allowed for loopback hosts only)", v)
	}
}

// checkJWT checks what auth.jwt says against the rest of the file.
func (d *decoder) checkJWT(c *Config) {
	j := c.JWT
	if j == nil {
		return
	}
	at := &yaml.Node{Line: j.Line, Column: j.Column}
	if _, ok := c.Policies[j.Policy]; !ok {
		d.errorf(at, "auth.jwt.policy", "policy %q is not in policies: every JWT caller's calls are decided by it (set auth.jwt.policy)", j.Policy)
	}
	if j.Resource == "" && !isLoopback(c.Listen) {
		d.errorf(at, "auth.jwt.resource", "is required when listen (%q) is not a loopback address: the URL clients use for /mcp, e.g. https://mcp.example.com/mcp, which the protected resource metadata names", c.Listen)
	}
	j.JWKSFile = c.resolve(j.JWKSFile)
}
