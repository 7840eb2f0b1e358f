//! The meter's SML telegram, as a German modern meter pushes it over its optical D0 interface:
//! an SML 1.04 file — an open response, a list response with the cumulative registers by OBIS
//! code (1-0:1.8.0 import, 1-0:2.8.0 export, in 0.1 Wh), a close response — in a transport
//! frame (escape sequences, padding, CRC-16/X-25). Written here byte by byte, from the
//! specification, so that the box's decoder is tested against bytes it did not make.

/// CRC-16/X-25 (the IBM SDLC polynomial, reflected): SML's, over a message and over a frame.
const CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_SDLC);

/// An optional field left out.
const ABSENT: u8 = 0x01;
/// DLMS unit code of watt-hours.
pub const WATT_HOURS: u8 = 30;
pub const IMPORT_OBIS: [u8; 6] = [1, 0, 1, 8, 0, 255];
pub const EXPORT_OBIS: [u8; 6] = [1, 0, 2, 8, 0, 255];
/// Message body tags.
const OPEN_RESPONSE: u32 = 0x0101;
const CLOSE_RESPONSE: u32 = 0x0201;
const GET_LIST_RESPONSE: u32 = 0x0701;

/// One value of a list response: its OBIS code, its DLMS unit and its value in tenths of that
/// unit.
pub struct Entry {
	pub obis: [u8; 6],
	pub unit: u8,
	pub tenths: i64,
}

/// The telegram of meter `server_id` (its 10-byte identification), its `number`th, whose
/// registers show `import` and `export` tenths of a Wh.
pub fn telegram(server_id: &[u8; 10], number: u32, import: u64, export: u64) -> Vec<u8> {
	let entry = |obis, tenths: u64| Entry { obis, unit: WATT_HOURS, tenths: tenths as i64 };
	frame(&file(server_id, number, &[entry(IMPORT_OBIS, import), entry(EXPORT_OBIS, export)]))
}

/// The SML file of a meter's `number`th telegram: open, a list response of `entries`, close.
pub fn file(server_id: &[u8; 10], number: u32, entries: &[Entry]) -> Vec<u8> {
	let mut file = Vec::new();
	let request = number.to_be_bytes();
	message(&mut file, number.wrapping_mul(3), OPEN_RESPONSE, |out| {
		list(out, 6);
		out.extend([ABSENT, ABSENT]); // codepage, client id
		octets(out, &request);
		octets(out, server_id);
		out.extend([ABSENT, ABSENT]); // reference time, SML version
	});
	message(&mut file, number.wrapping_mul(3) + 1, GET_LIST_RESPONSE, |out| {
		list(out, 7);
		out.push(ABSENT); // client id
		octets(out, server_id);
		out.extend([ABSENT, ABSENT]); // list name, sensor time
		list(out, entries.len() as u8);
		for entry in entries {
			list(out, 7);
			octets(out, &entry.obis);
			out.extend([ABSENT, ABSENT]); // status, value time
			out.extend([0x62, entry.unit]);
			out.extend([0x52, (-1i8) as u8]); // scaler: tenths
			out.push(0x59);
			out.extend(entry.tenths.to_be_bytes());
			out.push(ABSENT); // value signature
		}
		out.extend([ABSENT, ABSENT]); // list signature, gateway time
	});
	message(&mut file, number.wrapping_mul(3) + 2, CLOSE_RESPONSE, |out| {
		list(out, 1);
		out.push(ABSENT); // signature
	});
	file
}

/// A list of `n` fields follows.
fn list(out: &mut Vec<u8>, n: u8) {
	out.push(0x70 | n);
}

/// An octet string of at most 14 bytes: its length counts the type-length byte.
fn octets(out: &mut Vec<u8>, bytes: &[u8]) {
	assert!(bytes.len() < 15, "one type-length byte");
	out.push(bytes.len() as u8 + 1);
	out.extend(bytes);
}

/// An SML message: transaction id, group 0, abort on error 0, the body `tag` and its fields,
/// the CRC of all that, and the end of message.
fn message(out: &mut Vec<u8>, transaction: u32, tag: u32, body: impl FnOnce(&mut Vec<u8>)) {
	let start = out.len();
	list(out, 6);
	octets(out, &transaction.to_be_bytes());
	out.extend([0x62, 0, 0x62, 0]);
	list(out, 2);
	out.push(0x65);
	out.extend(tag.to_be_bytes());
	body(out);
	let crc = CRC.checksum(&out[start..]);
	out.push(0x63);
	out.extend(crc.to_le_bytes());
	out.push(0x00);
}

/// The transport frame around `file`: start escape and version 1, the data with any four
/// 0x1b bytes in a row doubled, padding to four bytes, the end escape with the padding's
/// length, and the CRC of all before it.
pub fn frame(file: &[u8]) -> Vec<u8> {
	let mut out = vec![0x1b, 0x1b, 0x1b, 0x1b, 1, 1, 1, 1];
	let mut escapes = 0;
	for &b in file {
		out.push(b);
		escapes = if b == 0x1b { escapes + 1 } else { 0 };
		if escapes == 4 {
			out.extend([0x1b; 4]);
			escapes = 0;
		}
	}
	let padding = (4 - out.len() % 4) % 4;
	out.extend(std::iter::repeat_n(0, padding));
	out.extend([0x1b, 0x1b, 0x1b, 0x1b, 0x1a, padding as u8]);
	let crc = CRC.checksum(&out);
	out.extend(crc.to_le_bytes());
	out
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_frame_is_the_specifications() {
		// The example of the transport layer's specification, as sml-rs documents it.
		let framed = frame(&[0x12, 0x34, 0x56, 0x78]);
		assert_eq!(framed[8..12], [0x12, 0x34, 0x56, 0x78]);
		assert_eq!(framed[12..], [0x1b, 0x1b, 0x1b, 0x1b, 0x1a, 0x00, 0xb8, 0x7b]);
		// Four escape bytes in the data are doubled.
		assert_eq!(frame(&[0x1b; 4])[8..16], [0x1b; 8]);
	}
}
