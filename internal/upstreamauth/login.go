package upstreamauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LoginOptions says how to obtain a server's first token.
type LoginOptions struct {
	// Server is the server's name in the configuration; ServerURL its
	// streamable-HTTP endpoint.
	Server    string
	ServerURL string
	// HTTPClient makes every request; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Grant is GrantAuthorizationCode (the default),
	// GrantClientCredentials or GrantCrossApp.
	Grant string
	// IdP is the identity provider of GrantCrossApp.
	IdP *IdP
	// ClientID and ClientSecret are a pre-registered client; without
	// ClientID toolgate uses ClientMetadataURL when the authorization
	// server accepts client ID metadata documents, else registers
	// dynamically.
	ClientID, ClientSecret string
	ClientMetadataURL      string
	// Key, when set, authenticates the client at the token endpoint
	// with private_key_jwt (a signed assertion) instead of a secret.
	Key *ClientKey
	// AuthMethod, when set, is the token endpoint authentication of a
	// pre-registered client (client_secret_basic, client_secret_post or
	// private_key_jwt); otherwise it is chosen from the authorization
	// server's metadata.
	AuthMethod string
	// Scopes, when set, are requested instead of those discovered.
	Scopes []string
	// RedirectPort is the loopback port of the redirect listener; 0
	// picks a free one.
	RedirectPort int
	// OpenURL shows the user the authorization URL (prints it, opens a
	// browser, or in tests follows it). Required for the authorization
	// code grant.
	OpenURL func(ctx context.Context, authURL string) error
	// Challenge is the server's challenge when the caller already has
	// one (a step-up); otherwise Login probes the server for it.
	Challenge *Challenge
	// Wait bounds the wait for the redirect; 5 minutes when zero.
	Wait time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger gets progress lines, never a secret; discarded when nil.
	Logger *slog.Logger
}

// Login discovers the server's authorization server, registers if need
// be, and runs the configured grant. It returns the token to store.
func Login(ctx context.Context, o LoginOptions) (*Token, error) {
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var c Challenge
	if o.Challenge != nil {
		c = *o.Challenge
	} else {
		ch, _, err := Probe(ctx, hc, o.ServerURL)
		if err != nil {
			return nil, err
		}
		c = ch
	}
	d, err := Discover(ctx, hc, o.ServerURL, c)
	if err != nil {
		return nil, err
	}
	log.Info("authorization server found", "server", o.Server, "issuer", d.Issuer, "resource", d.Resource)
	scopes := d.Scopes
	if len(o.Scopes) > 0 {
		scopes = o.Scopes
	}
	t := &Token{Server: o.Server, Resource: d.Resource, Issuer: d.Issuer, TokenEndpoint: d.Server.TokenEndpoint, Grant: o.Grant}
	if t.Grant == "" {
		t.Grant = GrantAuthorizationCode
	}
	if t.Grant == GrantClientCredentials {
		if o.ClientID == "" || o.ClientSecret == "" && o.Key == nil {
			return nil, errors.New("the client_credentials grant needs a client_id and a client_secret or private key")
		}
		cl, err := preRegistered(d, o)
		if err != nil {
			return nil, err
		}
		form := url.Values{"grant_type": {GrantClientCredentials}, "resource": {d.Resource}}
		if len(scopes) > 0 {
			form.Set("scope", strings.Join(scopes, " "))
		}
		r, err := tokenRequest(ctx, hc, d.Server.TokenEndpoint, cl, form, now())
		if err != nil {
			return nil, err
		}
		t.ClientID, t.ClientSecret, t.AuthMethod = cl.ID, cl.Secret, cl.AuthMethod
		t.Scope = strings.Join(scopes, " ")
		t.apply(r, now())
		return t, nil
	}
	if t.Grant == GrantCrossApp {
		r, cl, err := crossApp(ctx, hc, o, d, scopes, now())
		if err != nil {
			return nil, err
		}
		t.ClientID, t.ClientSecret, t.AuthMethod = cl.ID, cl.Secret, cl.AuthMethod
		t.Scope = strings.Join(scopes, " ")
		t.apply(r, now())
		return t, nil
	}
	if d.Server.AuthorizationEndpoint == "" {
		return nil, fmt.Errorf("the authorization server %s has no authorization_endpoint", d.Issuer)
	}
	if m := d.Server.CodeChallengeMethodsSupported; m != nil && !slices.Contains(m, "S256") {
		return nil, fmt.Errorf("the authorization server %s does not support PKCE with S256; refusing to log in without it", d.Issuer)
	}
	if o.OpenURL == nil {
		return nil, errors.New("no way to show the authorization URL")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.RedirectPort)))
	if err != nil {
		return nil, fmt.Errorf("redirect listener: %w", err)
	}
	defer ln.Close()
	redirect := "http://" + ln.Addr().String() + "/callback"
	cl, err := register(ctx, hc, d.Server, o, redirect)
	if err != nil {
		return nil, err
	}
	verifier := randomString(32)
	state := randomString(24)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {cl.ID},
		"redirect_uri":          {redirect},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
		"resource":              {d.Resource},
	}
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	authURL := d.Server.AuthorizationEndpoint
	if strings.Contains(authURL, "?") {
		authURL += "&" + q.Encode()
	} else {
		authURL += "?" + q.Encode()
	}
	wait := o.Wait
	if wait <= 0 {
		wait = 5 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	codes := make(chan callback, 1)
	srv := &http.Server{Handler: callbackHandler(state, codes), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	// Shut down, not Close: the handler that took the code may still be
	// writing the page the browser waits for, and Close would cut it off
	// (the browser would show a reset connection after a good login).
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()
	opened := make(chan error, 1)
	go func() { opened <- o.OpenURL(wctx, authURL) }()
	var cb callback
	select {
	case cb = <-codes:
	case err := <-opened:
		if err != nil {
			return nil, fmt.Errorf("opening the authorization URL: %w", err)
		}
		select {
		case cb = <-codes:
		case <-wctx.Done():
			return nil, fmt.Errorf("no authorization arrived at %s within %s", redirect, wait)
		}
	case <-wctx.Done():
		return nil, fmt.Errorf("no authorization arrived at %s within %s", redirect, wait)
	}
	if cb.err != "" {
		return nil, fmt.Errorf("the authorization server refused: %s", cb.err)
	}
	form := url.Values{
		"grant_type":    {GrantAuthorizationCode},
		"code":          {cb.code},
		"redirect_uri":  {redirect},
		"code_verifier": {verifier},
		"resource":      {d.Resource},
	}
	r, err := tokenRequest(ctx, hc, d.Server.TokenEndpoint, cl, form, now())
	if err != nil {
		return nil, err
	}
	t.ClientID, t.ClientSecret, t.AuthMethod = cl.ID, cl.Secret, cl.AuthMethod
	t.Scope = strings.Join(scopes, " ")
	t.apply(r, now())
	return t, nil
}

type callback struct{ code, err string }

// callbackHandler serves the redirect: only a request carrying the
// expected state is taken; any other gets 400 and changes nothing.
func callbackHandler(state string, out chan<- callback) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/callback" || q.Get("state") != state {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		cb := callback{code: q.Get("code")}
		if e := q.Get("error"); e != "" {
			cb = callback{err: truncate(e+" "+q.Get("error_description"), 200)}
		} else if cb.code == "" {
			http.Error(w, "no code", http.StatusBadRequest)
			return
		}
		select {
		case out <- cb:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<!doctype html><title>toolgate</title><p>%s</p>", html.EscapeString("toolgate received the authorization; you may close this window."))
		default:
			http.Error(w, "already received", http.StatusConflict)
		}
	})
}

