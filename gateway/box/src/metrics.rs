//! The gateway's Prometheus metrics, served as text at `http://<metrics>/metrics`.

use lem_gateway_core::bill::{self, Bill};
use std::{
	collections::BTreeMap,
	fmt::Write as _,
	net::SocketAddr,
	sync::{
		atomic::{AtomicU64, Ordering::Relaxed},
		Arc, Mutex,
	},
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::TcpListener,
};

#[derive(Default)]
pub struct Metrics {
	pub taken: AtomicU64,
	pub signed: AtomicU64,
	pub submitted: AtomicU64,
	pub finalized: AtomicU64,
	pub refused: AtomicU64,
	pub missed: AtomicU64,
	pub meter_errors: AtomicU64,
	pub pending: AtomicU64,
	pub journal_bytes: AtomicU64,
	pub node_connected: AtomicU64,
	pub last_finalized_block: AtomicU64,
	pub proof_bytes: AtomicU64,
	pub orders_submitted: AtomicU64,
	pub orders_placed: AtomicU64,
	pub orders_refused: AtomicU64,
	pub bills_checked: AtomicU64,
	pub bills_differing: AtomicU64,
	pub bills_unpaid: AtomicU64,
	pub clock_skews: AtomicU64,
	pub device_errors: AtomicU64,
	/// What the battery holds, in tenths of a percent, and the heat pump's SG-Ready state
	/// (0 blocked, 1 normal, 2 boosted), as last read; absent from the text without them.
	pub battery_stored_permille: Mutex<Option<u64>>,
	pub heat_pump_sg_ready: Mutex<Option<u64>>,
	/// The wallbox's power and energy register, while it is connected.
	pub charger_power_w: Mutex<Option<u64>>,
	pub charger_energy_wh: Mutex<Option<u64>>,
	/// The owner's ledger, served at `/ledger.json` and `/ledger.csv`.
	pub ledger: Mutex<BTreeMap<u64, Bill>>,
}

impl Metrics {
	pub fn add(counter: &AtomicU64, n: u64) {
		counter.fetch_add(n, Relaxed);
	}

	pub fn set(gauge: &AtomicU64, v: u64) {
		gauge.store(v, Relaxed);
	}

	/// The Prometheus text exposition of every metric.
	pub fn render(&self) -> String {
		let mut out = String::new();
		let mut metric = |name: &str, kind: &str, help: &str, value: &AtomicU64| {
			let _ = writeln!(
				out,
				"# HELP lem_gateway_{name} {help}\n# TYPE lem_gateway_{name} {kind}\nlem_gateway_{name} {}",
				value.load(Relaxed)
			);
		};
		metric(
			"clock_skews_total",
			"counter",
			"Times the box's clock disagreed with the chain's finalized time beyond the allowance.",
			&self.clock_skews,
		);
		metric(
			"readings_taken_total",
			"counter",
			"Slots whose end registers were taken.",
			&self.taken,
		);
		metric("readings_signed_total", "counter", "Readings signed and journaled.", &self.signed);
		metric(
			"readings_submitted_total",
			"counter",
			"Readings handed to a node.",
			&self.submitted,
		);
		metric(
			"readings_finalized_total",
			"counter",
			"Readings seen final on the chain.",
			&self.finalized,
		);
		metric("readings_refused_total", "counter", "Readings the chain refused.", &self.refused);
		metric(
			"slots_missed_total",
			"counter",
			"Slots without a reading: their start was not read.",
			&self.missed,
		);
		metric("meter_errors_total", "counter", "Meter reads that failed.", &self.meter_errors);
		metric(
			"device_errors_total",
			"counter",
			"Requests to the home's devices that failed.",
			&self.device_errors,
		);
		for (name, help, value) in [
			(
				"battery_stored_permille",
				"What the battery holds, in tenths of a percent of its capacity.",
				&self.battery_stored_permille,
			),
			(
				"heat_pump_sg_ready",
				"The heat pump's SG-Ready state: 0 blocked, 1 normal, 2 boosted.",
				&self.heat_pump_sg_ready,
			),
			(
				"charger_power_w",
				"The wallbox's charging power, as its meter values say.",
				&self.charger_power_w,
			),
			("charger_energy_wh", "The wallbox's energy register.", &self.charger_energy_wh),
		] {
			if let Some(v) = *value.lock().expect("not poisoned") {
				metric(name, "gauge", help, &AtomicU64::new(v));
			}
		}
		metric("readings_pending", "gauge", "Readings signed but not yet final.", &self.pending);
		metric("journal_bytes", "gauge", "Size of the journal file.", &self.journal_bytes);
		metric(
			"node_connected",
			"gauge",
			"1 while a node of the chain answers, else 0.",
			&self.node_connected,
		);
		metric(
			"last_finalized_block",
			"gauge",
			"The newest finalized block number whose finality the gateway checked.",
			&self.last_finalized_block,
		);
		metric(
			"proof_bytes_total",
			"counter",
			"Bytes of finality and storage proofs received from nodes.",
			&self.proof_bytes,
		);
		metric(
			"orders_submitted_total",
			"counter",
			"Orders sent for the owner.",
			&self.orders_submitted,
		);
		metric(
			"orders_placed_total",
			"counter",
			"Orders proven among the owner's orders at a finalized block.",
			&self.orders_placed,
		);
		metric(
			"orders_refused_total",
			"counter",
			"Orders the market refused, or whose transaction was used without placing them.",
			&self.orders_refused,
		);
		metric(
			"bills_checked_total",
			"counter",
			"Settled slots whose record the gateway checked against its own reckoning.",
			&self.bills_checked,
		);
		metric(
			"bills_differing_total",
			"counter",
			"Checked records that differ from the gateway's reckoning.",
			&self.bills_differing,
		);
		metric(
			"bills_unpaid_total",
			"counter",
			"Checked records that are right but whose amounts were not paid in full.",
			&self.bills_unpaid,
		);
		out
	}

