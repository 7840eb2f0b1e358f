//! OCPP 1.6J as the box speaks it to the home's wallbox, the box being its central system
//! (ocpp-kit's typed messages and OCPP-J frames): what a frame from the wallbox means, what
//! the central system answers, and the charging profile that carries a [`Charging`]
//! command.
//!
//! A command is a default profile for every transaction (`TxDefaultProfile`, connector 0)
//! whose schedule lasts the box's watchdog from now: when the box stops renewing it, the
//! schedule ends and the wallbox charges in its own way again, at full power.

use crate::device::{ChargerState, Charging};
use alloc::{
	borrow::Cow,
	boxed::Box,
	format,
	string::{String, ToString},
};
use ocpp_kit::{
	decode::DecodeOptions,
	rpc::{CallError, ErrorCode, Frame, FrameReply},
	types::{DateTime, MessageId},
	v1_6::{
		Action, AuthorizationStatus, ChargePointStatus, ChargingProfile, ChargingProfileKind,
		ChargingProfilePurpose, ChargingRateUnit, ChargingSchedule, ChargingSchedulePeriod,
		ClearChargingProfileRequest, CsRequest, CsResponse, IdTagInfo, Measurand,
		RegistrationStatus, SetChargingProfileRequest, UnitOfMeasure,
	},
	RawValue, Version,
};
use serde::Serialize;

/// The WebSocket subprotocol of OCPP 1.6J.
pub const SUBPROTOCOL: &str = "ocpp1.6";

/// The `Authorization` header a charge point sends under OCPP's security profile 1 (HTTP Basic
/// authentication): its identity and its authorization key.
pub fn basic_authorization(charge_point: &str, authorization_key: &str) -> String {
	use base64::Engine;
	let credentials = format!("{charge_point}:{authorization_key}");
	format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials))
}

/// Whether `sent`, the `Authorization` header a connection sent (if any), is `expected`,
/// compared in time independent of where they differ, so that the key is not guessed a byte
/// at a time.
pub fn authorized(sent: Option<&[u8]>, expected: &str) -> bool {
	let Some(sent) = sent else { return false };
	let expected = expected.as_bytes();
	sent.len() == expected.len() && sent.iter().zip(expected).fold(0, |d, (a, b)| d | (a ^ b)) == 0
}
/// The profile the box sets and clears.
pub const PROFILE_ID: i32 = 1;
/// How often the wallbox is asked to send a heartbeat, in seconds.
pub const HEARTBEAT_S: i32 = 60;

/// A frame from the wallbox, decoded.
#[derive(Debug)]
pub enum Incoming {
	/// A request, to be answered with [`Station::answer`]'s response or with the error.
	Call {
		id: MessageId,
		request: Result<CsRequest, CallError>,
	},
	/// The answer to the box's request `id`.
	Result {
		id: MessageId,
		payload: Box<RawValue>,
	},
	Error {
		id: MessageId,
		error: CallError,
	},
	/// A frame too broken to be anything: the answer OCPP-J asks for, if any.
	Broken {
		reply: Option<String>,
	},
}

/// What a text frame from the wallbox is. Never fails: a broken frame is [`Incoming::Broken`].
pub fn incoming(text: &str) -> Incoming {
	let frame = match Frame::parse(text, Version::V1_6) {
		Ok(frame) => frame,
		Err(e) => {
			let reply = match e.reply(Version::V1_6) {
				FrameReply::CallError => {
					Some(call_error(&e.reply_id(), &CallError::new(e.error_code(), e.to_string())))
				}
				FrameReply::Ignore | FrameReply::CallResultError => None,
			};
			return Incoming::Broken { reply };
		}
	};
	match frame {
		Frame::Call { id, action, payload } => {
			let request = match Action::from_wire(&action) {
				Some(action) => CsRequest::decode(action, &payload, &DecodeOptions::default())
					.map_err(CallError::from),
				None => Err(CallError::not_implemented(&action)),
			};
			Incoming::Call { id, request }
		}
		Frame::CallResult { id, payload } => Incoming::Result { id, payload: payload.into_owned() },
		Frame::CallError { id, error } => Incoming::Error { id, error: error.to_call_error() },
		// OCPP 1.6 has neither; the parser refuses them for this version.
		Frame::CallResultError { .. } | Frame::Send { .. } => Incoming::Broken { reply: None },
	}
}

