// Package upstreamauth connects toolgate to upstream MCP servers that
// require OAuth (the MCP authorization spec, 2025-11-25): it reads the
// server's 401 challenge, discovers its protected resource metadata
// (RFC 9728) and authorization server metadata (RFC 8414 / OpenID
// discovery), registers a client (pre-registered, a client ID metadata
// document or dynamic registration, RFC 7591), obtains tokens with the
// authorization code grant and PKCE S256 through a loopback redirect, or
// with client credentials, binds them to the server with the resource
// parameter (RFC 8707), and keeps them sealed (AES-256-GCM) in a Store,
// refreshed before they expire and when the server refuses them.
package upstreamauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MaxDocument bounds every document read from an authorization server or
// a protected resource: metadata, registration and token responses.
const MaxDocument = 256 << 10

// maxChallenge bounds the WWW-Authenticate headers read from a server.
const maxChallenge = 8 << 10

// ResourceMetadata is the part of a protected resource metadata document
// (RFC 9728) toolgate uses.
type ResourceMetadata struct {
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	ScopesSupported      []string `json:"scopes_supported"`
}

// ServerMetadata is the part of an authorization server's metadata
// (RFC 8414, OpenID Connect discovery) toolgate uses.
type ServerMetadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	RegistrationEndpoint              string   `json:"registration_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	// TokenEndpointAuthSigningAlgValuesSupported are the algorithms of
	// the client assertions it accepts.
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	ClientIDMetadataDocumentSupported          bool     `json:"client_id_metadata_document_supported"`
}

// tokenResponse is a token endpoint's answer (RFC 6749 section 5.1), or
// its error (section 5.2).
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// registrationResponse is a dynamic registration's answer (RFC 7591).
type registrationResponse struct {
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret"`
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
	Error                   string `json:"error"`
	ErrorDescription        string `json:"error_description"`
}

func decodeDocument(b []byte, v any, what string) error {
	if len(b) > MaxDocument {
		return fmt.Errorf("%s: over %d bytes", what, MaxDocument)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: not a JSON object: %w", what, err)
	}
	return nil
}

// ParseResourceMetadata decodes and checks a protected resource metadata
// document: a resource and at least one authorization server, all
// http(s) URLs.
func ParseResourceMetadata(b []byte) (*ResourceMetadata, error) {
	var m ResourceMetadata
	if err := decodeDocument(b, &m, "protected resource metadata"); err != nil {
		return nil, err
	}
	if err := checkURL(m.Resource, "resource"); err != nil {
		return nil, fmt.Errorf("protected resource metadata: %w", err)
	}
	if len(m.AuthorizationServers) == 0 {
		return nil, errors.New("protected resource metadata names no authorization server")
	}
	for _, s := range m.AuthorizationServers {
		if err := checkURL(s, "authorization_servers"); err != nil {
			return nil, fmt.Errorf("protected resource metadata: %w", err)
		}
	}
	return &m, nil
}

// ParseServerMetadata decodes and checks an authorization server's
// metadata: its endpoints are http(s) URLs and it has a token endpoint.
func ParseServerMetadata(b []byte) (*ServerMetadata, error) {
	var m ServerMetadata
	if err := decodeDocument(b, &m, "authorization server metadata"); err != nil {
		return nil, err
	}
	if err := checkURL(m.TokenEndpoint, "token_endpoint"); err != nil {
		return nil, fmt.Errorf("authorization server metadata: %w", err)
	}
	for name, u := range map[string]string{"authorization_endpoint": m.AuthorizationEndpoint, "registration_endpoint": m.RegistrationEndpoint} {
		if u == "" {
			continue
		}
		if err := checkURL(u, name); err != nil {
			return nil, fmt.Errorf("authorization server metadata: %w", err)
		}
	}
	return &m, nil
}

func parseTokenResponse(b []byte) (*tokenResponse, error) {
	var t tokenResponse
	if err := decodeDocument(b, &t, "token response"); err != nil {
		return nil, err
	}
	if t.Error != "" {
		return nil, &OAuthError{Code: t.Error, Description: truncate(t.ErrorDescription, 200)}
	}
	if t.AccessToken == "" {
		return nil, errors.New("token response holds no access_token")
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
		return nil, fmt.Errorf("token response: token_type %q is not Bearer", truncate(t.TokenType, 32))
	}
	if t.ExpiresIn < 0 {
		t.ExpiresIn = 0
	}
	return &t, nil
}

// OAuthError is an authorization server's error answer.
type OAuthError struct {
	Code        string
	Description string
}

func (e *OAuthError) Error() string {
	if e.Description == "" {
		return "authorization server answered " + truncate(e.Code, 64)
	}
	return "authorization server answered " + truncate(e.Code, 64) + ": " + e.Description
}

func checkURL(s, field string) error {
	if s == "" {
		return fmt.Errorf("%s is missing", field)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q is not an http(s) URL", field, truncate(s, 100))
	}
	if u.User != nil {
		return fmt.Errorf("%s must not hold credentials", field)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Challenge is a server's Bearer challenge (RFC 6750 section 3, RFC 9728
// section 5.1).
type Challenge struct {
	// ResourceMetadata is the URL of the protected resource metadata.
	ResourceMetadata string
	// Scope is the space-separated scopes the server asks for.
	Scope string
	// Error is the error code, such as invalid_token or
	// insufficient_scope.
	Error string
}

// ParseChallenge reads the Bearer challenge among WWW-Authenticate header
// values; ok is false when there is none. Other schemes are skipped.
func ParseChallenge(headers []string) (c Challenge, ok bool) {
	total := 0
	for _, h := range headers {
		total += len(h)
		if total > maxChallenge {
			return Challenge{}, false
		}
		params, found := bearerParams(h)
		if !found {
			continue
		}
		return Challenge{ResourceMetadata: params["resource_metadata"], Scope: params["scope"], Error: params["error"]}, true
	}
	return Challenge{}, false
}

// bearerParams finds the Bearer challenge in one header value and reads its
// auth-params (token or quoted-string values).
func bearerParams(h string) (map[string]string, bool) {
	s := h
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return nil, false
		}
		scheme, rest, _ := strings.Cut(s, " ")
		scheme = strings.TrimRight(scheme, ",")
		if strings.Contains(scheme, "=") {
			// A parameter of a challenge of another scheme: skip it.
			_, s = skipParam(s)
			continue
		}
		if strings.EqualFold(scheme, "Bearer") {
			return readParams(rest), true
		}
		s = rest
	}
}

// skipParam skips one name=value and returns it and what follows.
func skipParam(s string) (string, string) {
	_, rest, ok := strings.Cut(s, "=")
	if !ok {
		return "", ""
	}
	return readValue(strings.TrimLeft(rest, " \t"))
}

func readValue(s string) (string, string) {
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '"':
				return b.String(), s[i+1:]
			default:
				b.WriteByte(s[i])
			}
		}
		return b.String(), ""
	}
	end := strings.IndexAny(s, ", \t")
	if end < 0 {
		return s, ""
	}
	return s[:end], s[end:]
}

// readParams reads the auth-params of one challenge, up to the next
// challenge (a token not followed by '=').
func readParams(s string) map[string]string {
	params := map[string]string{}
	for len(params) < 32 {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexAny(s, " \t,")
		if eq < 0 || (sp >= 0 && sp < eq) {
			break // the next challenge's scheme
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		var val string
		val, s = readValue(strings.TrimLeft(s[eq+1:], " \t"))
		if _, dup := params[name]; !dup {
			params[name] = val
		}
	}
	return params
}
