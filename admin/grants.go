package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/grant"
)

// maxBody bounds the body of an admin request.
const maxBody = 64 << 10

// Grants serves the admin API's grant routes:
//
//   - GET /admin/grants, GET /admin/grants/{id} (viewer): grants as
//     grant.View, never a token or its hash;
//   - POST /admin/grants (admin): create one; the answer (201) is a
//     grant.Issued, the only time its token is shown;
//   - POST /admin/grants/{id}/revoke (admin), POST /admin/grants/{id}/rotate
//     (admin, answered with a grant.Issued);
//   - PUT /admin/grants/{id}/policy (policy_manager): {"policy": "name"}
//     attaches another policy to the grant.
//
// Set Store; the other fields are optional.
type Grants struct {
	// Store holds the grants.
	Store toolgate.GrantStore
	// Policies returns the names a grant's policy may take; every name is
	// accepted when it returns none (or is nil).
	Policies func() []string
	// Servers are the names a grant's servers may take; every name is
	// accepted when empty.
	Servers []string
	// Changed is called with the grant's id after it was revoked, rotated
	// or given another policy, so that what the gateway holds of it (its
	// verified token, its sessions) goes at once.
	Changed func(id string)
	// Log receives store failures and, at Info, every change with the
	// admin token's subject; nothing when nil.
	Log *slog.Logger
	// Record, when set, records every change in the audit log: action
	// (audit.ActionGrantCreated, …), the admin token's subject, the grant
	// id, and a detail (subject and policy; never a token).
	Record func(ctx context.Context, action, actor, target, detail string)
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Register adds the routes to mux, behind Require; mux must be served
// behind Authenticate.
func (a *Grants) Register(mux *http.ServeMux) {
	mux.Handle("GET /admin/grants", Require(Viewer, http.HandlerFunc(a.list)))
	mux.Handle("GET /admin/grants/{id}", Require(Viewer, http.HandlerFunc(a.get)))
	mux.Handle("POST /admin/grants", Require(Admin, http.HandlerFunc(a.create)))
	mux.Handle("POST /admin/grants/{id}/revoke", Require(Admin, http.HandlerFunc(a.revoke)))
	mux.Handle("POST /admin/grants/{id}/rotate", Require(Admin, http.HandlerFunc(a.rotate)))
	mux.Handle("PUT /admin/grants/{id}/policy", Require(PolicyManager, http.HandlerFunc(a.setPolicy)))
}

func (a *Grants) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Grants) list(w http.ResponseWriter, r *http.Request) {
	gs, err := a.Store.List(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	now := a.now()
	views := make([]grant.View, 0, len(gs))
	for _, g := range gs {
		g.TokenHash = toolgate.TokenHash{}
		views = append(views, grant.ViewOf(g, now))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"grants": views})
}

func (a *Grants) get(w http.ResponseWriter, r *http.Request) {
	id, ok := grantID(w, r)
	if !ok {
		return
	}
	g, err := a.Store.Get(r.Context(), id)
	if err != nil {
		a.fail(w, err)
		return
	}
	g.TokenHash = toolgate.TokenHash{}
	WriteJSON(w, http.StatusOK, grant.ViewOf(g, a.now()))
}

// createBody is what POST /admin/grants takes. An expiry is given as
// expires_in (a Go duration, "720h") or expires_at (RFC 3339), not both.
type createBody struct {
	Subject   string            `json:"subject"`
	Policy    string            `json:"policy"`
	Labels    map[string]string `json:"labels"`
	Servers   []string          `json:"servers"`
	ExpiresIn string            `json:"expires_in"`
	ExpiresAt *time.Time        `json:"expires_at"`
}

func (a *Grants) create(w http.ResponseWriter, r *http.Request) {
	var body createBody
	if !ReadJSON(w, r, &body) {
		return
	}
	now := a.now()
	spec := grant.Spec{Subject: body.Subject, Policy: body.Policy, Labels: body.Labels, Servers: body.Servers}
	switch {
	case body.ExpiresIn != "" && body.ExpiresAt != nil:
		WriteError(w, http.StatusBadRequest, "give expires_in or expires_at, not both")
		return
	case body.ExpiresIn != "":
		d, err := time.ParseDuration(body.ExpiresIn)
		if err != nil || d <= 0 {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("expires_in must be a positive duration such as 720h, not %q", body.ExpiresIn))
			return
		}
		spec.ExpiresAt = now.Add(d)
	case body.ExpiresAt != nil:
		spec.ExpiresAt = *body.ExpiresAt
	}
	if err := spec.Check(now); err != nil {
		a.fail(w, err)
		return
	}
	if err := a.checkPolicy(spec.Policy); err != nil {
		a.fail(w, err)
		return
	}
	for _, s := range spec.Servers {
		if len(a.Servers) > 0 && !slices.Contains(a.Servers, s) {
			a.fail(w, toolgate.Errorf(toolgate.Invalid, "there is no server %q (the servers: %s)", s, strings.Join(a.Servers, ", ")))
			return
		}
	}
	g, token, err := grant.Create(r.Context(), a.Store, spec)
	if err != nil {
		a.fail(w, err)
		return
	}
	a.logChange(r, "grant created", audit.ActionGrantCreated, g)
	WriteJSON(w, http.StatusCreated, grant.Issued{Grant: grant.ViewOf(g, a.now()), Token: token})
}