fn raw(payload: &impl Serialize) -> Box<RawValue> {
	serde_json::value::to_raw_value(payload).expect("OCPP payloads serialize")
}

fn text(frame: Frame) -> String {
	frame.to_json(Version::V1_6).expect("OCPP frames serialize")
}

/// A request of the box's, `id` its correlation.
pub fn call(id: &MessageId, action: Action, payload: &impl Serialize) -> String {
	text(Frame::Call {
		id: id.clone(),
		action: Cow::Borrowed(action.as_str()),
		payload: Cow::Owned(raw(payload)),
	})
}

pub fn call_result(id: &MessageId, payload: &impl Serialize) -> String {
	text(Frame::CallResult { id: id.clone(), payload: Cow::Owned(raw(payload)) })
}

pub fn call_error(id: &MessageId, error: &CallError) -> String {
	text(Frame::CallError { id: id.clone(), error: error.into() })
}

/// The request that carries `command`: a default profile lasting `watchdog_s` from `now`, or
/// its removal.
pub fn command(command: Charging, now: DateTime, watchdog_s: u16) -> (Action, Box<RawValue>) {
	match command {
		Charging::Own => {
			let mut clear = ClearChargingProfileRequest::new();
			clear.id = Some(PROFILE_ID);
			(Action::ClearChargingProfile, raw(&clear))
		}
		Charging::Limit { power_w } => {
			let period = ChargingSchedulePeriod::new(0, power_w);
			let schedule = ChargingSchedule::new(ChargingRateUnit::W, alloc::vec![period])
				.with_duration(i32::from(watchdog_s))
				.with_start_schedule(now);
			let profile = ChargingProfile::new(
				PROFILE_ID,
				0,
				ChargingProfilePurpose::TxDefaultProfile,
				ChargingProfileKind::Absolute,
				schedule,
			);
			(Action::SetChargingProfile, raw(&SetChargingProfileRequest::new(0, profile)))
		}
	}
}

/// The central system's view of the wallbox, from what it sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Station {
	pub booted: bool,
	pub status: Option<ChargePointStatus>,
	pub transaction: Option<i32>,
	next_transaction: i32,
	/// The wallbox's energy register and power, from its meter values.
	pub energy_wh: Option<u64>,
	pub power_w: Option<u32>,
}

