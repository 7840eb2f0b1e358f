//! A battery run by OpenEMS Edge, the box its remote EMS as OpenEMS's clever-PV controller
//! takes one: the Edge POSTs its figures (grid, production, state of charge, the control
//! modes it offers) to the box every few seconds, and the box's answer names the mode the
//! battery is to be in until the next push: `NO_DISCHARGE` (the battery held at 0 W) or
//! `CHARGE_FROM_GRID` with a `chargePower`; an answer without a mode, or none, and the Edge
//! returns to its own mode. So the box renews its command by answering every push, and a box
//! that stops leaves the battery in its own mode at the Edge's next push.

use super::{Battery, DeviceError};
use lem_gateway_core::{
	device::{BatteryMode, BatteryState},
	openems::{self, Push},
};
use std::{
	net::SocketAddr,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::TcpStream,
	task::JoinHandle,
};
use tracing::warn;

/// The largest push taken: the Edge's figures are a few hundred bytes.
const MOST_BYTES: usize = 16 * 1024;

#[derive(Default)]
struct Shared {
	/// What the next push is answered with.
	answer: String,
	/// The last push, and when it came.
	pushed: Option<(Push, Instant)>,
}

pub struct RemoteEms {
	shared: Arc<Mutex<Shared>>,
	at: SocketAddr,
	/// A push is due this often; three missed and the Edge is reported missing.
	answer_within: Duration,
	server: JoinHandle<()>,
}

impl Drop for RemoteEms {
	fn drop(&mut self) {
		self.server.abort();
	}
}

impl RemoteEms {
	pub async fn listen(at: SocketAddr, answer_within: Duration) -> Result<Self, DeviceError> {
		let (listener, at) = super::listen(at, "OpenEMS remote EMS").await?;
		let shared = Arc::new(Mutex::new(Shared { answer: openems::off(), pushed: None }));
		let edge = shared.clone();
		let server =
			tokio::spawn(super::accept_each(listener, "OpenEMS Edge", move |stream, peer| {
				let edge = edge.clone();
				async move {
					if let Err(reason) = push(stream, &edge).await {
						warn!(%peer, %reason, "a push from the Edge was refused");
					}
				}
			}));
		Ok(RemoteEms { shared, at, answer_within, server })
	}

	pub fn local_addr(&self) -> SocketAddr {
		self.at
	}
}

impl Battery for RemoteEms {
	async fn hold(&mut self, mode: BatteryMode, _now: Instant) -> Result<(), DeviceError> {
		let answer = openems::answer(mode);
		let mut shared = self.shared.lock().expect("not poisoned");
		shared.answer = answer.clone().unwrap_or_else(openems::off);
		answer.map(|_| ()).ok_or_else(|| DeviceError::Refused {
			device: self.name(),
			what: format!("{mode:?}: OpenEMS's remote control discharges on no command"),
		})
	}

	async fn state(&mut self) -> Result<BatteryState, DeviceError> {
		match self.shared.lock().expect("not poisoned").pushed {
			Some((push, at)) if at.elapsed() < 3 * self.answer_within => {
				Ok(BatteryState { stored_permille: push.soc_percent * 10, power_w: push.offered_w })
			}
			_ => {
				Err(DeviceError::Missing { device: self.name(), what: "push from the Edge".into() })
			}
		}
	}

	fn name(&self) -> String {
		format!("OpenEMS Edge (remote EMS at {})", self.at)
	}
}

/// One push: an HTTP/1.1 POST with a JSON body, answered with the mode to hold.
async fn push(mut stream: TcpStream, shared: &Mutex<Shared>) -> Result<(), String> {
	let mut bytes = Vec::new();
	let mut buffer = [0u8; 2048];
	let (head_end, length) = loop {
		let n = stream.read(&mut buffer).await.map_err(|e| e.to_string())?;
		if n == 0 {
			return Err("the connection closed mid-request".into());
		}
		bytes.extend_from_slice(&buffer[..n]);
		if bytes.len() > MOST_BYTES {
			return Err("a request above 16 KiB".into());
		}
		if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
			let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
			if !head.starts_with("post ") {
				respond(&mut stream, "405 Method Not Allowed", "").await;
				return Err("not a POST".into());
			}
			let length = head
				.lines()
				.find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>()))
				.ok_or("no Content-Length")?
				.map_err(|e| e.to_string())?;
			break (end + 4, length);
		}
	};
	if head_end + length > MOST_BYTES {
		return Err("a body above 16 KiB".into());
	}
	while bytes.len() < head_end + length {
		let n = stream.read(&mut buffer).await.map_err(|e| e.to_string())?;
		if n == 0 {
			return Err("the connection closed mid-body".into());
		}
		bytes.extend_from_slice(&buffer[..n]);
	}
	let pushed = match openems::push(&bytes[head_end..head_end + length]) {
		Ok(pushed) => pushed,
		Err(e) => {
			respond(&mut stream, "400 Bad Request", "").await;
			return Err(format!("{e:?}"));
		}
	};
	let answer = {
		let mut shared = shared.lock().expect("not poisoned");
		shared.pushed = Some((pushed, Instant::now()));
		shared.answer.clone()
	};
	respond(&mut stream, "200 OK", &answer).await;
	Ok(())
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) {
	let response = format!(
		"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	);
	let _ = stream.write_all(response.as_bytes()).await;
	let _ = stream.shutdown().await;
}
