//! The box's HTTP endpoint as a stranger on the home network meets it: known paths answer,
//! others are 404, and a client that holds a connection without asking, or many of them, is
//! dropped without starving the box's Prometheus scraper.

use lem_gateway::metrics::{serve, Metrics};
use std::{
	net::{SocketAddr, TcpListener},
	sync::Arc,
	time::Duration,
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::TcpStream,
	time::timeout,
};

async fn started() -> SocketAddr {
	let address = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
	serve(address, Arc::new(Metrics::default()), None, None).await.unwrap();
	address
}

/// The status line the box answers `GET path` with.
async fn status(address: SocketAddr, path: &str) -> String {
	let mut stream = TcpStream::connect(address).await.unwrap();
	let request = format!("GET {path} HTTP/1.1\r\nHost: box\r\n\r\n");
	stream.write_all(request.as_bytes()).await.unwrap();
	let mut answer = String::new();
	timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
		.await
		.expect("an answer")
		.unwrap();
	answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn known_paths_answer_and_others_are_not_found() {
	let address = started().await;
	assert_eq!(status(address, "/metrics").await, "HTTP/1.1 200 OK");
	assert_eq!(status(address, "/ledger.json").await, "HTTP/1.1 200 OK");
	assert_eq!(status(address, "/ledger.csv").await, "HTTP/1.1 200 OK");
	assert_eq!(status(address, "/").await, "HTTP/1.1 404 Not Found");
	assert_eq!(status(address, "/../../etc/passwd").await, "HTTP/1.1 404 Not Found");
}

/// Connections that send nothing take a place each, up to the bound; one more is closed at
/// once, and once the silent ones are timed out the scraper is served again.
#[tokio::test]
async fn silent_and_surplus_connections_are_dropped() {
	let address = started().await;
	let mut silent = Vec::new();
	for _ in 0..8 {
		silent.push(TcpStream::connect(address).await.unwrap());
	}
	// Let the box take all eight before the ninth comes.
	tokio::time::sleep(Duration::from_millis(300)).await;
	let mut surplus = TcpStream::connect(address).await.unwrap();
	let mut byte = [0u8; 1];
	let closed = timeout(Duration::from_secs(2), surplus.read(&mut byte)).await;
	assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "the surplus connection was kept open");
	// Each silent connection is closed by the box, not left hanging.
	for stream in &mut silent {
		let closed = timeout(Duration::from_secs(10), stream.read(&mut byte)).await;
		assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "a silent connection was kept open");
	}
	assert_eq!(status(address, "/metrics").await, "HTTP/1.1 200 OK");
}
