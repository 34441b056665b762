//! SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL does it: passwords are stored as verifiers
//! (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, PostgreSQL's own format), from
//! which a client's proof can be checked but the password cannot be recovered or replayed.

use std::fmt;
use std::num::NonZeroU32;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::{digest, hmac, pbkdf2, rand::SecureRandom};

/// PostgreSQL's default iteration count.
pub const ITERATIONS: u32 = 4096;
const PREFIX: &str = "SCRAM-SHA-256$";

/// A stored password: enough to verify a client's proof and sign the server's answer.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: [u8; 32],
    pub server_key: [u8; 32],
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Verifier(***)")
    }
}

impl Verifier {
    /// The verifier of `password` with a fresh random salt.
    ///
    /// # Errors
    /// When the password is empty or the system's random source fails.
    pub fn new(password: &str) -> Result<Self, String> {
        let mut salt = vec![0u8; 16];
        ring::rand::SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| "the system's random source failed".to_string())?;
        Self::with_salt(password, salt, ITERATIONS)
    }

    /// The verifier of `password` with a given salt and iteration count.
    ///
    /// # Errors
    /// When the password is empty or iterations is 0.
    pub fn with_salt(password: &str, salt: Vec<u8>, iterations: u32) -> Result<Self, String> {
        if password.is_empty() {
            return Err("empty passwords are not allowed".into());
        }
        let rounds = NonZeroU32::new(iterations).ok_or("iterations must be at least 1")?;
        // SASLprep as PostgreSQL: a password that does not normalise is used as it is.
        let normalised = stringprep::saslprep(password)
            .map(|p| p.into_owned())
            .unwrap_or_else(|_| password.to_string());
        let mut salted = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            &salt,
            normalised.as_bytes(),
            &mut salted,
        );
        let key = hmac::Key::new(hmac::HMAC_SHA256, &salted);
        let client_key = hmac::sign(&key, b"Client Key");
        let server_key = hmac::sign(&key, b"Server Key");
        Ok(Self {
            iterations,
            salt,
            stored_key: sha256(client_key.as_ref()),
            server_key: to_32(server_key.as_ref()),
        })
    }

    /// A verifier no password matches, for unknown users: the exchange looks the same, so a
    /// client cannot tell an unknown user from a wrong password (as PostgreSQL does).
    pub fn impossible(user: &str) -> Self {
        let salt = sha256(format!("seglake mock salt {user}").as_bytes())[..16].to_vec();
        let mut random = [0u8; 32];
        let _ = ring::rand::SystemRandom::new().fill(&mut random);
        Self {
            iterations: ITERATIONS,
            salt,
            stored_key: random,
            server_key: random,
        }
    }

    /// Parses PostgreSQL's text form.
    ///
    /// # Errors
    /// When the text is not `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            "expected a SCRAM-SHA-256 verifier (SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, as written by `seglake serve add-user`)".to_string()
        };
        let rest = text.trim().strip_prefix(PREFIX).ok_or_else(bad)?;
        let (params, keys) = rest.split_once('$').ok_or_else(bad)?;
        let (iterations, salt) = params.split_once(':').ok_or_else(bad)?;
        let (stored, server) = keys.split_once(':').ok_or_else(bad)?;
        let decode = |s: &str| B64.decode(s).map_err(|_| bad());
        let key = |s: &str| -> Result<[u8; 32], String> {
            let bytes = decode(s)?;
            bytes.try_into().map_err(|_| bad())
        };
        Ok(Self {
            iterations: iterations.parse().ok().filter(|&i| i > 0).ok_or_else(bad)?,
            salt: decode(salt)?,
            stored_key: key(stored)?,
            server_key: key(server)?,
        })
    }
}

impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}{}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key),
            B64.encode(self.server_key)
        )
    }
}

