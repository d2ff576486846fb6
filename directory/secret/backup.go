package secret

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// HashBackupCode prepares a backup code for storage. Clerk accepts backup
// codes in plain text or as the bcrypt digest of the code: a valid bcrypt
// digest ($2a$/$2b$/$2y$) is returned unchanged, anything else is hashed
// with bcrypt. Codes are taken exactly as given (no trimming or case
// folding). Empty codes and codes over 72 bytes are refused.
func HashBackupCode(code string) (string, error) {
	if isBcrypt(code) {
		return code, nil
	}
	if code == "" {
		return "", fmt.Errorf("secret: backup code: %w", ErrEmptyPassword)
	}
	if len(code) > 72 {
		return "", fmt.Errorf("secret: backup code: %w", ErrPasswordTooLong)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(code), BcryptCost)
	if err != nil {
		return "", fmt.Errorf("secret: hashing backup code: %w", err)
	}
	return string(h), nil
}

// VerifyBackupCode reports whether code matches a hash made by
// HashBackupCode.
func VerifyBackupCode(hash, code string) bool {
	if code == "" || !isBcrypt(hash) {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(code)) == nil
}