impl Station {
	/// Answers the wallbox's `request` at `now`, and takes in what it says.
	pub fn answer(&mut self, request: CsRequest, now: DateTime) -> Result<CsResponse, CallError> {
		let accepted = || IdTagInfo::new(AuthorizationStatus::Accepted);
		Ok(match request {
			CsRequest::BootNotification(_) => {
				self.booted = true;
				CsResponse::BootNotification(ocpp_kit::v1_6::BootNotificationResponse::new(
					RegistrationStatus::Accepted,
					now,
					HEARTBEAT_S,
				))
			}
			CsRequest::Heartbeat(_) => {
				CsResponse::Heartbeat(ocpp_kit::v1_6::HeartbeatResponse::new(now))
			}
			CsRequest::Authorize(_) => {
				CsResponse::Authorize(ocpp_kit::v1_6::AuthorizeResponse::new(accepted()))
			}
			CsRequest::StatusNotification(s) => {
				// Connector 0 is the wallbox as a whole; the home's has one connector.
				if s.connector_id != 0 {
					self.status = Some(s.status);
				}
				CsResponse::StatusNotification(ocpp_kit::v1_6::StatusNotificationResponse::new())
			}
			CsRequest::StartTransaction(t) => {
				self.next_transaction += 1;
				self.transaction = Some(self.next_transaction);
				self.energy_wh = u64::try_from(t.meter_start).ok();
				CsResponse::StartTransaction(ocpp_kit::v1_6::StartTransactionResponse::new(
					accepted(),
					self.next_transaction,
				))
			}
			CsRequest::StopTransaction(t) => {
				if self.transaction == Some(t.transaction_id) {
					self.transaction = None;
				}
				self.energy_wh = u64::try_from(t.meter_stop).ok();
				self.power_w = Some(0);
				CsResponse::StopTransaction(ocpp_kit::v1_6::StopTransactionResponse::new())
			}
			CsRequest::MeterValues(m) => {
				for sample in m.meter_value.iter().flat_map(|v| v.sampled_value.iter()) {
					let value: f64 = sample.value.parse().map_err(|_| {
						CallError::new(
							ErrorCode::TypeConstraintViolation,
							format!("sampled value {:?} is not a number", sample.value),
						)
					})?;
					let measurand =
						sample.measurand.clone().unwrap_or(Measurand::EnergyActiveImportRegister);
					let unit = sample.unit.clone();
					match (measurand, unit) {
						(Measurand::EnergyActiveImportRegister, None | Some(UnitOfMeasure::Wh))
							if value >= 0.0 =>
						{
							self.energy_wh = Some(value as u64)
						}
						(Measurand::EnergyActiveImportRegister, Some(UnitOfMeasure::KWh))
							if value >= 0.0 =>
						{
							self.energy_wh = Some((value * 1_000.0) as u64)
						}
						(Measurand::PowerActiveImport, None | Some(UnitOfMeasure::W))
							if value >= 0.0 =>
						{
							self.power_w = Some(value as u32)
						}
						(Measurand::PowerActiveImport, Some(UnitOfMeasure::KW)) if value >= 0.0 => {
							self.power_w = Some((value * 1_000.0) as u32)
						}
						_ => {}
					}
				}
				CsResponse::MeterValues(ocpp_kit::v1_6::MeterValuesResponse::new())
			}
			other => return Err(CallError::not_supported(other.action().as_str())),
		})
	}

	/// The wallbox as the box reports it.
	pub fn state(&self) -> ChargerState {
		use ChargePointStatus::*;
		ChargerState {
			plugged: matches!(
				self.status,
				Some(Preparing | Charging | SuspendedEV | SuspendedEVSE | Finishing)
			),
			charging: self.status == Some(Charging),
			power_w: self.power_w.unwrap_or(0),
			energy_wh: self.energy_wh,
		}
	}
}

/// A request id of the box's.
pub fn message_id(n: u64) -> MessageId {
	MessageId::new(n.to_string()).expect("a short decimal is an id")
}

#[cfg(test)]
mod tests {

