//! Tokens of the engine API's kind for `verai_` write methods: `Authorization: Bearer
//! <jwt>`, an HS256 JWT signed with the node's 32-byte secret whose `iat` is within
//! [`JWT_MAX_SKEW_SECS`] of the verifier's clock. The client makes them, the server checks
//! them; the secret file is 32 bytes as hex, as geth's and reth's `jwt.hex`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a token's `iat` may be from the verifier's clock (the engine API's 60 s).
pub const JWT_MAX_SKEW_SECS: u64 = 60;

type HmacSha256 = Hmac<Sha256>;

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
}

/// A token for `secret` issued at `iat` (unix seconds): what clients send.
pub fn jwt(secret: &[u8; 32], iat: u64) -> String {
    let header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = b64(format!(r#"{{"iat":{iat}}}"#).as_bytes());
    let signing = format!("{header}.{claims}");
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(signing.as_bytes());
    format!("{signing}.{}", b64(&mac.finalize().into_bytes()))
}

/// Whether `token` is an HS256 JWT signed with `secret` whose `iat` is within
/// [`JWT_MAX_SKEW_SECS`] of `now` (unix seconds). The signature is compared in constant time.
pub fn verify_jwt(secret: &[u8; 32], token: &str, now: u64) -> bool {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some(header) = unb64(h).and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    else {
        return false;
    };
    if header["alg"] != "HS256" {
        return false;
    }
    let Some(sig) = unb64(s) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(c.as_bytes());
    if mac.verify_slice(&sig).is_err() {
        return false;
    }
    unb64(c)
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|claims| claims["iat"].as_u64())
        .is_some_and(|iat| iat.abs_diff(now) <= JWT_MAX_SKEW_SECS)
}

/// Parse a JWT secret file: 32 bytes as hex (64 digits, optional `0x`), as the engine API's
/// `jwt.hex`.
pub fn parse_secret(text: &str) -> Result<[u8; 32], String> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let bytes = hex::decode(t).map_err(|_| "the JWT secret is not hex")?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("the JWT secret is {} bytes, not 32", b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [7; 32];

    #[test]
    fn tokens_verify_only_with_the_secret_and_a_fresh_iat() {
        let t = jwt(&SECRET, 1_000);
        assert!(verify_jwt(&SECRET, &t, 1_000));
        assert!(verify_jwt(&SECRET, &t, 1_060));
        assert!(!verify_jwt(&SECRET, &t, 1_061), "stale");
        assert!(!verify_jwt(&[8; 32], &t, 1_000), "other secret");
        let mut forged = t.clone();
        forged.pop();
        forged.push('A');
        assert!(!verify_jwt(&SECRET, &forged, 1_000));
        assert!(!verify_jwt(&SECRET, "a.b", 1_000));
        assert!(!verify_jwt(&SECRET, "", 1_000));
        // alg none is refused even with an empty signature.
        let none = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(br#"{"iat":1000}"#));
        assert!(!verify_jwt(&SECRET, &none, 1_000));
    }

    #[test]
    fn secrets_parse_as_hex() {
        assert_eq!(parse_secret(&"07".repeat(32)), Ok(SECRET));
        assert_eq!(
            parse_secret(&format!("0x{}\n", "07".repeat(32))),
            Ok(SECRET)
        );
        assert!(parse_secret("abc").is_err());
        assert!(parse_secret(&"07".repeat(31)).is_err());
    }
}
