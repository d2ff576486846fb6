package directory

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/toolgate/toolgate/directory/secret"
)

// Limits the Service enforces.
const (
	// MinPasswordLength is Clerk's minimum password length.
	MinPasswordLength = 8
	// MaxMetadataBytes caps each metadata object (public, private,
	// unsafe) once serialized, as Clerk does (8 KB).
	MaxMetadataBytes = 8 << 10
	// MaxBackupCodes caps the number of backup codes of a user (Clerk
	// generates 10); each is hashed with bcrypt.
	MaxBackupCodes = 20
	// MaxListLimit is the largest page GET /v1/users returns.
	MaxListLimit = 500
	// sessionLifetime is how long a session made by CreateSession lasts.
	sessionLifetime = 7 * 24 * time.Hour
)

// OrderByFields are the fields ListUsers can order by (Clerk's order_by,
// with an optional "+" or "-" prefix).
var OrderByFields = []string{"created_at", "updated_at", "email_address", "web3wallet", "first_name",
	"last_name", "phone_number", "username", "last_active_at", "last_sign_in_at"}

// Service is the directory's domain logic: Clerk's rules over a Store. Its
// methods take a context first and return *Error for every mistake of the
// caller (with Clerk's code and HTTP status); other errors are internal.
// A Service is safe for concurrent use.
type Service struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
}

// NewService returns a Service over store. A nil log discards.
func NewService(store Store, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, log: log, now: time.Now}
}

// Store returns the service's store.
func (s *Service) Store() Store { return s.store }

func (s *Service) nowMillis() int64 { return s.now().UnixMilli() }

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix_ followed by 27 random base62 characters, the shape
// of Clerk's ids ("user_2abc…", "idn_…", "sess_…").
func newID(prefix string) string {
	var b [27]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + "_" + string(b[:])
}

// notFound maps a store's ErrNotFound for the user id to the 404 error.
func userErr(err error, id string) error {
	if errors.Is(err, ErrNotFound) {
		return errUserNotFound(id)
	}
	return err
}

var (
	usernameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)
	phoneRE    = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	web3RE     = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
)

// normalizeEmail lower-cases and validates an email address.
func normalizeEmail(param, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	at := strings.LastIndexByte(s, '@')
	if err != nil || a.Address != s || a.Name != "" || at < 1 || !strings.Contains(s[at+1:], ".") || len(s) > 320 {
		return "", errFormat(param, "%s must be a valid email address.", param)
	}
	return s, nil
}

func validatePhone(param, s string) (string, error) {
	s = strings.TrimSpace(s)
	if !phoneRE.MatchString(s) {
		return "", errFormat(param, "%s must be a valid phone number in E.164 format, e.g. +15555550100.", param)
	}
	return s, nil
}

func validateWeb3(param, s string) (string, error) {
	s = strings.TrimSpace(s)
	if !web3RE.MatchString(s) {
		return "", errFormat(param, "%s must be a valid Ethereum address (0x followed by 40 hex digits).", param)
	}
	return strings.ToLower(s), nil
}

func validateUsername(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if n := len([]rune(s)); n < 4 || n > 64 {
		return "", invalid(CodeUsernameLength, "username", "Usernames must be between 4 and 64 characters long.")
	}
	if !usernameRE.MatchString(s) {
		return "", invalid(CodeUsernameCharacter, "username", "Usernames can only contain letters, numbers, '_' and '-'.")
	}
	return s, nil
}

func validateLocale(s string) (string, error) {
	tag, err := language.Parse(s)
	if err != nil || s == "" || len(s) > 35 {
		return "", errFormat("locale", "locale must be a BCP-47 language tag, e.g. en-US.")
	}
	return tag.String(), nil
}

func parseRFC3339(param, s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, errFormat(param, "%s must be a timestamp in RFC3339 format, e.g. 2012-10-20T07:15:20.902Z.", param)
	}
	return t.UnixMilli(), nil
}

func checkMetadata(param string, m map[string]any) error {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return errFormat(param, "%s must be a JSON object.", param)
	}
	if len(b) > MaxMetadataBytes {
		return invalid(CodeParamTooLarge, param, "%s exceeds the maximum allowed size of %d bytes.", param, MaxMetadataBytes)
	}
	return nil
}

