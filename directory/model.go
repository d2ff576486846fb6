// Package directory is toolgate's reference upstream: a small user service
// whose HTTP API is wire-compatible with Clerk's Backend API for users
// (clerk-sdk-go v2 and @clerk/backend work against it unchanged), with
// Clerk's validation rules for every updateUser parameter, plus
// Iterable-style users/update endpoints on the same data.
//
// The layers are a Store (SQLite today; the Store and Tx interfaces leave
// room for PostgreSQL), the Service (the domain rules, usable directly from
// Go, e.g. by MCP tools) and the Handler (HTTP). docs/directory.md documents
// the endpoints, the error codes and where the directory differs from Clerk.
package directory

import "encoding/json"

// User is a directory user. It marshals to Clerk's user object; Secrets
// never leave the process.
type User struct {
	ID                        string
	ExternalID                *string
	Username                  *string
	FirstName                 *string
	LastName                  *string
	Locale                    *string
	ProfileImageID            *string
	PrimaryEmailAddressID     *string
	PrimaryPhoneNumberID      *string
	PrimaryWeb3WalletID       *string
	EmailAddresses            []*EmailAddress
	PhoneNumbers              []*PhoneNumber
	Web3Wallets               []*Web3Wallet
	PublicMetadata            map[string]any
	PrivateMetadata           map[string]any
	UnsafeMetadata            map[string]any
	Banned                    bool
	Locked                    bool
	DeleteSelfEnabled         bool
	CreateOrganizationEnabled bool
	CreateOrganizationsLimit  *int
	BypassClientTrust         bool
	// Timestamps in unix milliseconds, as on the wire.
	LegalAcceptedAt       *int64
	LastSignInAt          *int64
	LastActiveAt          *int64
	PasswordLastUpdatedAt *int64
	MFAEnabledAt          *int64
	MFADisabledAt         *int64
	CreatedAt             int64
	UpdatedAt             int64
	// Secrets are the user's credentials, stored hashed (passwords, backup
	// codes) or as required to verify (the TOTP key).
	Secrets Secrets
}

// Secrets are a user's credentials. They are never marshalled.
type Secrets struct {
	// PasswordDigest is a bcrypt hash of a password set in plain text, or
	// an imported digest in the format of PasswordHasher.
	PasswordDigest string
	// PasswordHasher names the algorithm of PasswordDigest ("bcrypt", ...).
	PasswordHasher string
	// PendingMigration is true for digests that cannot be checked locally
	// (awscognito): verify_password reports the migration as pending.
	PendingMigration bool
	// TOTPSecret is the base32 TOTP key; it has to be kept as is for codes
	// to be verified against it.
	TOTPSecret string
	// BackupCodes are bcrypt hashes of the backup codes.
	BackupCodes []string
}

// PasswordEnabled reports whether the user has a password.
func (u *User) PasswordEnabled() bool { return u.Secrets.PasswordDigest != "" }

// TOTPEnabled reports whether the user has a TOTP secret.
func (u *User) TOTPEnabled() bool { return u.Secrets.TOTPSecret != "" }

// BackupCodeEnabled reports whether the user has backup codes.
func (u *User) BackupCodeEnabled() bool { return len(u.Secrets.BackupCodes) > 0 }

// PrimaryEmailAddress returns the user's primary email address, or nil.
func (u *User) PrimaryEmailAddress() *EmailAddress {
	for _, e := range u.EmailAddresses {
		if u.PrimaryEmailAddressID != nil && e.ID == *u.PrimaryEmailAddressID {
			return e
		}
	}
	return nil
}

// identifierCount is the number of identifiers a user can sign in with.
func (u *User) identifierCount() int {
	n := len(u.EmailAddresses) + len(u.PhoneNumbers) + len(u.Web3Wallets)
	if u.Username != nil && *u.Username != "" {
		n++
	}
	return n
}

// EmailAddress is one of a user's email addresses (Clerk's
// "email_address" object).
type EmailAddress struct {
	ID           string
	UserID       string
	EmailAddress string
	Verified     bool
	Reserved     bool
	CreatedAt    int64
	UpdatedAt    int64
}

// PhoneNumber is one of a user's phone numbers (Clerk's "phone_number"
// object).
type PhoneNumber struct {
	ID                      string
	UserID                  string
	PhoneNumber             string
	Verified                bool
	Reserved                bool
	ReservedForSecondFactor bool
	DefaultSecondFactor     bool
	CreatedAt               int64
	UpdatedAt               int64
}

// Web3Wallet is one of a user's web3 wallets (Clerk's "web3_wallet"
// object).
type Web3Wallet struct {
	ID         string
	UserID     string
	Web3Wallet string
	Verified   bool
	CreatedAt  int64
	UpdatedAt  int64
}

