//! Clearing time for 1k, 10k and 100k orders, on one zone and on a 21-zone three-level tree
//! (substation, 4 feeders, 16 streets). `cargo bench -p lem-clearing`.
//!
//! Limits are drawn at 1 µEUR granularity from −0.05 to 0.40 EUR/kWh, so almost every order
//! has its own price step: the worst case for the curves' sizes. On the tree, half of the
//! streets are PV-heavy (70 % asks) and half consumer-heavy (70 % bids), and every edge's
//! capacity is 500 Wh per order below it, so that edges bind and congestion rent appears.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lem_clearing::{clear, Instance, Order, Pricing, Side, Zone};

/// SplitMix64: a fixed seed gives the same instances on every run and machine.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}

	fn range(&mut self, lo: i64, hi: i64) -> i64 {
		lo + (self.next() % (hi - lo + 1) as u64) as i64
	}
}

fn order(rng: &mut Rng, id: u64, zone: u32, bid_share_percent: i64) -> Order {
	Order {
		id,
		side: if rng.range(0, 99) < bid_share_percent { Side::Bid } else { Side::Ask },
		zone,
		energy_wh: rng.range(100, 5_000) as u64,
		limit_per_kwh: rng.range(-50_000, 400_000),
	}
}

fn one_zone(n: usize) -> Instance {
	let mut rng = Rng(0x6C65_6D00 + n as u64);
	Instance {
		zones: vec![Zone { id: 0, parent: None, fee_per_kwh: 0, capacity_wh: None }],
		orders: (0..n as u64).map(|id| order(&mut rng, id, 0, 50)).collect(),
		pricing: Pricing::PayAsClear,
	}
}

fn tree(n: usize) -> Instance {
	let mut rng = Rng(0x7472_6565 + n as u64);
	let per_zone = (n / 21) as u64;
	let mut zones = vec![Zone { id: 0, parent: None, fee_per_kwh: 0, capacity_wh: None }];
	for feeder in 1..=4u32 {
		zones.push(Zone {
			id: feeder,
			parent: Some(0),
			fee_per_kwh: 10_000,
			capacity_wh: Some(500 * 5 * per_zone),
		});
		for street in 0..4u32 {
			zones.push(Zone {
				id: 4 + feeder * 4 + street,
				parent: Some(feeder),
				fee_per_kwh: 5_000,
				capacity_wh: Some(500 * per_zone),
			});
		}
	}
	let orders = (0..n as u64)
		.map(|id| {
			let zone = zones[(id % 21) as usize].id;
			let bid_share = match zone {
				0..=4 => 50,
				z if z % 2 == 0 => 30,
				_ => 70,
			};
			order(&mut rng, id, zone, bid_share)
		})
		.collect();
	Instance { zones, orders, pricing: Pricing::PayAsClear }
}

fn bench(c: &mut Criterion) {
	let mut group = c.benchmark_group("clear");
	group.sample_size(20);
	group.measurement_time(Duration::from_secs(8));
	for n in [1_000, 10_000, 100_000] {
		for (shape, inst) in [("one_zone", one_zone(n)), ("tree21", tree(n))] {
			clear(&inst).expect("benchmark instance clears");
			group.throughput(Throughput::Elements(n as u64));
			group.bench_with_input(BenchmarkId::new(shape, n), &inst, |b, inst| {
				b.iter(|| clear(black_box(inst)).unwrap())
			});
		}
	}
	group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
