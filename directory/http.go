package directory

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// DefaultMaxBodyBytes caps request bodies unless HandlerOptions says
// otherwise.
const DefaultMaxBodyBytes = 1 << 20

// HandlerOptions configure a Handler. The zero value refuses every
// request: at least one key is needed per API.
type HandlerOptions struct {
	// SecretKeys are accepted as "Authorization: Bearer <key>" on /v1/.
	SecretKeys []string
	// APIKeys are accepted as the "Api-Key" header on the Iterable-style
	// /api/ endpoints.
	APIKeys []string
	// MCP, when set, is served at /mcp (streamable HTTP), behind the same
	// Bearer secret key as /v1/.
	MCP *mcp.Server
	// MaxBodyBytes caps a request body (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	// Log receives internal errors (discarded when nil).
	Log *slog.Logger
}

// Handler serves the directory's HTTP API: Clerk's Backend API for users
// under /v1/ and Iterable-style user endpoints under /api/. Every /v1/
// response is "Content-Type: application/json"; errors use Clerk's
// envelope.
type Handler struct {
	svc     *Service
	opts    HandlerOptions
	log     *slog.Logger
	mux     *http.ServeMux
	mcp     http.Handler // nil unless HandlerOptions.MCP
	methods []string
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns the HTTP API over svc. opts may be nil (every request
// is then refused as unauthenticated).
func NewHandler(svc *Service, opts *HandlerOptions) *Handler {
	h := &Handler{svc: svc, mux: http.NewServeMux(), methods: []string{"GET", "POST", "PATCH", "PUT", "DELETE"}}
	if opts != nil {
		h.opts = *opts
	}
	if h.opts.MaxBodyBytes <= 0 {
		h.opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h.log = h.opts.Log
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if srv := h.opts.MCP; srv != nil {
		h.mcp = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	}
	m := h.mux
	m.HandleFunc("POST /v1/users", h.createUser)
	m.HandleFunc("GET /v1/users", h.listUsers)
	m.HandleFunc("GET /v1/users/count", h.countUsers)
	m.HandleFunc("GET /v1/users/{id}", h.getUser)
	m.HandleFunc("PATCH /v1/users/{id}", h.updateUser)
	m.HandleFunc("DELETE /v1/users/{id}", h.deleteUser)
	m.HandleFunc("PATCH /v1/users/{id}/metadata", h.mergeMetadata)
	m.HandleFunc("PUT /v1/users/{id}/metadata", h.replaceMetadata)
	m.HandleFunc("POST /v1/users/{id}/ban", h.userAction((*Service).BanUser))
	m.HandleFunc("POST /v1/users/{id}/unban", h.userAction((*Service).UnbanUser))
	m.HandleFunc("POST /v1/users/{id}/lock", h.userAction((*Service).LockUser))
	m.HandleFunc("POST /v1/users/{id}/unlock", h.userAction((*Service).UnlockUser))
	m.HandleFunc("POST /v1/users/{id}/verify_password", h.verifyPassword)
	m.HandleFunc("POST /v1/users/{id}/verify_totp", h.verifyTOTP)
	m.HandleFunc("POST /v1/email_addresses", h.createEmail)
	m.HandleFunc("GET /v1/email_addresses/{id}", h.getEmail)
	m.HandleFunc("PATCH /v1/email_addresses/{id}", h.updateEmail)
	m.HandleFunc("DELETE /v1/email_addresses/{id}", h.deleteEmail)
	m.HandleFunc("POST /v1/phone_numbers", h.createPhone)
	m.HandleFunc("GET /v1/phone_numbers/{id}", h.getPhone)
	m.HandleFunc("PATCH /v1/phone_numbers/{id}", h.updatePhone)
	m.HandleFunc("DELETE /v1/phone_numbers/{id}", h.deletePhone)
	m.HandleFunc("GET /v1/sessions", h.listSessions)
	m.HandleFunc("POST /v1/sessions", h.createSession)
	m.HandleFunc("GET /v1/outbox", h.outbox)
	h.iterableRoutes(m)
	return h
}

// ServeHTTP authenticates the request and routes it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	iterable := strings.HasPrefix(r.URL.Path, "/api/")
	if iterable {
		if !keyMatches(h.opts.APIKeys, iterableKey(r)) {
			writeIterable(w, http.StatusUnauthorized, iterableResponse{Msg: "Invalid API key", Code: "BadApiKey"})
			return
		}
	} else if err := h.authenticate(r); err != nil {
		h.writeError(w, err)
		return
	}
	if r.URL.Path == "/mcp" && h.mcp != nil {
		h.mcp.ServeHTTP(w, r)
		return
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.notRouted(w, r, iterable)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// notRouted answers 405 when the path exists for another method, 404
// otherwise, in the API's own error shape.
func (h *Handler) notRouted(w http.ResponseWriter, r *http.Request, iterable bool) {
	var allow []string
	for _, m := range h.methods {
		c := r.Clone(r.Context())
		c.Method = m
		if _, p := h.mux.Handler(c); p != "" {
			allow = append(allow, m)
		}
	}
	if iterable {
		if len(allow) > 0 {
			writeIterable(w, http.StatusMethodNotAllowed, iterableResponse{Msg: "Method not allowed", Code: "GenericError"})
			return
		}
		writeIterable(w, http.StatusNotFound, iterableResponse{Msg: "Not found", Code: "NotFound"})
		return
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		h.writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "method not allowed",
			LongMessage: r.Method + " is not allowed on " + r.URL.Path})
		return
	}
	h.writeError(w, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "not found",
		LongMessage: "The requested resource " + r.URL.Path + " was not found."})
}

func keyMatches(keys []string, got string) bool {
	if got == "" {
		return false
	}
	ok := 0
	for _, k := range keys {
		ok |= subtle.ConstantTimeCompare([]byte(k), []byte(got))
	}
	return ok == 1
}

// authenticate checks "Authorization: Bearer <secret key>".
func (h *Handler) authenticate(r *http.Request) error {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return &Error{Status: http.StatusUnauthorized, Code: CodeAuthenticationInvalid, Message: "Invalid authentication",
			LongMessage: "Unable to authenticate the request, you need to supply an active API key"}
	}
	scheme, key, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return &Error{Status: http.StatusUnauthorized, Code: CodeHeaderFormatInvalid, Message: "Invalid Authorization header format",
			LongMessage: "Invalid Authorization header format. Must be 'Bearer <YOUR_API_KEY>'"}
	}
	if !keyMatches(h.opts.SecretKeys, strings.TrimSpace(key)) {
		return &Error{Status: http.StatusUnauthorized, Code: CodeKeyInvalid, Message: "Secret Key is invalid",
			LongMessage: "The provided Secret Key is invalid. Make sure that your Secret Key is correct."}
	}
	return nil
}

