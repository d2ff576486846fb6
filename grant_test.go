package toolgate

import (
	"testing"
	"time"
)

func TestGrantState(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		g       Grant
		expired bool
		status  string
	}{
		{"no expiry", Grant{}, false, "active"},
		{"expires later", Grant{ExpiresAt: now.Add(time.Second)}, false, "active"},
		{"expires now", Grant{ExpiresAt: now}, true, "expired"},
		{"expired", Grant{ExpiresAt: now.Add(-time.Hour)}, true, "expired"},
		{"revoked", Grant{Revoked: true, RevokedAt: now}, false, "revoked"},
		{"revoked and expired", Grant{Revoked: true, ExpiresAt: now.Add(-time.Hour)}, true, "revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.g.Expired(now); got != tt.expired {
				t.Errorf("Expired = %v", got)
			}
			if got := tt.g.Status(now); got != tt.status {
				t.Errorf("Status = %q, want %q", got, tt.status)
			}
			if got := tt.g.Active(now); got != (tt.status == "active") {
				t.Errorf("Active = %v", got)
			}
		})
	}
}

func TestGrantServersAndIdentity(t *testing.T) {
	all := &Grant{ID: "gr_aaaaaaaaaaaa", Subject: "alice", Policy: "p", Labels: map[string]string{"team": "support"}}
	some := &Grant{Servers: []string{"clerk"}}
	for _, tt := range []struct {
		g      *Grant
		server string
		want   bool
	}{{all, "clerk", true}, {all, "docs", true}, {some, "clerk", true}, {some, "docs", false}} {
		if got := tt.g.AllowsServer(tt.server); got != tt.want {
			t.Errorf("%v.AllowsServer(%q) = %v", tt.g.Servers, tt.server, got)
		}
	}
	id := all.Identity()
	id.Labels["team"] = "changed"
	if id.Subject != "alice" || id.Grant != all.ID || id.Policy != "p" || all.Labels["team"] != "support" {
		t.Errorf("Identity = %+v; grant labels %v", id, all.Labels)
	}
	c := some.Clone()
	c.Servers[0] = "x"
	if some.Servers[0] != "clerk" {
		t.Error("Clone shares Servers")
	}
	if !(TokenHash{}).IsZero() || (TokenHash{1}).IsZero() {
		t.Error("IsZero")
	}
}
