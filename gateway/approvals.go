package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/enforce"
	"github.com/toolgate/toolgate/policy"
)

// approver is the gateway's enforce.Approver: it holds the call in the
// approval store until a human decides, or until ApprovalWait.
type approver struct{ g *Gateway }

var _ enforce.Approver = approver{}

// holdKey is the context key of the *hold of a tools/call.
type holdKey struct{}

// hold is what the approver needs of the client's request to keep the
// client informed while the call waits: the request's progress token and
// a way to send it a message. The progress values sent are counted so
// that the upstream's own progress on the same token can be shifted past
// them.
type hold struct {
	token any          // the request's _meta.progressToken
	send  func([]byte) // delivers a notification to the client
	sent  atomic.Int64 // progress notifications sent (the last value)
}

func withHold(ctx context.Context, h *hold) context.Context {
	return context.WithValue(ctx, holdKey{}, h)
}

func holdOf(ctx context.Context) *hold {
	h, _ := ctx.Value(holdKey{}).(*hold)
	return h
}

// Await turns an approve decision into allow or deny: the call waits for a
// human. A call approved earlier (its first attempt stopped waiting, or
// the gateway restarted) goes through at once, once. A call made again
// while the same call waits joins its approval. After ApprovalWait the call
// is refused with the approval's id, and the approval stays pending.
func (a approver) Await(ctx context.Context, eng *policy.Engine, call *toolgate.Call, d toolgate.Decision) toolgate.Decision {
	deny := func(id, reason string) toolgate.Decision {
		return toolgate.Decision{Action: toolgate.Deny, Rule: d.Rule, Kind: policy.KindApproval, Reason: reason, ApprovalID: id}
	}
	m := a.g.opts.Approvals
	subject, grant := call.Identity.Subject, call.Identity.Grant
	if r, err := m.TakeApproved(ctx, call.Tool, subject, grant, call.Args); err != nil {
		a.g.log.Error("looking up approvals failed", "err", err)
		return deny("", "the approval store is unavailable, so the call is refused")
	} else if r != nil {
		a.g.log.Info("tools/call released by an earlier approval", "session", call.Session, "tool", call.Tool, "approval", r.ID, "by", r.DecidedBy)
		return toolgate.Decision{Action: toolgate.Allow, Rule: d.Rule, Kind: policy.KindApproval, ApprovalID: r.ID}
	}
	timeout := eng.ApprovalTimeout(call.Tool, call.Categories)
	r, created, err := m.Ask(ctx, &approval.Request{
		Tool: call.Tool, Server: call.Server, Subject: subject, Grant: grant,
		Session: call.Session, Rule: d.Rule,
	}, call.Args, eng.Redactor(call.Tool, call.Categories), timeout)
	if err != nil {
		a.g.log.Error("recording an approval request failed", "err", err)
		return deny("", "the approval store is unavailable, so the call is refused")
	}
	id := r.ID
	if created {
		a.g.log.Info("tools/call awaits approval", "session", call.Session, "tool", call.Tool, "approval", id, "expires", r.ExpiresAt)
	} else {
		a.g.log.Info("tools/call joins the pending approval of the same call", "session", call.Session, "tool", call.Tool, "approval", id)
	}
	wctx, cancel := context.WithTimeout(ctx, a.g.opts.ApprovalWait)
	defer cancel()
	stop := a.progress(wctx, holdOf(ctx), id)
	r, err = m.Wait(wctx, id)
	stop()
	switch {
	case err == nil:
	case wctx.Err() != nil:
		// The client gave up, or ApprovalWait passed: the approval stays
		// pending, and the same call made again once it is approved
		// goes through.
		if ctx.Err() != nil {
			a.g.log.Info("tools/call abandoned while waiting for approval", "session", call.Session, "approval", id)
		}
		dd := deny(id, stillPending(id, pendingRequest(ctx, m, id), m.ValidFor()))
		dd.ApprovalPending = true
		return dd
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

// pendingRequest reads approval id for the expiry the refusal names; nil when the
// store cannot say.
func pendingRequest(ctx context.Context, m *approval.Manager, id string) *approval.Request {
	r, err := m.Get(context.WithoutCancel(ctx), id)
	if err != nil {
		return nil
	}
	return r
}

// stillPending is what an agent reads when its call stopped waiting for
// approval id.
func stillPending(id string, r *approval.Request, validFor time.Duration) string {
	until := ""
	if r != nil {
		until = ", until " + r.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("approval %s is waiting for a human's decision%s (approve with: toolgate approvals approve %s). "+
		"Once it is approved, calling this tool again with the same arguments goes through, once, within %s of the approval.",
		id, until, id, validFor)
}

// progress sends the client notifications/progress naming approval id,
// at once and then every ApprovalProgress, until ctx ends or the returned
// stop is called; stop returns once nothing more will be sent. Without a
// progress token it sends nothing.
func (a approver) progress(ctx context.Context, h *hold, id string) (stop func()) {
	if h == nil || h.token == nil || h.send == nil {
		return func() {}
	}
	msg := fmt.Sprintf("waiting for approval %s (approve with: toolgate approvals approve %s)", id, id)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(a.g.opts.ApprovalProgress)
		defer t.Stop()
		for {
			n := h.sent.Add(1)
			params, err := json.Marshal(map[string]any{"progressToken": h.token, "progress": n, "message": msg})
			if err != nil {
				return
			}
			h.send(encodeRequest(jsonrpc.ID{}, "notifications/progress", params))
			select {
			case <-t.C:
			case <-quit:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}

// expireApprovals marks the approvals past their timeout expired, every
// ApprovalSweep, so that one whose call stopped waiting is reported
// expired too.
func (g *Gateway) expireApprovals() {
	defer g.wg.Done()
	t := time.NewTicker(g.opts.ApprovalSweep)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), g.opts.ApprovalSweep)
			n, err := g.opts.Approvals.Expire(ctx)
			cancel()
			if err != nil {
				g.log.Warn("expiring approvals failed", "err", err)
			} else if n > 0 {
				g.log.Info("approvals expired", "count", n)
			}
		}
	}
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
		req, err := m.Decide(r.Context(), id, approve, by, body.Reason)
		if err == nil {
			detail := "denied"
			if approve {
				detail = "approved"
			}
			if body.Reason != "" {
				detail += ": " + body.Reason
			}
			g.AuditAdmin(r.Context(), audit.Admin(audit.ActionApprovalDecided, by, id, detail))
		}
		return req, err
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
