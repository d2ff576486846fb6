package directory

import (
	"context"
)

// UpdateUser applies p to the user with id, with Clerk's rules for every
// parameter:
//
//   - password: at least 8 characters and not in the breached-password
//     list, unless skip_password_checks; stored as a bcrypt hash.
//   - skip_password_checks and sign_out_of_other_sessions need a password
//     (form_param_missing otherwise); sign_out_of_other_sessions revokes
//     every active session of the user.
//   - password_digest with password_hasher (one of secret.Hashers(), the
//     digest in that hasher's format); awscognito digests are recorded as
//     pending migration.
//   - primary_email_address_id, primary_phone_number_id,
//     primary_web3_wallet_id: must belong to the user and be verified.
//   - username: 4–64 of [a-z0-9_-], unique; "" removes it, only when
//     another identifier remains.
//   - external_id, username, email: unique (form_identifier_exists).
//   - created_at, legal_accepted_at: RFC3339; locale: BCP-47;
//     totp_secret: base32; backup_codes: plain or bcrypt, stored hashed;
//     create_organizations_limit ≥ 0; metadata objects ≤ 8 KB each.
//   - notify_primary_email_address_changed: when the primary email address
//     changes, a notification is recorded in the outbox.
//
// Errors are *Error values with Clerk's code and status (404 for an
// unknown user, 422 for a rule).
func (s *Service) UpdateUser(ctx context.Context, id string, p UpdateUserParams) (*User, error) {
	// Everything that needs no stored state is checked (and hashed) first,
	// outside the write transaction.
	var username, locale *string
	if p.Username != nil && *p.Username != "" {
		v, err := validateUsername(*p.Username)
		if err != nil {
			return nil, err
		}
		username = &v
	}
	if p.Locale != nil && *p.Locale != "" {
		v, err := validateLocale(*p.Locale)
		if err != nil {
			return nil, err
		}
		locale = &v
	}
	skip := p.SkipPasswordChecks != nil && *p.SkipPasswordChecks
	signOut := p.SignOutOfOtherSessions != nil && *p.SignOutOfOtherSessions
	if skip && p.Password == nil {
		return nil, invalid(CodeParamMissing, "password", "skip_password_checks can only be used when providing a password.")
	}
	if signOut && p.Password == nil {
		return nil, invalid(CodeParamMissing, "password", "sign_out_of_other_sessions can only be used when providing a password.")
	}
	common := commonParams{
		totp: p.TOTPSecret, limit: p.CreateOrganizationsLimit, legal: p.LegalAcceptedAt, created: p.CreatedAt,
		deleteSelf: p.DeleteSelfEnabled, createOrg: p.CreateOrganizationEnabled, bypass: p.BypassClientTrust,
		public: p.PublicMetadata, private: p.PrivateMetadata, unsafe: p.UnsafeMetadata,
	}
	// Validate the shared parameters on a scratch user before hashing.
	if err := s.applyCommon(&User{}, common, s.nowMillis()); err != nil {
		return nil, err
	}
	pw, err := s.preparePassword(p.Password, p.PasswordDigest, p.PasswordHasher, skip)
	if err != nil {
		return nil, err
	}
	var codes []string
	if p.BackupCodes != nil {
		if codes, err = hashBackupCodes(p.BackupCodes); err != nil {
			return nil, err
		}
	}

	return s.modify(ctx, id, func(tx Tx, u *User) error {
		now := s.nowMillis()
		if err := s.applyCommon(u, common, now); err != nil {
			return err
		}
		if p.FirstName != nil {
			u.FirstName = nonEmpty(p.FirstName)
		}
		if p.LastName != nil {
			u.LastName = nonEmpty(p.LastName)
		}
		if p.ExternalID != nil {
			u.ExternalID = nonEmpty(p.ExternalID)
		}
		if p.Locale != nil {
			u.Locale = locale
		}
		if p.ProfileImageID != nil {
			u.ProfileImageID = nonEmpty(p.ProfileImageID)
		}
		if p.Username != nil {
			if username == nil && u.Username != nil {
				u.Username = nil
				if u.identifierCount() == 0 {
					return errValue("username", "username can't be removed: it is the user's only identifier.")
				}
			}
			if username != nil {
				u.Username = username
			}
		}
		prevPrimary := u.PrimaryEmailAddress()
		if p.PrimaryEmailAddressID != nil {
			e := findEmail(u, *p.PrimaryEmailAddressID)
			if err := checkPrimary("primary_email_address_id", "email address", *p.PrimaryEmailAddressID, u.ID, e != nil, e != nil && e.Verified); err != nil {
				return err
			}
			u.PrimaryEmailAddressID = &e.ID
		}
		if p.PrimaryPhoneNumberID != nil {
			ph := findPhone(u, *p.PrimaryPhoneNumberID)
			if err := checkPrimary("primary_phone_number_id", "phone number", *p.PrimaryPhoneNumberID, u.ID, ph != nil, ph != nil && ph.Verified); err != nil {
				return err
			}
			u.PrimaryPhoneNumberID = &ph.ID
		}
		if p.PrimaryWeb3WalletID != nil {
			w := findWallet(u, *p.PrimaryWeb3WalletID)
			if err := checkPrimary("primary_web3_wallet_id", "web3 wallet", *p.PrimaryWeb3WalletID, u.ID, w != nil, w != nil && w.Verified); err != nil {
				return err
			}
			u.PrimaryWeb3WalletID = &w.ID
		}
		if pw != nil {
			u.Secrets.PasswordDigest, u.Secrets.PasswordHasher, u.Secrets.PendingMigration = pw.digest, pw.hasher, pw.pending
			u.PasswordLastUpdatedAt = &now
		}
		wasMFA := u.TOTPEnabled() || u.BackupCodeEnabled()
		if codes != nil {
			u.Secrets.BackupCodes = codes
		}
		if !wasMFA && (u.TOTPEnabled() || u.BackupCodeEnabled()) {
			u.MFAEnabledAt = &now
		}
		if signOut {
			n, err := tx.RevokeSessions(ctx, u.ID, now)
			if err != nil {
				return err
			}
			s.log.InfoContext(ctx, "sessions revoked", "user_id", u.ID, "count", n)
		}
		newPrimary := u.PrimaryEmailAddress()
		if p.NotifyPrimaryEmailAddressChanged != nil && *p.NotifyPrimaryEmailAddressChanged &&
			newPrimary != nil && (prevPrimary == nil || prevPrimary.ID != newPrimary.ID) {
			to := newPrimary.EmailAddress
			data := map[string]any{"new_email_address": newPrimary.EmailAddress, "new_email_address_id": newPrimary.ID}
			if prevPrimary != nil {
				to = prevPrimary.EmailAddress
				data["previous_email_address"] = prevPrimary.EmailAddress
				data["previous_email_address_id"] = prevPrimary.ID
			}
			if err := tx.AppendNotification(ctx, &Notification{ID: newID("ntf"), Object: "notification",
				Kind: NotificationPrimaryEmailChanged, UserID: u.ID, To: to, Data: data, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
}

func checkPrimary(param, what, id, userID string, found, verified bool) error {
	if !found {
		return errValue(param, "The %s %s does not belong to user %s.", what, id, userID)
	}
	if !verified {
		return errValue(param, "The %s %s is not verified; only a verified %s can be primary.", what, id, what)
	}
	return nil
}

func findEmail(u *User, id string) *EmailAddress {
	for _, e := range u.EmailAddresses {
		if e.ID == id {
			return e
		}
	}
	return nil
}

func findPhone(u *User, id string) *PhoneNumber {
	for _, p := range u.PhoneNumbers {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func findWallet(u *User, id string) *Web3Wallet {
	for _, w := range u.Web3Wallets {
		if w.ID == id {
			return w
		}
	}
	return nil
}