// passwordSpec is a password or digest to set, checked and hashed before
// the transaction (bcrypt is slow; the write lock is not held meanwhile).
type passwordSpec struct {
	digest, hasher string
	pending        bool
}

func (s *Service) preparePassword(password, digest, hasher *string, skipChecks bool) (*passwordSpec, error) {
	switch {
	case password != nil && digest != nil:
		return nil, errValue("password_digest", "password and password_digest cannot be used together.")
	case password != nil:
		pw := *password
		if !skipChecks {
			if len([]rune(pw)) < MinPasswordLength {
				return nil, invalid(CodePasswordTooShort, "password", "Passwords must be %d characters or more.", MinPasswordLength)
			}
			if secret.Breached(pw) {
				return nil, invalid(CodePasswordPwned, "password", "Password has been found in an online data breach. For account safety, please use a different password.")
			}
		}
		if pw == "" {
			return nil, invalid(CodePasswordTooShort, "password", "Passwords must be %d characters or more.", MinPasswordLength)
		}
		if len(pw) > 72 {
			return nil, invalid(CodePasswordTooLong, "password", "Passwords must be 72 bytes or fewer.")
		}
		h, err := secret.HashPassword(pw)
		if err != nil {
			return nil, fmt.Errorf("directory: hash password: %w", err)
		}
		return &passwordSpec{digest: h, hasher: "bcrypt"}, nil
	case digest != nil:
		if hasher == nil || *hasher == "" {
			return nil, errMissing("password_hasher")
		}
		if !slices.Contains(secret.Hashers(), *hasher) {
			return nil, errValue("password_hasher", "password_hasher must be one of: %s.", strings.Join(secret.Hashers(), ", "))
		}
		if err := secret.ValidateDigest(*hasher, *digest); err != nil {
			return nil, &Error{Status: 422, Code: CodeFormatInvalid, Message: "is invalid", Param: "password_digest",
				LongMessage: fmt.Sprintf("password_digest is not a valid %s digest.", *hasher), Err: err}
		}
		return &passwordSpec{digest: *digest, hasher: *hasher, pending: *hasher == "awscognito"}, nil
	case hasher != nil:
		return nil, errMissing("password_digest")
	}
	return nil, nil
}

