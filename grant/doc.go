// Package grant issues and verifies toolgate's bearer tokens and keeps the
// grants they stand for.
//
// A token is "tg_" followed by the unpadded base64url encoding of 32 bytes
// from crypto/rand. It is shown once, when a grant is created or rotated;
// stores keep only its SHA-256 digest (toolgate.TokenHash) and look grants
// up by it. Verify accepts a token only when its grant exists, is not
// revoked and has not expired, and refuses every other token with the same
// error, ErrInvalidToken, so that a caller cannot tell a forged token from
// a revoked one.
//
// Memory and SQLite implement toolgate.GrantStore.
package grant