// writeJSON writes v with exactly "Content-Type: application/json" (what
// @clerk/backend compares against).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"message":"internal error","long_message":"There was an internal error on our servers.","code":"internal_clerk_error","meta":{}}]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type errorJSON struct {
	Message     string         `json:"message"`
	LongMessage string         `json:"long_message"`
	Code        string         `json:"code"`
	Meta        map[string]any `json:"meta"`
}

type envelopeJSON struct {
	Errors       []errorJSON `json:"errors"`
	ClerkTraceID string      `json:"clerk_trace_id"`
}

func traceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeError writes err in Clerk's error envelope; errors that are not an
// *Error are logged and answered 500 without detail.
func (h *Handler) writeError(w http.ResponseWriter, err error) {
	e := AsError(err)
	if e == nil {
		e = errInternal(err)
	}
	trace := traceID()
	if e.Status >= 500 {
		h.log.Error("directory request failed", "err", err, "trace_id", trace)
	}
	meta := map[string]any{}
	if e.Param != "" {
		meta["param_name"] = e.Param
	}
	w.Header().Set("X-Clerk-Trace-Id", trace)
	writeJSON(w, e.Status, envelopeJSON{Errors: []errorJSON{{Message: e.Message, LongMessage: e.LongMessage, Code: e.Code, Meta: meta}}, ClerkTraceID: trace})
}

// readBody reads the request body, capped at MaxBodyBytes.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errBadRequest(CodeRequestBodyTooLarge, "The request body exceeds the maximum size of %d bytes.", h.opts.MaxBodyBytes)
	}
	if err != nil {
		return nil, errBadRequest(CodeRequestBodyInvalid, "The request body could not be read.")
	}
	return b, nil
}

// decode reads the body into v with Clerk-style errors.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	return decodeBody(b, v)
}

// respond writes v, or err in the envelope.
func (h *Handler) respond(w http.ResponseWriter, v any, err error) {
	if err != nil {
		h.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	var p CreateUserParams
	if err := h.decode(w, r, &p); err != nil {
		h.writeError(w, err)
		return
	}
	u, err := h.svc.CreateUser(r.Context(), p)
	h.respond(w, u, err)
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.svc.GetUser(r.Context(), r.PathValue("id"))
	h.respond(w, u, err)
}

// apiVersionRejectsMetadata reports whether the request's Clerk-API-Version
// (2026-05-12 and later) no longer accepts metadata on PATCH /v1/users.
func apiVersionRejectsMetadata(r *http.Request) bool {
	v := r.Header.Get("Clerk-API-Version")
	return v != "" && v >= "2026-05-12"
}

func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request) {
	var p UpdateUserParams
	if err := h.decode(w, r, &p); err != nil {
		h.writeError(w, err)
		return
	}
	if p.hasMetadata() && apiVersionRejectsMetadata(r) {
		param := "public_metadata"
		if p.PublicMetadata == nil {
			param = "private_metadata"
			if p.PrivateMetadata == nil {
				param = "unsafe_metadata"
			}
		}
		h.writeError(w, invalid(CodeParamDeprecated, param,
			"%s is no longer accepted by PATCH /v1/users/{user_id} in this API version. Use PATCH /v1/users/{user_id}/metadata to merge or PUT to replace.", param))
		return
	}
	u, err := h.svc.UpdateUser(r.Context(), r.PathValue("id"), p)
	h.respond(w, u, err)
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.DeleteUser(r.Context(), r.PathValue("id"))
	h.respond(w, d, err)
}