	/// The ledger as a JSON array and as CSV, oldest slot first.
	pub fn ledger_json(&self) -> String {
		let ledger = self.ledger.lock().expect("not poisoned");
		let bills: Vec<serde_json::Value> = ledger.values().map(Bill::json).collect();
		serde_json::Value::Array(bills).to_string()
	}

	pub fn ledger_csv(&self) -> String {
		let ledger = self.ledger.lock().expect("not poisoned");
		let mut csv = format!("{}\n", bill::CSV_HEADER);
		for b in ledger.values() {
			csv += &b.csv_row();
			csv.push('\n');
		}
		csv
	}
}

/// Requests served at once; a further connection is closed unanswered. A box on a home
/// network has a Prometheus scraper and an owner's browser, not a crowd.
const MAX_CONNECTIONS: usize = 8;
/// How long a client may take to send its request head.
const READ_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves `metrics` at `address` until the process ends: the metrics at `/metrics`, the owner's
/// ledger at `/ledger.json` and `/ledger.csv`, 404 at any other path. A client that sends no
/// request head within [`READ_WITHIN`], or beyond [`MAX_CONNECTIONS`] at once, is dropped, so
/// that no one on the home network can hold the box's memory or tasks.
pub async fn serve(address: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<()> {
	let listener = TcpListener::bind(address).await?;
	tracing::info!(%address, "serving metrics");
	let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
	tokio::spawn(async move {
		loop {
			let Ok((mut stream, _)) = listener.accept().await else { continue };
			let Ok(slot) = slots.clone().try_acquire_owned() else { continue };
			let metrics = metrics.clone();
			tokio::spawn(async move {
				let _slot = slot;
				let Ok(Some(path)) =
					tokio::time::timeout(READ_WITHIN, request_path(&mut stream)).await
				else {
					return;
				};
				let (status, kind, body) = match path.as_str() {
					"/metrics" => ("200 OK", "text/plain; version=0.0.4", metrics.render()),
					"/ledger.json" => ("200 OK", "application/json", metrics.ledger_json()),
					"/ledger.csv" => ("200 OK", "text/csv", metrics.ledger_csv()),
					_ => ("404 Not Found", "text/plain", "not found\n".to_owned()),
				};
				let response = format!(
					"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
					body.len()
				);
				let _ = stream.write_all(response.as_bytes()).await;
			});
		}
	});
	Ok(())
}

/// The path of a `GET <path> HTTP/1.1` request, read up to the end of its head (a client may
/// send it in pieces, but no more than 1 KiB of it); `None` if the client gave up first.
async fn request_path(stream: &mut tokio::net::TcpStream) -> Option<String> {
	let (mut request, mut n) = ([0u8; 1024], 0);
	while n < request.len() && !request[..n].windows(4).any(|w| w == b"\r\n\r\n") {
		match stream.read(&mut request[n..]).await {
			Ok(0) | Err(_) => return None,
			Ok(read) => n += read,
		}
	}
	let line = String::from_utf8_lossy(&request[..n]);
	Some(line.split_whitespace().nth(1)?.to_owned())
}
