//! The app in a real browser against a real chain: the `dev-fast` chain's node, with meters and
//! gateways for households 1 and 3 so that their slots settle on readings, household 7's box
//! running its wallbox and serving what it did to the app's page, and the Playwright
//! suite of `market-ui/` driving Debian's Chromium through the built app (market-ui/e2e/). The
//! suite is told the node's WebSocket, the raw chain spec and where `lem-audit` is; it writes
//! the screenshots of every view into `market-ui/screenshots/`.

use lem_tests::{boxes::*, *};
use pallet_market::demo;
use std::{path::Path, process::Command};

const HOUSEHOLDS_WITH_BOXES: [u8; 2] = [1, 3];
/// The household whose box runs its car's wallbox, which the household view reads.
const HOUSEHOLD_WITH_DEVICES: u8 = 7;

#[test]
fn the_playwright_suite_passes_against_a_dev_chain() {
	let chain = DevChain::start();
	let node = &chain.node;
	let spec = raw_chain_spec_file(DEV, chain.dir.path());

	let ui_port = free_port();
	let wallbox = format!("127.0.0.1:{}", free_port()).parse().unwrap();
	let (devices_meter, _) = MeterSim::spawn(
		HOUSEHOLD_WITH_DEVICES,
		// At the wall's pace, as the box's plan reckons its wallbox's watts.
		&[
			"--speed",
			"1",
			"--car-home-at",
			"6",
			"--wallbox-connect",
			&format!("ws://{wallbox}/ocpp/wallbox"),
		],
		0,
	);
	let mut meters: Vec<MeterSim> =
		HOUSEHOLDS_WITH_BOXES.iter().map(|h| MeterSim::start(*h)).collect();
	meters.push(devices_meter);
	let mut boxes: Vec<GatewayBox> = HOUSEHOLDS_WITH_BOXES
		.iter()
		.chain([&HOUSEHOLD_WITH_DEVICES])
		.zip(&meters)
		.map(|(h, meter)| {
			let point = demo::HOUSEHOLD_METERING_POINTS[*h as usize - 1].id;
			GatewayBox::new(
				&chain.dir.path().join(format!("box{h}")),
				point,
				&spec,
				&[node.ws_url()],
				meter.address,
			)
		})
		.collect();
	let devices_box = boxes.last_mut().unwrap();
	devices_box.serve(Some(&format!("http://127.0.0.1:{ui_port}")));
	devices_box.run_devices(None, Some(wallbox), "");
	let box_url = format!("http://{}", devices_box.metrics.unwrap());
	GatewayBox::register_keys(node, &boxes);
	for b in &mut boxes {
		b.start();
	}

	let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("../market-ui");
	let status = Command::new("npx")
		.args(["playwright", "test"])
		.current_dir(&app)
		.env("LEM_NODE_WS", node.ws_url())
		.env("LEM_CHAIN_SPEC", &spec)
		.env("LEM_AUDIT", binary("lem-audit"))
		.env("LEM_BOX", &box_url)
		.env("UI_PORT", ui_port.to_string())
		.status()
		.expect("npx playwright test: run scripts/setup.sh first");
	for b in &mut boxes {
		b.stop();
	}
	assert!(status.success(), "the Playwright suite failed; node log:\n{}", node.log_tail());
}
