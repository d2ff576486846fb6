package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
)

// UpdateUserParams are the parameters of UpdateUser: Clerk's
// PATCH /v1/users/{id} body, every field optional. A nil field is left
// unchanged. For FirstName, LastName, Username, ExternalID, Locale and
// ProfileImageID a pointer to "" clears the value (on the wire: "" or
// null). The metadata fields, when non-nil, replace the stored objects
// (Clerk-API-Version 2025-04-10 semantics); use UpdateUserMetadata to
// merge.
//
// UnmarshalJSON decodes Clerk's snake_case body strictly: an unknown key,
// a value of the wrong type or malformed JSON is an *Error with Clerk's
// code (form_param_unknown, form_param_format_invalid, request_body_invalid).
type UpdateUserParams struct {
	FirstName                        *string        `json:"first_name,omitempty"`
	LastName                         *string        `json:"last_name,omitempty"`
	Username                         *string        `json:"username,omitempty"`
	ExternalID                       *string        `json:"external_id,omitempty"`
	Locale                           *string        `json:"locale,omitempty"`
	PrimaryEmailAddressID            *string        `json:"primary_email_address_id,omitempty"`
	NotifyPrimaryEmailAddressChanged *bool          `json:"notify_primary_email_address_changed,omitempty"`
	PrimaryPhoneNumberID             *string        `json:"primary_phone_number_id,omitempty"`
	PrimaryWeb3WalletID              *string        `json:"primary_web3_wallet_id,omitempty"`
	ProfileImageID                   *string        `json:"profile_image_id,omitempty"`
	Password                         *string        `json:"password,omitempty"`
	PasswordDigest                   *string        `json:"password_digest,omitempty"`
	PasswordHasher                   *string        `json:"password_hasher,omitempty"`
	SkipPasswordChecks               *bool          `json:"skip_password_checks,omitempty"`
	SignOutOfOtherSessions           *bool          `json:"sign_out_of_other_sessions,omitempty"`
	TOTPSecret                       *string        `json:"totp_secret,omitempty"`
	BackupCodes                      []string       `json:"backup_codes,omitempty"`
	PublicMetadata                   map[string]any `json:"public_metadata,omitempty"`
	PrivateMetadata                  map[string]any `json:"private_metadata,omitempty"`
	UnsafeMetadata                   map[string]any `json:"unsafe_metadata,omitempty"`
	DeleteSelfEnabled                *bool          `json:"delete_self_enabled,omitempty"`
	CreateOrganizationEnabled        *bool          `json:"create_organization_enabled,omitempty"`
	CreateOrganizationsLimit         *int           `json:"create_organizations_limit,omitempty"`
	// LegalAcceptedAt and CreatedAt are RFC3339 timestamps.
	LegalAcceptedAt   *string `json:"legal_accepted_at,omitempty"`
	CreatedAt         *string `json:"created_at,omitempty"`
	SkipLegalChecks   *bool   `json:"skip_legal_checks,omitempty"`
	BypassClientTrust *bool   `json:"bypass_client_trust,omitempty"`
}

