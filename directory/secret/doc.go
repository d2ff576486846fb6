// Package secret holds the pure, storage-free secret handling of the
// directory service: password hashing and the verification of imported
// password digests for every password_hasher Clerk's updateUser()
// documents, the breached-password list, TOTP (RFC 6238) and backup codes.
//
// Nothing here does I/O; the breached list is embedded and parsed lazily on
// first use.
//
// # Passwords
//
// Plain-text passwords are stored as bcrypt (cost [BcryptCost]). Digests
// imported with a password_hasher are validated by [ValidateDigest] and
// checked by [VerifyPassword]; the formats, as Clerk documents them, are:
//
//	hasher                digest format and algorithm
//	awscognito            awscognito#<user pool id>#<client id>#<identifier>; cannot be verified
//	                      locally: VerifyPassword returns ErrPendingMigration
//	bcrypt                $2a|2b|2y$<cost 04..31>$<22 salt + 31 hash chars, bcrypt base64>
//	bcrypt_sha256_django  bcrypt_sha256$<bcrypt digest>; bcrypt over hex(sha256(password)) (Django)
//	bcrypt_peppered       <bcrypt digest>$<pepper>; bcrypt(password || pepper) (Devise)
//	md5                   32 hex chars; md5(password)
//	md5_salted            <salt>$<32 hex chars>; md5(salt || password) or md5(password || salt)
//	pbkdf2_sha1           pbkdf2_sha1$<iterations>$<salt>$<hex hash>[$<key length>]; the salt is
//	                      hex-decoded when it is valid hex, else used as raw bytes; key length
//	                      defaults to 32 and must match the hash
//	pbkdf2_sha256         pbkdf2_sha256$<iterations>$<base64 salt>$<base64 hash> (standard or URL-safe)
//	pbkdf2_sha512         pbkdf2_sha512$<iterations>$<literal salt>$<hex hash>
//	pbkdf2_sha512_hex     pbkdf2_sha512_hex$<iterations>$<hex salt>$<hex hash>
//	pbkdf2_sha256_django  pbkdf2_sha256$<iterations>$<literal salt>$<base64 32-byte hash> (Django)
//	phpass                $P$ or $H$, count char (log2 rounds 7..30), 8 salt chars, 22 checksum
//	                      chars, all from ./0-9A-Za-z; iterated MD5 (phpass portable hashes)
//	scrypt_firebase       <hash>$<salt>$<signer key>$<salt separator>$<rounds 1..8>$<mem cost 1..14>,
//	                      base64 fields (standard or URL-safe); key = scrypt(password, salt||separator, N=2^mem cost,
//	                      r=rounds, p=1, 32 bytes), hash = AES-256-CTR(key, zero IV, signer key)
//	scrypt_werkzeug       [$]scrypt[:N:r:p]$<salt>$<hash>; hash hex (as Werkzeug writes it) or
//	                      base64; scrypt(password, salt, N, r, p, len(hash)); defaults 32768:8:1
//	sha256                64 hex chars; sha256(password)
//	sha256_salted         <salt>$<64 hex chars>; sha256(salt || password) or sha256(password || salt)
//	argon2i, argon2id     $argon2i[d]$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash> (PHC string,
//	                      unpadded standard base64)
//	sha512_symfony        sha512_symfony$<iterations>$<salt>$<base64 64-byte hash>; Symfony's
//	                      MessageDigestPasswordEncoder: s = password + "{" + salt + "}" (just the
//	                      password when the salt is empty), d = sha512(s), then iterations-1 times
//	                      d = sha512(d || s)
//	md5_phpass            listed by Clerk's type but not documented: the phpass format above
//	ldap_ssha             {SSHA}base64(sha1(password || salt) || salt)
//
// Where Clerk's page does not say in which order a salt is concatenated
// (md5_salted, sha256_salted) both orders are accepted.
//
// So that one verification stays bounded, parameters are limited: PBKDF2 and
// sha512_symfony iterations to 10,000,000; argon2 memory to 1 GiB, passes
// to 100 and lanes to 255; scrypt memory (128·N·r) to 1 GiB and p to 16;
// digests to 4 KiB.
//
// # Breached passwords
//
// [Breached] looks a password up, lowercased, in an embedded list of the
// 30,000 most common passwords of leaked-password corpora (see
// data/README.md for its provenance).
//
// # TOTP and backup codes
//
// TOTP follows Clerk's only supported profile: RFC 6238 with HMAC-SHA-1, six
// digits and a 30 second step; secrets are RFC 4648 base32 of at least 80
// bits. Backup codes are accepted in plain text or as a bcrypt digest and are
// stored as bcrypt.
package secret