// hashBackupCodes hashes codes in parallel.
func hashBackupCodes(codes []string) ([]string, error) {
	if len(codes) == 0 {
		return nil, errValue("backup_codes", "backup_codes must hold at least one code.")
	}
	if len(codes) > MaxBackupCodes {
		return nil, errValue("backup_codes", "backup_codes can hold at most %d codes.", MaxBackupCodes)
	}
	for _, c := range codes {
		if c == "" || len(c) > 72 {
			return nil, errValue("backup_codes", "Each backup code must be 1 to 72 bytes long.")
		}
	}
	out := make([]string, len(codes))
	errs := make([]error, len(codes))
	var wg sync.WaitGroup
	for i, c := range codes {
		wg.Go(func() { out[i], errs[i] = secret.HashBackupCode(c) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("directory: hash backup codes: %w", err)
	}
	return out, nil
}

func validateTOTP(s string) error {
	if err := secret.ValidateTOTPSecret(s); err != nil {
		return &Error{Status: 422, Code: CodeFormatInvalid, Message: "is invalid", Param: "totp_secret",
			LongMessage: "totp_secret must be a base32-encoded secret of at least 16 characters (SHA1, 6 digits, 30 s).", Err: err}
	}
	return nil
}

// CreateUser creates a user. Email addresses, phone numbers and web3
// wallets are created verified; the first of each becomes primary.
func (s *Service) CreateUser(ctx context.Context, p CreateUserParams) (*User, error) {
	now := s.nowMillis()
	u := &User{ID: p.id, DeleteSelfEnabled: true, CreateOrganizationEnabled: true, CreatedAt: now, UpdatedAt: now}
	if u.ID == "" {
		u.ID = newID("user")
	}
	for _, raw := range p.EmailAddresses {
		e, err := normalizeEmail("email_address", raw)
		if err != nil {
			return nil, err
		}
		u.EmailAddresses = append(u.EmailAddresses, &EmailAddress{ID: newID("idn"), UserID: u.ID, EmailAddress: e, Verified: true, CreatedAt: now, UpdatedAt: now})
	}
	for _, raw := range p.PhoneNumbers {
		ph, err := validatePhone("phone_number", raw)
		if err != nil {
			return nil, err
		}
		u.PhoneNumbers = append(u.PhoneNumbers, &PhoneNumber{ID: newID("idn"), UserID: u.ID, PhoneNumber: ph, Verified: true, CreatedAt: now, UpdatedAt: now})
	}
	for _, raw := range p.Web3Wallets {
		w, err := validateWeb3("web3_wallet", raw)
		if err != nil {
			return nil, err
		}
		u.Web3Wallets = append(u.Web3Wallets, &Web3Wallet{ID: newID("idn"), UserID: u.ID, Web3Wallet: w, Verified: true, CreatedAt: now, UpdatedAt: now})
	}
	if len(u.EmailAddresses) > 0 {
		u.PrimaryEmailAddressID = &u.EmailAddresses[0].ID
	}
	if len(u.PhoneNumbers) > 0 {
		u.PrimaryPhoneNumberID = &u.PhoneNumbers[0].ID
	}
	if len(u.Web3Wallets) > 0 {
		u.PrimaryWeb3WalletID = &u.Web3Wallets[0].ID
	}
	if p.Username != nil && *p.Username != "" {
		name, err := validateUsername(*p.Username)
		if err != nil {
			return nil, err
		}
		u.Username = &name
	}
	if u.identifierCount() == 0 && (p.SkipUserRequirement == nil || !*p.SkipUserRequirement) {
		return nil, invalid(CodeParamMissing, "email_address", "At least one identifier (email_address, phone_number, web3_wallet or username) must be included.")
	}
	u.ExternalID = nonEmpty(p.ExternalID)
	u.FirstName, u.LastName = nonEmpty(p.FirstName), nonEmpty(p.LastName)
	if p.Locale != nil && *p.Locale != "" {
		l, err := validateLocale(*p.Locale)
		if err != nil {
			return nil, err
		}
		u.Locale = &l
	}
	if err := s.applyCommon(u, commonParams{
		totp: p.TOTPSecret, limit: p.CreateOrganizationsLimit, legal: p.LegalAcceptedAt, created: p.CreatedAt,
		deleteSelf: p.DeleteSelfEnabled, createOrg: p.CreateOrganizationEnabled, bypass: p.BypassClientTrust,
		public: p.PublicMetadata, private: p.PrivateMetadata, unsafe: p.UnsafeMetadata,
	}, now); err != nil {
		return nil, err
	}
	// Identifiers date from the user's (possibly imported) creation.
	for _, e := range u.EmailAddresses {
		e.CreatedAt = u.CreatedAt
	}
	for _, ph := range u.PhoneNumbers {
		ph.CreatedAt = u.CreatedAt
	}
	for _, w := range u.Web3Wallets {
		w.CreatedAt = u.CreatedAt
	}
	if p.Banned != nil {
		u.Banned = *p.Banned
	}
	if p.Locked != nil {
		u.Locked = *p.Locked
	}
	pw, err := s.preparePassword(p.Password, p.PasswordDigest, p.PasswordHasher, p.SkipPasswordChecks != nil && *p.SkipPasswordChecks)
	if err != nil {
		return nil, err
	}
	if pw != nil {
		u.Secrets.PasswordDigest, u.Secrets.PasswordHasher, u.Secrets.PendingMigration = pw.digest, pw.hasher, pw.pending
		u.PasswordLastUpdatedAt = &now
	}
	if p.BackupCodes != nil {
		codes, err := hashBackupCodes(p.BackupCodes)
		if err != nil {
			return nil, err
		}
		u.Secrets.BackupCodes = codes
	}
	if u.TOTPEnabled() || u.BackupCodeEnabled() {
		u.MFAEnabledAt = &now
	}
	if err := s.store.Update(ctx, func(tx Tx) error { return tx.InsertUser(ctx, u) }); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "user created", "user_id", u.ID)
	return u, nil
}

func nonEmpty(p *string) *string {
	if p == nil || *p == "" {
		return nil
	}
	v := *p
	return &v
}

// commonParams are the parameters CreateUser and UpdateUser share.
type commonParams struct {
	totp                    *string
	limit                   *int
	legal, created          *string
	deleteSelf, createOrg   *bool
	bypass                  *bool
	public, private, unsafe map[string]any
}

// applyCommon validates and applies the shared parameters to u; it needs
// no transaction.
func (s *Service) applyCommon(u *User, c commonParams, now int64) error {
	if c.totp != nil {
		if err := validateTOTP(*c.totp); err != nil {
			return err
		}
		u.Secrets.TOTPSecret = *c.totp
	}
	if c.limit != nil {
		if *c.limit < 0 {
			return errValue("create_organizations_limit", "create_organizations_limit must be 0 (unlimited) or more.")
		}
		n := *c.limit
		u.CreateOrganizationsLimit = &n
	}
	if c.legal != nil {
		ms, err := parseRFC3339("legal_accepted_at", *c.legal)
		if err != nil {
			return err
		}
		u.LegalAcceptedAt = &ms
	}
	if c.created != nil {
		ms, err := parseRFC3339("created_at", *c.created)
		if err != nil {
			return err
		}
		if ms > now+60_000 {
			return errValue("created_at", "created_at cannot be in the future.")
		}
		u.CreatedAt = ms
	}
	if c.deleteSelf != nil {
		u.DeleteSelfEnabled = *c.deleteSelf
	}
	if c.createOrg != nil {
		u.CreateOrganizationEnabled = *c.createOrg
	}
	if c.bypass != nil {
		u.BypassClientTrust = *c.bypass
	}
	for _, m := range []struct {
		name string
		v    map[string]any
		dst  *map[string]any
	}{{"public_metadata", c.public, &u.PublicMetadata}, {"private_metadata", c.private, &u.PrivateMetadata}, {"unsafe_metadata", c.unsafe, &u.UnsafeMetadata}} {
		if m.v == nil {
			continue
		}
		if err := checkMetadata(m.name, m.v); err != nil {
			return err
		}
		*m.dst = m.v
	}
	return nil
}

// GetUser returns the user with id, or a 404 *Error.
func (s *Service) GetUser(ctx context.Context, id string) (*User, error) {
	var u *User
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		u, err = tx.User(ctx, id)
		return err
	})
	if err != nil {
		return nil, userErr(err, id)
	}
	return u, nil
}

