package directory

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Iterable-style users API over the same users: an Iterable "user" is a
// directory user; its email is the primary email address, its userId the
// directory user's external_id (a "user_…" id of the directory is also
// accepted when looking a user up), and its dataFields the user's
// public_metadata plus firstName/lastName, which map to the user's names.

// IterableUpdateParams is the body of POST /api/users/update.
type IterableUpdateParams struct {
	Email      string         `json:"email,omitempty"`
	UserID     string         `json:"userId,omitempty"`
	DataFields map[string]any `json:"dataFields,omitempty"`
	// PreferUserID creates a user with UserID when none exists (only
	// when Email is empty).
	PreferUserID bool `json:"preferUserId,omitempty"`
	// MergeNestedObjects merges nested objects of dataFields into the
	// stored ones instead of replacing them.
	MergeNestedObjects bool `json:"mergeNestedObjects,omitempty"`
	// CreateNewFields is accepted for compatibility; new fields are always
	// created.
	CreateNewFields *bool `json:"createNewFields,omitempty"`
}

// IterableUser is Iterable's user object. Email is always present: a user
// known only by userId gets Iterable's placeholder address
// <userId>@placeholder.email, as clients (the @iterable/api schema)
// require a string there.
type IterableUser struct {
	Email      string         `json:"email"`
	UserID     string         `json:"userId,omitempty"`
	DataFields map[string]any `json:"dataFields"`
}

// placeholderDomain is the domain of the placeholder email address of a
// user known only by userId.
const placeholderDomain = "placeholder.email"

// iterableTime is Iterable's date format.
const iterableTime = "2006-01-02 15:04:05 -07:00"

// IterableView returns u as Iterable's user object.
func IterableView(u *User) *IterableUser {
	iu := &IterableUser{DataFields: map[string]any{}}
	for k, v := range u.PublicMetadata {
		iu.DataFields[k] = v
	}
	if e := u.PrimaryEmailAddress(); e != nil {
		iu.Email = e.EmailAddress
		iu.DataFields["email"] = e.EmailAddress
	}
	if u.ExternalID != nil {
		iu.UserID = *u.ExternalID
		iu.DataFields["userId"] = *u.ExternalID
	}
	if u.FirstName != nil {
		iu.DataFields["firstName"] = *u.FirstName
	}
	if u.LastName != nil {
		iu.DataFields["lastName"] = *u.LastName
	}
	if iu.Email == "" && iu.UserID != "" {
		iu.Email = iu.UserID + "@" + placeholderDomain
	}
	iu.DataFields["signupDate"] = time.UnixMilli(u.CreatedAt).UTC().Format(iterableTime)
	iu.DataFields["profileUpdatedAt"] = time.UnixMilli(u.UpdatedAt).UTC().Format(iterableTime)
	return iu
}

// findIterable returns the user an Iterable email or userId names, or nil.
func findIterable(ctx context.Context, tx Tx, email, userID string) (*User, error) {
	var q *UserQuery
	switch {
	case email != "":
		q = &UserQuery{EmailAddresses: []string{strings.ToLower(strings.TrimSpace(email))}, Limit: 1}
	case strings.HasPrefix(userID, "user_"):
		u, err := tx.User(ctx, userID)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		q = &UserQuery{ExternalIDs: []string{userID}, Limit: 1}
	default:
		q = &UserQuery{ExternalIDs: []string{userID}, Limit: 1}
	}
	users, err := tx.ListUsers(ctx, q)
	if err != nil || len(users) == 0 {
		return nil, err
	}
	return users[0], nil
}

// IterableGetUser returns the user with the email or userId, or nil when
// there is none.
func (s *Service) IterableGetUser(ctx context.Context, email, userID string) (*User, error) {
	var u *User
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		u, err = findIterable(ctx, tx, email, userID)
		return err
	})
	return u, err
}

