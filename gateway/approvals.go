package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/enforce"
	"github.com/toolgate/toolgate/policy"
)

// approver is the gateway's enforce.Approver: it holds the call in the
// approval store until a human decides.
type approver struct{ g *Gateway }

var _ enforce.Approver = approver{}

// Await turns an approve decision into allow or deny: the call waits for a
// human. A call approved earlier (its first attempt gave up waiting, say
// across a restart) goes through at once, once.
func (a approver) Await(ctx context.Context, eng *policy.Engine, call *toolgate.Call, d toolgate.Decision) toolgate.Decision {
	deny := func(id, reason string) toolgate.Decision {
		return toolgate.Decision{Action: toolgate.Deny, Rule: d.Rule, Kind: policy.KindApproval, Reason: reason, ApprovalID: id}
	}
	m := a.g.opts.Approvals
	subject := call.Identity.Subject
	if r, err := m.TakeApproved(ctx, call.Tool, subject, call.Identity.Grant, call.Args); err != nil {
		a.g.log.Error("looking up approvals failed", "err", err)
		return deny("", "the approval store is unavailable, so the call is refused")
	} else if r != nil {
		return toolgate.Decision{Action: toolgate.Allow, Rule: d.Rule, Kind: policy.KindApproval, ApprovalID: r.ID}
	}
	timeout := eng.ApprovalTimeout(call.Tool, call.Categories)
	r, err := m.Request(ctx, &approval.Request{
		Tool: call.Tool, Server: call.Server, Subject: subject, Grant: call.Identity.Grant,
		Session: call.Session, Rule: d.Rule,
	}, call.Args, timeout)
	if err != nil {
		a.g.log.Error("recording an approval request failed", "err", err)
		return deny("", "the approval store is unavailable, so the call is refused")
	}
	id := r.ID
	a.g.log.Info("tools/call awaits approval", "session", call.Session, "tool", call.Tool, "approval", id, "expires", r.ExpiresAt)
	r, err = m.Wait(ctx, id)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return deny(id, fmt.Sprintf("the call was abandoned while waiting for approval %s; if it is approved before it expires, calling again with the same arguments goes through", id))
	case errors.Is(err, approval.ErrUsed):
		return deny(id, fmt.Sprintf("approval %s was granted, but another call with the same arguments already used it", id))
	default:
		a.g.log.Error("waiting for an approval failed", "approval", id, "err", err)
		return deny(id, "the approval store is unavailable, so the call is refused")
	}
	switch r.Status {
	case approval.Approved:
		a.g.log.Info("approval granted", "approval", r.ID, "by", r.DecidedBy)
		return toolgate.Decision{Action: toolgate.Allow, Rule: d.Rule, Kind: policy.KindApproval, ApprovalID: r.ID}
	case approval.Denied:
		reason := "denied by " + orSomeone(r.DecidedBy)
		if r.Reason != "" {
			reason += ": " + r.Reason
		}
		return deny(r.ID, reason)
	}
	return deny(r.ID, fmt.Sprintf("nobody approved the call within %s (approval %s)", timeout, r.ID))
}

func orSomeone(by string) string {
	if by == "" {
		return "an approver"
	}
	return by
}

// decisionBody is what POST /admin/approvals/{id}/approve|deny accepts:
// an optional reason. The decider is the admin token's subject; a body
// naming one ("by") is refused rather than ignored, so that no client
// believes it recorded someone else.
type decisionBody struct {
	By     *string `json:"by"`
	Reason string  `json:"reason"`
}

// approvalRoutes serves the approvals admin API: reading needs a viewer,
// deciding an admin.
func (g *Gateway) approvalRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/approvals", admin.Require(admin.Viewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := g.opts.Approvals
		if m == nil {
			admin.WriteError(w, http.StatusNotFound, "approvals are not configured on this gateway")
			return
		}
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		list, err := m.List(r.Context(), approval.Status(r.URL.Query().Get("status")), limit)
		if err != nil {
			g.log.Error("listing approvals failed", "err", err)
			admin.WriteError(w, http.StatusInternalServerError, "internal error")
			return
		}
		if list == nil {
			list = []*approval.Request{}
		}
		admin.WriteJSON(w, http.StatusOK, map[string]any{"approvals": list})
	})))
	mux.Handle("GET /admin/approvals/{id}", admin.Require(admin.Viewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.approvalAnswer(w, r, func(m *approval.Manager) (*approval.Request, error) { return m.Get(r.Context(), r.PathValue("id")) })
	})))
	for _, verb := range []string{"approve", "deny"} {
		mux.Handle("POST /admin/approvals/{id}/"+verb, admin.Require(admin.Admin, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g.decide(w, r, verb == "approve")
		})))
	}
}

// errSelfApproval refuses an approver's approval of their own call.
var errSelfApproval = errors.New("an approver cannot approve their own call")

// decide records the admin token's subject's decision on an approval.
func (g *Gateway) decide(w http.ResponseWriter, r *http.Request, approve bool) {
	var body decisionBody
	if r.ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			admin.WriteError(w, http.StatusBadRequest, `the body must be a JSON object {"reason": "..."}`)
			return
		}
	}
	if body.By != nil {
		admin.WriteError(w, http.StatusBadRequest, `"by" is not accepted: the decider is the admin token's subject`)
		return
	}
	by := admin.FromContext(r.Context()).Subject
	g.approvalAnswer(w, r, func(m *approval.Manager) (*approval.Request, error) {
		id := r.PathValue("id")
		if approve {
			// The subject a call is held for never changes, so reading
			// it before deciding leaves no gap to exploit.
			cur, err := m.Get(r.Context(), id)
			if err != nil {
				return nil, err
			}
			if cur.Subject == by {
				return nil, errSelfApproval
			}
		}
		return m.Decide(r.Context(), id, approve, by, body.Reason)
	})
}

func (g *Gateway) approvalAnswer(w http.ResponseWriter, r *http.Request, f func(*approval.Manager) (*approval.Request, error)) {
	m := g.opts.Approvals
	if m == nil {
		admin.WriteError(w, http.StatusNotFound, "approvals are not configured on this gateway")
		return
	}
	req, err := f(m)
	switch {
	case errors.Is(err, errSelfApproval):
		admin.WriteError(w, http.StatusForbidden, errSelfApproval.Error())
	case errors.Is(err, approval.ErrNotFound):
		admin.WriteError(w, http.StatusNotFound, "no approval "+r.PathValue("id"))
	case errors.Is(err, approval.ErrNotPending):
		admin.WriteError(w, http.StatusConflict, "approval "+r.PathValue("id")+" was already decided or has expired")
	case err != nil:
		g.log.Error("approval request failed", "err", err)
		admin.WriteError(w, http.StatusInternalServerError, "internal error")
	default:
		admin.WriteJSON(w, http.StatusOK, req)
	}
}
