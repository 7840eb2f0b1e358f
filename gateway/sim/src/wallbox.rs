//! The wallbox's side of OCPP 1.6J: it connects to its central system (the box) with the
//! subprotocol `ocpp1.6`, boots, reports its connector's status, starts a transaction when
//! the car is plugged in and stops it when the car leaves, sends meter values every tick,
//! and takes charging profiles: the first period's limit (in W, or in A at 230 V on its
//! phases) until the schedule's duration has passed from its receipt. A lost connection is
//! made again after a second, as wallboxes do; its profile runs out on its own.

use crate::SimMeter;
use futures_util::{SinkExt, StreamExt};
use lem_gateway_core::ocpp::{call, call_error, call_result, message_id, SUBPROTOCOL};
use ocpp_kit::{
	decode::DecodeOptions,
	rpc::{CallError, Frame},
	types::{DateTime, MessageId},
	v1_6::{
		Action, BootNotificationRequest, ChargePointErrorCode, ChargePointStatus,
		ChargingProfileStatus, ChargingRateUnit, ClearChargingProfileResponse,
		ClearChargingProfileStatus, CsmsRequest, Measurand, MeterValue, MeterValuesRequest,
		SampledValue, SetChargingProfileResponse, StartTransactionRequest,
		StartTransactionResponse, StatusNotificationRequest, StopTransactionRequest, UnitOfMeasure,
	},
	RawValue, Version,
};
use serde::Serialize;
use std::{
	error::Error,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};
use tokio::net::TcpStream;
use tokio_tungstenite::{
	tungstenite::{
		client::IntoClientRequest,
		http::{
			header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL},
			HeaderValue,
		},
		Message,
	},
	MaybeTlsStream, WebSocketStream,
};

/// How often it sends meter values, in the wall's time.
const TICK: Duration = Duration::from_millis(500);
/// Volts per phase, and phases, for a limit in amperes.
const VOLTS: f64 = 230.0;
const PHASES: f64 = 3.0;
const UNTIL_REPLACED: Duration = Duration::from_secs(365 * 86_400);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects to `url` and runs sessions until the process ends, presenting `key` if given.
pub async fn run(url: String, key: Option<String>, home: Arc<Mutex<SimMeter>>) {
	loop {
		if let Err(e) = session(&url, key.as_deref(), &home).await {
			eprintln!("wallbox: {e}");
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
}

struct Link<'a> {
	socket: Socket,
	next_id: u64,
	home: &'a Mutex<SimMeter>,
}

impl Link<'_> {
	async fn send(&mut self, text: String) -> Result<(), Box<dyn Error + Send + Sync>> {
		Ok(self.socket.send(Message::text(text)).await?)
	}

	/// Sends a request and waits for its answer, answering the central system's requests
	/// that come meanwhile.
	async fn call<T: serde::de::DeserializeOwned>(
		&mut self,
		action: Action,
		payload: &impl Serialize,
	) -> Result<T, Box<dyn Error + Send + Sync>> {
		self.next_id += 1;
		let id = message_id(self.next_id);
		self.send(call(&id, action, payload)).await?;
		loop {
			match self.next_frame().await? {
				Frame::CallResult { id: answered, payload } if answered == id => {
					return Ok(serde_json::from_str(payload.get())?)
				}
				Frame::CallError { id: answered, error } if answered == id => {
					return Err(format!("{action:?} refused: {:?}", error.to_call_error()).into())
				}
				Frame::Call { id, action, payload } => self.answer(id, &action, &payload).await?,
				_ => {}
			}
		}
	}

	async fn next_frame(&mut self) -> Result<Frame<'static>, Box<dyn Error + Send + Sync>> {
		loop {
			match self.socket.next().await {
				Some(Ok(Message::Text(text))) => {
					return Ok(Frame::parse(&text, Version::V1_6)?.into_owned())
				}
				Some(Ok(Message::Close(_))) | None => {
					return Err("the central system closed".into())
				}
				Some(Ok(_)) => {}
				Some(Err(e)) => return Err(e.into()),
			}
		}
	}

	/// Answers the central system's request.
	async fn answer(
		&mut self,
		id: MessageId,
		action: &str,
		payload: &RawValue,
	) -> Result<(), Box<dyn Error + Send + Sync>> {
		let request = match Action::from_wire(action) {
			Some(action) => CsmsRequest::decode(action, payload, &DecodeOptions::default())
				.map_err(CallError::from),
			None => Err(CallError::not_implemented(action)),
		};
		let wall = Instant::now();
		let reply = match request {
			Ok(CsmsRequest::SetChargingProfile(r)) => {
				let schedule = &r.cs_charging_profiles.charging_schedule;
				let status = match schedule.charging_schedule_period.first() {
					Some(period) => {
						let limit = period.limit.to_f64_lossy();
						let watts = match schedule.charging_rate_unit {
							ChargingRateUnit::W => limit,
							_ => limit * VOLTS * period.number_phases.map_or(PHASES, f64::from),
						};
						// A schedule without a duration holds until it is replaced or cleared.
						let lasts = schedule
							.duration
							.map_or(UNTIL_REPLACED, |s| Duration::from_secs(s.max(0) as u64));
						self.with_ev(|ev| ev.limit(Some((watts, lasts)), wall));
						ChargingProfileStatus::Accepted
					}
					None => ChargingProfileStatus::Rejected,
				};
				call_result(&id, &SetChargingProfileResponse::new(status))
			}
			Ok(CsmsRequest::ClearChargingProfile(_)) => {
				self.with_ev(|ev| ev.limit(None, wall));
				call_result(
					&id,
					&ClearChargingProfileResponse::new(ClearChargingProfileStatus::Accepted),
				)
			}
			Ok(other) => call_error(&id, &CallError::not_supported(other.action().as_str())),
			Err(e) => call_error(&id, &e),
		};
		self.send(reply).await
	}

	fn with_ev<T>(&self, f: impl FnOnce(&mut crate::ev::Ev) -> T) -> T {
		let mut home = self.home.lock().expect("not poisoned");
		f(home.household.ev.as_mut().expect("a wallbox only where there is a car"))
	}
}

