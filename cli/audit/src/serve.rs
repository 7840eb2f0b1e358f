//! The auditor's export over HTTP, for the app's auditor view: the same checks and the same
//! CSV as the command line, answered to `GET /settlements.csv?from=<slot>&to=<slot>
//! [&account=<SS58>][&at=<block hash>]` on the auditor's own machine. One auditor answers one
//! request at a time and keeps the finality it checked between them, so a later export only
//! checks the justifications since. The browser runs no verifying code of its own: it shows
//! what this service, which the auditor runs and trusts, checked.

use crate::{AuditError, Auditor};
use pallet_market::Slot;
use sp_core::{
	crypto::{AccountId32, Ss58Codec},
	H256,
};
use std::{
	io::{Read, Write},
	net::{TcpListener, TcpStream},
	str::FromStr,
	time::Duration,
};

/// What an export is asked for.
#[derive(Debug, PartialEq)]
pub struct Query {
	pub from: Slot,
	pub to: Slot,
	pub account: Option<AccountId32>,
	pub at: Option<H256>,
}

/// A request that is not an export the service makes, named by what is wrong with it.
#[derive(Debug, PartialEq)]
pub enum BadRequest {
	NotFound,
	Missing(&'static str),
	Invalid(&'static str),
	Unknown(String),
}

impl std::fmt::Display for BadRequest {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			BadRequest::NotFound => write!(f, "NotFound: only GET /settlements.csv is served"),
			BadRequest::Missing(p) => write!(f, "Missing: {p}"),
			BadRequest::Invalid(p) => write!(f, "Invalid: {p}"),
			BadRequest::Unknown(p) => write!(f, "Unknown: parameter {p}"),
		}
	}
}

/// The export a request line (`GET /settlements.csv?from=1&to=2 HTTP/1.1`) asks for.
pub fn parse(request_line: &str) -> Result<Query, BadRequest> {
	let mut words = request_line.split_whitespace();
	let (method, target) = (words.next(), words.next().unwrap_or(""));
	let (path, query) = target.split_once('?').unwrap_or((target, ""));
	if method != Some("GET") || path != "/settlements.csv" {
		return Err(BadRequest::NotFound);
	}
	let (mut from, mut to, mut account, mut at) = (None, None, None, None);
	for pair in query.split('&').filter(|p| !p.is_empty()) {
		let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
		match key {
			"from" => from = Some(value.parse().map_err(|_| BadRequest::Invalid("from"))?),
			"to" => to = Some(value.parse().map_err(|_| BadRequest::Invalid("to"))?),
			"account" if !value.is_empty() => {
				account = Some(
					AccountId32::from_ss58check(value)
						.map_err(|_| BadRequest::Invalid("account"))?,
				)
			}
			"account" => {}
			"at" if !value.is_empty() => {
				at = Some(H256::from_str(value).map_err(|_| BadRequest::Invalid("at"))?)
			}
			"at" => {}
			other => return Err(BadRequest::Unknown(other.into())),
		}
	}
	Ok(Query {
		from: from.ok_or(BadRequest::Missing("from"))?,
		to: to.ok_or(BadRequest::Missing("to"))?,
		account,
		at,
	})
}

/// Answers exports on `listener` until the process ends.
pub fn serve(listener: TcpListener, auditor: &mut Auditor, witnesses: &[String]) {
	for stream in listener.incoming() {
		let Ok(mut stream) = stream else { continue };
		let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
		let Some(line) = request_line(&mut stream) else { continue };
		let (status, kind, body) = match parse(&line) {
			Err(BadRequest::NotFound) => {
				("404 Not Found", "text/plain", BadRequest::NotFound.to_string())
			}
			Err(bad) => ("400 Bad Request", "text/plain", bad.to_string()),
			Ok(q) => match auditor.export(witnesses, q.from, q.to, q.account.as_ref(), q.at) {
				Ok(export) => ("200 OK", "text/csv", export.csv()),
				// Refused: no node's answer checked out, or the range cannot be exported.
				Err(e) => (status_of(&e), "text/plain", e.to_string()),
			},
		};
		// The app is served from elsewhere than this service: any page may read an export,
		// which holds nothing the chain does not show anyone.
		let _ = write!(
			stream,
			"HTTP/1.1 {status}\r\nContent-Type: {kind}; charset=utf-8\r\nContent-Length: {}\r\n\
			 Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n{body}",
			body.len()
		);
	}
}

fn status_of(e: &AuditError) -> &'static str {
	match e {
		AuditError::EmptyRange | AuditError::RangeTooLarge => "400 Bad Request",
		_ => "502 Bad Gateway",
	}
}

/// The request's first line, read up to the end of its head.
fn request_line(stream: &mut TcpStream) -> Option<String> {
	let (mut head, mut n) = ([0u8; 2048], 0);
	while n < head.len() && !head[..n].windows(4).any(|w| w == b"\r\n\r\n") {
		match stream.read(&mut head[n..]) {
			Ok(0) | Err(_) => break,
			Ok(read) => n += read,
		}
	}
	let text = String::from_utf8_lossy(&head[..n]);
	text.lines().next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_request_line_names_the_export_or_what_is_wrong() {
		let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
		let hash = format!("0x{}", "ab".repeat(32));
		assert_eq!(
			parse(&format!("GET /settlements.csv?from=3&to=9&account={alice}&at={hash} HTTP/1.1")),
			Ok(Query {
				from: 3,
				to: 9,
				account: Some(AccountId32::from_ss58check(alice).unwrap()),
				at: Some(H256::from_str(&hash).unwrap()),
			})
		);
		assert_eq!(
			parse("GET /settlements.csv?from=3&to=9&account=&at= HTTP/1.1").map(|q| q.account),
			Ok(None)
		);
		assert_eq!(parse("GET /settlements.csv?to=9 HTTP/1.1"), Err(BadRequest::Missing("from")));
		assert_eq!(
			parse("GET /settlements.csv?from=x&to=9 HTTP/1.1"),
			Err(BadRequest::Invalid("from"))
		);
		assert_eq!(
			parse("GET /settlements.csv?from=1&to=9&account=5Grw HTTP/1.1"),
			Err(BadRequest::Invalid("account"))
		);
		assert_eq!(
			parse("GET /settlements.csv?from=1&to=9&who=x HTTP/1.1"),
			Err(BadRequest::Unknown("who".into()))
		);
		assert_eq!(parse("GET /other HTTP/1.1"), Err(BadRequest::NotFound));
		assert_eq!(parse("POST /settlements.csv?from=1&to=2 HTTP/1.1"), Err(BadRequest::NotFound));
	}
}
