package grant

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/toolgate/toolgate"
)

// Limits on what a grant may hold.
const (
	MaxSubjectLen    = 256
	MaxPolicyLen     = 128
	MaxLabels        = 64
	MaxLabelKeyLen   = 63
	MaxLabelValueLen = 256
	MaxServers       = 256
)

// Spec is what a new grant is made of.
type Spec struct {
	// Subject names who uses the grant; required.
	Subject string
	// Policy names the policy deciding the grant's calls; required.
	Policy string
	// Labels are attributes conditions can read; keys follow LabelKeyOK.
	Labels map[string]string
	// Servers limits the upstream servers the grant may reach; empty for
	// every one.
	Servers []string
	// ExpiresAt is when the token stops working; zero for never.
	ExpiresAt time.Time
}

// Check reports the first problem with spec as an *toolgate.Error with the
// code Invalid. now is the time the grant would be created: an expiry must
// come after it. Whether the policy and servers exist is for the caller,
// who knows the configuration, to check.
func (s *Spec) Check(now time.Time) error {
	if err := checkText("subject", s.Subject, MaxSubjectLen); err != nil {
		return err
	}
	if err := checkText("policy", s.Policy, MaxPolicyLen); err != nil {
		return err
	}
	if len(s.Labels) > MaxLabels {
		return toolgate.Errorf(toolgate.Invalid, "a grant may have at most %d labels, not %d", MaxLabels, len(s.Labels))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
		if err := CheckLabel(k, s.Labels[k]); err != nil {
			return err
		}
	}
	if len(s.Servers) > MaxServers {
		return toolgate.Errorf(toolgate.Invalid, "a grant may name at most %d servers, not %d", MaxServers, len(s.Servers))
	}
	seen := map[string]bool{}
	for _, name := range s.Servers {
		if err := checkText("server", name, MaxPolicyLen); err != nil {
			return err
		}
		if seen[name] {
			return toolgate.Errorf(toolgate.Invalid, "server %q is named twice", name)
		}
		seen[name] = true
	}
	if !s.ExpiresAt.IsZero() && !s.ExpiresAt.After(now) {
		return toolgate.Errorf(toolgate.Invalid, "the expiry %s is not in the future", s.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkText checks a required single-line value: not empty, without
// leading or trailing spaces or control characters, valid UTF-8, at most
// limit bytes.
func checkText(what, v string, limit int) error {
	switch {
	case v == "":
		return toolgate.Errorf(toolgate.Invalid, "%s is required", what)
	case len(v) > limit:
		return toolgate.Errorf(toolgate.Invalid, "%s is longer than %d bytes", what, limit)
	case !utf8.ValidString(v):
		return toolgate.Errorf(toolgate.Invalid, "%s %q is not valid UTF-8", what, v)
	case strings.TrimSpace(v) != v:
		return toolgate.Errorf(toolgate.Invalid, "%s %q starts or ends with white space", what, v)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return toolgate.Errorf(toolgate.Invalid, "%s %q contains a control character", what, v)
	}
	return nil
}

// LabelKeyOK reports whether k may be a label key: 1 to 63 ASCII letters,
// digits, '.', '_', '-' and '/', starting and ending with a letter or a
// digit (as in "team", "app.kubernetes.io/name"). Keys are usable as
// identity.labels.KEY in conditions when they hold no '.', '-' or '/'.
func LabelKeyOK(k string) bool {
	if k == "" || len(k) > MaxLabelKeyLen || !alnum(k[0]) || !alnum(k[len(k)-1]) {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !alnum(c) && c != '.' && c != '_' && c != '-' && c != '/' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }

// CheckLabel reports a problem with the label k=v: a key LabelKeyOK
// refuses, or a value longer than MaxLabelValueLen bytes, not UTF-8 or
// holding a control character. An empty value is allowed.
func CheckLabel(k, v string) error {
	if !LabelKeyOK(k) {
		return toolgate.Errorf(toolgate.Invalid,
			"label key %q: want 1 to %d letters, digits, '.', '_', '-' or '/', starting and ending with a letter or digit", k, MaxLabelKeyLen)
	}
	switch {
	case len(v) > MaxLabelValueLen:
		return toolgate.Errorf(toolgate.Invalid, "label %s: the value is longer than %d bytes", k, MaxLabelValueLen)
	case !utf8.ValidString(v):
		return toolgate.Errorf(toolgate.Invalid, "label %s: the value is not valid UTF-8", k)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return toolgate.Errorf(toolgate.Invalid, "label %s: the value contains a control character", k)
	}
	return nil
}

// ParseLabel splits "key=value" and checks it with CheckLabel.
func ParseLabel(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", toolgate.Errorf(toolgate.Invalid, "label %q: want key=value", s)
	}
	if err := CheckLabel(k, v); err != nil {
		return "", "", err
	}
	return k, v, nil
}

// Create checks spec, stores a new grant made of it in store, and returns
// the grant and its token. The token is not kept anywhere: show it to the
// person who asked for it, once.
func Create(ctx context.Context, store toolgate.GrantStore, spec Spec) (*toolgate.Grant, string, error) {
	now := time.Now()
	if err := spec.Check(now); err != nil {
		return nil, "", err
	}
	token, h := NewToken()
	g := &toolgate.Grant{
		ID:        NewID(),
		TokenHash: h,
		Subject:   spec.Subject,
		Policy:    spec.Policy,
		Labels:    maps.Clone(spec.Labels),
		Servers:   slices.Clone(spec.Servers),
		CreatedAt: now.UTC(),
	}
	if !spec.ExpiresAt.IsZero() {
		g.ExpiresAt = spec.ExpiresAt.UTC()
	}
	if err := store.Create(ctx, g); err != nil {
		return nil, "", err
	}
	g.TokenHash = toolgate.TokenHash{}
	return g, token, nil
}

// Rotate gives the grant id a new token and returns the grant and the
// token. The old token stops working at once; nothing else about the grant
// changes.
func Rotate(ctx context.Context, store toolgate.GrantStore, id string) (*toolgate.Grant, string, error) {
	token, h := NewToken()
	g, err := store.Rotate(ctx, id, h, time.Now().UTC())
	if err != nil {
		return nil, "", err
	}
	g.TokenHash = toolgate.TokenHash{}
	return g, token, nil
}

// View is a grant as the CLI and the admin API show it: the grant and
// where it stands. It never holds the token or its hash.
type View struct {
	*toolgate.Grant
	Status string `json:"status"`
}

// ViewOf returns g as shown at now.
func ViewOf(g *toolgate.Grant, now time.Time) View { return View{Grant: g, Status: g.Status(now)} }

// Issued is a grant with the token just issued for it, by Create or
// Rotate: the one answer that carries a token.
type Issued struct {
	Grant View   `json:"grant"`
	Token string `json:"token"`
}
