#!/usr/bin/env bash
# Installs the Debian 12 packages kvsd needs to build, test and benchmark, and the pinned npm
# packages of the JS SDK conformance suite (npm ci in tests/conformance/js) and of the browser
# playback tests (npm ci in tests/browser), each when not yet installed.
# Idempotent: only packages that are missing are installed; a machine that has
# everything is left untouched and the script returns at once.
# Runs apt-get as root, or through sudo when not root.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git
  # libraries
  libboost1.81-dev libboost-url1.81-dev libssl-dev libnghttp2-dev
  librocksdb-dev libspdlog-dev nlohmann-json3-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libprotobuf-dev protobuf-compiler
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libwebm-dev
  # test and bench tools
  curl nghttp2-client python3 python3-boto3 python3-h2 awscli ffmpeg openssl clang-format nginx-light
  # plots of the hardening campaign (campaign/soak.py)
  python3-matplotlib
  # headless browser of tests/browser (Debian's build plays H.264 and AAC in MSE)
  chromium
)
# node and npm run the JS SDK v3 conformance suite; Debian's packages only when none are on PATH
# (a node installed some other way, e.g. from NodeSource or nvm, is used as it is).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  else
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The JS SDK v3 for tests/conformance/js, exactly as pinned in its package-lock.json.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
js_dir="$repo_root/tests/conformance/js"
js_missing=0
for pkg in client-kinesis-video client-kinesis-video-archived-media client-kinesis-video-media; do
  if [ ! -d "$js_dir/node_modules/@aws-sdk/$pkg" ]; then
    js_missing=1
  fi
done
if [ "$js_missing" -eq 1 ]; then
  echo "install-deps: installing the JS conformance dependencies (npm ci in tests/conformance/js)"
  npm ci --prefix "$js_dir" --no-audit --no-fund
fi

# playwright-core, hls.js and dash.js for tests/browser, exactly as pinned in its package-lock.json.
browser_dir="$repo_root/tests/browser"
if [ ! -d "$browser_dir/node_modules/playwright-core" ] || [ ! -d "$browser_dir/node_modules/hls.js" ] ||
  [ ! -d "$browser_dir/node_modules/dashjs" ]; then
  echo "install-deps: installing the browser test dependencies (npm ci in tests/browser)"
  npm ci --prefix "$browser_dir" --no-audit --no-fund
fi

echo "install-deps: all build and test dependencies present"
