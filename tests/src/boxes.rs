//! The boxes at the meters as real processes: `lem-meter-sim` serving a demo household's
//! meter over Modbus TCP, `lem-gateway` reading it and talking to nodes, and a TCP proxy that
//! can cut a gateway off from its node, as a Wi-Fi outage would.

use crate::{node_binary, wait_for};
use sp_core::Pair;
use std::{
	collections::BTreeSet,
	fs::File,
	io::{BufRead, BufReader, Read},
	net::{SocketAddr, TcpListener, TcpStream},
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, Mutex,
	},
	time::Duration,
};

/// A binary of the workspace, beside `lem-node`.
pub fn binary(name: &str) -> PathBuf {
	let bin = node_binary().with_file_name(name);
	assert!(bin.exists(), "{} is missing: run `cargo build --workspace` first", bin.display());
	bin
}

fn signal(child: &Child, signal: &str) {
	let status =
		Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
	assert!(status.is_ok_and(|s| s.success()), "kill -{signal} {}", child.id());
}

/// `lem-meter-sim` for one demo household, its clock as fast as makes a market slot a quarter
/// of an hour of its day (90 times the wall's at the test pace), its day starting at 9:00: the
/// PV households export while a test runs, whatever the wall's hour (a test at night saw no
/// trades).
pub struct MeterSim {
	child: Child,
	pub address: SocketAddr,
}

impl MeterSim {
	/// For a chain at the test pace.
	pub fn start(household: u8) -> MeterSim {
		Self::for_slots_of(household, crate::TEST_PACE.slot_seconds)
	}

	/// The same, for a chain whose slots last `slot_seconds`.
	pub fn for_slots_of(household: u8, slot_seconds: u64) -> MeterSim {
		let speed = (900 / slot_seconds).to_string();
		Self::spawn(household, &["--speed", &speed], 0).0
	}

	/// `lem-meter-sim` for `household` from 9:00 UTC with `args` besides, which serve
	/// `devices` devices: the meter and the addresses the devices announce, in order.
	pub fn spawn(household: u8, args: &[&str], devices: usize) -> (MeterSim, Vec<SocketAddr>) {
		let mut child = Command::new(binary("lem-meter-sim"))
			.args(["--household", &household.to_string(), "--listen", "127.0.0.1:0"])
			.args(["--start-hour", "9"])
			.args(args)
			.stdout(Stdio::piped())
			.stderr(Stdio::null())
			.spawn()
			.expect("spawn lem-meter-sim");
		let mut out = BufReader::new(child.stdout.take().unwrap());
		let mut addresses = Vec::new();
		for _ in 0..=devices {
			let mut line = String::new();
			out.read_line(&mut line).unwrap();
			let address = line
				.trim()
				.split_once("listening on ")
				.and_then(|(_, a)| a.parse().ok())
				.unwrap_or_else(|| panic!("lem-meter-sim said {line:?}"));
			addresses.push(address);
		}
		let address = addresses.remove(0);
		(MeterSim { child, address }, addresses)
	}

	/// Freezes the meter: it takes connections but answers nothing (SIGSTOP).
	pub fn pause(&self) {
		signal(&self.child, "STOP");
	}

	pub fn resume(&self) {
		signal(&self.child, "CONT");
	}
}

impl Drop for MeterSim {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// One line of `lem-gateway journal`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JournalLine {
	pub slot: u64,
	pub state: String,
	pub import_register_wh: u64,
	pub export_register_wh: u64,
	/// The reading's energy, if the slot has a reading.
	pub energy: Option<(u64, u64)>,
	pub reason: Option<String>,
}

/// A `lem-gateway` process with its own directory: key, configuration, journal, log.
pub struct GatewayBox {
	pub metering_point: u64,
	pub dir: PathBuf,
	pub config: PathBuf,
	/// The device key's public half, as `keygen` printed it.
	pub public: [u8; 32],
	log: PathBuf,
	child: Option<Child>,
	/// Where it serves its metrics and the owner's ledger, if it trades.
	pub metrics: Option<SocketAddr>,
}

