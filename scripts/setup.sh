#!/usr/bin/env bash
# Installs what building and testing lem needs on a fresh Debian machine with rustup and
# Node.js 20: protoc for the networking crates, clang for C dependencies, curl for the scripts,
# the Wasm target and rust-src for the runtime, the aarch64 target and linker for the gateway,
# and for the app (market-ui/) its npm packages and Debian's Chromium, which its Playwright
# tests drive (Playwright cannot download a browser of its own here). Does nothing for what is
# already there.
set -euo pipefail

need=()
command -v protoc >/dev/null || need+=(protobuf-compiler)
command -v clang >/dev/null || need+=(clang)
command -v curl >/dev/null || need+=(curl)
command -v make >/dev/null || need+=(build-essential)
command -v file >/dev/null || need+=(file)
# The linker for the gateway's aarch64 build (scripts/build-gateway-aarch64.sh).
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
# @playwright/test 1.64 is built for Chromium 156, bookworm's (security updates).
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq "${need[@]}"
fi

# wasm32v1-none builds the runtime without rebuilding `core` (substrate-wasm-builder prefers
# it); wasm32-unknown-unknown with rust-src is its fallback; aarch64 is the gateway's box.
for target in wasm32v1-none wasm32-unknown-unknown aarch64-unknown-linux-gnu; do
	rustup target list --installed | grep -qx "$target" || rustup target add "$target"
done
rustup component list --installed | grep -q '^rust-src' ||
	rustup component add rust-src
rustup component list --installed | grep -q '^rustfmt' ||
	rustup component add rustfmt

# The app: Vite 8 needs Node.js 20.19 or later.
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
	{ echo "setup: market-ui needs Node.js 20.19 or later, found $(node --version 2>/dev/null || echo none)" >&2; exit 1; }
ui="$(dirname "$0")/../market-ui"
# npm ci also makes the app's typed chain descriptors from the committed metadata (postinstall).
if [ ! -f "$ui/node_modules/.package-lock.json" ] || [ "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]; then
	(cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
fi
