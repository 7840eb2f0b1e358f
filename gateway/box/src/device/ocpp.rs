//! An EV's wallbox over OCPP 1.6J: the box is its central system, a WebSocket server on the
//! home network that the wallbox connects to (`ws://<box>:<port>/<anything>/<charge point>`,
//! subprotocol `ocpp1.6`). What the frames mean and what is answered is the core's
//! (`lem_gateway_core::ocpp`); this file holds the connection.
//!
//! The wallbox's requests are answered as they come: boot, heartbeats, status, transactions
//! and meter values, which make the state the box reads. The box's own requests — a charging
//! profile, or its removal — go one at a time, as OCPP-J asks, each answered within the
//! configured time. A newer connection from the wallbox replaces an older one.

use super::{write_due, Charger, DeviceError, Held};
use futures_util::{SinkExt, StreamExt};
use lem_gateway_core::{
	device::{ChargerState, Charging},
	ocpp::{self, Incoming, Station},
};
use ocpp_kit::{
	rpc::CallError,
	types::{DateTime, MessageId},
	v1_6::{
		Action, ChargingProfileStatus, ClearChargingProfileResponse, SetChargingProfileResponse,
	},
	RawValue,
};
use std::{
	net::SocketAddr,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};
use tokio::{
	net::TcpStream,
	sync::{mpsc, oneshot},
};
use tokio_tungstenite::tungstenite::{
	handshake::server::{ErrorResponse, Request, Response},
	http::{
		header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL, WWW_AUTHENTICATE},
		HeaderValue, StatusCode,
	},
	Message,
};
use tracing::{debug, info, warn};

/// A request of the box's for the connection, and where its answer goes.
struct Outgoing {
	action: Action,
	payload: Box<RawValue>,
	answer: oneshot::Sender<Result<Box<RawValue>, CallError>>,
}

/// What the connection tasks and the box share.
#[derive(Default)]
struct Shared {
	station: Station,
	/// The newest connection's queue, and its number.
	connection: Option<(u64, mpsc::UnboundedSender<Outgoing>)>,
	connections: u64,
}

pub struct CentralSystem {
	shared: Arc<Mutex<Shared>>,
	at: SocketAddr,
	charge_point: String,
	answer_within: Duration,
	watchdog_s: u16,
	last: Option<Held<Charging>>,
}

impl CentralSystem {
	/// Listens at `at` for the wallbox `charge_point`, which must present `authorization_key`
	/// if one is given (OCPP's security profile 1).
	pub async fn listen(
		at: SocketAddr,
		charge_point: String,
		authorization_key: Option<String>,
		answer_within: Duration,
		watchdog_s: u16,
	) -> Result<Self, DeviceError> {
		let (listener, at) = super::listen(at, "OCPP central system").await?;
		let shared = Arc::new(Mutex::new(Shared::default()));
		let expected = authorization_key.map(|key| ocpp::basic_authorization(&charge_point, &key));
		if expected.is_none() {
			warn!(%at, "the wallbox connects without authentication: any device on the home network may pose as it (set charger.authorization_key_file)");
		}
		let (id, wallbox) = (charge_point.clone(), shared.clone());
		tokio::spawn(super::accept_each(listener, "wallbox", move |stream, peer| {
			let (id, wallbox, expected) = (id.clone(), wallbox.clone(), expected.clone());
			async move {
				match connection(stream, &id, expected.as_deref(), wallbox).await {
					Ok(()) => info!(%peer, "wallbox disconnected"),
					Err(reason) => warn!(%peer, %reason, "wallbox connection ended"),
				}
			}
		}));
		Ok(CentralSystem { shared, at, charge_point, answer_within, watchdog_s, last: None })
	}

	/// Where the wallbox connects.
	pub fn local_addr(&self) -> SocketAddr {
		self.at
	}

	fn error(&self, doing: &'static str, reason: String) -> DeviceError {
		DeviceError::Ocpp { device: self.name(), doing, reason }
	}

	/// Sends the box's request and waits for its answer.
	async fn request(
		&self,
		action: Action,
		payload: Box<RawValue>,
	) -> Result<Box<RawValue>, DeviceError> {
		let doing = "sending a charging profile";
		let queue = self.shared.lock().expect("not poisoned").connection.clone();
		let Some((_, queue)) = queue else {
			return Err(DeviceError::Missing {
				device: self.name(),
				what: "connection from the wallbox".into(),
			});
		};
		let (answer, answered) = oneshot::channel();
		queue
			.send(Outgoing { action, payload, answer })
			.map_err(|_| self.error(doing, "the connection closed".into()))?;
		match tokio::time::timeout(self.answer_within, answered).await {
			Err(_) => Err(self.error(doing, "no answer in time".into())),
			Ok(Err(_)) => Err(self.error(doing, "the connection closed".into())),
			Ok(Ok(Err(e))) => Err(self.error(doing, format!("{e}"))),
			Ok(Ok(Ok(payload))) => Ok(payload),
		}
	}
}

impl Charger for CentralSystem {
	async fn hold(&mut self, command: Charging, now: Instant) -> Result<(), DeviceError> {
		if !write_due(&self.last, &command, now, self.watchdog_s) {
			return Ok(());
		}
		let (action, payload) = ocpp::command(command, DateTime::now(), self.watchdog_s);
		let answer = self.request(action, payload).await?;
		let refused = |what: String| DeviceError::Refused { device: self.name(), what };
		let nonsense = |e: serde_json::Error| DeviceError::Nonsense {
			device: self.name(),
			what: e.to_string(),
		};
		match action {
			Action::SetChargingProfile => {
				let r: SetChargingProfileResponse =
					serde_json::from_str(answer.get()).map_err(nonsense)?;
				if r.status != ChargingProfileStatus::Accepted {
					return Err(refused(format!("the charging profile: {:?}", r.status)));
				}
			}
			_ => {
				// Unknown: there was no profile to clear, which is what was asked.
				let r: ClearChargingProfileResponse =
					serde_json::from_str(answer.get()).map_err(nonsense)?;
				debug!(status = ?r.status, "charging profile cleared");
			}
		}
		self.last = Some(Held { command, written: now });
		Ok(())
	}

