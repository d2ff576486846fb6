package admin

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
)

// AuditRoutes returns the admin API's audit routes, for
// gateway.AdminHandler:
//
//   - GET /admin/audit?tool=&subject=&decision=&kind=&since=&limit=
//     (viewer): the events matching every filter given, newest first;
//     since is a duration back from now ("1h") or an RFC 3339 time; limit
//     defaults to 100, at most 10000;
//   - GET /admin/audit/{id} (viewer): one event.
//
// log receives read failures.
func AuditRoutes(r audit.Reader, log *slog.Logger) func(*http.ServeMux) {
	return func(mux *http.ServeMux) {
		mux.Handle("GET /admin/audit", Require(Viewer, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			f, err := AuditFilter(req.URL.Query().Get, time.Now())
			if err != nil {
				WriteError(w, http.StatusBadRequest, toolgate.ErrorMessage(err))
				return
			}
			events, err := r.Query(req.Context(), f)
			if err != nil {
				log.Error("reading the audit log failed", "err", err)
				WriteError(w, http.StatusInternalServerError, "the audit log cannot be read")
				return
			}
			if events == nil {
				events = []*audit.Event{}
			}
			WriteJSON(w, http.StatusOK, map[string]any{"events": events})
		})))
		mux.Handle("GET /admin/audit/{id}", Require(Viewer, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			e, err := r.Get(req.Context(), req.PathValue("id"))
			switch {
			case toolgate.ErrorCode(err) == toolgate.NotFound:
				WriteError(w, http.StatusNotFound, "no audit event "+req.PathValue("id"))
			case err != nil:
				log.Error("reading the audit log failed", "err", err)
				WriteError(w, http.StatusInternalServerError, "the audit log cannot be read")
			default:
				WriteJSON(w, http.StatusOK, e)
			}
		})))
	}
}

// AuditCounters is what the audit stats route reads: the counters of the
// gateway's audit log. *audit.Log implements it.
type AuditCounters interface {
	Stats() audit.Stats
}

var _ AuditCounters = (*audit.Log)(nil)

// AuditStats is the answer of GET /admin/audit/stats: audit.Stats with
// sink_errors always present ({} when no sink failed).
type AuditStats struct {
	audit.Stats
	// SinkErrors counts, by secondary sink name, the events it failed to
	// store (or, for an http sink, lost after taking them).
	SinkErrors map[string]uint64 `json:"sink_errors"`
}

// AuditStatsRoutes returns the route GET /admin/audit/stats (viewer): the
// counters of the audit log c, since the gateway started. It needs no
// sqlite sink.
func AuditStatsRoutes(c AuditCounters) func(*http.ServeMux) {
	return func(mux *http.ServeMux) {
		mux.Handle("GET /admin/audit/stats", Require(Viewer, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			st := c.Stats()
			v := AuditStats{Stats: st, SinkErrors: st.SinkErrors}
			if v.SinkErrors == nil {
				v.SinkErrors = map[string]uint64{}
			}
			WriteJSON(w, http.StatusOK, v)
		})))
	}
}

// AuditFilter reads an audit query's parameters (tool, subject, decision,
// kind, since, limit) through get; since is relative to now. Errors have
// the code Invalid. The CLI's audit query takes the same.
func AuditFilter(get func(string) string, now time.Time) (audit.Filter, error) {
	f := audit.Filter{Tool: get("tool"), Subject: get("subject"), Decision: audit.Decision(get("decision")), Kind: audit.Kind(get("kind"))}
	if f.Decision != "" && !slices.Contains(audit.Decisions, f.Decision) {
		return f, toolgate.Errorf(toolgate.Invalid, "decision must be one of %v, not %q", audit.Decisions, f.Decision)
	}
	switch f.Kind {
	case "", audit.KindDecision, audit.KindOutcome, audit.KindAdmin:
	default:
		return f, toolgate.Errorf(toolgate.Invalid, "kind must be decision, outcome or admin, not %q", f.Kind)
	}
	if s := get("since"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			f.Since = now.Add(-d)
		} else if t, err := time.Parse(time.RFC3339, s); err == nil {
			f.Since = t
		} else {
			return f, toolgate.Errorf(toolgate.Invalid, "since must be a duration such as 1h or an RFC 3339 time, not %q", s)
		}
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > audit.MaxLimit {
			return f, toolgate.Errorf(toolgate.Invalid, "%s", fmt.Sprintf("limit must be a number from 1 to %d, not %q", audit.MaxLimit, s))
		}
		f.Limit = n
	}
	return f, nil
}