// Session is a sign-in session of a user. The directory has no sign-in
// flow; sessions exist so that sign_out_of_other_sessions has an effect.
type Session struct {
	ID           string `json:"id"`
	Object       string `json:"object"`
	UserID       string `json:"user_id"`
	ClientID     string `json:"client_id"`
	Status       string `json:"status"` // "active" or "revoked"
	LastActiveAt int64  `json:"last_active_at"`
	ExpireAt     int64  `json:"expire_at"`
	AbandonAt    int64  `json:"abandon_at"`
	CreatedAt    int64  `json:"created_at"`
	UpdatedAt    int64  `json:"updated_at"`
}

// Notification is a message the directory would have sent (it sends none):
// an outbox entry, listed at GET /v1/outbox.
type Notification struct {
	ID     string         `json:"id"`
	Object string         `json:"object"`
	Kind   string         `json:"kind"`
	UserID string         `json:"user_id"`
	To     string         `json:"to"`
	Data   map[string]any `json:"data"`
	// CreatedAt is in unix milliseconds.
	CreatedAt int64 `json:"created_at"`
}

// NotificationPrimaryEmailChanged is the Kind of the notification recorded
// by UpdateUser with notify_primary_email_address_changed.
const NotificationPrimaryEmailChanged = "primary_email_address_changed"

// DeletedObject is Clerk's answer to a delete.
type DeletedObject struct {
	Object  string `json:"object"`
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// defaultImageURL is the image every user has until a profile image is set
// (the directory stores no images).
const defaultImageURL = "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9"

type verificationJSON struct {
	Status   string `json:"status"`
	Strategy string `json:"strategy"`
	Attempts *int   `json:"attempts"`
	ExpireAt *int64 `json:"expire_at"`
}

func verification(verified bool) *verificationJSON {
	if verified {
		return &verificationJSON{Status: "verified", Strategy: "admin"}
	}
	return &verificationJSON{Status: "unverified", Strategy: "admin"}
}

type linkedTo struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// MarshalJSON writes Clerk's email_address object.
func (e *EmailAddress) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID           string            `json:"id"`
		Object       string            `json:"object"`
		EmailAddress string            `json:"email_address"`
		Reserved     bool              `json:"reserved"`
		Verification *verificationJSON `json:"verification"`
		LinkedTo     []linkedTo        `json:"linked_to"`
		CreatedAt    int64             `json:"created_at"`
		UpdatedAt    int64             `json:"updated_at"`
	}{e.ID, "email_address", e.EmailAddress, e.Reserved, verification(e.Verified), []linkedTo{}, e.CreatedAt, e.UpdatedAt})
}

// MarshalJSON writes Clerk's phone_number object.
func (p *PhoneNumber) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID                      string            `json:"id"`
		Object                  string            `json:"object"`
		PhoneNumber             string            `json:"phone_number"`
		ReservedForSecondFactor bool              `json:"reserved_for_second_factor"`
		DefaultSecondFactor     bool              `json:"default_second_factor"`
		Reserved                bool              `json:"reserved"`
		Verification            *verificationJSON `json:"verification"`
		LinkedTo                []linkedTo        `json:"linked_to"`
		BackupCodes             []string          `json:"backup_codes"`
		CreatedAt               int64             `json:"created_at"`
		UpdatedAt               int64             `json:"updated_at"`
	}{p.ID, "phone_number", p.PhoneNumber, p.ReservedForSecondFactor, p.DefaultSecondFactor, p.Reserved,
		verification(p.Verified), []linkedTo{}, nil, p.CreatedAt, p.UpdatedAt})
}

// MarshalJSON writes Clerk's web3_wallet object.
func (w *Web3Wallet) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID           string            `json:"id"`
		Object       string            `json:"object"`
		Web3Wallet   string            `json:"web3_wallet"`
		Verification *verificationJSON `json:"verification"`
		CreatedAt    int64             `json:"created_at"`
		UpdatedAt    int64             `json:"updated_at"`
	}{w.ID, "web3_wallet", w.Web3Wallet, verification(w.Verified), w.CreatedAt, w.UpdatedAt})
}