	async fn state(&mut self) -> Result<ChargerState, DeviceError> {
		let shared = self.shared.lock().expect("not poisoned");
		if shared.connection.is_none() || !shared.station.booted {
			return Err(DeviceError::Missing {
				device: self.name(),
				what: "connection from the wallbox".into(),
			});
		}
		Ok(shared.station.state())
	}

	fn name(&self) -> String {
		format!("wallbox {} (OCPP 1.6J at {})", self.charge_point, self.at)
	}
}

/// The WebSocket handshake: the path must name the charge point, its `Authorization` must be
/// `expected` where the box expects one, and OCPP 1.6J must be among the subprotocols offered.
fn handshake(
	charge_point: &str,
	expected: Option<&str>,
	request: &Request,
	mut response: Response,
) -> Result<Response, ErrorResponse> {
	let refuse = |status: StatusCode, why: &str| {
		let mut refusal = ErrorResponse::new(Some(why.to_owned()));
		*refusal.status_mut() = status;
		refusal
	};
	if request.uri().path().trim_end_matches('/').rsplit('/').next() != Some(charge_point) {
		return Err(refuse(StatusCode::NOT_FOUND, "no such charge point"));
	}
	if let Some(expected) = expected {
		let sent = request.headers().get(AUTHORIZATION).map(HeaderValue::as_bytes);
		if !ocpp::authorized(sent, expected) {
			let mut refusal =
				refuse(StatusCode::UNAUTHORIZED, "the wallbox's credentials are wrong");
			refusal
				.headers_mut()
				.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"lem\""));
			return Err(refusal);
		}
	}
	let offered = request
		.headers()
		.get_all(SEC_WEBSOCKET_PROTOCOL)
		.iter()
		.filter_map(|v| v.to_str().ok())
		.flat_map(|v| v.split(','))
		.any(|p| p.trim() == ocpp::SUBPROTOCOL);
	if !offered {
		return Err(refuse(StatusCode::BAD_REQUEST, "the subprotocol ocpp1.6 is required"));
	}
	response
		.headers_mut()
		.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(ocpp::SUBPROTOCOL));
	Ok(response)
}

async fn connection(
	stream: TcpStream,
	charge_point: &str,
	expected: Option<&str>,
	shared: Arc<Mutex<Shared>>,
) -> Result<(), String> {
	let callback = |request: &Request, response: Response| {
		handshake(charge_point, expected, request, response)
	};
	let socket =
		tokio_tungstenite::accept_hdr_async(stream, callback).await.map_err(|e| e.to_string())?;
	let (mut sink, mut frames) = socket.split();
	let (queue, mut requests) = mpsc::unbounded_channel();
	let number = {
		let mut shared = shared.lock().expect("not poisoned");
		shared.connections += 1;
		shared.connection = Some((shared.connections, queue));
		shared.connections
	};
	info!(charge_point, "wallbox connected");
	let mut next_id = 0u64;
	let mut pending: Option<(MessageId, oneshot::Sender<Result<Box<RawValue>, CallError>>)> = None;
	let ended = loop {
		tokio::select! {
			frame = frames.next() => {
				let text = match frame {
					Some(Ok(Message::Text(text))) => text,
					Some(Ok(Message::Close(_))) | None => break Ok(()),
					Some(Ok(_)) => continue,
					Some(Err(e)) => break Err(e.to_string()),
				};
				let reply = match ocpp::incoming(&text) {
					Incoming::Call { id, request } => {
						let answer = request.and_then(|r| {
							shared.lock().expect("not poisoned").station.answer(r, DateTime::now())
						});
						Some(match answer.and_then(|response| {
							response
								.to_json()
								.ok()
								.and_then(|json| RawValue::from_string(json).ok())
								.ok_or_else(|| CallError::internal("an answer that does not serialize"))
						}) {
							Ok(payload) => ocpp::call_result(&id, &payload),
							Err(e) => ocpp::call_error(&id, &e),
						})
					}
					Incoming::Result { id, payload } => {
						match pending.take() {
							Some((sent, answer)) if sent == id => { let _ = answer.send(Ok(payload)); }
							other => { pending = other; debug!(?id, "an answer to no request of the box's"); }
						}
						None
					}
					Incoming::Error { id, error } => {
						match pending.take() {
							Some((sent, answer)) if sent == id => { let _ = answer.send(Err(error)); }
							other => { pending = other; debug!(?id, "an error to no request of the box's"); }
						}
						None
					}
					Incoming::Broken { reply } => {
						warn!(frame = %text.as_str(), "a frame from the wallbox that is no OCPP-J");
						reply
					}
				};
				if let Some(reply) = reply {
					if let Err(e) = sink.send(Message::text(reply)).await {
						break Err(e.to_string());
					}
				}
			}
			Some(out) = requests.recv(), if pending.is_none() => {
				next_id += 1;
				let id = ocpp::message_id(next_id);
				let text = ocpp::call(&id, out.action, &out.payload);
				if let Err(e) = sink.send(Message::text(text)).await {
					break Err(e.to_string());
				}
				pending = Some((id, out.answer));
			}
		}
	};
	let mut shared = shared.lock().expect("not poisoned");
	if shared.connection.as_ref().is_some_and(|(n, _)| *n == number) {
		shared.connection = None;
	}
	ended
}
