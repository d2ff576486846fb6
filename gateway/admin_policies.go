package gateway

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/admin"
)

// maxPolicyBytes bounds a policy document sent to the admin API.
const maxPolicyBytes = 1 << 20

// PolicyRoutes returns the admin API's policy routes, for AdminHandler:
//
//   - GET /admin/policies (viewer): every policy's status (file, digest of
//     the document in force, when it was loaded, why the file's current
//     content is refused);
//   - GET /admin/policies/{name} (viewer): the status and the document;
//   - PUT /admin/policies/{name} (policy_manager): the body, a policy
//     document, is checked, written over the policy's file and put in force
//     at once; an invalid document changes nothing (400, positioned);
//   - POST /admin/policies/{name}/reload (policy_manager): read the file
//     again now.
//
// files are the policies kept in files, by name; inline are the names of
// the policies written in the configuration itself, which the API lists
// but cannot change. log receives every change with the admin token's
// subject.
func PolicyRoutes(files map[string]*PolicyFile, inline []string, log *slog.Logger) func(*http.ServeMux) {
	return func(mux *http.ServeMux) {
		mux.Handle("GET /admin/policies", admin.Require(admin.Viewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			out := []PolicyStatus{}
			for _, name := range slices.Sorted(maps.Keys(files)) {
				out = append(out, files[name].Status(name))
			}
			for _, name := range inline {
				out = append(out, PolicyStatus{Name: name})
			}
			slices.SortFunc(out, func(a, b PolicyStatus) int { return strings.Compare(a.Name, b.Name) })
			admin.WriteJSON(w, http.StatusOK, map[string]any{"policies": out})
		})))
		file := func(w http.ResponseWriter, r *http.Request) (string, *PolicyFile) {
			name := r.PathValue("name")
			if pf := files[name]; pf != nil {
				return name, pf
			}
			if slices.Contains(inline, name) {
				admin.WriteError(w, http.StatusConflict, fmt.Sprintf("policy %q is written inline in the configuration; change it there", name))
				return "", nil
			}
			admin.WriteError(w, http.StatusNotFound, fmt.Sprintf("there is no policy %q", name))
			return "", nil
		}
		mux.Handle("GET /admin/policies/{name}", admin.Require(admin.Viewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			name, pf := file(w, r)
			if pf == nil {
				return
			}
			doc, err := pf.Document()
			if err != nil {
				log.Error("reading a policy file failed", "policy", name, "err", err)
				admin.WriteError(w, http.StatusInternalServerError, "the policy file cannot be read")
				return
			}
			admin.WriteJSON(w, http.StatusOK, struct {
				PolicyStatus
				Document string `json:"document"`
			}{pf.Status(name), string(doc)})
		})))
		mux.Handle("PUT /admin/policies/{name}", admin.Require(admin.PolicyManager, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			name, pf := file(w, r)
			if pf == nil {
				return
			}
			data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPolicyBytes))
			var tooLarge *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge):
				admin.WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("a policy document is at most %d bytes", maxPolicyBytes))
				return
			case err != nil:
				admin.WriteError(w, http.StatusBadRequest, "could not read the body")
				return
			}
			if err := pf.ReplaceAs(data, admin.FromContext(r.Context()).Subject); err != nil {
				if toolgate.ErrorCode(err) == toolgate.Invalid {
					admin.WriteError(w, http.StatusBadRequest, toolgate.ErrorMessage(err))
					return
				}
				admin.WriteError(w, http.StatusInternalServerError, "the policy file could not be written; the policy in force stays")
				return
			}
			log.Info("policy replaced through the admin API", "policy", name, "by", admin.FromContext(r.Context()).Subject)
			admin.WriteJSON(w, http.StatusOK, pf.Status(name))
		})))
		mux.Handle("POST /admin/policies/{name}/reload", admin.Require(admin.PolicyManager, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			name, pf := file(w, r)
			if pf == nil {
				return
			}
			pf.mu.Lock()
			pf.seen = false // read it even if unchanged
			pf.mu.Unlock()
			if err := pf.Load(); err != nil {
				admin.WriteError(w, http.StatusBadRequest, err.Error())
				return
			}
			admin.WriteJSON(w, http.StatusOK, pf.Status(name))
		})))
	}
}