func (h *Handler) mergeMetadata(w http.ResponseWriter, r *http.Request) {
	var p MetadataParams
	if err := h.decode(w, r, &p); err != nil {
		h.writeError(w, err)
		return
	}
	u, err := h.svc.UpdateUserMetadata(r.Context(), r.PathValue("id"), p)
	h.respond(w, u, err)
}

func (h *Handler) replaceMetadata(w http.ResponseWriter, r *http.Request) {
	b, err := h.readBody(w, r)
	if err != nil {
		h.writeError(w, err)
		return
	}
	var p MetadataParams
	if err := decodeBody(b, &p); err != nil {
		h.writeError(w, err)
		return
	}
	// A field sent as null is replaced by an empty object.
	present, err := metadataPresent(b)
	if err != nil {
		h.writeError(w, err)
		return
	}
	for k, dst := range map[string]*map[string]any{"public_metadata": &p.PublicMetadata, "private_metadata": &p.PrivateMetadata, "unsafe_metadata": &p.UnsafeMetadata} {
		if present[k] && *dst == nil {
			*dst = map[string]any{}
		}
	}
	u, err := h.svc.ReplaceUserMetadata(r.Context(), r.PathValue("id"), p)
	h.respond(w, u, err)
}

// userAction serves ban/unban/lock/unlock; the body (none, or the literal
// null clerk-sdk-go sends) is ignored.
func (h *Handler) userAction(fn func(*Service, context.Context, string) (*User, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := fn(h.svc, r.Context(), r.PathValue("id"))
		h.respond(w, u, err)
	}
}

func (h *Handler) verifyPassword(w http.ResponseWriter, r *http.Request) {
	var p struct {
		Password string `json:"password"`
	}
	if err := h.decode(w, r, &p); err != nil {
		h.writeError(w, err)
		return
	}
	if err := h.svc.VerifyPassword(r.Context(), r.PathValue("id"), p.Password); err != nil {
		h.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"verified": true})
}

func (h *Handler) verifyTOTP(w http.ResponseWriter, r *http.Request) {
	var p struct {
		Code string `json:"code"`
	}
	if err := h.decode(w, r, &p); err != nil {
		h.writeError(w, err)
		return
	}
	kind, err := h.svc.VerifyTOTP(r.Context(), r.PathValue("id"), p.Code)
	if err != nil {
		h.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"verified": true, "code_type": kind})
}

type createIdentifierBody struct {
	UserID       string `json:"user_id"`
	EmailAddress string `json:"email_address"`
	PhoneNumber  string `json:"phone_number"`
	Verified     *bool  `json:"verified"`
	Primary      *bool  `json:"primary"`
	// Sent by clients; no effect here.
	ReservedForSecondFactor *bool `json:"reserved_for_second_factor"`
}

func (h *Handler) createEmail(w http.ResponseWriter, r *http.Request) {
	var b createIdentifierBody
	if err := h.decode(w, r, &b); err != nil {
		h.writeError(w, err)
		return
	}
	e, err := h.svc.CreateEmailAddress(r.Context(), CreateIdentifierParams{UserID: b.UserID, Value: b.EmailAddress, Verified: b.Verified, Primary: b.Primary})
	h.respond(w, e, err)
}

func (h *Handler) getEmail(w http.ResponseWriter, r *http.Request) {
	e, err := h.svc.GetEmailAddress(r.Context(), r.PathValue("id"))
	h.respond(w, e, err)
}

func (h *Handler) updateEmail(w http.ResponseWriter, r *http.Request) {
	var p UpdateIdentifierParams
	if err := h.decode(w, r, &p); err != nil {
		h.writeError(w, err)
		return
	}
	e, err := h.svc.UpdateEmailAddress(r.Context(), r.PathValue("id"), p)
	h.respond(w, e, err)
}

func (h *Handler) deleteEmail(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.DeleteEmailAddress(r.Context(), r.PathValue("id"))
	h.respond(w, d, err)
}

