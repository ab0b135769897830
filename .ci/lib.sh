# Shared by .ci/run and .ci/test.
export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0

# Each step prints how long the previous one took, and the time since the
# start, so a CI log shows where the minutes go.
PCS_CI_T0="${PCS_CI_T0:-$(date +%s)}"
export PCS_CI_T0
PCS_STEP_T0=""
step() {
  local now
  now="$(date +%s)"
  if [ -n "$PCS_STEP_T0" ]; then
    printf '(step took %d s; %d s since the start)\n' "$((now - PCS_STEP_T0))" "$((now - PCS_CI_T0))"
  fi
  PCS_STEP_T0="$now"
  printf '\n==> %s\n' "$*"
}

apt_install() {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The distributed feature's build: its own profile and a target directory
# kept outside the clone (from nothing: about 9 minutes on 2 cores, clippy
# included; then seconds).
DIST_TARGET="${PCS_DISTRIBUTED_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pcs/target-distributed}"
mkdir -p "$DIST_TARGET"
DIST_ARGS=(--profile ci-distributed -p pcs-distributed -p pcs-cli --features pcs-cli/distributed)
