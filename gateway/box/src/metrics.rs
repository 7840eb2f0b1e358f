//! The gateway's Prometheus metrics, served as text at `http://<metrics>/metrics`, and the
//! box's HTTP endpoint on the home network that serves them, the owner's ledger and
//! preferences ([`serve`]).

use lem_gateway_core::bill::{self, Bill};
use lem_planner::home::Preferences;
use std::{
	collections::BTreeMap,
	fmt::Write as _,
	net::SocketAddr,
	sync::{
		atomic::{AtomicU64, Ordering::Relaxed},
		Arc, Mutex,
	},
	time::Duration,
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::TcpListener,
	sync::{mpsc, oneshot},
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
/// How long a client may take to send its request.
const READ_WITHIN: Duration = Duration::from_secs(5);
/// How long the gateway's loop may take to answer the owner: it answers between its rounds
/// of work with the chain.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);
/// The most a request's head and its body may be.
const MAX_HEAD: usize = 2048;
const MAX_BODY: usize = 4096;

/// What the owner asks of the gateway's loop through HTTP, with where it answers.
pub enum Ask {
	Preferences(oneshot::Sender<Preferences>),
	/// The plan the devices follow, as JSON.
	Plan(oneshot::Sender<String>),
	/// What the home did, as JSON and its slots as CSV.
	Home(oneshot::Sender<(String, String)>),
	/// Kept in the journal before the answer; refused with why if out of range.
	SetPreferences(Preferences, oneshot::Sender<Result<Preferences, String>>),
}

/// Serves at `address` until the process ends: the metrics at `/metrics`, the owner's ledger
/// at `/ledger.json` and `/ledger.csv`, and, given the gateway's loop to `ask`, the plan the
/// devices follow at `/plan.json`, what the home did at `/home.json` and `/home.csv`, and the
/// owner's preferences at `/preferences` (GET reads them, PUT replaces them with a JSON body);
/// 404 at
/// any other path. A client that sends no request within [`READ_WITHIN`], or beyond
/// [`MAX_CONNECTIONS`] at once, is dropped, so that no one on the home network can hold the
/// box's memory or tasks.
///
/// `app_origin`, the web app's origin (`gateway.toml`'s `app_origin`), may read what a GET
/// answers from a page in the owner's browser (CORS); no other site may.
pub async fn serve(
	address: SocketAddr,
	metrics: Arc<Metrics>,
	ask: Option<mpsc::Sender<Ask>>,
	app_origin: Option<String>,
) -> std::io::Result<()> {
	let listener = TcpListener::bind(address).await?;
	tracing::info!(%address, "serving metrics");
	let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
	tokio::spawn(async move {
		loop {
			let Ok((mut stream, _)) = listener.accept().await else { continue };
			let Ok(slot) = slots.clone().try_acquire_owned() else { continue };
			let (metrics, ask, app_origin) = (metrics.clone(), ask.clone(), app_origin.clone());
			tokio::spawn(async move {
				let _slot = slot;
				let Ok(request) = tokio::time::timeout(READ_WITHIN, request(&mut stream)).await
				else {
					return;
				};
				let (status, kind, body, get) = match request {
					Err("") => return,
					Err(status) => (status, "text/plain", format!("{status}\n"), false),
					Ok(r) => {
						let (status, kind, body) = answer(&r, &metrics, ask.as_ref()).await;
						(status, kind, body, r.method == "GET")
					}
				};
				let cors = match &app_origin {
					Some(origin) if get => {
						format!("Access-Control-Allow-Origin: {origin}\r\nVary: Origin\r\n")
					}
					_ => String::new(),
				};
				let response = format!(
					"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n{cors}Connection: close\r\n\r\n{body}",
					body.len()
				);
				let _ = stream.write_all(response.as_bytes()).await;
			});
		}
	});
	Ok(())
}

/// A request as the box reads it.
struct Request {
	method: String,
	path: String,
	body: Vec<u8>,
}

async fn answer(
	r: &Request,
	metrics: &Metrics,
	ask: Option<&mpsc::Sender<Ask>>,
) -> (&'static str, &'static str, String) {
	const JSON: &str = "application/json";
	let not_found = ("404 Not Found", "text/plain", "not found\n".to_owned());
	match (r.method.as_str(), r.path.as_str(), ask) {
		("GET", "/metrics", _) => ("200 OK", "text/plain; version=0.0.4", metrics.render()),
		("GET", "/ledger.json", _) => ("200 OK", JSON, metrics.ledger_json()),
		("GET", "/ledger.csv", _) => ("200 OK", "text/csv", metrics.ledger_csv()),
		("GET", "/preferences", Some(ask)) => {
			let (tx, rx) = oneshot::channel();
			match asked(ask, Ask::Preferences(tx), rx).await {
				Some(p) => ("200 OK", JSON, json(&p)),
				None => busy(),
			}
		}
		("GET", "/plan.json", Some(ask)) => {
			let (tx, rx) = oneshot::channel();
			match asked(ask, Ask::Plan(tx), rx).await {
				Some(plan) => ("200 OK", JSON, plan),
				None => busy(),
			}
		}
		("GET", path @ ("/home.json" | "/home.csv"), Some(ask)) => {
			let (tx, rx) = oneshot::channel();
			match asked(ask, Ask::Home(tx), rx).await {
				Some((json, _)) if path == "/home.json" => ("200 OK", JSON, json),
				Some((_, csv)) => ("200 OK", "text/csv", csv),
				None => busy(),
			}
		}
		("PUT", "/preferences", Some(ask)) => {
			let preferences = match serde_json::from_slice::<Preferences>(&r.body) {
				Ok(p) => p,
				Err(e) => return ("400 Bad Request", "text/plain", format!("preferences: {e}\n")),
			};
			let (tx, rx) = oneshot::channel();
			match asked(ask, Ask::SetPreferences(preferences, tx), rx).await {
				Some(Ok(p)) => ("200 OK", JSON, json(&p)),
				Some(Err(why)) => {
					("400 Bad Request", "text/plain", format!("preferences: {why}\n"))
				}
				None => busy(),
			}
		}
		(_, "/preferences", Some(_)) => {
			("405 Method Not Allowed", "text/plain", "GET or PUT\n".to_owned())
		}
		_ => not_found,
	}
}

fn json(preferences: &Preferences) -> String {
	serde_json::to_string(preferences).expect("preferences serialize")
}

fn busy() -> (&'static str, &'static str, String) {
	("503 Service Unavailable", "text/plain", "the box did not answer in time\n".to_owned())
}

/// Hands `what` to the gateway's loop and waits for its answer on `rx`.
async fn asked<T>(ask: &mpsc::Sender<Ask>, what: Ask, rx: oneshot::Receiver<T>) -> Option<T> {
	tokio::time::timeout(ANSWER_WITHIN, async {
		ask.send(what).await.ok()?;
		rx.await.ok()
	})
	.await
	.ok()
	.flatten()
}

/// Reads a request: its head up to [`MAX_HEAD`] bytes (a client may send it in pieces), and
/// the body its `Content-Length` gives, up to [`MAX_BODY`]. The status to refuse it with if
/// it is not one; `Err("")` if the client gave up first.
async fn request(stream: &mut tokio::net::TcpStream) -> Result<Request, &'static str> {
	let (mut bytes, mut n) = (vec![0u8; MAX_HEAD + MAX_BODY], 0);
	let head_end = loop {
		if let Some(at) = bytes[..n].windows(4).position(|w| w == b"\r\n\r\n") {
			break at + 4;
		}
		if n >= MAX_HEAD {
			return Err("431 Request Header Fields Too Large");
		}
		match stream.read(&mut bytes[n..MAX_HEAD]).await {
			Ok(0) | Err(_) => return Err(""),
			Ok(read) => n += read,
		}
	};
	let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
	let mut lines = head.lines();
	let mut first = lines.next().unwrap_or_default().split_whitespace();
	let (Some(method), Some(path)) = (first.next(), first.next()) else {
		return Err("400 Bad Request");
	};
	let length = lines
		.filter_map(|l| l.split_once(':'))
		.find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
		.map(|(_, v)| v.trim().parse::<usize>().map_err(|_| "400 Bad Request"))
		.transpose()?
		.unwrap_or(0);
	if length > MAX_BODY {
		return Err("413 Content Too Large");
	}
	while n < head_end + length {
		match stream.read(&mut bytes[n..head_end + length]).await {
			Ok(0) | Err(_) => return Err(""),
			Ok(read) => n += read,
		}
	}
	let body = bytes[head_end..head_end + length].to_vec();
	Ok(Request { method: method.to_owned(), path: path.to_owned(), body })
}
