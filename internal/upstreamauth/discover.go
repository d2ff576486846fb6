package upstreamauth

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Discovery is what toolgate learnt of a protected server: the resource
// its tokens are for, its authorization server and the scopes to ask.
type Discovery struct {
	// Resource is the resource indicator sent with every authorization
	// and token request (RFC 8707): the protected resource metadata's
	// resource, which is the server's URL or a prefix of it.
	Resource string
	// Issuer is the authorization server's issuer.
	Issuer string
	// Server is the authorization server's metadata.
	Server *ServerMetadata
	// Scopes are the scopes to request, from the challenge, else the
	// resource's scopes_supported; empty means none is sent.
	Scopes []string
}

// getDocument fetches url with GET and returns its body, at most
// MaxDocument bytes; found is false for a 4xx answer (the document is not
// there).
func getDocument(ctx context.Context, hc *http.Client, u string) (body []byte, found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 4 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxDocument+1))
	if err != nil {
		return nil, false, fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > MaxDocument {
		return nil, false, fmt.Errorf("GET %s: document over %d bytes", u, MaxDocument)
	}
	return body, true, nil
}

// Probe sends the server an unauthenticated initialize request and
// returns its Bearer challenge, if it answered 401 with one.
func Probe(ctx context.Context, hc *http.Client, serverURL string) (Challenge, bool, error) {
	body := []byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"toolgate","version":"probe"}}}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serverURL, bytes.NewReader(body))
	if err != nil {
		return Challenge{}, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		return Challenge{}, false, fmt.Errorf("reaching %s: %w", serverURL, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
		// The server opened a session for the probe: end it.
		if del, err := http.NewRequestWithContext(ctx, http.MethodDelete, serverURL, nil); err == nil {
			del.Header.Set("Mcp-Session-Id", sid)
			if r, err := hc.Do(del); err == nil {
				r.Body.Close()
			}
		}
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return Challenge{}, false, nil
	}
	c, ok := ParseChallenge(resp.Header.Values("WWW-Authenticate"))
	return c, ok, nil
}

// resourceMetadataURLs are where a server's protected resource metadata
// may be, in the order the MCP spec gives: the challenge's
// resource_metadata, then the well-known URI with the server URL's path,
// then at the root.
func resourceMetadataURLs(serverURL string, c Challenge) []string {
	var urls []string
	if c.ResourceMetadata != "" {
		urls = append(urls, c.ResourceMetadata)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return urls
	}
	base := url.URL{Scheme: u.Scheme, Host: u.Host}
	if p := strings.Trim(u.Path, "/"); p != "" {
		base.Path = "/.well-known/oauth-protected-resource/" + p
		urls = append(urls, base.String())
	}
	base.Path = "/.well-known/oauth-protected-resource"
	return append(urls, base.String())
}

// serverMetadataURLs are where an issuer's metadata may be, in the order
// the MCP spec gives: OAuth with path insertion, OpenID with path
// insertion, OpenID with path appending; for an issuer without a path,
// OAuth then OpenID at the root.
func serverMetadataURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	base := url.URL{Scheme: u.Scheme, Host: u.Host}
	p := strings.Trim(u.Path, "/")
	if p == "" {
		base.Path = "/.well-known/oauth-authorization-server"
		a := base.String()
		base.Path = "/.well-known/openid-configuration"
		return []string{a, base.String()}
	}
	var urls []string
	for _, path := range []string{"/.well-known/oauth-authorization-server/" + p, "/.well-known/openid-configuration/" + p, "/" + p + "/.well-known/openid-configuration"} {
		base.Path = path
		urls = append(urls, base.String())
	}
	return urls
}

// Canonical is the form of a server URL toolgate compares resources in:
// scheme and host lowercased, no fragment, no trailing slash.
func Canonical(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	u.RawFragment = ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

// covers reports whether a token for resource may be sent to serverURL:
// the same origin, and resource's path is the server's or a parent of it.
func covers(resource, serverURL string) bool {
	r, err1 := url.Parse(Canonical(resource))
	s, err2 := url.Parse(Canonical(serverURL))
	if err1 != nil || err2 != nil || r.Scheme != s.Scheme || r.Host != s.Host {
		return false
	}
	return r.Path == "" || s.Path == r.Path || strings.HasPrefix(s.Path, r.Path+"/")
}

// Discover finds the authorization server of the MCP server at serverURL,
// starting from its challenge c (the zero Challenge when it gave none).
// A server without protected resource metadata is taken to be its own
// authorization server (the 2025-03-26 spec), whose endpoints default to
// /authorize, /token and /register at its origin.
func Discover(ctx context.Context, hc *http.Client, serverURL string, c Challenge) (*Discovery, error) {
	d := &Discovery{}
	var prm *ResourceMetadata
	for _, u := range resourceMetadataURLs(serverURL, c) {
		body, found, err := getDocument(ctx, hc, u)
		if err != nil {
			return nil, fmt.Errorf("protected resource metadata: %w", err)
		}
		if !found {
			continue
		}
		if prm, err = ParseResourceMetadata(body); err != nil {
			return nil, err
		}
		break
	}
	if prm != nil {
		if !covers(prm.Resource, serverURL) {
			return nil, fmt.Errorf("the protected resource metadata is for %q, not for %s: refusing to get a token for another resource", truncate(prm.Resource, 200), serverURL)
		}
		d.Resource = prm.Resource
		d.Issuer = prm.AuthorizationServers[0]
	} else {
		u, err := url.Parse(serverURL)
		if err != nil {
			return nil, fmt.Errorf("server URL: %w", err)
		}
		d.Resource = serverURL
		d.Issuer = (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
	}
	for _, u := range serverMetadataURLs(d.Issuer) {
		body, found, err := getDocument(ctx, hc, u)
		if err != nil {
			return nil, fmt.Errorf("authorization server metadata: %w", err)
		}
		if !found {
			continue
		}
		m, err := ParseServerMetadata(body)
		if err != nil {
			return nil, err
		}
		// The issuer named by protected resource metadata must be the one
		// the document speaks for (RFC 8414 section 3.3). Without such
		// metadata (the 2025-03-26 spec) the server's origin publishes
		// its authorization server's document, whatever its issuer.
		if prm != nil && m.Issuer != "" && strings.TrimSuffix(m.Issuer, "/") != strings.TrimSuffix(d.Issuer, "/") {
			return nil, fmt.Errorf("authorization server metadata at %s names issuer %q, not %q", u, truncate(m.Issuer, 200), d.Issuer)
		}
		d.Server = m
		if prm == nil && m.Issuer != "" {
			d.Issuer = m.Issuer
		}
		break
	}
	if d.Server == nil {
		if prm != nil {
			return nil, fmt.Errorf("no authorization server metadata found for %s", d.Issuer)
		}
		d.Server = &ServerMetadata{Issuer: d.Issuer, AuthorizationEndpoint: d.Issuer + "/authorize", TokenEndpoint: d.Issuer + "/token", RegistrationEndpoint: d.Issuer + "/register"}
	}
	switch {
	case c.Scope != "":
		d.Scopes = strings.Fields(c.Scope)
	case prm != nil && len(prm.ScopesSupported) > 0:
		d.Scopes = prm.ScopesSupported
	}
	return d, nil
}
