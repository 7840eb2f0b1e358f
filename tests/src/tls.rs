//! A node behind TLS, as a utility serves its RPC to auditors: a proxy on loopback that
//! terminates `wss://` with a certificate of a certificate authority made for the test, and
//! passes the bytes on to the node's plain RPC port.

use std::{net::TcpListener, path::Path, sync::Arc};
use tokio_rustls::{
	rustls::{
		pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
		ServerConfig,
	},
	TlsAcceptor,
};

pub struct TlsNode {
	/// `wss://localhost:<port>`.
	pub url: String,
}

impl TlsNode {
	/// Serves the node on `rpc_port` over TLS, and writes the test authority's certificate to
	/// `ca_file` (PEM), for `SSL_CERT_FILE`.
	pub fn start(rpc_port: u16, ca_file: &Path) -> TlsNode {
		let mut ca = rcgen::CertificateParams::new(vec![]);
		ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
		let ca = rcgen::Certificate::from_params(ca).unwrap();
		std::fs::write(ca_file, ca.serialize_pem().unwrap()).unwrap();
		let leaf = rcgen::Certificate::from_params(rcgen::CertificateParams::new(vec![
			"localhost".to_string(),
		]))
		.unwrap();
		let chain = vec![CertificateDer::from(leaf.serialize_der_with_signer(&ca).unwrap())];
		let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.serialize_private_key_der()));
		let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
		let config = ServerConfig::builder_with_provider(provider)
			.with_safe_default_protocol_versions()
			.unwrap()
			.with_no_client_auth()
			.with_single_cert(chain, key)
			.unwrap();
		let acceptor = TlsAcceptor::from(Arc::new(config));
		let listener = TcpListener::bind("127.0.0.1:0").unwrap();
		listener.set_nonblocking(true).unwrap();
		let url = format!("wss://localhost:{}", listener.local_addr().unwrap().port());
		std::thread::spawn(move || {
			let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
			rt.block_on(async move {
				let listener = tokio::net::TcpListener::from_std(listener).unwrap();
				while let Ok((client, _)) = listener.accept().await {
					let acceptor = acceptor.clone();
					tokio::spawn(async move {
						let Ok(mut client) = acceptor.accept(client).await else { return };
						let Ok(mut node) =
							tokio::net::TcpStream::connect(("127.0.0.1", rpc_port)).await
						else {
							return;
						};
						let _ = tokio::io::copy_bidirectional(&mut client, &mut node).await;
					});
				}
			});
		});
		TlsNode { url }
	}
}