	#[test]
	fn a_wallbox_is_authorized_by_its_identity_and_key_only() {
		// RFC 7617's example, as a charge point's identity and key.
		let expected = basic_authorization("Aladdin", "open sesame");
		assert_eq!(expected, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
		assert!(authorized(Some(expected.as_bytes()), &expected));
		let wrong = basic_authorization("Aladdin", "open sesamf");
		assert!(!authorized(Some(wrong.as_bytes()), &expected));
		assert!(!authorized(Some(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ="), &expected));
		assert!(!authorized(None, &expected));
	}

	use super::*;

	fn answered(station: &mut Station, text: &str) -> Result<CsResponse, CallError> {
		match incoming(text) {
			Incoming::Call { request, .. } => station.answer(request?, DateTime::UNIX_EPOCH),
			other => panic!("{other:?}"),
		}
	}

	#[test]
	fn a_session_from_boot_to_stop() {
		let mut s = Station::default();
		let boot =
			r#"[2,"1","BootNotification",{"chargePointVendor":"lem","chargePointModel":"sim"}]"#;
		assert!(matches!(answered(&mut s, boot), Ok(CsResponse::BootNotification(_))));
		let status = |st: &str| {
			format!(
				r#"[2,"2","StatusNotification",{{"connectorId":1,"errorCode":"NoError","status":"{st}"}}]"#
			)
		};
		answered(&mut s, &status("Preparing")).unwrap();
		let start = r#"[2,"3","StartTransaction",{"connectorId":1,"idTag":"car","meterStart":1000,"timestamp":"2026-12-07T18:00:00Z"}]"#;
		let Ok(CsResponse::StartTransaction(t)) = answered(&mut s, start) else { panic!() };
		assert_eq!(t.transaction_id, 1);
		answered(&mut s, &status("Charging")).unwrap();
		let values = r#"[2,"4","MeterValues",{"connectorId":1,"transactionId":1,"meterValue":[{"timestamp":"2026-12-07T18:01:00Z","sampledValue":[{"value":"1.5","measurand":"Energy.Active.Import.Register","unit":"kWh"},{"value":"11000","measurand":"Power.Active.Import","unit":"W"}]}]}]"#;
		answered(&mut s, values).unwrap();
		assert_eq!(
			s.state(),
			ChargerState { plugged: true, charging: true, power_w: 11_000, energy_wh: Some(1_500) }
		);
		let stop = r#"[2,"5","StopTransaction",{"transactionId":1,"meterStop":2000,"timestamp":"2026-12-07T19:00:00Z"}]"#;
		answered(&mut s, stop).unwrap();
		answered(&mut s, &status("Available")).unwrap();
		assert!(!s.state().plugged);
		assert_eq!(s.transaction, None);
	}

	#[test]
	fn a_bad_request_is_answered_with_the_error_its_fault_calls_for() {
		let mut s = Station::default();
		let missing = r#"[2,"1","BootNotification",{"chargePointVendor":"lem"}]"#;
		let e = answered(&mut s, missing).unwrap_err();
		assert_eq!(e.code, ErrorCode::OccurrenceConstraintViolation);
		let not_a_number = r#"[2,"2","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2026-12-07T18:01:00Z","sampledValue":[{"value":"lots"}]}]}]"#;
		assert_eq!(
			answered(&mut s, not_a_number).unwrap_err().code,
			ErrorCode::TypeConstraintViolation
		);
		let Incoming::Call { request: Err(e), .. } = incoming(r#"[2,"3","Teleport",{}]"#) else {
			panic!()
		};
		assert_eq!(e.code, ErrorCode::NotImplemented);
		assert!(matches!(incoming("[2,"), Incoming::Broken { reply: Some(_) }));
		assert_eq!(s, Station { booted: false, ..Station::default() }, "nothing taken in");
	}

	#[test]
	fn a_limit_is_a_default_profile_that_lasts_the_watchdog() {
		let (action, payload) =
			command(Charging::Limit { power_w: 4_200 }, DateTime::UNIX_EPOCH, 60);
		assert_eq!(action, Action::SetChargingProfile);
		let json: serde_json::Value = serde_json::from_str(payload.get()).unwrap();
		let profile = &json["csChargingProfiles"];
		assert_eq!(json["connectorId"], 0);
		assert_eq!(profile["chargingProfilePurpose"], "TxDefaultProfile");
		assert_eq!(profile["chargingSchedule"]["duration"], 60);
		assert_eq!(profile["chargingSchedule"]["chargingRateUnit"], "W");
		assert_eq!(profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"], 4200);
		let (action, payload) = command(Charging::Own, DateTime::UNIX_EPOCH, 60);
		assert_eq!(action, Action::ClearChargingProfile);
		assert_eq!(payload.get(), r#"{"id":1}"#);
	}
}
