//! The battery as OpenEMS Edge runs it with a remote EMS (OpenEMS's clever-PV controller):
//! every push interval the Edge POSTs its figures to the remote EMS's URL and takes the mode
//! the answer names until the next push. `NO_DISCHARGE` holds the battery at 0 W;
//! `CHARGE_FROM_GRID` charges it at the answer's `chargePower`, at most what the Edge offered.
//! An answer without a mode, an error or no answer, and the battery is back in its own mode
//! (self-consumption): nothing the remote EMS said outlives its next push.

use crate::{
	battery::{model124::*, Battery},
	SimMeter,
};
use serde_json::{json, Value};
use std::{
	error::Error,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::TcpStream,
};

type Failure = Box<dyn Error + Send + Sync>;

/// Pushes to `url` (`http://host:port/path`) every `every` until the process ends.
pub async fn run(url: String, every: Duration, home: Arc<Mutex<SimMeter>>) {
	loop {
		let mode = match push(&url, &home).await {
			Ok(answer) => answer["activateControlModes"]["ess"].clone(),
			Err(e) => {
				eprintln!("openems: push failed: {e}");
				Value::Null
			}
		};
		{
			let mut home = home.lock().expect("not poisoned");
			let battery =
				home.household.battery.as_mut().expect("an Edge only where there is a battery");
			take(battery, &mode, Instant::now());
		}
		tokio::time::sleep(every).await;
	}
}

/// What the Edge offers to charge at from the grid: the battery's power.
fn offered_w(battery: &Battery) -> f64 {
	battery.power_w
}

/// Puts the battery in the mode the answer names, or its own.
fn take(battery: &mut Battery, mode: &Value, wall: Instant) {
	let percent =
		|w: f64| ((w / battery.power_w).clamp(-1.0, 1.0) * 10_000.0).round() as i16 as u16;
	let (control, rates, grid) = match mode["mode"].as_str() {
		Some("NO_DISCHARGE") => (CHARGE | DISCHARGE, [0, 0], 0),
		Some("CHARGE_FROM_GRID") => {
			let w = mode["chargePower"].as_f64().unwrap_or(0.0).abs().min(offered_w(battery));
			(CHARGE | DISCHARGE, [percent(-w), percent(w)], 1)
		}
		_ => (0, [10_000, 10_000], 0),
	};
	let written = battery
		.write(STOR_CTL_MOD, &[control], wall)
		.and_then(|()| battery.write(OUT_W_RTE, &[rates[0], rates[1], 0, 0], wall))
		.and_then(|()| battery.write(CHA_GRI_SET, &[grid], wall));
	written.expect("the Edge writes only values model 124 takes");
}

/// One push: the Edge's figures, and the remote EMS's answer.
async fn push(url: &str, home: &Mutex<SimMeter>) -> Result<Value, Failure> {
	let rest = url.strip_prefix("http://").ok_or("only http:// URLs")?;
	let (host, path) =
		rest.split_once('/').map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
	let body = {
		let home = home.lock().expect("not poisoned");
		let battery = home.household.battery.as_ref().ok_or("no battery")?;
		let soc = (battery.stored_wh / battery.capacity_wh * 100.0).round() as u64;
		// OpenEMS's sign: the ESS's discharge power, positive discharging.
		let discharge = -battery.power_now_w.round() as i64;
		json!({
			"state": 0,
			"watt": null,
			"producingWatt": null,
			"soc": soc,
			"powerStorageState": if discharge > 0 { 3 } else if discharge < 0 { 1 } else { 0 },
			"chargingPower": discharge,
			"currentData": { "sumEssSoc": soc, "sumEssDischargePower": discharge },
			"availableControlModes": { "ess": [
				{ "mode": "NO_DISCHARGE" },
				{ "mode": "CHARGE_FROM_GRID", "maxChargePower": offered_w(battery).round() as u64 },
			]},
		})
		.to_string()
	};
	let mut stream =
		tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(host)).await??;
	let request = format!(
		"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	);
	stream.write_all(request.as_bytes()).await?;
	let mut response = Vec::new();
	tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response)).await??;
	let text = String::from_utf8(response)?;
	let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP response")?;
	if !head.starts_with("HTTP/1.1 200") {
		return Err(format!("the remote EMS answered {}", head.lines().next().unwrap_or("")).into());
	}
	Ok(serde_json::from_str(body)?)
}
