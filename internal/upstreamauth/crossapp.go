package upstreamauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Token types and grants of cross-app access (enterprise-managed
// authorization): an identity assertion JWT authorization grant (ID-JAG)
// obtained from the enterprise IdP by token exchange (RFC 8693), then
// presented to the MCP server's authorization server with the JWT bearer
// grant (RFC 7523).
const (
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	GrantJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	TokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeIDJAG     = "urn:ietf:params:oauth:token-type:id-jag"
)

// MaxIDToken bounds the ID token read from a file or the environment.
const MaxIDToken = 64 << 10

// IdP is the enterprise identity provider of the cross-app access grant.
type IdP struct {
	// TokenEndpoint is where the ID token is exchanged for an ID-JAG.
	TokenEndpoint string
	// ClientID and ClientSecret are toolgate's client at the IdP: with a
	// secret it authenticates with client_secret_basic; without one the
	// id alone is sent; with no id, nothing.
	ClientID, ClientSecret string
	// IDToken returns the user's ID token from the IdP. It is called for
	// every exchange, so that a token renewed outside toolgate is used.
	IDToken func(ctx context.Context) (string, error)
}

// exchangeResponse is a token exchange's answer (RFC 8693 section 2.2).
type exchangeResponse struct {
	AccessToken      string `json:"access_token"`
	IssuedTokenType  string `json:"issued_token_type"`
	TokenType        string `json:"token_type"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// parseExchangeResponse reads a token exchange's answer, which must hold
// an ID-JAG.
func parseExchangeResponse(b []byte) (string, error) {
	var r exchangeResponse
	if err := decodeDocument(b, &r, "token exchange response"); err != nil {
		return "", err
	}
	if r.Error != "" {
		return "", &OAuthError{Code: r.Error, Description: truncate(r.ErrorDescription, 200)}
	}
	if r.AccessToken == "" {
		return "", errors.New("token exchange response holds no access_token")
	}
	if r.IssuedTokenType != TokenTypeIDJAG {
		return "", fmt.Errorf("token exchange issued %q, not an ID-JAG", truncate(r.IssuedTokenType, 80))
	}
	return r.AccessToken, nil
}

// exchangeIDToken obtains an ID-JAG for the authorization server issuer
// and the resource from the IdP.
func exchangeIDToken(ctx context.Context, hc *http.Client, idp *IdP, issuer, resource string, scopes []string, now time.Time) (string, error) {
	if idp == nil || idp.TokenEndpoint == "" || idp.IDToken == nil {
		return "", errors.New("cross-app access needs the IdP's token endpoint and an ID token")
	}
	if err := checkURL(idp.TokenEndpoint, "the IdP's token endpoint"); err != nil {
		return "", err
	}
	idToken, err := idp.IDToken(ctx)
	if err != nil {
		return "", fmt.Errorf("the ID token: %w", err)
	}
	if idToken == "" {
		return "", errors.New("the ID token is empty")
	}
	form := url.Values{
		"grant_type":           {GrantTokenExchange},
		"requested_token_type": {TokenTypeIDJAG},
		"subject_token":        {idToken},
		"subject_token_type":   {TokenTypeIDToken},
		"audience":             {issuer},
		"resource":             {resource},
	}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	cl := Client{ID: idp.ClientID, Secret: idp.ClientSecret, AuthMethod: "none"}
	if idp.ClientSecret != "" {
		cl.AuthMethod = "client_secret_basic"
	}
	status, body, err := postToken(ctx, hc, idp.TokenEndpoint, cl, form, now)
	if err != nil {
		return "", fmt.Errorf("IdP %w", err)
	}
	jag, perr := parseExchangeResponse(body)
	if status != http.StatusOK {
		var oe *OAuthError
		if errors.As(perr, &oe) {
			return "", fmt.Errorf("IdP token exchange: %w", oe)
		}
		return "", fmt.Errorf("IdP token exchange answered HTTP %d", status)
	}
	if perr != nil {
		return "", fmt.Errorf("IdP token exchange: %w", perr)
	}
	return jag, nil
}

// crossApp runs the cross-app access grant for d: an ID-JAG from the IdP,
// then a token for it from the authorization server.
func crossApp(ctx context.Context, hc *http.Client, o LoginOptions, d *Discovery, scopes []string, now time.Time) (*tokenResponse, Client, error) {
	if o.ClientID == "" {
		return nil, Client{}, errors.New("the cross-app access grant needs a client_id at the authorization server")
	}
	cl, err := preRegistered(d, o)
	if err != nil {
		return nil, Client{}, err
	}
	jag, err := exchangeIDToken(ctx, hc, o.IdP, d.Issuer, d.Resource, scopes, now)
	if err != nil {
		return nil, Client{}, err
	}
	form := url.Values{"grant_type": {GrantJWTBearer}, "assertion": {jag}, "resource": {d.Resource}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	r, err := tokenRequest(ctx, hc, d.Server.TokenEndpoint, cl, form, now)
	if err != nil {
		return nil, Client{}, err
	}
	return r, cl, nil
}