// pickAuthMethod chooses how to authenticate at the token endpoint.
func pickAuthMethod(supported []string, hasSecret bool) string {
	if !hasSecret {
		return "none"
	}
	if len(supported) == 0 {
		return "client_secret_basic" // RFC 8414's default
	}
	for _, m := range []string{"client_secret_basic", "client_secret_post"} {
		if slices.Contains(supported, m) {
			return m
		}
	}
	return "client_secret_basic"
}

// preRegistered is the configured client, authenticating as configured
// or as the authorization server's metadata suggests.
func preRegistered(d *Discovery, o LoginOptions) (Client, error) {
	cl := Client{ID: o.ClientID, Secret: o.ClientSecret, AuthMethod: o.AuthMethod, Audience: d.Issuer}
	switch {
	case o.Key != nil:
		cl.AuthMethod, cl.Key, cl.Secret = "private_key_jwt", o.Key, ""
		if s := d.Server.TokenEndpointAuthSigningAlgValuesSupported; len(s) > 0 && !slices.Contains(s, o.Key.Alg) {
			return Client{}, fmt.Errorf("the authorization server %s accepts client assertions signed with %v, not %s", d.Issuer, s, o.Key.Alg)
		}
	case cl.AuthMethod == "private_key_jwt":
		return Client{}, errors.New("private_key_jwt needs the client's private key (oauth.private_key_file)")
	case cl.AuthMethod == "":
		cl.AuthMethod = pickAuthMethod(d.Server.TokenEndpointAuthMethodsSupported, o.ClientSecret != "")
	}
	return cl, nil
}

// register returns the client to authorize as: the pre-registered one,
// the client ID metadata document's URL, or a dynamically registered one.
func register(ctx context.Context, hc *http.Client, m *ServerMetadata, o LoginOptions, redirect string) (Client, error) {
	if o.ClientID != "" {
		return preRegistered(&Discovery{Issuer: m.Issuer, Server: m}, o)
	}
	if o.ClientMetadataURL != "" && m.ClientIDMetadataDocumentSupported {
		return Client{ID: o.ClientMetadataURL, AuthMethod: "none"}, nil
	}
	if m.RegistrationEndpoint == "" {
		return Client{}, fmt.Errorf("the authorization server %s offers no dynamic registration: configure oauth.client_id (and client_secret) for this server", m.Issuer)
	}
	method := "none"
	if s := m.TokenEndpointAuthMethodsSupported; len(s) > 0 && !slices.Contains(s, "none") {
		method = pickAuthMethod(s, true)
	}
	meta := map[string]any{
		"client_name":                "toolgate",
		"redirect_uris":              []string{redirect},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": method,
		"application_type":           "native",
	}
	body, _ := json.Marshal(meta)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.RegistrationEndpoint, bytes.NewReader(body))
	if err != nil {
		return Client{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Client{}, fmt.Errorf("client registration: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocument+1))
	if err != nil {
		return Client{}, fmt.Errorf("client registration: %w", err)
	}
	var r registrationResponse
	if err := decodeDocument(b, &r, "client registration"); err != nil {
		return Client{}, fmt.Errorf("client registration answered HTTP %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode/100 != 2 || r.Error != "" || r.ClientID == "" {
		if r.Error != "" {
			return Client{}, fmt.Errorf("client registration: %w", &OAuthError{Code: r.Error, Description: truncate(r.ErrorDescription, 200)})
		}
		return Client{}, fmt.Errorf("client registration answered HTTP %d without a client_id", resp.StatusCode)
	}
	cl := Client{ID: r.ClientID, Secret: r.ClientSecret, AuthMethod: r.TokenEndpointAuthMethod}
	if cl.AuthMethod == "" {
		cl.AuthMethod = method
	}
	if cl.Secret == "" {
		cl.AuthMethod = "none"
	}
	return cl, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