// CheckQuery validates q's paging and ordering (limit 1–500, offset ≥ 0,
// order_by one of OrderByFields).
func CheckQuery(q *UserQuery) error {
	if q.Limit < 0 || q.Limit > MaxListLimit {
		return errValue("limit", "limit must be between 1 and %d.", MaxListLimit)
	}
	if q.Offset < 0 {
		return errValue("offset", "offset must be 0 or more.")
	}
	if q.OrderBy != "" {
		f := strings.TrimLeft(q.OrderBy, "+-")
		if !slices.Contains(OrderByFields, f) || len(q.OrderBy)-len(f) > 1 {
			return errValue("order_by", "order_by must be one of %s, with an optional + or - prefix.", strings.Join(OrderByFields, ", "))
		}
	}
	for _, v := range [][]string{q.EmailAddresses, q.PhoneNumbers, q.Usernames, q.Web3Wallets, q.ExternalIDs, q.UserIDs} {
		if len(v) > 100 {
			return errValue("", "A filter accepts at most 100 values.")
		}
	}
	return nil
}

// ListUsers returns the users q selects (limit 10 when q.Limit is 0),
// newest first unless q.OrderBy says otherwise.
func (s *Service) ListUsers(ctx context.Context, q *UserQuery) ([]*User, error) {
	if q == nil {
		q = &UserQuery{}
	}
	if err := CheckQuery(q); err != nil {
		return nil, err
	}
	var users []*User
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		users, err = tx.ListUsers(ctx, normalizeQuery(q))
		return err
	})
	return users, err
}

