#!/usr/bin/env bash
# Installs Sideman in the FHS places under a prefix (default /usr/local):
#   PREFIX/bin/sideman                          the program
#   PREFIX/share/sideman/presets/               every shipped preset with its models (found from the program)
#   PREFIX/lib/systemd/system/sideman.service   the system unit (and lib/systemd/user/ the desktop one),
#                                               running PREFIX/bin/sideman
#   PREFIX/share/{bash-completion/completions,zsh/site-functions,fish/vendor_completions.d}/  completions
# Usage: scripts/install.sh [PREFIX]   (or PREFIX=... ; DESTDIR=... stages it for a package).
# Builds first when .build/release/sideman is not there (SIDEMAN_BIN names another binary). Uses sudo
# when the prefix is not writable. Your own presets go in /etc/sideman or ~/.config/sideman, where they
# override the shipped ones by name; a shipped preset copied there still finds its models here.
set -euo pipefail
prefix=${1:-${PREFIX:-/usr/local}}
dest=${DESTDIR:-}
cd "$(dirname "$0")/.."
bin=${SIDEMAN_BIN:-.build/release/sideman}
if [ ! -x "$bin" ]; then
  bash scripts/setup.sh
  swift build -c release --product sideman
fi

root="$dest$prefix"
probe="$root"
while [ ! -d "$probe" ]; do probe=$(dirname "$probe"); done
sudo=""
if [ ! -w "$probe" ] && [ "$(id -u)" != 0 ]; then sudo="sudo"; fi

$sudo install -d "$root/bin" "$root/share/sideman" "$root/lib/systemd/system" "$root/lib/systemd/user" \
  "$root/share/bash-completion/completions" "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d"
$sudo install -m 755 "$bin" "$root/bin/sideman"
# The presets as one folder, so each finds its models beside it; a reinstall replaces the old set whole.
$sudo rm -rf "$root/share/sideman/presets"
$sudo cp -R presets "$root/share/sideman/presets"
$sudo chmod -R a+rX "$root/share/sideman/presets"
sed "s#/usr/local/bin/sideman#$prefix/bin/sideman#g" systemd/sideman.service | $sudo tee "$root/lib/systemd/system/sideman.service" >/dev/null
sed "s#%h/.local/bin/sideman#$prefix/bin/sideman#g" systemd/user/sideman.service | $sudo tee "$root/lib/systemd/user/sideman.service" >/dev/null
"$root/bin/sideman" --generate-completion-script bash | $sudo tee "$root/share/bash-completion/completions/sideman" >/dev/null
"$root/bin/sideman" --generate-completion-script zsh | $sudo tee "$root/share/zsh/site-functions/_sideman" >/dev/null
"$root/bin/sideman" --generate-completion-script fish | $sudo tee "$root/share/fish/vendor_completions.d/sideman.fish" >/dev/null

echo "install: $prefix/bin/sideman, its presets in $prefix/share/sideman/presets, the systemd units and completions"
echo "install: try it:   $prefix/bin/sideman demo --out /tmp/sideman-demo   and   $prefix/bin/sideman doctor"
echo "install: as a service: sudo useradd --system --groups audio --home-dir /nonexistent --shell /usr/sbin/nologin sideman"
echo "install:               sudo systemctl daemon-reload && sudo systemctl enable --now sideman   (README, Running as a service)"
