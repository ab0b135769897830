# Shared by .ci/run and .ci/test.
export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0

step() { printf '\n==> %s\n' "$*"; }

apt_install() {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The distributed feature's build: its own profile and a target directory
# kept outside the clone (from nothing: about 9 minutes on 2 cores, clippy
# included; then seconds).
DIST_TARGET="${PCS_DISTRIBUTED_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pcs/target-distributed}"
mkdir -p "$DIST_TARGET"
DIST_ARGS=(--profile ci-distributed -p pcs-distributed -p pcs-cli --features pcs-cli/distributed)
