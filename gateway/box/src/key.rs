//! The box's key files. The device key is the ed25519 key that signs the box's readings: its
//! secret is 32 bytes, kept as hex in a file only the gateway's user may read; its public half
//! is what the technician registers for the metering point on the chain. The owner's key, if
//! the box trades, is a file of its own ([`load_owner`]).

use ed25519_dalek::SigningKey;
use lem_gateway_core::owner::Owner;
use lem_light_client::hex;
use std::{fmt, io::Write, path::Path};

#[derive(Debug)]
pub enum KeyError {
	/// `keygen` does not overwrite a key: the chain may know it already.
	Exists,
	Io(std::io::Error),
	/// The file does not hold 64 hex digits.
	Malformed,
	NoRandomness(String),
}

impl fmt::Display for KeyError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Exists => write!(f, "a key file is there already; it is not overwritten"),
			Self::Io(e) => write!(f, "{e}"),
			Self::Malformed => write!(f, "not a device key (64 hex digits)"),
			Self::NoRandomness(e) => write!(f, "no randomness from the system: {e}"),
		}
	}
}

impl std::error::Error for KeyError {}

/// Writes a new device key to `path` (mode 0600) and returns it.
pub fn generate(path: &Path) -> Result<SigningKey, KeyError> {
	let mut secret = [0u8; 32];
	getrandom::getrandom(&mut secret).map_err(|e| KeyError::NoRandomness(e.to_string()))?;
	let mut options = std::fs::OpenOptions::new();
	options.write(true).create_new(true);
	#[cfg(unix)]
	std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
	let mut file = options.open(path).map_err(|e| match e.kind() {
		std::io::ErrorKind::AlreadyExists => KeyError::Exists,
		_ => KeyError::Io(e),
	})?;
	writeln!(file, "{}", &hex::encode(&secret)[2..]).map_err(KeyError::Io)?;
	file.sync_all().map_err(KeyError::Io)?;
	Ok(SigningKey::from_bytes(&secret))
}

pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
	let text = std::fs::read_to_string(path).map_err(KeyError::Io)?;
	let secret: [u8; 32] = Some(text.trim())
		.filter(|t| !t.starts_with("0x"))
		.and_then(hex::decode_hash)
		.ok_or(KeyError::Malformed)?;
	Ok(SigningKey::from_bytes(&secret))
}

#[derive(Debug)]
pub enum OwnerKeyError {
	Io(std::io::Error),
	/// The file does not hold a 32-byte secret seed in hex.
	Malformed,
}

impl fmt::Display for OwnerKeyError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Io(e) => write!(f, "{e}"),
			Self::Malformed => write!(f, "not an sr25519 secret seed (64 hex digits)"),
		}
	}
}

impl std::error::Error for OwnerKeyError {}

/// The owner's account key from a file holding its 32-byte secret seed in hex, as `lem-node
/// key inspect` prints it.
pub fn load_owner(path: &Path) -> Result<Owner, OwnerKeyError> {
	let text = std::fs::read_to_string(path).map_err(OwnerKeyError::Io)?;
	let seed = hex::decode_hash(text.trim()).ok_or(OwnerKeyError::Malformed)?;
	Ok(Owner::from_seed(&seed))
}