impl GatewayBox {
	/// Makes the box's key with `lem-gateway keygen` and writes its configuration.
	pub fn new(
		dir: &Path,
		metering_point: u64,
		raw_chain_spec: &Path,
		nodes: &[String],
		meter: SocketAddr,
	) -> Self {
		std::fs::create_dir_all(dir).unwrap();
		let out = Command::new(binary("lem-gateway"))
			.args(["keygen", "--out"])
			.arg(dir.join("device.key"))
			.output()
			.expect("lem-gateway keygen");
		assert!(out.status.success(), "keygen: {}", String::from_utf8_lossy(&out.stderr));
		let printed = String::from_utf8(out.stdout).unwrap();
		let public = sp_core::bytes::from_hex(printed.trim())
			.ok()
			.and_then(|k| k.try_into().ok())
			.unwrap_or_else(|| panic!("keygen printed {printed:?}"));
		let nodes: Vec<String> = nodes.iter().map(|n| format!("{n:?}")).collect();
		let config = dir.join("gateway.toml");
		std::fs::write(
			&config,
			format!(
				"metering_point = {metering_point}\n\
				 chain_spec = {:?}\n\
				 nodes = [{}]\n\
				 key_file = \"device.key\"\n\
				 journal = \"journal.redb\"\n\
				 [meter]\naddress = \"{meter}\"\npoll_seconds = 2\n\
				 [meter.map]\nkind = \"simulator\"\n",
				raw_chain_spec,
				nodes.join(", "),
			),
		)
		.unwrap();
		GatewayBox {
			metering_point,
			dir: dir.to_owned(),
			config,
			public,
			log: dir.join("gateway.log"),
			child: None,
			metrics: None,
		}
	}

	/// The demo's technician registers the boxes' keys, each for its metering point, and
	/// each point's household accepts its box's key.
	pub fn register_keys(node: &crate::Node, boxes: &[GatewayBox]) {
		let keys: Vec<_> = boxes
			.iter()
			.map(|b| (b.metering_point, sp_core::ed25519::Public::from_raw(b.public)))
			.collect();
		crate::install_gateway_keys(node, &keys);
	}

	pub fn start(&mut self) {
		let log = File::options().create(true).append(true).open(&self.log).unwrap();
		let child = Command::new(binary("lem-gateway"))
			.arg("--config")
			.arg(&self.config)
			.stdout(Stdio::from(log.try_clone().unwrap()))
			.stderr(Stdio::from(log))
			.spawn()
			.expect("spawn lem-gateway");
		self.child = Some(child);
	}

	/// `GET <path>` from the box's metrics server (the ledger at `/ledger.json` and
	/// `/ledger.csv`): the body.
	pub fn get(&self, path: &str) -> String {
		use std::io::Write;
		let address = self.metrics.expect("a box that serves metrics");
		let mut stream = TcpStream::connect(address).unwrap();
		let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n");
		stream.write_all(request.as_bytes()).unwrap();
		let mut response = String::new();
		stream.read_to_string(&mut response).unwrap();
		let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
		assert!(head.starts_with("HTTP/1.1 200"), "{head}");
		body.to_owned()
	}

	/// `PUT <path>` with a JSON `body` to the box's HTTP endpoint: the status line and body.
	pub fn put(&self, path: &str, body: &str) -> (String, String) {
		use std::io::Write;
		let address = self.metrics.expect("a box that serves metrics");
		let mut stream = TcpStream::connect(address).unwrap();
		let request = format!(
			"PUT {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
			body.len()
		);
		stream.write_all(request.as_bytes()).unwrap();
		let mut response = String::new();
		stream.read_to_string(&mut response).unwrap();
		let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
		(head.lines().next().unwrap_or_default().to_owned(), body.to_owned())
	}

	/// Makes the box run the home's devices: the storage inverter (SunSpec) at `battery` and
	/// the wallbox, whose central system the box is at `wallbox_listen`, each with a watchdog
	/// of three polls; and `plan` as the `[plan]` section's lines.
	pub fn run_devices(
		&mut self,
		battery: Option<SocketAddr>,
		wallbox_listen: Option<SocketAddr>,
		plan: &str,
	) {
		let mut config = std::fs::read_to_string(&self.config).unwrap();
		if let Some(battery) = battery {
			config += &format!(
				"[battery]\nprotocol = \"sunspec\"\naddress = \"{battery}\"\ncapacity_wh = 10000\n\
				 watchdog_seconds = 6\n"
			);
		}
		if let Some(listen) = wallbox_listen {
			config += &format!(
				"[charger]\nprotocol = \"ocpp16\"\nlisten = \"{listen}\"\n\
				 charge_point = \"wallbox\"\nwatchdog_seconds = 6\n"
			);
		}
		config += &format!("[plan]\n{plan}\n");
		std::fs::write(&self.config, config).unwrap();
	}

	/// Kills it without warning, as a power cut would.
	pub fn kill(&mut self) {
		if let Some(mut c) = self.child.take() {
			let _ = c.kill();
			let _ = c.wait();
		}
	}

	/// Stops it as systemd does (SIGTERM) and waits for it to exit.
	pub fn stop(&mut self) {
		if let Some(mut c) = self.child.take() {
			signal(&c, "TERM");
			let _ = c.wait();
		}
	}

	pub fn log(&self) -> String {
		let mut text = String::new();
		if let Ok(mut f) = File::open(&self.log) {
			f.read_to_string(&mut text).unwrap();
		}
		text
	}

