package directory

import (
	"context"
	"errors"
)

// CreateIdentifierParams create an email address (POST /v1/email_addresses)
// or a phone number (POST /v1/phone_numbers). Value is the address or
// number. Verified defaults to false; Primary needs Verified.
type CreateIdentifierParams struct {
	UserID   string `json:"user_id"`
	Value    string `json:"-"`
	Verified *bool  `json:"verified,omitempty"`
	Primary  *bool  `json:"primary,omitempty"`
}

// UpdateIdentifierParams update an email address or phone number.
type UpdateIdentifierParams struct {
	Verified *bool `json:"verified,omitempty"`
	Primary  *bool `json:"primary,omitempty"`
}

// identifierKind abstracts over email addresses and phone numbers.
type identifierKind struct {
	name, param string
}

var (
	emailKind = identifierKind{"email address", "email_address"}
	phoneKind = identifierKind{"phone number", "phone_number"}
)

func kindErr(err error, k identifierKind, id string) error {
	if errors.Is(err, ErrNotFound) {
		return errNotFound(k.name, id)
	}
	return err
}

// CreateEmailAddress adds an email address to a user.
func (s *Service) CreateEmailAddress(ctx context.Context, p CreateIdentifierParams) (*EmailAddress, error) {
	if p.UserID == "" {
		return nil, errMissing("user_id")
	}
	if p.Value == "" {
		return nil, errMissing("email_address")
	}
	addr, err := normalizeEmail("email_address", p.Value)
	if err != nil {
		return nil, err
	}
	verified, primary := deref(p.Verified), deref(p.Primary)
	if primary && !verified {
		return nil, errValue("primary", "Only a verified email address can be primary.")
	}
	now := s.nowMillis()
	e := &EmailAddress{ID: newID("idn"), UserID: p.UserID, EmailAddress: addr, Verified: verified, CreatedAt: now, UpdatedAt: now}
	_, err = s.modify(ctx, p.UserID, func(tx Tx, u *User) error {
		if err := tx.InsertEmailAddress(ctx, e); err != nil {
			return err
		}
		if primary || u.PrimaryEmailAddressID == nil && verified {
			u.PrimaryEmailAddressID = &e.ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// GetEmailAddress returns an email address by id.
func (s *Service) GetEmailAddress(ctx context.Context, id string) (*EmailAddress, error) {
	var e *EmailAddress
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		e, err = tx.EmailAddress(ctx, id)
		return err
	})
	if err != nil {
		return nil, kindErr(err, emailKind, id)
	}
	return e, nil
}

// UpdateEmailAddress marks an email address verified or not, or primary.
// The primary address cannot be unverified; an unverified one cannot
// become primary.
func (s *Service) UpdateEmailAddress(ctx context.Context, id string, p UpdateIdentifierParams) (*EmailAddress, error) {
	var out *EmailAddress
	err := s.store.Update(ctx, func(tx Tx) error {
		e, err := tx.EmailAddress(ctx, id)
		if err != nil {
			return kindErr(err, emailKind, id)
		}
		u, err := tx.User(ctx, e.UserID)
		if err != nil {
			return err
		}
		isPrimary := u.PrimaryEmailAddressID != nil && *u.PrimaryEmailAddressID == e.ID
		if p.Verified != nil {
			if !*p.Verified && isPrimary {
				return errValue("verified", "The primary email address cannot be marked unverified.")
			}
			e.Verified = *p.Verified
		}
		now := s.nowMillis()
		e.UpdatedAt = now
		if err := tx.SaveEmailAddress(ctx, e); err != nil {
			return err
		}
		if p.Primary != nil && *p.Primary && !isPrimary {
			if !e.Verified {
				return errValue("primary", "Only a verified email address can be primary.")
			}
			u.PrimaryEmailAddressID = &e.ID
			u.UpdatedAt = now
			if err := tx.SaveUser(ctx, u); err != nil {
				return err
			}
		}
		out = e
		return nil
	})
	return out, err
}

// DeleteEmailAddress deletes an email address. The primary address cannot
// be deleted while the user has other email addresses (make one of them
// primary first), and the last identifier of a user cannot be deleted.
func (s *Service) DeleteEmailAddress(ctx context.Context, id string) (*DeletedObject, error) {
	err := s.store.Update(ctx, func(tx Tx) error {
		e, err := tx.EmailAddress(ctx, id)
		if err != nil {
			return kindErr(err, emailKind, id)
		}
		u, err := tx.User(ctx, e.UserID)
		if err != nil {
			return err
		}
		if u.PrimaryEmailAddressID != nil && *u.PrimaryEmailAddressID == id {
			if len(u.EmailAddresses) > 1 {
				return errValue("email_address_id", "The primary email address cannot be deleted; make another address primary first.")
			}
			u.PrimaryEmailAddressID = nil
			if err := tx.SaveUser(ctx, u); err != nil {
				return err
			}
		}
		if u.identifierCount() <= 1 {
			return errValue("email_address_id", "The last identifier of a user cannot be deleted.")
		}
		return tx.DeleteEmailAddress(ctx, id)
	})
	if err != nil {
		return nil, err
	}
	return &DeletedObject{Object: "email_address", ID: id, Deleted: true}, nil
}

// CreatePhoneNumber adds a phone number (E.164) to a user.
func (s *Service) CreatePhoneNumber(ctx context.Context, p CreateIdentifierParams) (*PhoneNumber, error) {
	if p.UserID == "" {
		return nil, errMissing("user_id")
	}
	if p.Value == "" {
		return nil, errMissing("phone_number")
	}
	num, err := validatePhone("phone_number", p.Value)
	if err != nil {
		return nil, err
	}
	verified, primary := deref(p.Verified), deref(p.Primary)
	if primary && !verified {
		return nil, errValue("primary", "Only a verified phone number can be primary.")
	}
	now := s.nowMillis()
	ph := &PhoneNumber{ID: newID("idn"), UserID: p.UserID, PhoneNumber: num, Verified: verified, CreatedAt: now, UpdatedAt: now}
	_, err = s.modify(ctx, p.UserID, func(tx Tx, u *User) error {
		if err := tx.InsertPhoneNumber(ctx, ph); err != nil {
			return err
		}
		if primary || u.PrimaryPhoneNumberID == nil && verified {
			u.PrimaryPhoneNumberID = &ph.ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ph, nil
}

// GetPhoneNumber returns a phone number by id.
func (s *Service) GetPhoneNumber(ctx context.Context, id string) (*PhoneNumber, error) {
	var p *PhoneNumber
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		p, err = tx.PhoneNumber(ctx, id)
		return err
	})
	if err != nil {
		return nil, kindErr(err, phoneKind, id)
	}
	return p, nil
}

// UpdatePhoneNumber marks a phone number verified or not, or primary.
func (s *Service) UpdatePhoneNumber(ctx context.Context, id string, p UpdateIdentifierParams) (*PhoneNumber, error) {
	var out *PhoneNumber
	err := s.store.Update(ctx, func(tx Tx) error {
		ph, err := tx.PhoneNumber(ctx, id)
		if err != nil {
			return kindErr(err, phoneKind, id)
		}
		u, err := tx.User(ctx, ph.UserID)
		if err != nil {
			return err
		}
		isPrimary := u.PrimaryPhoneNumberID != nil && *u.PrimaryPhoneNumberID == ph.ID
		if p.Verified != nil {
			if !*p.Verified && isPrimary {
				return errValue("verified", "The primary phone number cannot be marked unverified.")
			}
			ph.Verified = *p.Verified
		}
		now := s.nowMillis()
		ph.UpdatedAt = now
		if err := tx.SavePhoneNumber(ctx, ph); err != nil {
			return err
		}
		if p.Primary != nil && *p.Primary && !isPrimary {
			if !ph.Verified {
				return errValue("primary", "Only a verified phone number can be primary.")
			}
			u.PrimaryPhoneNumberID = &ph.ID
			u.UpdatedAt = now
			if err := tx.SaveUser(ctx, u); err != nil {
				return err
			}
		}
		out = ph
		return nil
	})
	return out, err
}

// DeletePhoneNumber deletes a phone number, with the rules of
// DeleteEmailAddress.
func (s *Service) DeletePhoneNumber(ctx context.Context, id string) (*DeletedObject, error) {
	err := s.store.Update(ctx, func(tx Tx) error {
		ph, err := tx.PhoneNumber(ctx, id)
		if err != nil {
			return kindErr(err, phoneKind, id)
		}
		u, err := tx.User(ctx, ph.UserID)
		if err != nil {
			return err
		}
		if u.PrimaryPhoneNumberID != nil && *u.PrimaryPhoneNumberID == id {
			if len(u.PhoneNumbers) > 1 {
				return errValue("phone_number_id", "The primary phone number cannot be deleted; make another number primary first.")
			}
			u.PrimaryPhoneNumberID = nil
			if err := tx.SaveUser(ctx, u); err != nil {
				return err
			}
		}
		if u.identifierCount() <= 1 {
			return errValue("phone_number_id", "The last identifier of a user cannot be deleted.")
		}
		return tx.DeletePhoneNumber(ctx, id)
	})
	if err != nil {
		return nil, err
	}
	return &DeletedObject{Object: "phone_number", ID: id, Deleted: true}, nil
}

func deref(b *bool) bool { return b != nil && *b }