// IterableUpdateUser is Iterable's users/update: it finds the user by
// email (else by userId), creates it when absent (by email, or by userId
// with PreferUserID), sets userId when both are given, and merges
// dataFields: top-level fields replace, nested objects replace unless
// MergeNestedObjects; firstName and lastName set the user's names.
func (s *Service) IterableUpdateUser(ctx context.Context, p IterableUpdateParams) (*User, error) {
	email := strings.TrimSpace(p.Email)
	if email == "" && p.UserID == "" {
		return nil, errValue("email", "Either email or userId must be passed.")
	}
	if email != "" {
		var err error
		if email, err = normalizeEmail("email", email); err != nil {
			return nil, err
		}
	}
	if err := checkMetadata("dataFields", p.DataFields); err != nil {
		return nil, err
	}
	apply := func(u *User) error {
		if p.UserID != "" && email != "" && !strings.HasPrefix(p.UserID, "user_") {
			id := p.UserID
			u.ExternalID = &id
		}
		pub := maps(u.PublicMetadata)
		for k, v := range p.DataFields {
			switch k {
			case "email", "userId":
				continue
			case "firstName", "lastName":
				dst := &u.FirstName
				if k == "lastName" {
					dst = &u.LastName
				}
				switch v := v.(type) {
				case nil:
					*dst = nil
				case string:
					*dst = nonEmpty(&v)
				default:
					return errFormat("dataFields."+k, "dataFields.%s must be a string.", k)
				}
				continue
			}
			if vm, ok := v.(map[string]any); ok && p.MergeNestedObjects {
				bm, _ := pub[k].(map[string]any)
				pub[k] = mergeKeepNull(bm, vm)
				continue
			}
			pub[k] = v
		}
		if err := checkMetadata("dataFields", pub); err != nil {
			return err
		}
		u.PublicMetadata = pub
		return nil
	}
	var out *User
	err := s.store.Update(ctx, func(tx Tx) error {
		u, err := findIterable(ctx, tx, email, p.UserID)
		if err != nil {
			return err
		}
		now := s.nowMillis()
		if u == nil {
			if email == "" && !p.PreferUserID {
				return errValue("userId", "No user exists with userId %s; set preferUserId to create one.", p.UserID)
			}
			u = &User{ID: newID("user"), DeleteSelfEnabled: true, CreateOrganizationEnabled: true, CreatedAt: now, UpdatedAt: now}
			if email != "" {
				e := &EmailAddress{ID: newID("idn"), UserID: u.ID, EmailAddress: email, Verified: true, CreatedAt: now, UpdatedAt: now}
				u.EmailAddresses = []*EmailAddress{e}
				u.PrimaryEmailAddressID = &e.ID
			}
			if p.UserID != "" {
				id := p.UserID
				u.ExternalID = &id
			}
			if err := apply(u); err != nil {
				return err
			}
			out = u
			return tx.InsertUser(ctx, u)
		}
		if err := apply(u); err != nil {
			return err
		}
		u.UpdatedAt = max(now, u.UpdatedAt)
		out = u
		return tx.SaveUser(ctx, u)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// mergeKeepNull merges patch into base like MergeMetadata, except that a
// null value is stored as null (Iterable's semantics).
func mergeKeepNull(base, patch map[string]any) map[string]any {
	out := maps(base)
	for k, v := range patch {
		if pm, ok := v.(map[string]any); ok {
			bm, _ := out[k].(map[string]any)
			out[k] = mergeKeepNull(bm, pm)
			continue
		}
		out[k] = v
	}
	return out
}

// iterableResponse is Iterable's generic response.
type iterableResponse struct {
	Msg    string `json:"msg"`
	Code   string `json:"code"`
	Params any    `json:"params"`
}

func writeIterable(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// iterableKey returns the API key of a request: the Api-Key header, or the
// api_key query parameter.
func iterableKey(r *http.Request) string {
	if k := r.Header.Get("Api-Key"); k != "" {
		return k
	}
	return r.URL.Query().Get("api_key")
}

func (h *Handler) iterableRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/users/update", h.iterableUpdate)
	m.HandleFunc("GET /api/users/getByEmail", h.iterableGetByEmail)
	// The path form @iterable/api uses; the literal routes above win over it.
	m.HandleFunc("GET /api/users/{email}", h.iterableGetByEmailPath)
	m.HandleFunc("GET /api/users/byUserId/{userId}", h.iterableGetByUserID)
}

// iterableError answers err in Iterable's shape.
func (h *Handler) iterableError(w http.ResponseWriter, err error) {
	e := AsError(err)
	if e == nil {
		h.log.Error("directory iterable request failed", "err", err)
		writeIterable(w, http.StatusInternalServerError, iterableResponse{Msg: "Internal error", Code: "GenericError"})
		return
	}
	code := "BadParams"
	switch {
	case e.Code == CodeRequestBodyInvalid || e.Code == CodeRequestBodyTooLarge:
		code = "BadJsonBody"
	case e.Code == CodeIdentifierExists:
		code = "Conflict"
	case e.Param == "email" && e.Code == CodeFormatInvalid:
		code = "InvalidEmailAddressError"
	}
	status := http.StatusBadRequest
	if e.Code == CodeIdentifierExists {
		status = http.StatusConflict
	}
	var params any
	if e.Param != "" {
		params = map[string]any{"param_name": e.Param}
	}
	writeIterable(w, status, iterableResponse{Msg: e.LongMessage, Code: code, Params: params})
}

func (h *Handler) iterableUpdate(w http.ResponseWriter, r *http.Request) {
	var p IterableUpdateParams
	if err := h.decode(w, r, &p); err != nil {
		h.iterableError(w, err)
		return
	}
	if _, err := h.svc.IterableUpdateUser(r.Context(), p); err != nil {
		h.iterableError(w, err)
		return
	}
	writeIterable(w, http.StatusOK, iterableResponse{Msg: "", Code: "Success"})
}

// iterableUserResponse answers {"user": …}, or {} when there is no such
// user (what Iterable answers).
func (h *Handler) iterableUserResponse(w http.ResponseWriter, u *User, err error) {
	if err != nil {
		h.iterableError(w, err)
		return
	}
	if u == nil {
		writeIterable(w, http.StatusOK, map[string]any{})
		return
	}
	writeIterable(w, http.StatusOK, map[string]any{"user": IterableView(u)})
}

func (h *Handler) iterableGetByEmail(w http.ResponseWriter, r *http.Request) {
	email := r.URL.Query().Get("email")
	if email == "" {
		h.iterableError(w, errMissing("email"))
		return
	}
	u, err := h.svc.IterableGetUser(r.Context(), email, "")
	h.iterableUserResponse(w, u, err)
}

func (h *Handler) iterableGetByEmailPath(w http.ResponseWriter, r *http.Request) {
	u, err := h.svc.IterableGetUser(r.Context(), r.PathValue("email"), "")
	h.iterableUserResponse(w, u, err)
}

func (h *Handler) iterableGetByUserID(w http.ResponseWriter, r *http.Request) {
	u, err := h.svc.IterableGetUser(r.Context(), "", r.PathValue("userId"))
	h.iterableUserResponse(w, u, err)
}
