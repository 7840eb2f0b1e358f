//! A node that lies: a WebSocket proxy on loopback in front of a real node, which hands each
//! answer to `tamper` (with the method asked) before passing it on.

use serde_json::Value;
use std::{
	net::{TcpListener, TcpStream},
	sync::{Arc, Mutex},
};
use tungstenite::Message;

pub type Tamper = Box<dyn FnMut(&str, &mut Value) + Send>;

pub struct LyingNode {
	pub url: String,
}

impl LyingNode {
	/// A liar in front of the node serving RPC on `rpc_port`.
	pub fn start(rpc_port: u16, tamper: Tamper) -> LyingNode {
		let listener = TcpListener::bind("127.0.0.1:0").unwrap();
		let url = format!("ws://{}", listener.local_addr().unwrap());
		let tamper = Arc::new(Mutex::new(tamper));
		std::thread::spawn(move || {
			for client in listener.incoming().flatten() {
				let tamper = tamper.clone();
				std::thread::spawn(move || serve(client, rpc_port, tamper));
			}
		});
		LyingNode { url }
	}
}

/// Passes requests on and answers back, one at a time, as the light client asks them.
fn serve(client: TcpStream, rpc_port: u16, tamper: Arc<Mutex<Tamper>>) -> Option<()> {
	let mut client = tungstenite::accept(client).ok()?;
	let (mut node, _) = tungstenite::connect(format!("ws://127.0.0.1:{rpc_port}")).ok()?;
	loop {
		let Message::Text(request) = client.read().ok()? else { continue };
		let method = serde_json::from_str::<Value>(&request).ok()?["method"].as_str()?.to_owned();
		node.send(Message::Text(request)).ok()?;
		let mut answer: Value = loop {
			if let Message::Text(text) = node.read().ok()? {
				break serde_json::from_str(&text).ok()?;
			}
		};
		if let Some(result) = answer.get_mut("result") {
			(tamper.lock().unwrap())(&method, result);
		}
		client.send(Message::text(answer.to_string())).ok()?;
	}
}