// CreateUserParams are the parameters of CreateUser: Clerk's POST /v1/users
// body. The first email address, phone number and web3 wallet become
// primary; all are created verified.
type CreateUserParams struct {
	EmailAddresses            []string       `json:"email_address,omitempty"`
	PhoneNumbers              []string       `json:"phone_number,omitempty"`
	Web3Wallets               []string       `json:"web3_wallet,omitempty"`
	Username                  *string        `json:"username,omitempty"`
	ExternalID                *string        `json:"external_id,omitempty"`
	FirstName                 *string        `json:"first_name,omitempty"`
	LastName                  *string        `json:"last_name,omitempty"`
	Locale                    *string        `json:"locale,omitempty"`
	Password                  *string        `json:"password,omitempty"`
	PasswordDigest            *string        `json:"password_digest,omitempty"`
	PasswordHasher            *string        `json:"password_hasher,omitempty"`
	SkipPasswordChecks        *bool          `json:"skip_password_checks,omitempty"`
	SkipPasswordRequirement   *bool          `json:"skip_password_requirement,omitempty"`
	TOTPSecret                *string        `json:"totp_secret,omitempty"`
	BackupCodes               []string       `json:"backup_codes,omitempty"`
	PublicMetadata            map[string]any `json:"public_metadata,omitempty"`
	PrivateMetadata           map[string]any `json:"private_metadata,omitempty"`
	UnsafeMetadata            map[string]any `json:"unsafe_metadata,omitempty"`
	DeleteSelfEnabled         *bool          `json:"delete_self_enabled,omitempty"`
	CreateOrganizationEnabled *bool          `json:"create_organization_enabled,omitempty"`
	CreateOrganizationsLimit  *int           `json:"create_organizations_limit,omitempty"`
	LegalAcceptedAt           *string        `json:"legal_accepted_at,omitempty"`
	CreatedAt                 *string        `json:"created_at,omitempty"`
	SkipLegalChecks           *bool          `json:"skip_legal_checks,omitempty"`
	// SkipUserRequirement allows a user without any identifier.
	SkipUserRequirement *bool `json:"skip_user_requirement,omitempty"`
	BypassClientTrust   *bool `json:"bypass_client_trust,omitempty"`
	Banned              *bool `json:"banned,omitempty"`
	Locked              *bool `json:"locked,omitempty"`

	// id, when set (by Seed), is the id of the new user.
	id string
}

// MetadataParams are the bodies of PATCH (merge) and PUT (replace)
// /v1/users/{id}/metadata. A nil field is left unchanged.
type MetadataParams struct {
	PublicMetadata  map[string]any `json:"public_metadata,omitempty"`
	PrivateMetadata map[string]any `json:"private_metadata,omitempty"`
	UnsafeMetadata  map[string]any `json:"unsafe_metadata,omitempty"`
}

// fields decodes a JSON object key by key, so that each key's problem is
// reported with its name, null is told apart from absence, and unknown keys
// are refused.
type fields struct {
	raw  map[string]json.RawMessage
	seen map[string]bool
	err  error
}

// maxBodyDepth caps the nesting of request bodies.
const maxBodyDepth = 64

func newFields(body []byte) (*fields, error) {
	body = bytes.TrimSpace(body)
	f := &fields{raw: map[string]json.RawMessage{}, seen: map[string]bool{}}
	if len(body) == 0 || string(body) == "null" {
		return f, nil
	}
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	if body[0] != '{' {
		return nil, errBadRequest(CodeRequestBodyInvalid, "The request body must be a JSON object.")
	}
	if err := json.Unmarshal(body, &f.raw); err != nil {
		return nil, errBadRequest(CodeRequestBodyInvalid, "The request body is not valid JSON.")
	}
	return f, nil
}