// userJSON is Clerk's user object, field for field (see
// ../shared/reference/clerk-bapi.md §2). It has no "deleted" key on purpose.
type userJSON struct {
	Object                        string          `json:"object"`
	ID                            string          `json:"id"`
	ExternalID                    *string         `json:"external_id"`
	Username                      *string         `json:"username"`
	FirstName                     *string         `json:"first_name"`
	LastName                      *string         `json:"last_name"`
	Locale                        *string         `json:"locale"`
	ImageURL                      string          `json:"image_url"`
	ProfileImageURL               string          `json:"profile_image_url"`
	HasImage                      bool            `json:"has_image"`
	PrimaryEmailAddressID         *string         `json:"primary_email_address_id"`
	PrimaryPhoneNumberID          *string         `json:"primary_phone_number_id"`
	PrimaryWeb3WalletID           *string         `json:"primary_web3_wallet_id"`
	EmailAddresses                []*EmailAddress `json:"email_addresses"`
	PhoneNumbers                  []*PhoneNumber  `json:"phone_numbers"`
	Web3Wallets                   []*Web3Wallet   `json:"web3_wallets"`
	Passkeys                      []any           `json:"passkeys"`
	ExternalAccounts              []any           `json:"external_accounts"`
	SAMLAccounts                  []any           `json:"saml_accounts"`
	EnterpriseAccounts            []any           `json:"enterprise_accounts"`
	PasswordEnabled               bool            `json:"password_enabled"`
	TwoFactorEnabled              bool            `json:"two_factor_enabled"`
	TOTPEnabled                   bool            `json:"totp_enabled"`
	BackupCodeEnabled             bool            `json:"backup_code_enabled"`
	MFAEnabledAt                  *int64          `json:"mfa_enabled_at"`
	MFADisabledAt                 *int64          `json:"mfa_disabled_at"`
	PasswordLastUpdatedAt         *int64          `json:"password_last_updated_at"`
	PublicMetadata                map[string]any  `json:"public_metadata"`
	PrivateMetadata               map[string]any  `json:"private_metadata"`
	UnsafeMetadata                map[string]any  `json:"unsafe_metadata"`
	LastSignInAt                  *int64          `json:"last_sign_in_at"`
	LastActiveAt                  *int64          `json:"last_active_at"`
	LegalAcceptedAt               *int64          `json:"legal_accepted_at"`
	Banned                        bool            `json:"banned"`
	Locked                        bool            `json:"locked"`
	Deprovisioned                 bool            `json:"deprovisioned"`
	LockoutExpiresInSeconds       *int64          `json:"lockout_expires_in_seconds"`
	VerificationAttemptsRemaining int             `json:"verification_attempts_remaining"`
	DeleteSelfEnabled             bool            `json:"delete_self_enabled"`
	CreateOrganizationEnabled     bool            `json:"create_organization_enabled"`
	CreateOrganizationsLimit      *int            `json:"create_organizations_limit"`
	BypassClientTrust             bool            `json:"bypass_client_trust"`
	CreatedAt                     int64           `json:"created_at"`
	UpdatedAt                     int64           `json:"updated_at"`
}

func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func objectOrEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// MarshalJSON writes Clerk's user object. Secrets are left out.
func (u *User) MarshalJSON() ([]byte, error) {
	img := defaultImageURL
	if u.ProfileImageID != nil {
		img = "https://img.clerk.com/" + *u.ProfileImageID
	}
	j := userJSON{
		Object: "user", ID: u.ID, ExternalID: u.ExternalID, Username: u.Username,
		FirstName: u.FirstName, LastName: u.LastName, Locale: u.Locale,
		ImageURL: img, ProfileImageURL: img, HasImage: u.ProfileImageID != nil,
		PrimaryEmailAddressID: u.PrimaryEmailAddressID, PrimaryPhoneNumberID: u.PrimaryPhoneNumberID,
		PrimaryWeb3WalletID: u.PrimaryWeb3WalletID,
		EmailAddresses:      emptyIfNil(u.EmailAddresses), PhoneNumbers: emptyIfNil(u.PhoneNumbers),
		Web3Wallets: emptyIfNil(u.Web3Wallets), Passkeys: []any{}, ExternalAccounts: []any{},
		SAMLAccounts: []any{}, EnterpriseAccounts: []any{},
		PasswordEnabled: u.PasswordEnabled(), TwoFactorEnabled: u.TOTPEnabled() || u.BackupCodeEnabled(),
		TOTPEnabled: u.TOTPEnabled(), BackupCodeEnabled: u.BackupCodeEnabled(),
		MFAEnabledAt: u.MFAEnabledAt, MFADisabledAt: u.MFADisabledAt,
		PasswordLastUpdatedAt: u.PasswordLastUpdatedAt,
		PublicMetadata:        objectOrEmpty(u.PublicMetadata), PrivateMetadata: objectOrEmpty(u.PrivateMetadata),
		UnsafeMetadata: objectOrEmpty(u.UnsafeMetadata),
		LastSignInAt:   u.LastSignInAt, LastActiveAt: u.LastActiveAt, LegalAcceptedAt: u.LegalAcceptedAt,
		Banned: u.Banned, Locked: u.Locked, VerificationAttemptsRemaining: 100,
		DeleteSelfEnabled: u.DeleteSelfEnabled, CreateOrganizationEnabled: u.CreateOrganizationEnabled,
		CreateOrganizationsLimit: u.CreateOrganizationsLimit, BypassClientTrust: u.BypassClientTrust,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
	return json.Marshal(j)
}
