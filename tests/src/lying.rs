//! A node that lies: a WebSocket proxy on loopback in front of a real node, which hands each
//! answer to `tamper` (with the method asked) before passing it on, or answers some methods
//! itself without asking the node (`instead`).

use serde_json::Value;
use std::{
	net::{TcpListener, TcpStream},
	sync::{Arc, Mutex},
};
use tungstenite::Message;

pub type Tamper = Box<dyn FnMut(&str, &mut Value) + Send>;
/// For a method, the answer's `result` or `error` member to give without asking the node.
pub type Instead = Box<dyn FnMut(&str) -> Option<Value> + Send>;

struct Lies {
	tamper: Tamper,
	instead: Instead,
}

pub struct LyingNode {
	pub url: String,
}

impl LyingNode {
	/// A liar in front of the node serving RPC on `rpc_port`.
	pub fn start(rpc_port: u16, tamper: Tamper) -> LyingNode {
		Self::lying(rpc_port, Lies { tamper, instead: Box::new(|_| None) })
	}

	/// A liar that answers what `instead` gives without asking the node, and passes the rest.
	pub fn answering(rpc_port: u16, instead: Instead) -> LyingNode {
		Self::lying(rpc_port, Lies { tamper: Box::new(|_, _| {}), instead })
	}

	fn lying(rpc_port: u16, lies: Lies) -> LyingNode {
		let listener = TcpListener::bind("127.0.0.1:0").unwrap();
		let url = format!("ws://{}", listener.local_addr().unwrap());
		let lies = Arc::new(Mutex::new(lies));
		std::thread::spawn(move || {
			for client in listener.incoming().flatten() {
				let lies = lies.clone();
				std::thread::spawn(move || serve(client, rpc_port, lies));
			}
		});
		LyingNode { url }
	}
}

/// Passes requests on and answers back, one at a time, as the light client asks them.
fn serve(client: TcpStream, rpc_port: u16, lies: Arc<Mutex<Lies>>) -> Option<()> {
	let mut client = tungstenite::accept(client).ok()?;
	let (mut node, _) = tungstenite::connect(format!("ws://127.0.0.1:{rpc_port}")).ok()?;
	loop {
		let Message::Text(request) = client.read().ok()? else { continue };
		let asked: Value = serde_json::from_str(&request).ok()?;
		let method = asked["method"].as_str()?.to_owned();
		let instead = (lies.lock().unwrap().instead)(&method);
		let answer = match instead {
			Some(Value::Object(member)) => {
				let mut answer = serde_json::json!({"jsonrpc": "2.0", "id": asked["id"]});
				answer.as_object_mut()?.extend(member);
				answer
			}
			_ => {
				node.send(Message::Text(request)).ok()?;
				let mut answer: Value = loop {
					if let Message::Text(text) = node.read().ok()? {
						break serde_json::from_str(&text).ok()?;
					}
				};
				if let Some(result) = answer.get_mut("result") {
					(lies.lock().unwrap().tamper)(&method, result);
				}
				answer
			}
		};
		client.send(Message::text(answer.to_string())).ok()?;
	}
}