// checkJSON reports malformed JSON, trailing data and too deep nesting as
// request_body_invalid.
func checkJSON(body []byte) error {
	if !json.Valid(body) {
		return errBadRequest(CodeRequestBodyInvalid, "The request body is not valid JSON.")
	}
	depth, maxDepth, inStr, esc := 0, 0, false, false
	for _, c := range body {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
			maxDepth = max(maxDepth, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	if maxDepth > maxBodyDepth {
		return errBadRequest(CodeRequestBodyInvalid, "The request body is nested more than %d levels deep.", maxBodyDepth)
	}
	return nil
}

func (f *fields) get(key string) (json.RawMessage, bool) {
	f.seen[key] = true
	v, ok := f.raw[key]
	if !ok {
		return nil, false
	}
	return v, true
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func (f *fields) fail(err error) {
	if f.err == nil {
		f.err = err
	}
}

func (f *fields) typeErr(key, want string) {
	f.fail(errFormat(key, "%s must be %s.", key, want))
}

// str decodes a string. null leaves dst nil unless nullClears, when it
// sets dst to "".
func (f *fields) str(key string, dst **string, nullClears bool) {
	v, ok := f.get(key)
	if !ok {
		return
	}
	if isNull(v) {
		if nullClears {
			s := ""
			*dst = &s
		}
		return
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		f.typeErr(key, "a string")
		return
	}
	*dst = &s
}

func (f *fields) boolean(key string, dst **bool) {
	v, ok := f.get(key)
	if !ok || isNull(v) {
		return
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		f.typeErr(key, "a boolean")
		return
	}
	*dst = &b
}

func (f *fields) integer(key string, dst **int) {
	v, ok := f.get(key)
	if !ok || isNull(v) {
		return
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 32)
	if err != nil {
		f.typeErr(key, "an integer")
		return
	}
	i := int(n)
	*dst = &i
}

func (f *fields) strings(key string, dst *[]string) {
	v, ok := f.get(key)
	if !ok || isNull(v) {
		return
	}
	var s []string
	if err := json.Unmarshal(v, &s); err != nil {
		f.typeErr(key, "an array of strings")
		return
	}
	if s == nil {
		s = []string{}
	}
	*dst = s
}

func (f *fields) object(key string, dst *map[string]any) {
	v, ok := f.get(key)
	if !ok || isNull(v) {
		return
	}
	m, err := decodeMetadata(v)
	if err != nil {
		f.fail(errFormat(key, "%s must be a JSON object.", key))
		return
	}
	*dst = m
}

func decodeMetadata(v []byte) (map[string]any, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '{' {
		return nil, errors.New("not an object")
	}
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	m := map[string]any{}
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// ignore accepts keys that are valid on the wire but have no effect here.
func (f *fields) ignore(keys ...string) {
	for _, k := range keys {
		f.get(k)
	}
}

// done reports the first problem, then any unknown key.
func (f *fields) done() error {
	if f.err != nil {
		return f.err
	}
	var unknown []string
	for k := range f.raw {
		if !f.seen[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return invalid(CodeParamUnknown, unknown[0], "%s is not a valid parameter for this request.", unknown[0])
	}
	return nil
}

// UnmarshalJSON decodes Clerk's PATCH /v1/users/{id} body strictly.
func (p *UpdateUserParams) UnmarshalJSON(b []byte) error {
	f, err := newFields(b)
	if err != nil {
		return err
	}
	*p = UpdateUserParams{}
	f.str("first_name", &p.FirstName, true)
	f.str("last_name", &p.LastName, true)
	f.str("username", &p.Username, true)
	f.str("external_id", &p.ExternalID, true)
	f.str("locale", &p.Locale, true)
	f.str("primary_email_address_id", &p.PrimaryEmailAddressID, false)
	f.boolean("notify_primary_email_address_changed", &p.NotifyPrimaryEmailAddressChanged)
	f.str("primary_phone_number_id", &p.PrimaryPhoneNumberID, false)
	f.str("primary_web3_wallet_id", &p.PrimaryWeb3WalletID, false)
	f.str("profile_image_id", &p.ProfileImageID, true)
	f.str("password", &p.Password, false)
	f.str("password_digest", &p.PasswordDigest, false)
	f.str("password_hasher", &p.PasswordHasher, false)
	f.boolean("skip_password_checks", &p.SkipPasswordChecks)
	f.boolean("sign_out_of_other_sessions", &p.SignOutOfOtherSessions)
	f.str("totp_secret", &p.TOTPSecret, false)
	f.strings("backup_codes", &p.BackupCodes)
	f.object("public_metadata", &p.PublicMetadata)
	f.object("private_metadata", &p.PrivateMetadata)
	f.object("unsafe_metadata", &p.UnsafeMetadata)
	f.boolean("delete_self_enabled", &p.DeleteSelfEnabled)
	f.boolean("create_organization_enabled", &p.CreateOrganizationEnabled)
	f.integer("create_organizations_limit", &p.CreateOrganizationsLimit)
	f.str("legal_accepted_at", &p.LegalAcceptedAt, false)
	f.str("created_at", &p.CreatedAt, false)
	f.boolean("skip_legal_checks", &p.SkipLegalChecks)
	f.boolean("bypass_client_trust", &p.BypassClientTrust)
	// timezone (sent by @clerk/backend) and profile_image (a field of
	// clerk-sdk-go's UpdateParams) are accepted and ignored.
	f.ignore("timezone", "profile_image")
	return f.done()
}

// hasMetadata reports whether p sets any metadata object.
func (p *UpdateUserParams) hasMetadata() bool {
	return p.PublicMetadata != nil || p.PrivateMetadata != nil || p.UnsafeMetadata != nil
}

// UnmarshalJSON decodes Clerk's POST /v1/users body strictly.
func (p *CreateUserParams) UnmarshalJSON(b []byte) error {
	f, err := newFields(b)
	if err != nil {
		return err
	}
	*p = CreateUserParams{}
	f.strings("email_address", &p.EmailAddresses)
	f.strings("phone_number", &p.PhoneNumbers)
	f.strings("web3_wallet", &p.Web3Wallets)
	f.str("username", &p.Username, false)
	f.str("external_id", &p.ExternalID, false)
	f.str("first_name", &p.FirstName, false)
	f.str("last_name", &p.LastName, false)
	f.str("locale", &p.Locale, false)
	f.str("password", &p.Password, false)
	f.str("password_digest", &p.PasswordDigest, false)
	f.str("password_hasher", &p.PasswordHasher, false)
	f.boolean("skip_password_checks", &p.SkipPasswordChecks)
	f.boolean("skip_password_requirement", &p.SkipPasswordRequirement)
	f.str("totp_secret", &p.TOTPSecret, false)
	f.strings("backup_codes", &p.BackupCodes)
	f.object("public_metadata", &p.PublicMetadata)
	f.object("private_metadata", &p.PrivateMetadata)
	f.object("unsafe_metadata", &p.UnsafeMetadata)
	f.boolean("delete_self_enabled", &p.DeleteSelfEnabled)
	f.boolean("create_organization_enabled", &p.CreateOrganizationEnabled)
	f.integer("create_organizations_limit", &p.CreateOrganizationsLimit)
	f.str("legal_accepted_at", &p.LegalAcceptedAt, false)
	f.str("created_at", &p.CreatedAt, false)
	f.boolean("skip_legal_checks", &p.SkipLegalChecks)
	f.boolean("skip_user_requirement", &p.SkipUserRequirement)
	f.boolean("bypass_client_trust", &p.BypassClientTrust)
	f.boolean("banned", &p.Banned)
	f.boolean("locked", &p.Locked)
	f.ignore("timezone", "email_address_identification_status", "phone_number_identification_status")
	return f.done()
}

// UnmarshalJSON decodes a metadata body. A field that is not an object is
// form_param_format_invalid.
func (p *MetadataParams) UnmarshalJSON(b []byte) error {
	f, err := newFields(b)
	if err != nil {
		return err
	}
	*p = MetadataParams{}
	f.object("public_metadata", &p.PublicMetadata)
	f.object("private_metadata", &p.PrivateMetadata)
	f.object("unsafe_metadata", &p.UnsafeMetadata)
	return f.done()
}

// metadataPresent reports which metadata fields a body sends, null
// included (for PUT, a null field stores an empty object).
func metadataPresent(b []byte) (map[string]bool, error) {
	f, err := newFields(b)
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for _, k := range []string{"public_metadata", "private_metadata", "unsafe_metadata"} {
		if _, ok := f.raw[k]; ok {
			present[k] = true
		}
	}
	return present, nil
}

// decodeBody decodes a request body into v (an Unmarshaler above, or a
// plain struct decoded strictly), returning Clerk-style errors.
func decodeBody(b []byte, v any) error {
	switch v.(type) {
	case json.Unmarshaler:
		err := json.Unmarshal(orNull(b), v)
		if err == nil {
			return nil
		}
		if e := AsError(err); e != nil {
			return e
		}
		return errBadRequest(CodeRequestBodyInvalid, "The request body is invalid.")
	}
	f, err := newFields(b)
	if err != nil {
		return err
	}
	for k := range f.raw {
		f.seen[k] = true
	}
	d := json.NewDecoder(bytes.NewReader(orObject(b)))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errFormat(te.Field, "%s must be %s.", te.Field, te.Type.String())
		}
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return invalid(CodeParamUnknown, name, "%s is not a valid parameter for this request.", name)
		}
		return errBadRequest(CodeRequestBodyInvalid, "The request body is invalid: %v", err)
	}
	return nil
}

func orNull(b []byte) []byte {
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("null")
	}
	return b
}

func orObject(b []byte) []byte {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || string(t) == "null" {
		return []byte("{}")
	}
	return b
}