// normalizeQuery lower-cases the case-insensitive filters.
func normalizeQuery(q *UserQuery) *UserQuery {
	c := *q
	c.EmailAddresses = lowerAll(q.EmailAddresses)
	c.Usernames = lowerAll(q.Usernames)
	c.Web3Wallets = lowerAll(q.Web3Wallets)
	return &c
}

func lowerAll(v []string) []string {
	if v == nil {
		return nil
	}
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}

// CountUsers counts the users q selects; paging and ordering are ignored.
func (s *Service) CountUsers(ctx context.Context, q *UserQuery) (int64, error) {
	if q == nil {
		q = &UserQuery{}
	}
	var n int64
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		n, err = tx.CountUsers(ctx, normalizeQuery(q))
		return err
	})
	return n, err
}

// DeleteUser deletes the user with id.
func (s *Service) DeleteUser(ctx context.Context, id string) (*DeletedObject, error) {
	err := s.store.Update(ctx, func(tx Tx) error { return tx.DeleteUser(ctx, id) })
	if err != nil {
		return nil, userErr(err, id)
	}
	s.log.InfoContext(ctx, "user deleted", "user_id", id)
	return &DeletedObject{Object: "user", ID: id, Deleted: true}, nil
}

// modify runs fn on the user with id inside a write transaction and saves
// the user when fn returns nil.
func (s *Service) modify(ctx context.Context, id string, fn func(tx Tx, u *User) error) (*User, error) {
	var out *User
	err := s.store.Update(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, id)
		if err != nil {
			return userErr(err, id)
		}
		if err := fn(tx, u); err != nil {
			return err
		}
		u.UpdatedAt = max(s.nowMillis(), u.UpdatedAt)
		if err := tx.SaveUser(ctx, u); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

// BanUser marks the user banned and revokes its sessions.
func (s *Service) BanUser(ctx context.Context, id string) (*User, error) {
	return s.modify(ctx, id, func(tx Tx, u *User) error {
		u.Banned = true
		_, err := tx.RevokeSessions(ctx, u.ID, s.nowMillis())
		return err
	})
}

// UnbanUser lifts a ban.
func (s *Service) UnbanUser(ctx context.Context, id string) (*User, error) {
	return s.modify(ctx, id, func(_ Tx, u *User) error { u.Banned = false; return nil })
}

// LockUser locks the user.
func (s *Service) LockUser(ctx context.Context, id string) (*User, error) {
	return s.modify(ctx, id, func(_ Tx, u *User) error { u.Locked = true; return nil })
}

// UnlockUser unlocks the user.
func (s *Service) UnlockUser(ctx context.Context, id string) (*User, error) {
	return s.modify(ctx, id, func(_ Tx, u *User) error { u.Locked = false; return nil })
}

// UpdateUserMetadata deep-merges p into the user's metadata: nested objects
// merge, other values replace, and a null removes its key at any level.
func (s *Service) UpdateUserMetadata(ctx context.Context, id string, p MetadataParams) (*User, error) {
	return s.modify(ctx, id, func(_ Tx, u *User) error {
		for _, m := range []struct {
			name string
			v    map[string]any
			dst  *map[string]any
		}{{"public_metadata", p.PublicMetadata, &u.PublicMetadata}, {"private_metadata", p.PrivateMetadata, &u.PrivateMetadata}, {"unsafe_metadata", p.UnsafeMetadata, &u.UnsafeMetadata}} {
			if m.v == nil {
				continue
			}
			merged := MergeMetadata(*m.dst, m.v)
			if err := checkMetadata(m.name, merged); err != nil {
				return err
			}
			*m.dst = merged
		}
		return nil
	})
}

// ReplaceUserMetadata replaces each metadata object p sets; a nil field is
// left unchanged (PUT /v1/users/{id}/metadata).
func (s *Service) ReplaceUserMetadata(ctx context.Context, id string, p MetadataParams) (*User, error) {
	c := commonParams{public: p.PublicMetadata, private: p.PrivateMetadata, unsafe: p.UnsafeMetadata}
	return s.modify(ctx, id, func(_ Tx, u *User) error { return s.applyCommon(u, c, s.nowMillis()) })
}

// MergeMetadata deep-merges patch into base and returns the result (base
// is not modified). Objects merge recursively; a nil value deletes its key.
func MergeMetadata(base, patch map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(patch))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
			continue
		}
		pm, ok := v.(map[string]any)
		if !ok {
			out[k] = v
			continue
		}
		bm, _ := out[k].(map[string]any)
		out[k] = MergeMetadata(bm, pm)
	}
	return out
}

