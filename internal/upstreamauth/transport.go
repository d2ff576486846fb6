package upstreamauth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
)

// Credentials hands out a server's bearer token; *Source is one.
type Credentials interface {
	// Token returns the token to send.
	Token(ctx context.Context) (string, error)
	// Unauthorized is told the server refused sent with status and
	// challenge; it returns the token to try again with, or an error.
	Unauthorized(ctx context.Context, sent string, status int, challenge []string) (string, error)
}

var _ Credentials = (*Source)(nil)

// maxReplay bounds the request body kept to send again after a refusal.
const maxReplay = 64 << 20

// Transport adds a server's bearer token to the requests for its URL, and
// only those: a request (or a redirect) to any other URL goes without it.
// When the server refuses the token (401, or 403 insufficient_scope), the
// request is sent once more with the token Credentials renews; a second
// refusal is returned as it is. Any Authorization header already on the
// request is replaced.
type Transport struct {
	Base        http.RoundTripper // http.DefaultTransport when nil
	ServerURL   string
	Credentials Credentials
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if Canonical(req.URL.String()) != Canonical(t.ServerURL) && Canonical(stripQuery(req)) != Canonical(t.ServerURL) {
		r := req.Clone(req.Context())
		r.Header.Del("Authorization")
		return t.base().RoundTrip(r)
	}
	ctx := req.Context()
	tok, err := t.Credentials.Token(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		body, err = io.ReadAll(io.LimitReader(req.Body, maxReplay+1))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(body) > maxReplay {
			return nil, errors.New("request body too large")
		}
	}
	resp, err := t.send(req, body, tok)
	if err != nil {
		return nil, err
	}
	if !refused(resp) {
		return resp, nil
	}
	challenge := resp.Header.Values("WWW-Authenticate")
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	next, err := t.Credentials.Unauthorized(ctx, tok, resp.StatusCode, challenge)
	if err != nil {
		return nil, err
	}
	return t.send(req, body, next)
}

func (t *Transport) send(req *http.Request, body []byte, tok string) (*http.Response, error) {
	r := req.Clone(req.Context())
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return t.base().RoundTrip(r)
}

// refused reports whether resp refuses the token: 401, or 403 with
// error="insufficient_scope".
func refused(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		c, ok := ParseChallenge(resp.Header.Values("WWW-Authenticate"))
		return ok && c.Error == "insufficient_scope"
	}
	return false
}

func stripQuery(req *http.Request) string {
	u := *req.URL
	u.RawQuery = ""
	return u.String()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
