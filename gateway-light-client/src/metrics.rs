//! The gateway's Prometheus metrics, served as text at `http://<metrics>/metrics`.

use std::{
	fmt::Write as _,
	net::SocketAddr,
	sync::{
		atomic::{AtomicU64, Ordering::Relaxed},
		Arc,
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
		out
	}
}

/// Serves `metrics` at `address` until the process ends. Any path answers with the metrics.
pub async fn serve(address: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<()> {
	let listener = TcpListener::bind(address).await?;
	tracing::info!(%address, "serving metrics");
	tokio::spawn(async move {
		loop {
			let Ok((mut stream, _)) = listener.accept().await else { continue };
			let body = metrics.render();
			tokio::spawn(async move {
				// The request itself does not matter; read what came so the client sees a clean
				// close.
				let mut request = [0u8; 1024];
				let _ = stream.read(&mut request).await;
				let response = format!(
					"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
					body.len()
				);
				let _ = stream.write_all(response.as_bytes()).await;
			});
		}
	});
	Ok(())
}