// VerifyPassword checks password against the user's. It returns nil when
// it matches; otherwise an *Error: form_password_incorrect,
// form_password_not_set, form_password_pending_migration (awscognito
// digests) or form_param_missing.
func (s *Service) VerifyPassword(ctx context.Context, id, password string) error {
	if password == "" {
		return errMissing("password")
	}
	u, err := s.GetUser(ctx, id)
	if err != nil {
		return err
	}
	if !u.PasswordEnabled() {
		return invalid(CodePasswordNotSet, "password", "The user has no password.")
	}
	ok, err := secret.VerifyPassword(u.Secrets.PasswordHasher, u.Secrets.PasswordDigest, password)
	switch {
	case errors.Is(err, secret.ErrPendingMigration):
		return invalid(CodePasswordPendingMigration, "password",
			"The password digest (%s) is pending migration and cannot be verified here.", u.Secrets.PasswordHasher)
	case err != nil:
		return fmt.Errorf("directory: verify password of %s: %w", id, err)
	case !ok:
		return invalid(CodePasswordIncorrect, "password", "Password is incorrect. Try again, or use another method.")
	}
	return nil
}

// VerifyTOTP checks a TOTP code or a backup code of the user. It returns
// "totp" or "backup_code"; a wrong code is form_code_incorrect (422). A
// backup code can be used once.
func (s *Service) VerifyTOTP(ctx context.Context, id, code string) (string, error) {
	if code == "" {
		return "", errMissing("code")
	}
	var kind string
	_, err := s.modify(ctx, id, func(_ Tx, u *User) error {
		if !u.TOTPEnabled() && !u.BackupCodeEnabled() {
			return invalid("totp_not_enabled", "code", "The user has neither TOTP nor backup codes.")
		}
		if u.TOTPEnabled() && secret.VerifyTOTP(u.Secrets.TOTPSecret, code, s.now()) {
			kind = "totp"
			return nil
		}
		for i, h := range u.Secrets.BackupCodes {
			if secret.VerifyBackupCode(h, code) {
				u.Secrets.BackupCodes = slices.Delete(slices.Clone(u.Secrets.BackupCodes), i, i+1)
				kind = "backup_code"
				return nil
			}
		}
		return invalid("form_code_incorrect", "code", "The code is incorrect.")
	})
	return kind, err
}

// CreateSession starts an active session for the user (the directory has
// no sign-in flow; sessions exist so that revocation can be observed).
func (s *Service) CreateSession(ctx context.Context, userID string) (*Session, error) {
	if userID == "" {
		return nil, errMissing("user_id")
	}
	now := s.nowMillis()
	sess := &Session{ID: newID("sess"), Object: "session", UserID: userID, ClientID: newID("client"), Status: "active",
		LastActiveAt: now, ExpireAt: now + sessionLifetime.Milliseconds(), AbandonAt: now + 4*sessionLifetime.Milliseconds(),
		CreatedAt: now, UpdatedAt: now}
	err := s.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.User(ctx, userID); err != nil {
			return userErr(err, userID)
		}
		return tx.InsertSession(ctx, sess)
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// ListSessions lists sessions, newest first; userID and status ("active",
// "revoked") filter when not empty.
func (s *Service) ListSessions(ctx context.Context, userID, status string) ([]*Session, error) {
	var out []*Session
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Sessions(ctx, userID, status)
		return err
	})
	return out, err
}

// Outbox lists recorded notifications, oldest first (at most limit; 100
// when limit ≤ 0); userID filters when not empty.
func (s *Service) Outbox(ctx context.Context, userID string, limit int) ([]*Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []*Notification
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Notifications(ctx, userID, limit)
		return err
	})
	return out, err
}