func (h *Handler) createPhone(w http.ResponseWriter, r *http.Request) {
	var b createIdentifierBody
	if err := h.decode(w, r, &b); err != nil {
		h.writeError(w, err)
		return
	}
	p, err := h.svc.CreatePhoneNumber(r.Context(), CreateIdentifierParams{UserID: b.UserID, Value: b.PhoneNumber, Verified: b.Verified, Primary: b.Primary})
	h.respond(w, p, err)
}

func (h *Handler) getPhone(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.GetPhoneNumber(r.Context(), r.PathValue("id"))
	h.respond(w, p, err)
}

func (h *Handler) updatePhone(w http.ResponseWriter, r *http.Request) {
	var p UpdateIdentifierParams
	if err := h.decode(w, r, &p); err != nil {
		h.writeError(w, err)
		return
	}
	ph, err := h.svc.UpdatePhoneNumber(r.Context(), r.PathValue("id"), p)
	h.respond(w, ph, err)
}

func (h *Handler) deletePhone(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.DeletePhoneNumber(r.Context(), r.PathValue("id"))
	h.respond(w, d, err)
}

func (h *Handler) listSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && status != "active" && status != "revoked" {
		h.writeError(w, errValue("status", "status must be active or revoked."))
		return
	}
	s, err := h.svc.ListSessions(r.Context(), q.Get("user_id"), status)
	h.respond(w, s, err)
}

func (h *Handler) createSession(w http.ResponseWriter, r *http.Request) {
	var p struct {
		UserID string `json:"user_id"`
	}
	if err := h.decode(w, r, &p); err != nil {
		h.writeError(w, err)
		return
	}
	s, err := h.svc.CreateSession(r.Context(), p.UserID)
	h.respond(w, s, err)
}

func (h *Handler) outbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(q, "limit")
	if err != nil {
		h.writeError(w, err)
		return
	}
	n, err := h.svc.Outbox(r.Context(), q.Get("user_id"), limit)
	h.respond(w, n, err)
}

func intParam(q url.Values, key string) (int, error) {
	v := q.Get(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errFormat(key, "%s must be an integer.", key)
	}
	return n, nil
}

func int64Param(q url.Values, key string) (*int64, error) {
	v := q.Get(key)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, errFormat(key, "%s must be a unix timestamp in milliseconds.", key)
	}
	return &n, nil
}

// userQuery parses the filters of GET /v1/users and /v1/users/count.
func userQuery(q url.Values, paging bool) (*UserQuery, error) {
	uq := &UserQuery{
		EmailAddresses: q["email_address"], PhoneNumbers: q["phone_number"], Usernames: q["username"],
		Web3Wallets: q["web3_wallet"], ExternalIDs: q["external_id"], UserIDs: q["user_id"],
		Query: q.Get("query"), EmailAddressQuery: q.Get("email_address_query"), PhoneNumberQuery: q.Get("phone_number_query"),
		UsernameQuery: q.Get("username_query"), NameQuery: q.Get("name_query"),
	}
	if v := q.Get("banned"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, errFormat("banned", "banned must be true or false.")
		}
		uq.Banned = &b
	}
	var err error
	for _, f := range []struct {
		key string
		dst **int64
	}{{"created_at_before", &uq.CreatedAtBefore}, {"created_at_after", &uq.CreatedAtAfter},
		{"last_active_at_after", &uq.LastActiveAfter}, {"last_active_at_since", &uq.LastActiveAfter},
		{"last_active_at_before", &uq.LastActiveBefore}} {
		v, err := int64Param(q, f.key)
		if err != nil {
			return nil, err
		}
		if v != nil {
			*f.dst = v
		}
	}
	if !paging {
		return uq, nil
	}
	if uq.Limit, err = intParam(q, "limit"); err != nil {
		return nil, err
	}
	if q.Get("limit") != "" && uq.Limit < 1 {
		return nil, errValue("limit", "limit must be between 1 and %d.", MaxListLimit)
	}
	if uq.Offset, err = intParam(q, "offset"); err != nil {
		return nil, err
	}
	if o := q["order_by"]; len(o) > 0 {
		// An unencoded "+" arrives as a space.
		uq.OrderBy = o[0]
		if strings.HasPrefix(uq.OrderBy, " ") {
			uq.OrderBy = "+" + strings.TrimSpace(uq.OrderBy)
		}
	}
	return uq, nil
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	q, err := userQuery(r.URL.Query(), true)
	if err != nil {
		h.writeError(w, err)
		return
	}
	users, err := h.svc.ListUsers(r.Context(), q)
	h.respond(w, users, err)
}

func (h *Handler) countUsers(w http.ResponseWriter, r *http.Request) {
	// clerk-sdk-go sends limit, offset and order_by here too: ignored.
	q, err := userQuery(r.URL.Query(), false)
	if err != nil {
		h.writeError(w, err)
		return
	}
	n, err := h.svc.CountUsers(r.Context(), q)
	h.respond(w, map[string]any{"object": "total_count", "total_count": n}, err)
}