	/// How many log lines contain `what`.
	pub fn count(&self, what: &str) -> usize {
		self.log().lines().filter(|l| l.contains(what)).count()
	}

	/// Waits until the log has one more line containing `what` than `before`.
	pub fn wait_for_log(&self, what: &str, before: usize, timeout: Duration) {
		wait_for(&format!("gateway log line {what:?}"), timeout, || {
			(self.count(what) > before).then_some(())
		});
	}

	/// Slots whose reading the log shows signed but not yet final or refused.
	pub fn open_slots(&self) -> BTreeSet<u64> {
		let slot = |line: &str| {
			let digits =
				line.split(" slot=").nth(1)?.split(|c: char| !c.is_ascii_digit()).next()?;
			digits.parse().ok()
		};
		let mut open = BTreeSet::new();
		for line in self.log().lines() {
			let Some(s) = slot(line) else { continue };
			if line.contains("reading signed") {
				open.insert(s);
			} else if line.contains("reading final") || line.contains("reading refused") {
				open.remove(&s);
			}
		}
		open
	}

	/// What `lem-gateway journal` prints (the gateway must be stopped).
	fn journal_text(&self) -> String {
		let out = Command::new(binary("lem-gateway"))
			.args(["journal", "--config"])
			.arg(&self.config)
			.output()
			.expect("lem-gateway journal");
		assert!(out.status.success(), "journal: {}", String::from_utf8_lossy(&out.stderr));
		String::from_utf8(out.stdout).unwrap()
	}

	/// The journal's slots.
	pub fn journal(&self) -> Vec<JournalLine> {
		let text = self.journal_text();
		text.lines().filter(|l| l.starts_with("slot=")).map(parse_journal_line).collect()
	}

	/// The orders the journal lists.
	pub fn orders(&self) -> Vec<OrderLine> {
		let text = self.journal_text();
		text.lines().filter_map(|l| l.strip_prefix("order ")).map(parse_order_line).collect()
	}

	/// Makes the box serve HTTP (its metrics, the owner's ledger, its home's plan and figures),
	/// to `app_origin`'s pages too if given.
	pub fn serve(&mut self, app_origin: Option<&str>) {
		let metrics: SocketAddr = format!("127.0.0.1:{}", crate::free_port()).parse().unwrap();
		self.metrics = Some(metrics);
		let origin = app_origin.map_or(String::new(), |o| format!("app_origin = {o:?}\n"));
		let config = std::fs::read_to_string(&self.config).unwrap();
		std::fs::write(&self.config, format!("metrics = \"{metrics}\"\n{origin}{config}")).unwrap();
	}

	/// Makes the box trade for `account` (a development account's name), within `daily_budget`:
	/// its secret seed as `lem-node key inspect` prints it, and the `[owner]` section; and
	/// serve its metrics and the owner's ledger.
	pub fn trade_for(&mut self, account: &str, daily_budget: u128) {
		let (_, seed) =
			sp_core::sr25519::Pair::from_string_with_seed(&format!("//{account}"), None).unwrap();
		let seed = seed.expect("a hard derivation has a seed");
		std::fs::write(self.dir.join("owner.key"), sp_core::bytes::to_hex(&seed, false)).unwrap();
		if self.metrics.is_none() {
			self.serve(None);
		}
		let mut config = std::fs::read_to_string(&self.config).unwrap();
		config += &format!(
			"[owner]\nkey_file = \"owner.key\"\nbuy_limit_per_kwh = 250000\n\
			 sell_limit_per_kwh = 100000\ndaily_budget = {daily_budget}\nhorizon_slots = 2\n"
		);
		std::fs::write(&self.config, config).unwrap();
	}

	/// Runs `lem-gateway --config <config>` until it exits, for at most `timeout`; returns
	/// whether it exited successfully, and its log.
	pub fn run_to_exit(config: &Path, timeout: Duration) -> (bool, String) {
		let mut child = Command::new(binary("lem-gateway"))
			.arg("--config")
			.arg(config)
			.stdout(Stdio::null())
			.stderr(Stdio::piped())
			.spawn()
			.expect("spawn lem-gateway");
		let deadline = std::time::Instant::now() + timeout;
		let status = loop {
			if let Some(status) = child.try_wait().unwrap() {
				break Some(status);
			}
			if std::time::Instant::now() > deadline {
				let _ = child.kill();
				let _ = child.wait();
				break None;
			}
			std::thread::sleep(Duration::from_millis(100));
		};
		let mut log = String::new();
		child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
		if status.is_none() {
			log += &format!("\n(still running after {timeout:?})");
		}
		(status.is_some_and(|s| s.success()), log)
	}
}

