//! The simulator's SML telegrams, written from the specification, read by the box's core
//! decoder: the registers in whole Wh, and every way a telegram can fail named.

use lem_gateway_core::{
	entry::Registers,
	sml::{registers, SmlError, Telegrams},
};
use lem_sim::sml::{file, frame, telegram, Entry, EXPORT_OBIS, IMPORT_OBIS, WATT_HOURS};

const METER: [u8; 10] = [0x0a, 0x01, b'L', b'E', b'M', 0, 0, 0, 0, 5];

fn stream(bytes: &[u8]) -> Vec<Result<Registers, SmlError>> {
	let mut telegrams = Telegrams::default();
	bytes.iter().filter_map(|&b| telegrams.push(b)).collect()
}

#[test]
fn a_telegram_gives_the_registers_in_whole_watt_hours() {
	// Tenths of a Wh on the meter, rounded down.
	let got = stream(&telegram(&METER, 7, 12_345_678, 9_999));
	assert_eq!(got, vec![Ok(Registers { import_wh: 1_234_567, export_wh: 999 })]);
}

#[test]
fn a_broken_telegram_is_named_and_the_stream_goes_on() {
	let mut bytes = vec![0x42; 5]; // the head put on the window mid-telegram
	bytes.extend(telegram(&METER, 1, 10, 20));
	let mut broken = telegram(&METER, 2, 30, 40);
	let middle = broken.len() / 2;
	broken[middle] ^= 0x5a;
	bytes.extend(broken);
	bytes.extend(telegram(&METER, 3, 50, 60));
	let got = stream(&bytes);
	assert!(got.contains(&Ok(Registers { import_wh: 1, export_wh: 2 })), "{got:?}");
	assert!(got.iter().any(|r| matches!(r, Err(SmlError::Frame(_)))), "{got:?}");
	assert_eq!(got.last(), Some(&Ok(Registers { import_wh: 5, export_wh: 6 })));
}

#[test]
fn a_register_missing_in_another_unit_or_negative_is_named() {
	let wh = |obis, tenths| Entry { obis, unit: WATT_HOURS, tenths };
	let only_import = file(&METER, 1, &[wh(IMPORT_OBIS, 10)]);
	assert_eq!(registers(&only_import), Err(SmlError::Missing { field: "export" }));
	let in_varh = Entry { obis: EXPORT_OBIS, unit: 32, tenths: 10 };
	let file_varh = file(&METER, 1, &[wh(IMPORT_OBIS, 10), in_varh]);
	assert_eq!(registers(&file_varh), Err(SmlError::Unit { field: "export", unit: Some(32) }));
	let negative = file(&METER, 1, &[wh(IMPORT_OBIS, -10), wh(EXPORT_OBIS, 10)]);
	assert_eq!(registers(&negative), Err(SmlError::OutOfRange { field: "import" }));
	// Other values in the list are passed over.
	let power = Entry { obis: [1, 0, 16, 7, 0, 255], unit: 27, tenths: 5_000 };
	let with_power = file(&METER, 1, &[power, wh(IMPORT_OBIS, 10), wh(EXPORT_OBIS, 20)]);
	assert_eq!(registers(&with_power), Ok(Registers { import_wh: 1, export_wh: 2 }));
	// A file whose message CRC does not hold.
	let mut bad = with_power.clone();
	let last = bad.len() - 3;
	bad[last] ^= 1;
	assert!(matches!(registers(&bad), Err(SmlError::File(_))));
	// And the frame around a good file reads the same.
	assert_eq!(stream(&frame(&with_power)), vec![Ok(Registers { import_wh: 1, export_wh: 2 })]);
}