/// The server's side of one exchange, after the client's first message.
#[derive(Debug)]
pub struct Exchange {
    verifier: Verifier,
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

impl Exchange {
    /// Reads the client's first message and answers with the server's first message.
    ///
    /// # Errors
    /// When the message is malformed or asks for channel binding.
    pub fn start(
        client_first: &str,
        verifier: Verifier,
        server_nonce: &str,
    ) -> Result<(Self, String), String> {
        // gs2-header: "n,," (no binding) or "y,," (client could bind, thinks we cannot).
        let (gs2_header, bare) = match client_first.get(..3) {
            Some("n,," | "y,,") => client_first.split_at(3),
            _ if client_first.starts_with("p=") => {
                return Err("channel binding (SCRAM-SHA-256-PLUS) is not offered".into());
            }
            _ => return Err("malformed SCRAM client-first message".into()),
        };
        let client_nonce = bare
            .split(',')
            .find_map(|attribute| attribute.strip_prefix("r="))
            .filter(|nonce| !nonce.is_empty())
            .ok_or("SCRAM client-first message without a nonce")?;
        let nonce = format!("{client_nonce}{server_nonce}");
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&verifier.salt),
            verifier.iterations
        );
        Ok((
            Self {
                verifier,
                gs2_header: gs2_header.to_string(),
                client_first_bare: bare.to_string(),
                server_first: server_first.clone(),
                nonce,
            },
            server_first,
        ))
    }

    /// Checks the client's final message; on success, the server's final message.
    ///
    /// # Errors
    /// `Err(true)` when the proof does not match (a wrong password), `Err(false)` when the
    /// message is malformed.
    pub fn finish(&self, client_final: &str) -> Result<String, bool> {
        let (without_proof, proof) = client_final.rsplit_once(",p=").ok_or(false)?;
        let mut binding = None;
        let mut nonce = None;
        for attribute in without_proof.split(',') {
            if let Some(value) = attribute.strip_prefix("c=") {
                binding = Some(value);
            } else if let Some(value) = attribute.strip_prefix("r=") {
                nonce = Some(value);
            }
        }
        if binding != Some(B64.encode(&self.gs2_header).as_str())
            || nonce != Some(self.nonce.as_str())
        {
            return Err(false);
        }
        let proof: [u8; 32] = B64
            .decode(proof)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or(false)?;
        let auth_message = format!(
            "{},{},{without_proof}",
            self.client_first_bare, self.server_first
        );
        let stored = hmac::Key::new(hmac::HMAC_SHA256, &self.verifier.stored_key);
        let signature = hmac::sign(&stored, auth_message.as_bytes());
        let mut client_key = [0u8; 32];
        for (key, (p, s)) in client_key
            .iter_mut()
            .zip(proof.iter().zip(signature.as_ref()))
        {
            *key = p ^ s;
        }
        // Compare H(ClientKey) with StoredKey in constant time: HMAC verification does that.
        let check = hmac::Key::new(hmac::HMAC_SHA256, b"seglake scram check");
        let expected = hmac::sign(&check, &self.verifier.stored_key);
        if hmac::verify(&check, &sha256(&client_key), expected.as_ref()).is_err() {
            return Err(true);
        }
        let server = hmac::Key::new(hmac::HMAC_SHA256, &self.verifier.server_key);
        let server_signature = hmac::sign(&server, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature.as_ref())))
    }
}

/// A random nonce of printable characters.
pub fn nonce() -> String {
    let mut bytes = [0u8; 18];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    B64.encode(bytes)
}

fn sha256(data: &[u8]) -> [u8; 32] {
    to_32(digest::digest(&digest::SHA256, data).as_ref())
}

fn to_32(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes[..32]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3: user "user", password "pencil".
    const CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
    const SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    fn rfc_verifier() -> Verifier {
        Verifier::with_salt("pencil", B64.decode(SALT).unwrap(), 4096).unwrap()
    }

    #[test]
    fn rfc_7677_exchange() {
        let (exchange, server_first) =
            Exchange::start(CLIENT_FIRST, rfc_verifier(), SERVER_NONCE).unwrap();
        assert_eq!(server_first, SERVER_FIRST);
        assert_eq!(exchange.finish(CLIENT_FINAL).unwrap(), SERVER_FINAL);
    }

    #[test]
    fn wrong_password_and_tampering_fail() {
        let wrong = Verifier::with_salt("pencils", B64.decode(SALT).unwrap(), 4096).unwrap();
        let (exchange, _) = Exchange::start(CLIENT_FIRST, wrong, SERVER_NONCE).unwrap();
        assert_eq!(exchange.finish(CLIENT_FINAL), Err(true));
        let (exchange, _) = Exchange::start(CLIENT_FIRST, rfc_verifier(), SERVER_NONCE).unwrap();
        let other_nonce = CLIENT_FINAL.replace("k0,", "k1,");
        assert_eq!(exchange.finish(&other_nonce), Err(false));
        assert_eq!(exchange.finish("garbage"), Err(false));
        let (exchange, _) =
            Exchange::start(CLIENT_FIRST, Verifier::impossible("user"), SERVER_NONCE).unwrap();
        assert_eq!(exchange.finish(CLIENT_FINAL), Err(true));
        assert!(Exchange::start("p=tls-server-end-point,,n=,r=x", rfc_verifier(), "n").is_err());
    }

    #[test]
    fn verifier_text_round_trips_and_hides_in_debug() {
        let verifier = rfc_verifier();
        let text = verifier.to_string();
        assert!(text.starts_with("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"));
        assert_eq!(Verifier::parse(&text).unwrap(), verifier);
        assert_eq!(format!("{verifier:?}"), "Verifier(***)");
        assert!(Verifier::parse("md5abc").is_err());
        assert!(Verifier::new("").is_err());
    }
}