async fn session(
	url: &str,
	key: Option<&str>,
	home: &Mutex<SimMeter>,
) -> Result<(), Box<dyn Error + Send + Sync>> {
	let mut request = url.into_client_request()?;
	request.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(SUBPROTOCOL));
	if let Some(key) = key {
		// The charge point's identity is the URL's last part.
		let identity = url.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
		let credentials = lem_gateway_core::ocpp::basic_authorization(identity, key);
		request.headers_mut().insert(AUTHORIZATION, HeaderValue::from_str(&credentials)?);
	}
	let (socket, response) = tokio_tungstenite::connect_async(request).await?;
	if response.headers().get(SEC_WEBSOCKET_PROTOCOL).and_then(|v| v.to_str().ok())
		!= Some(SUBPROTOCOL)
	{
		return Err("the central system did not take ocpp1.6".into());
	}
	let mut link = Link { socket, next_id: 0, home };
	let _: serde_json::Value = link
		.call(Action::BootNotification, &BootNotificationRequest::new("lem", "lem-sim wallbox"))
		.await?;
	let mut transaction: Option<i32> = None;
	let mut reported: Option<ChargePointStatus> = None;
	let mut tick = tokio::time::interval(TICK);
	loop {
		tokio::select! {
			_ = tick.tick() => {}
			frame = link.next_frame() => {
				if let Frame::Call { id, action, payload } = frame? {
					link.answer(id, &action, &payload).await?;
				}
				continue;
			}
		}
		let (plugged, power_w, energy_wh, full) = link.with_ev(|ev| {
			(ev.plugged, ev.power_now_w, ev.delivered_wh, ev.stored_wh >= ev.capacity_wh - 1.0)
		});
		let now = DateTime::now();
		match (plugged, transaction) {
			(true, None) => {
				let start = StartTransactionRequest::new(1, "lem-sim car", energy_wh as i32, now);
				let started: StartTransactionResponse =
					link.call(Action::StartTransaction, &start).await?;
				transaction = Some(started.transaction_id);
			}
			(false, Some(id)) => {
				let stop = StopTransactionRequest::new(energy_wh as i32, now, id);
				let _: serde_json::Value = link.call(Action::StopTransaction, &stop).await?;
				transaction = None;
			}
			_ => {}
		}
		let status = match (plugged, power_w > 0.0, full) {
			(false, ..) => ChargePointStatus::Available,
			(true, true, _) => ChargePointStatus::Charging,
			(true, false, true) => ChargePointStatus::SuspendedEV,
			(true, false, false) => ChargePointStatus::SuspendedEVSE,
		};
		if reported != Some(status.clone()) {
			let notice =
				StatusNotificationRequest::new(1, ChargePointErrorCode::NoError, status.clone());
			let _: serde_json::Value = link.call(Action::StatusNotification, &notice).await?;
			reported = Some(status);
		}
		let sample = |value: f64, measurand, unit| {
			SampledValue::new(format!("{value:.0}")).with_measurand(measurand).with_unit(unit)
		};
		let mut values = MeterValuesRequest::new(
			1,
			vec![MeterValue::new(
				now,
				vec![
					sample(energy_wh, Measurand::EnergyActiveImportRegister, UnitOfMeasure::Wh),
					sample(power_w, Measurand::PowerActiveImport, UnitOfMeasure::W),
				],
			)],
		);
		values.transaction_id = transaction;
		let _: serde_json::Value = link.call(Action::MeterValues, &values).await?;
	}
}
