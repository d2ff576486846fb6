// Package outbound holds what toolgate's HTTP senders share (the approval
// webhook and the audit log's http sink): the rule an endpoint URL must
// follow, a client that follows no redirect, one POST that fails on
// anything but a 2xx answer, and a bounded retry loop with exponential
// backoff.
package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CheckURL reports why u cannot be an endpoint: it must be an absolute
// http:// or https:// URL without credentials or fragment, and http://
// only to a loopback host (127.0.0.0/8, ::1, localhost), since the body
// would otherwise cross the network in the clear.
func CheckURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		// url's error repeats the whole URL, credentials and all.
		return errors.New("is not a valid URL")
	}
	switch {
	case p.Scheme != "http" && p.Scheme != "https":
		return fmt.Errorf("%q is not an https:// URL (or http:// to a loopback address)", p.Redacted())
	case p.Host == "" || p.Hostname() == "":
		return fmt.Errorf("%q has no host", p.Redacted())
	case p.User != nil:
		return errors.New("must not hold credentials")
	case p.Fragment != "":
		return errors.New("must not have a #fragment")
	case p.Scheme == "http" && !IsLoopbackHost(p.Hostname()):
		return fmt.Errorf("http:// is only allowed to a loopback address (127.0.0.1, ::1, localhost), not %q: use https://", p.Hostname())
	}
	return nil
}

// IsLoopbackHost reports whether h (a URL's host name) is localhost or a
// loopback IP address.
func IsLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// NewClient returns a client that follows no redirect: a 3xx answer is a
// failure, so that a body is never sent somewhere the operator did not
// configure.
func NewClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// maxDrain bounds what Post reads of an answer's body (read so that the
// connection can be reused).
const maxDrain = 64 << 10

// Post sends body to u with header, in one attempt bounded by timeout (and
// ctx), and returns an error unless the answer is a 2xx. The error never
// holds a header value (they may be credentials).
func Post(ctx context.Context, c *http.Client, u string, header http.Header, body []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// Retry is how often, and how far apart, a failed attempt is tried again.
type Retry struct {
	// Retries is how many times a failed attempt is tried again; 0 for
	// never. Negative counts as 0.
	Retries int
	// Backoff is the wait before the first retry, doubled before each next
	// one up to MaxBackoff (Backoff when MaxBackoff is smaller).
	Backoff, MaxBackoff time.Duration
}

// ErrStopped is returned (wrapped) by Do when ctx ended between attempts.
var ErrStopped = errors.New("outbound: stopped before the attempts ran out")

// Do calls attempt until it returns nil, Retries+1 attempts were made, or
// ctx ends; failed (when not nil) is told of every failed attempt (from
// 1). It returns nil on success, else the last attempt's error (wrapping
// ErrStopped too when ctx ended first).
func (r Retry) Do(ctx context.Context, attempt func(context.Context) error, failed func(n int, err error)) error {
	wait := r.Backoff
	top := max(r.MaxBackoff, r.Backoff)
	var last error
	for n := 0; n <= max(r.Retries, 0); n++ {
		if n > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return errors.Join(ErrStopped, last)
			}
			wait = min(2*wait, top)
		}
		if last = attempt(ctx); last == nil {
			return nil
		}
		if failed != nil {
			failed(n+1, last)
		}
		if ctx.Err() != nil {
			return errors.Join(ErrStopped, last)
		}
	}
	return last
}