impl Drop for GatewayBox {
	fn drop(&mut self) {
		self.kill();
	}
}

/// One order line of `lem-gateway journal`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderLine {
	pub slot: u64,
	pub state: String,
	pub side: String,
	pub energy_wh: u64,
	pub limit_per_kwh: u64,
	/// The ids the chain gave it, once placed.
	pub ids: Vec<u64>,
	pub reason: Option<String>,
}

/// A journal line's `key=value` fields, and its quoted `reason`, which comes last.
fn split_reason(line: &str) -> (&str, Option<String>) {
	match line.split_once(" reason=") {
		Some((f, r)) => (f, Some(r.trim_matches('"').to_owned())),
		None => (line, None),
	}
}

fn parse_order_line(line: &str) -> OrderLine {
	let (fields, reason) = split_reason(line);
	let mut order = OrderLine { reason, ..Default::default() };
	for field in fields.split_whitespace() {
		let (k, v) = field.split_once('=').unwrap_or_else(|| panic!("order line {line:?}"));
		let n = || v.parse::<u64>().unwrap_or_else(|_| panic!("order line {line:?}"));
		match k {
			"slot" => order.slot = n(),
			"state" => order.state = v.to_owned(),
			"side" => order.side = v.to_owned(),
			"energy_wh" => order.energy_wh = n(),
			"limit_per_kwh" => order.limit_per_kwh = n(),
			"orders" => order.ids = v.split(',').map(|i| i.parse().unwrap()).collect(),
			_ => {}
		}
	}
	order
}

fn parse_journal_line(line: &str) -> JournalLine {
	let (fields, reason) = split_reason(line);
	let mut entry = JournalLine { reason, ..Default::default() };
	let (mut import, mut export) = (None, None);
	for field in fields.split_whitespace() {
		let (k, v) = field.split_once('=').unwrap_or_else(|| panic!("journal line {line:?}"));
		let n = || v.parse::<u64>().unwrap_or_else(|_| panic!("journal line {line:?}"));
		match k {
			"slot" => entry.slot = n(),
			"state" => entry.state = v.to_owned(),
			"import_register_wh" => entry.import_register_wh = n(),
			"export_register_wh" => entry.export_register_wh = n(),
			"import_wh" => import = Some(n()),
			"export_wh" => export = Some(n()),
			_ => {}
		}
	}
	entry.energy = import.zip(export);
	entry
}

/// A TCP proxy on loopback in front of `target`: while cut, it drops every connection and
/// refuses new ones, as a dead Wi-Fi link would.
pub struct Proxy {
	pub address: SocketAddr,
	open: Arc<AtomicBool>,
	streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
	pub fn start(target: SocketAddr) -> Proxy {
		let listener = TcpListener::bind("127.0.0.1:0").unwrap();
		let address = listener.local_addr().unwrap();
		let open = Arc::new(AtomicBool::new(true));
		let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
		let (is_open, all) = (open.clone(), streams.clone());
		std::thread::spawn(move || {
			for client in listener.incoming() {
				let Ok(client) = client else { continue };
				if !is_open.load(Ordering::SeqCst) {
					continue; // dropped: closed at once
				}
				let Ok(server) = TcpStream::connect(target) else { continue };
				let mut list = all.lock().unwrap();
				list.extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
				let (from_client, to_server) =
					(client.try_clone().unwrap(), server.try_clone().unwrap());
				std::thread::spawn(move || {
					forward(from_client, to_server, Some((address, target)))
				});
				std::thread::spawn(move || forward(server, client, None));
			}
		});
		Proxy { address, open, streams }
	}

	/// Cuts every connection through the proxy and refuses new ones.
	pub fn cut(&self) {
		self.open.store(false, Ordering::SeqCst);
		for s in self.streams.lock().unwrap().drain(..) {
			let _ = s.shutdown(std::net::Shutdown::Both);
		}
	}

	pub fn restore(&self) {
		self.open.store(true, Ordering::SeqCst);
	}
}

/// Copies `from` to `to` until either closes. A node accepts RPC only for the hosts it serves,
/// so, as a reverse proxy does, the request's `Host` names the node rather than the proxy.
fn forward(mut from: TcpStream, mut to: TcpStream, host: Option<(SocketAddr, SocketAddr)>) {
	use std::io::Write;
	if let Some((proxy, target)) = host {
		let mut first = [0u8; 4096];
		let Ok(n) = from.read(&mut first) else { return };
		let request =
			String::from_utf8_lossy(&first[..n]).replace(&proxy.to_string(), &target.to_string());
		if to.write_all(request.as_bytes()).is_err() {
			return;
		}
	}
	let _ = std::io::copy(&mut from, &mut to);
	let _ = to.shutdown(std::net::Shutdown::Both);
}