func (a *Grants) revoke(w http.ResponseWriter, r *http.Request) {
	id, ok := grantID(w, r)
	if !ok || !noBody(w, r) {
		return
	}
	g, err := a.Store.Revoke(r.Context(), id, a.now().UTC())
	a.answerChange(w, r, "grant revoked", audit.ActionGrantRevoked, g, err)
}

func (a *Grants) rotate(w http.ResponseWriter, r *http.Request) {
	id, ok := grantID(w, r)
	if !ok || !noBody(w, r) {
		return
	}
	g, token, err := grant.Rotate(r.Context(), a.Store, id)
	if err != nil {
		a.fail(w, err)
		return
	}
	a.changed(id)
	a.logChange(r, "grant rotated", audit.ActionGrantRotated, g)
	WriteJSON(w, http.StatusOK, grant.Issued{Grant: grant.ViewOf(g, a.now()), Token: token})
}

func (a *Grants) setPolicy(w http.ResponseWriter, r *http.Request) {
	id, ok := grantID(w, r)
	if !ok {
		return
	}
	var body struct {
		Policy string `json:"policy"`
	}
	if !ReadJSON(w, r, &body) {
		return
	}
	if body.Policy == "" {
		WriteError(w, http.StatusBadRequest, `the body must be {"policy": "name"}`)
		return
	}
	if err := a.checkPolicy(body.Policy); err != nil {
		a.fail(w, err)
		return
	}
	g, err := a.Store.SetPolicy(r.Context(), id, body.Policy)
	a.answerChange(w, r, "grant policy changed", audit.ActionGrantPolicy, g, err)
}

// answerChange answers a change to a grant that the store made (g) or
// refused (err): on success it tells Changed, logs msg and answers the
// grant as it is now.
func (a *Grants) answerChange(w http.ResponseWriter, r *http.Request, msg, action string, g *toolgate.Grant, err error) {
	if err != nil {
		a.fail(w, err)
		return
	}
	a.changed(g.ID)
	a.logChange(r, msg, action, g)
	g.TokenHash = toolgate.TokenHash{}
	WriteJSON(w, http.StatusOK, grant.ViewOf(g, a.now()))
}

func (a *Grants) checkPolicy(name string) error {
	if a.Policies == nil {
		return nil
	}
	names := a.Policies()
	if len(names) == 0 || slices.Contains(names, name) {
		return nil
	}
	slices.Sort(names)
	return toolgate.Errorf(toolgate.Invalid, "there is no policy %q (the policies: %s)", name, strings.Join(names, ", "))
}

func (a *Grants) changed(id string) {
	if a.Changed != nil {
		a.Changed(id)
	}
}

func (a *Grants) logChange(r *http.Request, msg, action string, g *toolgate.Grant) {
	by := ""
	if t := FromContext(r.Context()); t != nil {
		by = t.Subject
	}
	if a.Record != nil {
		a.Record(r.Context(), action, by, g.ID, "subject="+g.Subject+" policy="+g.Policy)
	}
	if a.Log == nil {
		return
	}
	a.Log.LogAttrs(r.Context(), slog.LevelInfo, msg, slog.String("grant", g.ID), slog.String("subject", g.Subject),
		slog.String("policy", g.Policy), slog.String("by", by))
}

// fail answers err: its code's status and message for a *toolgate.Error
// the caller can act on, 500 "internal error" (and a log line) otherwise.
func (a *Grants) fail(w http.ResponseWriter, err error) {
	code := toolgate.ErrorCode(err)
	switch code {
	case toolgate.Invalid, toolgate.NotFound, toolgate.Conflict:
		WriteError(w, toolgate.HTTPStatus(code), toolgate.ErrorMessage(err))
		return
	}
	if a.Log != nil {
		a.Log.Error("admin grant request failed", "err", err)
	}
	WriteError(w, http.StatusInternalServerError, "internal error")
}

// grantID reads the {id} of the path, answering 400 for what cannot be a
// grant id.
func grantID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !grant.ValidID(id) {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a grant id (gr_ and 12 characters)", id))
		return "", false
	}
	return id, true
}

// noBody refuses a request that carries a body where none is taken.
func noBody(w http.ResponseWriter, r *http.Request) bool {
	n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, 1))
	if n > 0 {
		WriteError(w, http.StatusBadRequest, "this request takes no body")
		return false
	}
	return true
}

// ReadJSON decodes the request's body, one JSON object of at most 64 KiB
// with only the fields v has, into v. It answers 400 (413 when too large)
// and returns false when the body is anything else.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxBody))
		return false
	}
	if err != nil {
		WriteError(w, http.StatusBadRequest, "could not read the body")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, "the body is not a JSON object of the expected fields: "+err.Error())
		return false
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		WriteError(w, http.StatusBadRequest, "the body holds more than one JSON value")
		return false
	}
	return true
}
